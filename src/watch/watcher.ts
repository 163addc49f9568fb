/**
 * A watcher node: one Corestore (its own, under `--storage`, or borrowed from
 * a client), one swarm, and any number of followed contracts. It finds each
 * host by the contract's discovery key (as a client), replicates the call
 * log and files drive over every connection, and asks hosts for their signed
 * root statements over the host RPC.
 *
 * Storage layout under `storage`: `corestore/` (replicated cores), `watch/`
 * (one state file per contract, see state.ts), `identity.json` (the key pair
 * that signs its attestations), `attestations.json` (gossiped attestations).
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

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import ReadyResource from 'ready-resource'
import Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import type { SwarmConnection } from 'hyperswarm'
import { discoveryKey } from '../crypto.js'
import { parseKey } from '../keys.js'
import { RpcClient } from '../net/rpc.js'
import { createSwarm, loadNodeKeyPair, type NetOptions } from '../net/swarm.js'
import { createSandbox, runtimeFingerprint } from '../runtime/sandbox.js'
import type { SandboxFactory } from '../runtime/types.js'
import type { ExpectedContract } from './audit.js'
import { ContractWatch, type RootSource } from './contract-watch.js'
import { AttestationStore } from '../attest/store.js'
import { Attester, reportSplitViews, type AttesterOptions } from '../attest/attester.js'
import { Gossip } from '../net/gossip.js'
import { guardConnection } from '../net/guard.js'
import { keepLooking, type LookupOptions } from '../net/lookup.js'
import { FreshnessMonitor, type FreshnessOptions } from './freshness.js'
import { keyPair, type KeyPair } from '../crypto.js'
import { loadIdentity } from '../identity.js'

/** Options for {@link Watcher}. */
export interface WatcherOptions extends NetOptions {
  /** Folder for the replicated cores and the watch state (default: a temporary folder removed on close). */
  storage?: string
  /** Use this Corestore instead of opening one (not closed by the watcher); state is then kept in memory unless `stateDir` is set. */
  store?: Corestore
  /** Use this swarm (not destroyed by the watcher); with `store` and no swarm the owner replicates and `rootSource` gives roots. */
  swarm?: Hyperswarm
  /** Folder of the watch state files (default `<storage>/watch`; none with a borrowed store). */
  stateDir?: string | null
  /** Builds replay sandboxes (default: the isolated-vm runtime). */
  sandboxFactory?: SandboxFactory
  /** Runtime fingerprint put in verdicts (default: this process's). */
  runtime?: string
  /** ms to wait for peers, blocks and answers in one-shot audits, and for root requests (default 10,000). */
  timeout?: number
  /** ms between root statement requests while following (default 1,000). */
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
  readonly store: Corestore
  swarm: Hyperswarm | null = null
  readonly contracts = new Map<string, ContractWatch>()
  readonly storage: string
  /** The key pair that signs this watcher's attestations. */
  readonly identity: KeyPair
  readonly gossip: Gossip
  /** Stale-log detection over gossiped roots (see freshness.ts). */
  readonly freshness: FreshnessMonitor
  private readonly attester: Attester | null
  private readonly ownsGossip: boolean
  private stopSplitViews: (() => void) | null = null
  private readonly opts: WatcherOptions
  private readonly tmpdir: string | null
  private readonly ownsStore: boolean
  private readonly ownsSwarm: boolean
  private readonly stateDir: string | null

  /** @param opts see {@link WatcherOptions} */
  constructor (opts: WatcherOptions = {}) {
    super()
    this.opts = opts
    this.ownsStore = !opts.store
    this.ownsSwarm = !opts.store && !opts.swarm
    this.tmpdir = opts.store || opts.storage ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'vms-watch-'))
    this.storage = opts.storage ?? this.tmpdir ?? ''
    this.store = opts.store ?? new Corestore(path.join(this.storage, 'corestore'))
    this.swarm = opts.swarm ?? null
    this.stateDir = opts.stateDir !== undefined ? opts.stateDir : (opts.store ? null : path.join(this.storage, 'watch'))
    this.identity = opts.identity ?? (opts.storage ? loadIdentity(path.join(opts.storage, 'identity.json')) : keyPair())
    this.ownsGossip = !opts.gossip
    this.gossip = opts.gossip ?? new Gossip(new AttestationStore({ file: opts.storage ? path.join(opts.storage, 'attestations.json') : undefined }))
    this.attester = opts.attest === false ? null : new Attester(this.gossip, this.identity, opts.attest || {})
    this.freshness = new FreshnessMonitor(this.gossip.store, opts.freshness)
    this.freshness.on('stale', (r) => this.emit('stale', r))
    this.freshness.on('fresh', (key) => this.emit('fresh', key))
  }

  protected override async _open (): Promise<void> {
    await this.store.ready()
    if (this.attester) this.stopSplitViews = reportSplitViews(this.gossip.store, this.gossip, this.identity, this.opts.runtime ?? runtimeFingerprint())
    if (this.ownsSwarm) this.swarm = createSwarm(this.opts, this.opts.storage ? loadNodeKeyPair(this.opts.storage) : undefined) // the node key, kept in --storage
    if (this.swarm && (this.ownsSwarm || this.ownsStore)) {
      this.swarm.on('connection', (conn: SwarmConnection) => this.onconnection(conn))
    }
  }

  protected override async _close (): Promise<void> {
    this.freshness.close()
    if (this.attester) this.attester.close()
    if (this.stopSplitViews) this.stopSplitViews()
    if (this.ownsGossip) this.gossip.close()
    for (const c of [...this.contracts.values()].reverse()) await c.close()
    if (this.swarm && this.ownsSwarm) await this.swarm.destroy()
    if (this.ownsGossip) this.gossip.store.flush()
    if (this.ownsStore) await this.store.close()
    if (this.tmpdir) fs.rmSync(this.tmpdir, { recursive: true, force: true })
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
      store: this.store,
      sandboxFactory: this.opts.sandboxFactory ?? createSandbox,
      runtime: this.opts.runtime ?? runtimeFingerprint(),
      stateDir: this.stateDir,
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
      await cw.close().catch(() => {})
      throw err
    }
    if (opts.rootSource) cw.addRootSource(opts.rootSource)
    const swarm = this.swarm
    if (swarm && (this.ownsSwarm || this.ownsStore)) {
      for (const conn of swarm.connections) this.attach(conn, cw)
      const done = cw.log.core.findingPeers()
      const discovery = swarm.join(discoveryKey(k), { server: false, client: true })
      swarm.flush().then(done, done)
      // a host that starts after its watcher is found in seconds, not at the swarm's 10-minute refresh
      // until a peer proved itself: an impostor's open channel is no reason to stop looking
      const stop = keepLooking(discovery, () => cw.proven, this.opts.lookup)
      cw.on('close', stop)
    }
    if (this.attester && !opts.oneShot) this.attester.follow(cw)
    if (!opts.oneShot) this.freshness.follow(cw)
    this.emit('contract', cw)
    if (opts.start !== false && !opts.oneShot) cw.start()
    return cw
  }

  private onconnection (conn: SwarmConnection): void {
    guardConnection(conn) // first: it must see every frame before protomux does
    this.store.replicate(conn)
    if (this.ownsGossip) this.gossip.attach(conn)
    for (const cw of this.contracts.values()) this.attach(conn, cw)
  }

  /**
   * Opens the host RPC of `cw` on `conn`; once the channel is fully open the
   * peer is asked for roots (and heads) like every other peer of the
   * contract. A peer that answers a statement the contract's signer did not
   * sign is dropped: its connection destroyed and its swarm peer banned.
   */
  private attach (conn: SwarmConnection, cw: ContractWatch): void {
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

  /** Destroys `conn` and bans its peer (it sent forged statements). */
  private dropPeer (conn: SwarmConnection): void {
    const key = conn.remotePublicKey
    const info = key && this.swarm ? this.swarm.peers.get(Buffer.from(key).toString('hex')) : undefined
    if (info) info.ban(true)
    conn.destroy()
  }
}
