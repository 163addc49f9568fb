/**
 * A watcher node: the watching service of a {@link VmsNode} (node/node.ts:
 * the store, swarm, identity, gossip and the connection handler), following
 * any number of contracts. It finds each host by the contract's discovery
 * key (as a client), replicates the call log and files drive over every
 * connection, and asks hosts for their signed root statements over the host
 * RPC.
 *
 * Storage layout under `storage`: `corestore/` (replicated cores, and the
 * node's state bee: watch positions and gossiped attestations),
 * `identity.json` (the key pair that signs its attestations),
 * `node-key.json` (the swarm key pair). Former `watch/*.json` state files
 * and `attestations.json` are read once and then removed (renamed).
 *
 * With a borrowed `store` (a client's audit, tests) the watcher does no
 * networking: the store's owner replicates it, `rootSource` gives roots.
 *
 * The watcher signs attestations of its verdicts and gossips them to every
 * peer (src/attest/attester.ts), and reports split views it notices.
 *
 * ```js
 * const watcher = new Watcher({ storage: './watcher', bootstrap })
 * const contract = await watcher.watch(key)
 * contract.on('verdict', (v) => console.log(v.verdict, v.length))
 * contract.on('fault', (v) => console.log(v.fault.kind, v.fault.index))
 * ```
 */

import safetyCatch from 'safety-catch'
import path from 'node:path'
import ReadyResource from 'ready-resource'
import type Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import type { SwarmConnection } from 'hyperswarm'
import { discoveryKey } from '../crypto.js'
import { parseKey } from '../keys.js'
import { RpcClient } from '../net/rpc.js'
import type { NetOptions } from '../net/swarm.js'
import { runtimeFingerprint } from '../runtime/sandbox.js'
import { createProcessSandbox } from '../runtime/sandbox-process.js'
import type { SandboxFactory } from '../runtime/types.js'
import type { ExpectedContract } from './audit.js'
import { ContractWatch, type RootSource } from './contract-watch.js'
import { Attester, reportSplitViews, type AttesterOptions } from './attester.js'
import type { AttestationGossip as Gossip } from '../attest/gossip.js'
import { keepLooking, type LookupOptions } from '../net/lookup.js'
import { FreshnessMonitor, type FreshnessOptions } from './freshness.js'
import type { KeyPair } from '../crypto.js'
import { VmsNode } from '../node/node.js'
import { StateBee } from './state.js'
import { ContractServe, replicaSource } from './serve.js'
import { openReplica, serveReplicas, type ReplicaSource } from '../net/replica.js'

/** Options for {@link Watcher}. */
export interface WatcherOptions extends NetOptions {
  /** Folder for the replicated cores and the watch state (default: a temporary folder removed on close). */
  storage?: string
  /** Use this Corestore instead of opening one (the watcher closes only its session); no networking then, and state is kept in memory unless `stateDir` is set. */
  store?: Corestore
  /** Use this swarm (not destroyed by the watcher; its connections go through the node's handler); ignored with `store`. */
  swarm?: Hyperswarm
  /**
   * Former folder of the watch state files (default `<storage>/watch`): its
   * files are read once, positions are kept in the node's state bee. With a
   * borrowed store, positions are kept (in that store's state bee) only when
   * this is a folder; null keeps them in memory.
   */
  stateDir?: string | null
  /** Builds replay sandboxes (default: supervised sandbox processes, so a hostile replay cannot end the watcher). */
  sandboxFactory?: SandboxFactory
  /** Runtime fingerprint put in verdicts (default: this process's). */
  runtime?: string
  /** ms to wait for peers, blocks and answers in one-shot audits, and for root requests (default 10,000). */
  timeout?: number
  /** ms between root statement requests while following and behind the log (default 250; none while the newest root covers the log). */
  rootInterval?: number
  /** Use this gossip (and its store) instead of owning one (not closed by the watcher). */
  gossip?: Gossip
  /** Key pair that signs attestations (default `<storage>/identity.json`, or a new one). */
  identity?: KeyPair
  /** Attestation batching, or false to sign none (default: see AttesterOptions). */
  attest?: AttesterOptions | false
  /** When a replica lagging behind a root seen in gossip counts as stale (see freshness.ts). */
  freshness?: FreshnessOptions
  /** ms judging one call may wait for blocks before a STALLED warning, while following (default 30,000; see ContractWatchOptions). */
  stallMs?: number
  /** How often to look a contract's host up again while none is connected (see lookup.ts). */
  lookup?: LookupOptions
  /** Announce as a server of every followed contract's log and files and keep all their blocks (default true; see serve.ts). */
  serve?: boolean
}

/** Options for {@link Watcher.watch}. */
export interface WatchOptions {
  /** What the contract is expected to be (a genesis fault otherwise). */
  expected?: ExpectedContract
  /** Judge only up to the host's length at the time of asking, with timeouts (verify). */
  oneShot?: boolean
  /** Where root statements come from when the watcher does no networking itself. */
  rootSource?: RootSource
  /** Start judging at once (default true; one-shot audits start on `auditOnce`). */
  start?: boolean
}

/**
 * Follows contracts and judges their hosts.
 * Events: `contract` (ContractWatch) when one is added; `stale` (StaleReport)
 * when gossip shows the host signed a longer log than this watcher can get,
 * `fresh` (contract, z-base32) when such a contract caught up; `host`
 * ({ publicKey, contract }: remote noise key and contract key, buffers) when
 * a peer opened the RPC channel of a followed contract, i.e. hosts it.
 */
export class Watcher extends ReadyResource {
  /** The node this watcher is a service of. */
  readonly node: VmsNode
  readonly contracts = new Map<string, ContractWatch>()
  /** What each followed contract (hex key) uploaded, when this watcher serves it (serve.ts). */
  readonly serving = new Map<string, ContractServe>()
  /** Stale-log detection over gossiped roots (see freshness.ts). */
  readonly freshness: FreshnessMonitor
  private attester: Attester | null = null
  private stopSplitViews: (() => void) | null = null
  private readonly opts: WatcherOptions
  /** Whether this watcher looks hosts up and opens their RPC itself. */
  private readonly networking: boolean
  /** Folder of former state files, and whether positions persist at all. */
  private readonly legacyDir: string | null
  private readonly persist: boolean

  /** @param opts see {@link WatcherOptions}; does no I/O */
  constructor (opts: WatcherOptions = {}) {
    super()
    this.opts = opts
    this.networking = !opts.store
    this.node = new VmsNode({
      ...opts,
      network: this.networking,
      swarm: opts.store ? undefined : opts.swarm,
      // a serving watcher is reachable (not firewalled), like a host
      firewalled: opts.firewalled ?? (opts.serve === false ? undefined : false),
      identity: opts.identity
    })
    this.persist = opts.store ? typeof opts.stateDir === 'string' : opts.stateDir !== null
    this.legacyDir = typeof opts.stateDir === 'string' ? opts.stateDir : (opts.storage && !opts.store ? path.join(opts.storage, 'watch') : null)
    this.freshness = new FreshnessMonitor(this.node.gossip.store, opts.freshness)
    this.freshness.on('stale', (r) => this.emit('stale', r))
    this.freshness.on('fresh', (key) => this.emit('fresh', key))
    this.node.add({
      name: 'watching',
      onconnection: (conn) => {
        serveReplicas(conn, (key) => this.replicaOf(key))
        for (const cw of this.contracts.values()) this.attach(conn, cw)
      },
      close: async () => {
        this.freshness.close()
        if (this.attester) this.attester.close()
        if (this.stopSplitViews) this.stopSplitViews()
        for (const c of [...this.contracts.values()].reverse()) await c.close()
      }
    })
  }

  get store (): Corestore { return this.node.store }
  /** The swarm (null without networking, or before ready). */
  get swarm (): Hyperswarm | null { return this.node.swarm }
  /** The node's folder ('' with a borrowed store). */
  get storage (): string { return this.node.storage }
  /** The key pair that signs this watcher's attestations (set once ready). */
  get identity (): KeyPair { return this.node.identity }
  get gossip (): Gossip { return this.node.gossip }

  protected override async _open (): Promise<void> {
    await this.node.ready()
    if (this.opts.attest !== false) {
      this.attester = new Attester(this.gossip, this.identity, this.opts.attest || {})
      this.stopSplitViews = reportSplitViews(this.gossip.store, this.gossip, this.identity, this.opts.runtime ?? runtimeFingerprint())
    }
  }

  protected override async _close (): Promise<void> {
    await this.node.close()
  }

  /**
   * Starts following a contract (or returns the one already followed).
   * @param key contract key, z-base32 or hex
   * @throws VmsError BAD_KEY
   */
  async watch (key: string | Uint8Array, opts: WatchOptions = {}): Promise<ContractWatch> {
    if (!this.opened) await this.ready()
    const k = parseKey(key)
    const id = k.toString('hex')
    const existing = this.contracts.get(id)
    if (existing) return existing
    const cw = new ContractWatch({
      key: k,
      store: this.store.session(), // its files drive closes the store it gets: a session, not the node's
      sandboxFactory: this.opts.sandboxFactory ?? createProcessSandbox,
      runtime: this.opts.runtime ?? runtimeFingerprint(),
      stateDir: null,
      stateStore: this.persist ? new StateBee(this.node.state, id, this.legacyDir) : undefined,
      expected: opts.expected,
      timeout: opts.oneShot ? (this.opts.timeout ?? 10_000) : 0,
      rootInterval: this.opts.rootInterval,
      requestTimeout: this.opts.timeout,
      stallMs: this.opts.stallMs
    })
    this.contracts.set(id, cw)
    try {
      await cw.ready()
    } catch (err) {
      this.contracts.delete(id)
      await cw.close().catch(safetyCatch)
      throw err
    }
    if (opts.rootSource) cw.addRootSource(opts.rootSource)
    const swarm = this.swarm
    if (swarm && this.networking) {
      for (const conn of swarm.connections) this.attach(conn, cw)
      const done = cw.log.core.findingPeers()
      const discovery = swarm.join(discoveryKey(k), { server: false, client: true })
      swarm.flush().then(done, done)
      // a host that starts after its watcher is found in seconds, not at the swarm's 10-minute refresh
      // until a peer proved itself: an impostor's open channel is no reason to stop looking
      const stop = keepLooking(discovery, () => cw.proven, this.opts.lookup)
      cw.on('close', stop)
      if (!opts.oneShot && this.opts.serve !== false) this.serve(cw, swarm)
    }
    if (this.attester && !opts.oneShot) this.attester.follow(cw)
    if (!opts.oneShot) this.freshness.follow(cw)
    this.emit('contract', cw)
    if (opts.start !== false && !opts.oneShot) cw.start()
    return cw
  }

  /**
   * Opens the host RPC of `cw` on `conn`; once the channel is fully open the
   * peer is asked for roots (and heads) like every other peer of the
   * contract. A peer that answers a statement the contract's signer did not
   * sign is dropped: its connection destroyed and its swarm peer banned.
   */
  private attach (conn: SwarmConnection, cw: ContractWatch): void {
    this.attachReplica(conn, cw)
    let rpc: RpcClient
    try {
      rpc = new RpcClient(conn, cw.key)
    } catch {
      return
    }
    let remove: (() => void) | null = null
    rpc.rpc.on('close', () => { if (remove) remove() })
    rpc.rpc.fullyOpened().then(() => {
      if (cw.closing || rpc.rpc.closed) return
      remove = cw.addRootSource({
        root: (timeout) => rpc.root(timeout),
        head: (timeout) => rpc.head(timeout),
        drop: () => this.dropPeer(conn)
      })
      this.emit('host', { publicKey: conn.remotePublicKey, contract: cw.key })
    }, () => {})
  }

  // --- rehosting: serving replicas and asking them for the host's roots ---

  /**
   * Announces `cw` and keeps all its blocks (serve.ts); the files drive once
   * the judge has caught up with the log (until then it asks for the files
   * in windows ahead of it, download-window.ts: serving would ask for every
   * block at random, and the judge would wait on its own blocks behind them).
   */
  private serve (cw: ContractWatch, swarm: Hyperswarm): void {
    const id = cw.key.toString('hex')
    if (this.serving.has(id)) return
    const serve = new ContractServe(swarm, cw.log)
    this.serving.set(id, serve)
    serve.start()
    const onverdict = (): void => {
      if (!cw.log.drive || !cw.caughtUp) return
      cw.off('verdict', onverdict)
      serve.files(cw.log.drive).catch((err) => cw.emit('warning', err))
    }
    cw.on('verdict', onverdict)
    onverdict()
    cw.on('close', () => {
      this.serving.delete(id)
      serve.close().catch(safetyCatch)
    })
  }

  /** The host-signed roots this watcher hands over for contract `key` (replica channel). */
  private replicaOf (key: Buffer): ReplicaSource | null {
    const cw = this.contracts.get(key.toString('hex'))
    return cw ? replicaSource(() => cw.statements, cw.log.core) : null
  }

  /**
   * Opens the replica channel of `cw` on `conn` (serving our kept roots) and
   * asks the peer for the roots it keeps, like every other root source; a
   * replica never counts as the host (RootPeer.replica).
   */
  private attachReplica (conn: SwarmConnection, cw: ContractWatch): void {
    const ch = openReplica(conn, cw.key, replicaSource(() => cw.statements, cw.log.core))
    if (!ch) return
    let remove: (() => void) | null = null
    ch.rpc.on('close', () => { if (remove) remove() })
    ch.rpc.fullyOpened().then(() => {
      if (cw.closing || !ch.rpc.opened || ch.rpc.closed || remove) return
      remove = cw.addRootSource({ root: (timeout) => ch.root(timeout), drop: () => this.dropPeer(conn), replica: true })
    }, () => {})
  }

  /** Destroys `conn` and bans its peer (it sent forged statements). */
  private dropPeer (conn: SwarmConnection): void {
    const key = conn.remotePublicKey
    const info = key && this.swarm ? this.swarm.peers.get(Buffer.from(key).toString('hex')) : undefined
    if (info) info.ban(true)
    conn.destroy()
  }
}
