/**
 * A seeder: keeps contracts available without auditing them (`vms-node
 * seed`). It replicates each contract's call log, files database and blobs,
 * announces itself as a server on their topics (serve.ts), and keeps the
 * host-signed root statements it gets from the host (its RPC `root`) or from
 * other replicas (the replica channel), each verified against the signer
 * the genesis names and the log's manifest (which hashes to the contract
 * key). It hands the newest of them to whoever asks, so that readers and
 * auditors can judge what it serves with the host offline. It never replays:
 * what it serves is exactly what the host signed (a reader checks that);
 * whether the host ran the calls right is the watchers' question.
 *
 * Storage under `storage` (persistent; default a temporary folder removed
 * on close): `corestore/`, `seed/<contract hex>.json` (the kept
 * statements), the node key.
 *
 * Events of a {@link SeededContract}: `root` (RootStatement) when a newer
 * one is kept, `complete` ({ length, filesLength, blobsLength }) when every
 * block up to the newest root and of the files is held, `warning` (VmsError),
 * `fork` (ForkFault from fork.ts: two host-signed statements that conflict).
 */

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { EventEmitter } from 'node:events'
import b4a from 'b4a'
import ReadyResource from 'ready-resource'
import Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import type Hypercore from 'hypercore'
import type { Discovery, SwarmConnection } from 'hyperswarm'
import type { RootStatement } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { parseKey } from '../keys.js'
import { ContractLog } from '../log/contract-log.js'
import { RpcClient } from '../net/rpc.js'
import { openReplica, serveReplicas, type ReplicaSource } from '../net/replica.js'
import { createSwarm, loadNodeKeyPair, type NetOptions } from '../net/swarm.js'
import { guardConnection } from '../net/guard.js'
import { keepLooking, type LookupOptions } from '../net/lookup.js'
import { signerOf } from '../attest/signer.js'
import { RootBook, conflictFault } from './fork.js'
import { StateFile, initialState } from './state.js'
import { ContractServe, replicaSource } from './serve.js'

/** Options of {@link Seeder}. */
export interface SeederOptions extends NetOptions {
  /** Folder for the replicated cores and kept roots (default: a temporary folder removed on close). */
  storage?: string
  /** ms to wait for one root answer (default 10,000). */
  timeout?: number
  /** ms between two rounds of root requests (default 2,000). */
  rootInterval?: number
  /** How often to look the host up again while none is connected (see lookup.ts). */
  lookup?: LookupOptions
}

/** A root source of one connection: the host's RPC or a replica channel. */
interface Source { root: (timeout: number) => Promise<RootStatement>, conn: SwarmConnection, host: boolean }

/** One seeded contract (see the module doc for its events). */
export class SeededContract extends EventEmitter {
  readonly key: Buffer
  readonly log: ContractLog
  readonly serve: ContractServe
  /** Whether a host answered a verified root over its RPC in the last round. */
  hostOnline = false
  private book: RootBook | null = null
  private readonly state: StateFile
  private readonly sources = new Set<Source>()
  private readonly timeout: number
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private completeAt = -1

  /** Built by {@link Seeder.seed}. */
  constructor (key: Buffer, store: Corestore, swarm: Hyperswarm, stateDir: string, timeout: number) {
    super()
    this.key = key
    this.log = new ContractLog(store, { key })
    this.serve = new ContractServe(swarm, this.log)
    this.state = new StateFile(stateDir, key.toString('hex'))
    this.timeout = timeout
  }

  /** Host-signed statements kept, oldest first. */
  get statements (): readonly RootStatement[] {
    return this.book ? this.book.statements : []
  }

  /** What this seeder hands over on the replica channel. */
  get source (): ReplicaSource {
    return replicaSource(() => this.statements, this.log.core)
  }

  /**
   * Opens the log and announces its topic, then (in the background) the genesis and the files drive.
   * @returns the swarm session of the log topic (null when not announcing)
   */
  async open (): Promise<Discovery | null> {
    await this.log.ready()
    const discovery = this.serve.start()
    this.log.core.download({ start: 0, end: -1 })
    this.openGenesis().catch((err) => { if (!this.closed) this.emit('warning', VmsError.from(err)) })
    return discovery
  }

  /** Adds a root source; @returns a function that removes it */
  add (s: Source): () => void {
    this.sources.add(s)
    return () => { this.sources.delete(s) }
  }

  /** Asks every source for its root every `every` ms (unref'd timer). */
  poll (every: number): void {
    const tick = (): void => {
      this.round().catch((err) => this.emit('warning', VmsError.from(err))).finally(() => {
        if (!this.closed) (this.timer = setTimeout(tick, every)).unref()
      })
    }
    tick()
  }

  /** One round: every source's root, verified and kept. */
  async round (): Promise<void> {
    const book = this.book
    if (!book || this.closed) return
    let host = false
    await Promise.all([...this.sources].map(async (src) => {
      let s: RootStatement
      try {
        s = await src.root(this.timeout)
      } catch {
        return // no host RPC on this peer, keeps none, timed out, closed
      }
      const before = book.latest()
      const r = book.add(s)
      if (r.status === 'invalid') {
        this.emit('warning', VmsError.FORGED_ROOT(`a peer answered a root the contract's signer did not sign (${r.reason}): dropped`))
        this.sources.delete(src)
        src.conn.destroy()
        return
      }
      if (r.status === 'conflict') {
        this.emit('fork', conflictFault(r.with, s, r.kind))
        return
      }
      if (src.host) host = true
      const after = book.latest()
      if (after && after !== before) this.emit('root', after)
    }))
    this.hostOnline = host
    this.save()
    await this.checkComplete()
  }

  /** Stops polling and serving, saves the kept roots, closes the log. */
  async close (): Promise<void> {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.save()
    await this.serve.close()
    await this.log.close()
    this.emit('close')
  }

  private async openGenesis (): Promise<void> {
    const drive = await this.log.openFiles()
    const g = this.log.genesis
    const manifest = signerOf(this.log.core)
    if (!g || !manifest || !b4a.equals(g.signer, manifest.publicKey)) throw VmsError.BAD_RECORD('the genesis names another signer than the log manifest: nothing kept')
    await this.serve.files(drive)
    await this.serve.announced() // `complete` (from the first round on) means findable too
    const saved = this.state.load()
    this.book = new RootBook(this.key, g.signer, saved ? saved.statements : [])
    await this.round()
  }

  private save (): void {
    if (!this.book) return
    const s = initialState(this.key.toString('hex'))
    s.statements = this.book.toJSON()
    try {
      this.state.save(s)
    } catch (err) {
      this.emit('warning', VmsError.from(err))
    }
  }

  private async checkComplete (): Promise<void> {
    const latest = this.book ? this.book.latest() : null
    const drive = this.log.drive
    if (!latest || !drive) return
    const blobs = await drive.getBlobs() as { core: Hypercore } | null
    const core = this.log.core
    const full = (c: Hypercore): boolean => c.contiguousLength === c.length
    if (core.contiguousLength < latest.length || !full(drive.core) || latest.length === this.completeAt) return
    // the blobs the files refer to, not the blobs core's length as known so far (0 before its first update)
    const needed = drive.core.length > 0 ? await drive.getBlobsLength(drive.core.length) : 0
    if (needed > 0 && (!blobs || blobs.core.contiguousLength < needed)) return
    if (blobs === null || full(blobs.core)) {
      this.completeAt = latest.length
      this.emit('complete', { length: latest.length, filesLength: drive.core.length, blobsLength: blobs ? blobs.core.length : 0 })
    }
  }
}

/** See the module doc. */
export class Seeder extends ReadyResource {
  readonly store: Corestore
  swarm: Hyperswarm | null = null
  readonly contracts = new Map<string, SeededContract>()
  readonly storage: string
  private readonly opts: SeederOptions
  private readonly tmpdir: string | null

  /** @param opts see {@link SeederOptions} */
  constructor (opts: SeederOptions = {}) {
    super()
    this.opts = opts
    this.tmpdir = opts.storage ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'vms-seed-'))
    this.storage = opts.storage ?? (this.tmpdir as string)
    this.store = new Corestore(path.join(this.storage, 'corestore'))
  }

  protected override async _open (): Promise<void> {
    await this.store.ready()
    // reachable like a host: readers connect to it
    this.swarm = createSwarm({ ...this.opts, firewalled: this.opts.firewalled ?? false }, loadNodeKeyPair(this.storage))
    this.swarm.on('connection', (conn: SwarmConnection) => this.onconnection(conn))
  }

  protected override async _close (): Promise<void> {
    for (const sc of this.contracts.values()) await sc.close()
    if (this.swarm) await this.swarm.destroy()
    await this.store.close()
    if (this.tmpdir) fs.rmSync(this.tmpdir, { recursive: true, force: true })
  }

  /**
   * Starts seeding a contract (or returns the one already seeded).
   * @param key contract key, z-base32 or hex
   * @throws VmsError BAD_KEY
   */
  async seed (key: string | Uint8Array): Promise<SeededContract> {
    if (!this.opened) await this.ready()
    const k = parseKey(key)
    const id = k.toString('hex')
    const have = this.contracts.get(id)
    if (have) return have
    const swarm = this.swarm as Hyperswarm
    const sc = new SeededContract(k, this.store, swarm, path.join(this.storage, 'seed'), this.opts.timeout ?? 10_000)
    this.contracts.set(id, sc)
    const discovery = await sc.open()
    for (const conn of swarm.connections) this.attach(conn, sc)
    const done = sc.log.core.findingPeers()
    swarm.flush().then(done, done)
    if (discovery) {
      const stop = keepLooking(discovery, () => sc.hostOnline, this.opts.lookup)
      sc.once('close', stop)
    }
    sc.poll(this.opts.rootInterval ?? 2_000)
    return sc
  }

  private onconnection (conn: SwarmConnection): void {
    guardConnection(conn) // first: it must see every frame before protomux does
    this.store.replicate(conn)
    serveReplicas(conn, (key) => this.contracts.get(key.toString('hex'))?.source ?? null)
    for (const sc of this.contracts.values()) this.attach(conn, sc)
  }

  /** Asks `conn` for roots of `sc`: as a host (RPC `root`) and as a replica. */
  private attach (conn: SwarmConnection, sc: SeededContract): void {
    try {
      const rpc = new RpcClient(conn, sc.key)
      const remove = sc.add({ root: async (t) => await opened(rpc.rpc, () => rpc.root(t)), conn, host: true })
      rpc.rpc.on('close', remove)
    } catch {}
    const ch = openReplica(conn, sc.key, sc.source)
    if (ch) {
      const remove = sc.add({ root: async (t) => await opened(ch.rpc, () => ch.root(t)), conn, host: false })
      ch.rpc.on('close', remove)
    }
  }
}

/** Runs `fn` only on a channel the peer opened (a peer without it would just time out). */
async function opened<T> (rpc: { opened: boolean, closed: boolean }, fn: () => Promise<T>): Promise<T> {
  if (!rpc.opened || rpc.closed) throw VmsError.CLOSED('the peer did not open this channel')
  return await fn()
}
