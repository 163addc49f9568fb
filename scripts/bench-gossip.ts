/**
 * Benchmark child: one gossip node, connected to the host of a contract as
 * its clients and watchers are (DHT lookup by the log's discovery key,
 * replication, the gossip channel, the host RPC). Emits `ready` once
 * connected, and `received` (`t`: ms wall clock, `id`) for every attestation
 * that reaches it. Command `publish` makes it sign a fresh ok attestation
 * of the host's current root (with a new watcher key) and gossip it; it
 * answers `published` (`t`, `id`).
 *
 * Config: `{ bootstrap, key: hex }`.
 */

import { attestationId, attestationOver, signAttestation } from '../src/attest/attestation.js'
import { signerOf } from '../src/attest/signer.js'
import { keyPair } from '../src/crypto.js'
import type { BootstrapNode } from '../src/net/swarm.js'
import { childIO, now } from './bench-lib.js'
import { joinContract } from './bench-peer.js'

interface Config {
  bootstrap: BootstrapNode[]
  key: string
}

const { config, emit } = childIO<Config>(async (cmd) => {
  if (cmd.cmd === 'publish') {
    const root = await peer.rpc.root(10_000)
    const signer = signerOf(core)
    if (!signer) throw new Error('the log manifest is not known yet')
    const a = signAttestation(attestationOver({ ...root, contract: key }, signer, { runtime: 'bench' }), keyPair())
    const t = now()
    if (!gossip.publish(a)) throw new Error('the attestation was refused')
    emit({ event: 'published', t, id: attestationId(a) })
  } else if (cmd.cmd === 'exit') {
    await peer.close()
    process.exit(0)
  }
})

const peer = await joinContract(config, 'vms-gossip-', (a) => emit({ event: 'received', t: now(), id: attestationId(a) }))
const { key, core, gossip } = peer
await core.get(0, { timeout: 30_000 }) // the genesis block brings the manifest along
emit({ event: 'ready' })
