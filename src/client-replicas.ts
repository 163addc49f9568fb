/**
 * A client's view of a contract's replicas (rehosting): the peers that keep
 * its log and files (watchers, seeders) and hand over the host-signed roots
 * they hold on the replica channel (net/replica.ts). With the host offline
 * a client still reads proven state from them: the genesis comes from the
 * replicated log (Hypercore checks every block against the contract key's
 * manifest), roots from the replicas (each checked against the manifest's
 * signer: a replica can withhold the newest root, never forge one).
 *
 * A replica is never a host: it accepts no calls; `call` with no host
 * online fails with HOST_OFFLINE naming how many replicas serve the state.
 */

import b4a from 'b4a'
import type Hypercore from 'hypercore'
import type { SwarmConnection } from 'hyperswarm'
import type { ContractInfo, GenesisRecord, RootStatement, SignerRecord } from '../protocol/index.js'
import { VmsError } from './errors.js'
import { formatKey } from './keys.js'
import { decodeBlock } from './log/contract-log.js'
import { openReplica, type ReplicaChannel } from './net/replica.js'
import { checkRoot } from './attest/reply.js'
import { signerMatches, signerOf } from './attest/signer.js'
import { withTimeout } from './timeout.js'

/** One replica's open channel. */
interface Replica { ch: ReplicaChannel, conn: SwarmConnection }

/** How fresh state told by replicas is (see {@link ReplicaSet.freshness}). */
export interface Freshness {
  /** Whether a host peer is connected now. */
  hostOnline: boolean
  /** Replicas with an open channel. */
  replicas: number
  /** Length of the newest host-signed root known (blocks, genesis included): "state as of call length - 1". */
  length: number
  /** Recorded time of the last call under that root, ms since the epoch (null: only the genesis): when the host was last seen serving, as its own log says. */
  time: number | null
}

/** See the module doc. */
export class ReplicaSet {
  private readonly contract: Uint8Array
  private readonly open: Replica[] = []
  private closed = false

  /** @param contract the contract key */
  constructor (contract: Uint8Array) {
    this.contract = contract
  }

  /** Replicas with an open channel now. */
  get size (): number {
    return this.open.length
  }

  /** Opens the replica channel on `conn` (ask-only: a client serves no roots). */
  add (conn: SwarmConnection): void {
    if (this.closed) return
    const ch = openReplica(conn, this.contract, null)
    if (!ch) return
    const r: Replica = { ch, conn }
    ch.rpc.on('close', () => this.remove(r))
    ch.rpc.fullyOpened().then(() => {
      if (this.closed || !ch.rpc.opened || ch.rpc.closed) return
      if (!this.open.includes(r)) this.open.push(r)
    }, () => {})
  }

  /**
   * Every open replica's newest root, verified against `signer`; a replica
   * that answers a root the signer did not sign is dropped (connection destroyed).
   * @param timeout ms per replica
   * @returns the roots that verified (replicas keeping none give none)
   */
  async roots (signer: SignerRecord, timeout: number): Promise<RootStatement[]> {
    const out: RootStatement[] = []
    await Promise.all(this.open.map(async (r) => {
      let s: RootStatement
      try {
        s = await r.ch.root(timeout)
      } catch {
        return // keeps none, timed out, closed
      }
      try {
        checkRoot(this.contract, s, signer, 'replica root')
      } catch {
        this.remove(r)
        r.conn.destroy()
        return
      }
      out.push(s)
    }))
    return out
  }

  /** Closes every replica channel. */
  close (): void {
    this.closed = true
    for (const r of this.open.splice(0)) r.ch.close()
  }

  private remove (r: Replica): void {
    const i = this.open.indexOf(r)
    if (i !== -1) this.open.splice(i, 1)
  }
}

/** The newest of `roots`: highest fork, then longest (null when empty). */
export function newestRoot (roots: readonly RootStatement[]): RootStatement | null {
  let best: RootStatement | null = null
  for (const s of roots) if (!best || s.fork > best.fork || (s.fork === best.fork && s.length > best.length)) best = s
  return best
}

/** What {@link replicaInfo} proved. */
export interface ReplicaInfo {
  info: ContractInfo
  genesis: GenesisRecord
  block: Uint8Array
  root: RootStatement
  signer: SignerRecord
}

/**
 * The contract's info from replicas alone: the signer from the replicated
 * log's manifest (it must hash to the contract key), the newest root the
 * replicas hold (signed by it), the genesis from block 0 (Hypercore checks
 * it against the key). `methods` is empty: no host names them (derive them
 * from the genesis source with `provenMethods`).
 * @param timeout ms to wait for the manifest, the roots and block 0
 * @throws VmsError NOT_FOUND (no replica holds a root), FORGED_REPLY (manifest of another key), BAD_RECORD
 */
export async function replicaInfo (contract: Uint8Array, core: Hypercore, replicas: ReplicaSet, timeout: number): Promise<ReplicaInfo> {
  const end = Date.now() + timeout
  while (!core.manifest && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
  const signer = signerOf(core)
  if (!signer) throw VmsError.NOT_FOUND(`no replica of ${formatKey(contract)} served its log within ${timeout} ms`)
  if (!signerMatches(contract, signer)) throw VmsError.FORGED_REPLY('the replicated log has a manifest of another key')
  const root = newestRoot(await replicas.roots(signer, Math.max(1, end - Date.now())))
  if (!root) throw VmsError.NOT_FOUND(`no host of ${formatKey(contract)} is online and no replica holds a root it signed`)
  const block = await withTimeout(core.get(0, { timeout: Math.max(1, end - Date.now()) }), Math.max(1, end - Date.now())) as Uint8Array | null
  if (!block) throw VmsError.NOT_FOUND('block 0 did not replicate')
  const b = decodeBlock(block, 0)
  if (b.type !== 'genesis') throw VmsError.BAD_RECORD('block 0 is not a genesis record')
  const g = b.genesis
  if (!b4a.equals(g.signer, signer.publicKey)) throw VmsError.BAD_RECORD('the genesis names another signer than the manifest')
  return {
    info: { contract: Buffer.from(contract), files: Buffer.from(g.files), name: g.name, methods: [], length: root.length, fork: root.fork, runtime: g.runtime, oracles: g.oracles, limits: g.limits },
    genesis: g,
    block,
    root,
    signer
  }
}

/**
 * Recorded time of the last call under `root` (block `root.length - 1`,
 * read from the replicated log; null when that is the genesis or it does
 * not arrive within `timeout` ms).
 */
export async function rootTime (core: Hypercore, root: RootStatement, timeout: number): Promise<number | null> {
  if (root.length < 2) return null
  const raw = await core.get(root.length - 1, { timeout }).catch(() => null) as Uint8Array | null
  if (!raw) return null
  try {
    const b = decodeBlock(raw, root.length - 1)
    return b.type === 'call' ? b.call.timestamp : null
  } catch {
    return null
  }
}

/** The HOST_OFFLINE error of a call made while only replicas are online. */
export function hostOffline (contract: Uint8Array, replicas: number, length: number): VmsError {
  return VmsError.HOST_OFFLINE(`no host of ${formatKey(contract)} is online to run calls; ${replicas} ${replicas === 1 ? 'replica serves' : 'replicas serve'} its state (as of call ${Math.max(0, length - 1)})`)
}

/** ms to wait for a host channel once only replicas opened theirs (connect, call). */
export const HOST_GRACE_MS = 1500

/** Who is online for a client: a host (a peer opened the host RPC channel), the replicas, and whether the client closed. */
export interface Presence {
  hostOnline: () => boolean
  replicas: ReplicaSet
  closed: () => boolean
}

/**
 * Waits for a host or replica channel, polling every 20 ms.
 * @param timeout ms
 * @returns true when a host opened one; false at `timeout`, once the client
 *   closed, or {@link HOST_GRACE_MS} after the first replica without a host
 */
export async function waitHost (p: Presence, timeout: number): Promise<boolean> {
  const end = Date.now() + timeout
  let grace = 0
  while (!p.closed()) {
    if (p.hostOnline()) return true
    if (p.replicas.size > 0 && grace === 0) grace = Math.min(end, Date.now() + HOST_GRACE_MS)
    const now = Date.now()
    if (now >= end || (grace > 0 && now >= grace)) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}

/**
 * Returns when a host is online or nobody is (the call then fails finding
 * peers as before); waits {@link HOST_GRACE_MS} for a host when only replicas are.
 * @param length the log length known, for the message
 * @throws VmsError HOST_OFFLINE when only replicas are online
 */
export async function hostOrOffline (p: Presence, contract: Uint8Array, length: number): Promise<void> {
  if (p.hostOnline() || p.replicas.size === 0) return
  if (await waitHost(p, HOST_GRACE_MS)) return
  if (p.replicas.size > 0) throw hostOffline(contract, p.replicas.size, length)
}
