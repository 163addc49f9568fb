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

import fs from 'node:fs'
import path from 'node:path'
import Corestore from 'corestore'
import type { SwarmConnection } from 'hyperswarm'
import { VERDICT_OK, type Attestation } from '../protocol/index.js'
import { attestationId, signAttestation } from '../src/attest/attestation.js'
import { signerOf } from '../src/attest/signer.js'
import { AttestationStore } from '../src/attest/store.js'
import { discoveryKey, keyPair } from '../src/crypto.js'
import { Gossip } from '../src/net/gossip.js'
import { RpcClient } from '../src/net/rpc.js'
import { createSwarm, type BootstrapNode } from '../src/net/swarm.js'
import { childIO, now, tempDir } from './bench-lib.js'

interface Config {
  bootstrap: BootstrapNode[]
  key: string
}

let rpc: RpcClient | null = null

const { config, emit } = childIO<Config>(async (cmd) => {
  if (cmd.cmd === 'publish') {
    const root = await rpc!.root(10_000)
    const signer = signerOf(core)
    if (!signer) throw new Error('the log manifest is not known yet')
    const a = signAttestation({
      contract: key,
      signer,
      length: root.length,
      fork: root.fork,
      treeHash: root.treeHash,
      hostSignature: root.signature,
      filesVersion: 0,
      filesHash: Buffer.alloc(32),
      verdict: VERDICT_OK,
      trusted: false,
      fault: null,
      runtime: 'bench',
      time: Date.now()
    }, keyPair())
    const t = now()
    if (!gossip.publish(a)) throw new Error('the attestation was refused')
    emit({ event: 'published', t, id: attestationId(a) })
  } else if (cmd.cmd === 'exit') {
    gossip.close()
    await swarm.destroy()
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
    process.exit(0)
  }
})

const key = Buffer.from(config.key, 'hex')
const dir = tempDir('vms-gossip-')
const store = new Corestore(path.join(dir, 'corestore'))
const core = store.get({ key })
await core.ready()
const gossip = new Gossip(new AttestationStore())
gossip.on('attestation', (a: Attestation) => emit({ event: 'received', t: now(), id: attestationId(a) }))
const swarm = createSwarm({ bootstrap: config.bootstrap })
const opened = new Promise<void>((resolve) => {
  swarm.on('connection', (conn: SwarmConnection) => {
    store.replicate(conn)
    gossip.attach(conn)
    const r = new RpcClient(conn, key)
    r.rpc.fullyOpened().then(() => {
      if (!rpc) rpc = r
      resolve()
    }, () => {})
  })
})
swarm.join(discoveryKey(key), { server: false, client: true })
await opened
await core.get(0, { timeout: 30_000 }) // the genesis block brings the manifest along
emit({ event: 'ready' })
