/**
 * Serving a replicated contract (watchers with storage, seeders): announce
 * as a server on the call log's topic and the files drive's topic, keep
 * every block of the log, the files database and its blobs (live downloads),
 * and count what is served. Replication itself is the Corestore's on every
 * connection; this only makes the node findable and complete.
 *
 * What it serves is provable against the contract key alone: log blocks
 * carry the host's tree signature (hypercore checks it on the reader's
 * side), drive blocks the drive's, and the roots it hands over on the
 * replica channel (net/replica.ts) are the host's signed statements.
 */

import safetyCatch from 'safety-catch'
import b4a from 'b4a'
import type Hyperswarm from 'hyperswarm'
import type { Discovery } from 'hyperswarm'
import type Hypercore from 'hypercore'
import type Hyperdrive from 'hyperdrive'
import type { RootStatement } from '../../protocol/index.js'
import type { ContractLog } from '../log/contract-log.js'
import type { ReplicaSource } from '../net/replica.js'

/** What one served contract uploaded. */
export interface ServeStats {
  /** Distinct peers (noise keys) that downloaded a block from us. */
  peersServed: number
  /** Bytes of blocks uploaded (log, files database and blobs). */
  bytesUploaded: number
  /** Blocks uploaded. */
  blocksUploaded: number
}

/** Options of {@link ContractServe}. */
export interface ContractServeOptions {
  /** Announce on the topics (default true); false: serve only peers that connect for other reasons. */
  announce?: boolean
}

/**
 * Serves one contract's log and files from a replica (see the module doc).
 * Call {@link ContractServe.files} once the drive is open.
 */
export class ContractServe {
  readonly stats: ServeStats = { peersServed: 0, bytesUploaded: 0, blocksUploaded: 0 }
  private readonly swarm: Hyperswarm | null
  private readonly log: ContractLog
  private readonly announce: boolean
  private readonly peers = new Set<string>()
  private readonly downloads: Array<{ destroy (): void }> = []
  private readonly cores: Hypercore[] = []
  private readonly sessions: Discovery[] = []
  private filesServed = false
  private closed = false

  /**
   * @param swarm the node's swarm (null: no announcing, e.g. a borrowed store)
   * @param log the replicated contract log
   */
  constructor (swarm: Hyperswarm | null, log: ContractLog, opts: ContractServeOptions = {}) {
    this.swarm = swarm
    this.log = log
    this.announce = opts.announce !== false && swarm !== null
    this.track(log.core)
  }

  /**
   * Joins the log topic as a server (and client: other replicas and the host are found the same way).
   * @returns the swarm session of the topic (null when not announcing)
   */
  start (): Discovery | null {
    return this.announce && this.swarm ? this.join(this.log.core.discoveryKey as Uint8Array, true) : null
  }

  /**
   * Serves the files drive too: announces on its topic and keeps every
   * block of its database and blobs. Idempotent.
   */
  async files (drive: Hyperdrive): Promise<void> {
    if (this.filesServed || this.closed) return
    this.filesServed = true
    this.track(drive.core)
    this.downloads.push(drive.core.download({ start: 0, end: -1 }))
    if (this.announce && this.swarm) this.join(drive.discoveryKey as Uint8Array, false)
    const blobs = await drive.getBlobs() as { core: Hypercore } | null
    if (this.closed || !blobs) return
    this.track(blobs.core)
    this.downloads.push(blobs.core.download({ start: 0, end: -1 }))
  }

  /** Resolves once every topic joined so far is announced on the DHT. */
  async announced (): Promise<void> {
    await Promise.all(this.sessions.map(async (d) => await d.flushed().catch(safetyCatch)))
  }

  /** Stops announcing and downloading (the cores stay open: their owner closes them). */
  async close (): Promise<void> {
    this.closed = true
    for (const d of this.downloads.splice(0)) d.destroy()
    for (const core of this.cores) core.removeListener('upload', this.onupload)
    for (const d of this.sessions.splice(0)) await d.destroy().catch(safetyCatch)
  }

  private join (topic: Uint8Array, client: boolean): Discovery | null {
    if (!this.swarm) return null
    const d = this.swarm.join(topic, { server: true, client })
    this.sessions.push(d)
    return d
  }

  private track (core: Hypercore): void {
    this.cores.push(core)
    core.on('upload', this.onupload)
  }

  private readonly onupload = (_index: number, byteLength: number, from: { remotePublicKey?: Uint8Array } | undefined): void => {
    this.stats.blocksUploaded++
    this.stats.bytesUploaded += byteLength
    const key = from && from.remotePublicKey ? b4a.toString(from.remotePublicKey, 'hex') : ''
    if (key && !this.peers.has(key)) {
      this.peers.add(key)
      this.stats.peersServed = this.peers.size
    }
  }
}

/**
 * The root a replica hands over: the newest kept statement of the log's
 * current fork whose blocks it holds (length <= its contiguous length), so
 * that whoever judges it can get every block from here; else the newest
 * kept statement of any fork (still host-signed: freshness, fork evidence).
 * @param statements host-signed statements, any order
 * @param core the replica's log
 */
export function servableRoot (statements: readonly RootStatement[], core: Hypercore): RootStatement | null {
  let best: RootStatement | null = null
  let any: RootStatement | null = null
  for (const s of statements) {
    if (!any || s.fork > any.fork || (s.fork === any.fork && s.length > any.length)) any = s
    if (s.fork === core.fork && s.length <= core.contiguousLength && (!best || s.length > best.length)) best = s
  }
  return best ?? any
}

/** A {@link ReplicaSource} over a getter of kept statements. */
export function replicaSource (statements: () => readonly RootStatement[], core: Hypercore): ReplicaSource {
  return { root: () => servableRoot(statements(), core) }
}
