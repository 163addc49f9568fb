/**
 * A hostile peer for watcher and `verify` tests: it announces a contract's
 * discovery key, holds none of its keys, and answers the host RPC with
 * forged roots (a short length, a signature of its own key) and forged
 * head pairs. Real Hyperswarm on the test's DHT; destroyed at teardown.
 */

import type { Testnet } from 'hyperdht/testnet.js'
import type { SwarmConnection } from 'hyperswarm'
import type { BlockProof, ContractInfo, HeadStatement, RootStatement, SignerRecord } from '../protocol/index.js'
import { discoveryKey, keyPair, sign } from '../src/crypto.js'
import { serveRpc } from '../src/net/rpc.js'
import { DEFAULT_LIMITS } from '../src/runtime/types.js'
import { createSwarm } from '../src/net/swarm.js'
import type { T } from './helpers.js'

/** What the impostor did. */
export interface Impostor {
  /** Root requests it answered. */
  roots: number
  /** Connections it had (dropped ones included). */
  connections: number
  /** Connections a peer closed on it. */
  dropped: number
}

/**
 * Starts the impostor for `contract`; it claims a log of `length` blocks.
 * @param opts.stall never answer `root` or `head` at all (instead of forging)
 * @returns counters of what it answered
 */
export async function impostorRoots (t: T, net: Testnet, contract: Uint8Array, length = 2, opts: { stall?: boolean } = {}): Promise<Impostor> {
  const me = keyPair()
  const counts: Impostor = { roots: 0, connections: 0, dropped: 0 }
  const root = (): RootStatement => {
    const body = { contract, length, fork: 0, treeHash: Buffer.alloc(32, 7) }
    return { ...body, signature: sign(Buffer.from('not the host'), me.secretKey) }
  }
  const target = {
    info: (): ContractInfo => ({ contract, files: me.publicKey, name: 'impostor', methods: ['increment'], length, fork: 0, runtime: 'forged', oracles: false, limits: { ...DEFAULT_LIMITS } }),
    call: async () => { throw new Error('impostor') },
    // a forged signer and no proofs: this impostor only ever answers roots and heads
    signer: (): SignerRecord => ({ version: 1, publicKey: me.publicKey, namespace: Buffer.alloc(32) }),
    prove: async (): Promise<BlockProof> => { throw new Error('impostor') },
    root: async () => { counts.roots++; return opts.stall ? await never<RootStatement>() : root() },
    head: async (): Promise<HeadStatement> => opts.stall ? await never<HeadStatement>() : ({ ...root(), filesLength: 1, filesTreeHash: Buffer.alloc(32, 9) })
  }
  const swarm = createSwarm({ bootstrap: net.bootstrap, firewalled: false })
  t.teardown(() => swarm.destroy())
  swarm.on('connection', (conn: SwarmConnection) => {
    counts.connections++
    conn.on('close', () => { counts.dropped++ })
    serveRpc(conn, (key) => (Buffer.from(key).equals(Buffer.from(contract)) ? target : null))
  })
  swarm.join(discoveryKey(Buffer.from(contract)), { server: true, client: false })
  await swarm.flush()
  return counts
}

function never<V> (): Promise<V> {
  return new Promise(() => {})
}
