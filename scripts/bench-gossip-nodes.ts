/**
 * Benchmark child: `nodes` gossip nodes in one process, each a real node of
 * its own (own Corestore in its own temporary folder, own swarm and DHT node,
 * own gossip), connected to the host of a contract as its clients and
 * watchers are (DHT lookup by the log's discovery key, replication, the
 * gossip channel, the host RPC). Emits `ready` once every node is
 * connected, and `received` (`t`: ms wall clock, `id`, `node`: index in
 * this process) for every attestation that reaches a node. Command
 * `publish` makes node 0 sign a fresh ok attestation of the host's current
 * root (with a new watcher key) and gossip it; it answers `published`
 * (`t`, `id`).
 *
 * Config: `{ bootstrap, key: hex, nodes?: number }` (default 1 node).
 */

import { attestationId, attestationOver, signAttestation } from '../src/attest/attestation.js'
import { signerOf } from '../src/attest/signer.js'
import { keyPair } from '../src/crypto.js'
import type { BootstrapNode } from '../src/net/swarm.js'
import { childIO, now } from './bench-lib.js'
import { joinContract, type ContractPeer } from './bench-peer.js'

interface Config {
  bootstrap: BootstrapNode[]
  key: string
  nodes?: number
}

const peers: ContractPeer[] = []
const { config, emit } = childIO<Config>(async (cmd) => {
  if (cmd.cmd === 'publish') {
    const { key, core, gossip, rpc } = peers[0]!
    const root = await rpc.root(10_000)
    const signer = signerOf(core)
    if (!signer) throw new Error('the log manifest is not known yet')
    const a = signAttestation(attestationOver({ ...root, contract: key }, signer, { runtime: 'bench' }), keyPair())
    const t = now()
    if (!gossip.publish(a)) throw new Error('the attestation was refused')
    emit({ event: 'published', t, id: attestationId(a) })
  } else if (cmd.cmd === 'exit') {
    await Promise.all(peers.map((p) => p.close()))
    process.exit(0)
  }
})

const n = config.nodes ?? 1
const joined = await Promise.all(Array.from({ length: n }, (_, node) =>
  joinContract(config, 'vms-gossip-', (a) => emit({ event: 'received', t: now(), id: attestationId(a), node }))))
peers.push(...joined)
await peers[0]!.core.get(0, { timeout: 30_000 }) // the genesis block brings the manifest along (node 0 publishes)
emit({ event: 'ready', nodes: n })
