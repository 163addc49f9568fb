/**
 * How a benchmark child joins a contract as its clients and watchers do: a
 * Corestore of its own in a temporary folder, a DHT lookup by the log's
 * discovery key, replication of the log, the attestation gossip channel,
 * and the host's RPC channel.
 */

import fs from 'node:fs'
import path from 'node:path'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type Hyperswarm from 'hyperswarm'
import type { SwarmConnection } from 'hyperswarm'
import type { Attestation } from '../protocol/index.js'
import { AttestationStore } from '../src/attest/store.js'
import { discoveryKey } from '../src/crypto.js'
import { Gossip } from '../src/net/gossip.js'
import { RpcClient } from '../src/net/rpc.js'
import { createSwarm, type BootstrapNode } from '../src/net/swarm.js'
import { tempDir } from './bench-lib.js'

/** A joined contract: what {@link joinContract} opened. */
export interface ContractPeer {
  key: Buffer
  store: Corestore
  /** The contract's call log (a replica). */
  core: Hypercore
  gossip: Gossip
  swarm: Hyperswarm
  /** The RPC channel of the first host that answered. */
  rpc: RpcClient
  /** Closes everything and removes the temporary folder. */
  close (): Promise<void>
}

/**
 * Joins the contract `key` (hex) and resolves once a host's RPC channel is open
 * (connections to peers that are not the host, e.g. serving watchers, replicate and gossip only).
 * @param prefix name prefix of the temporary folder
 * @param onattestation called with every attestation gossip brings
 */
export async function joinContract (config: { key: string, bootstrap: BootstrapNode[] }, prefix: string, onattestation: (a: Attestation) => void = () => {}): Promise<ContractPeer> {
  const key = Buffer.from(config.key, 'hex')
  const dir = tempDir(prefix)
  const store = new Corestore(path.join(dir, 'corestore'))
  const core = store.get({ key })
  await core.ready()
  const gossip = new Gossip(new AttestationStore())
  gossip.on('attestation', onattestation)
  const swarm = createSwarm({ bootstrap: config.bootstrap })
  const rpc = new Promise<RpcClient>((resolve) => {
    swarm.on('connection', (conn: SwarmConnection) => {
      store.replicate(conn)
      gossip.attach(conn)
      const r = new RpcClient(conn, key)
      // a watcher that serves replicas is on the topic too: its end of the channel is an asker's, and the
      // channel is closed right after it opens (rpc.ts); a turn later only a host's channel is still open
      r.rpc.fullyOpened().then(() => setImmediate(() => { if (r.rpc.opened && !r.rpc.closed) resolve(r) }), () => {})
    })
  })
  swarm.join(discoveryKey(key), { server: false, client: true })
  return {
    key,
    store,
    core,
    gossip,
    swarm,
    rpc: await rpc,
    async close () {
      gossip.close()
      await swarm.destroy()
      await core.close()
      await store.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
