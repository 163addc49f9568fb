/**
 * One node, many services (as js-libp2p composes components): a
 * `VmsNode` owns the store session, the swarm (under the node key kept in
 * its storage), the identity, the attestation store (kept in the node's own
 * Corestore, node-state.ts), gossip, and the ONE connection handler. Hosting
 * (host/host-node.ts), watching (watch/watcher.ts) and the client
 * (client.ts) are {@link NodeService}s plugged into it.
 *
 * Every swarm connection goes through the same steps, in this order:
 * 1. refused when its peer is banned;
 * 2. the connection guard (net/guard.ts), before anything attaches protomux,
 *    so it sees every frame first; a peer dropped for its reject budget is
 *    banned for `banMs`;
 * 3. Corestore replication;
 * 4. attestation gossip;
 * 5. each service's `onconnection`, in the order the services were added.
 *
 * Constructors do no I/O: the store, identity, node key and attestations
 * are opened in `ready()`; `close()` leaves the network first (an owned
 * swarm is destroyed, so no request reaches a closing service), then closes
 * the services (last added first), gossip, the attestation store (its last
 * changes written), the state bee and the store.
 *
 * Storage layout under `storage`: `corestore/` (all cores, and the node's
 * state bee), `identity.json` (the caller key pair the node signs with),
 * `node-key.json` (the swarm key pair). An old `attestations.json` is read
 * once into the state bee and renamed `attestations.json.migrated`.
 *
 * ```js
 * const node = new VmsNode({ storage: './node', bootstrap })
 * node.use({ name: 'seed', async open (node) { node.join(topic, { server: true, client: false }) } })
 * await node.ready()
 * ```
 */

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import ReadyResource from 'ready-resource'
import Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import type { Discovery, SwarmConnection } from 'hyperswarm'
import { VmsError } from '../errors.js'
import { keyPair, type KeyPair } from '../crypto.js'
import { loadIdentity, toIdentity, type Identity } from '../identity.js'
import { createSwarm, loadNodeKeyPair, type NetOptions } from '../net/swarm.js'
import { AttestationGossip as Gossip } from '../attest/gossip.js'
import { REJECT_BUDGET_REASON, guardConnection, type ConnectionGuard, type GuardOptions } from '../net/guard.js'
import { AttestationStore, readAttestationsFile, type AttestationStoreOptions } from '../attest/store.js'
import { NodeState, attestationPersistence } from './node-state.js'

/** Connection bookkeeping (hosts show it in their UI). */
export interface PeerInfo {
  /** Remote noise public key. */
  publicKey: Buffer
  /** When the connection opened, ms since the epoch. */
  since: number
  /**
   * What the peer did so far (set by the services): `client` once it made a
   * call, `watcher` once it asked for root statements without calling;
   * unset before either.
   */
  role?: 'client' | 'watcher'
}

/** What a service gets with each connection. */
export interface ConnectionContext {
  /** The connection's guard: charge it for rejected requests. */
  guard: ConnectionGuard
  /** The connection's bookkeeping (also in {@link VmsNode.peers}). */
  info: PeerInfo
}

/**
 * A part of a node: hosting, watching, seeding, a client. Every member is
 * optional. `open` runs in the node's `ready()` after the swarm exists (or
 * at once when added to an open node), `close` in its `close()` (last added
 * first), `onconnection` for every connection after the node's own steps.
 * A service that serves replication only needs `open` (join its topics as
 * server, see {@link VmsNode.join}): the node replicates its store on every
 * connection.
 */
export interface NodeService {
  /** For messages. */
  readonly name?: string
  open? (node: VmsNode): Promise<void> | void
  close? (): Promise<void> | void
  onconnection? (conn: SwarmConnection, ctx: ConnectionContext): void
}

/** Options for {@link VmsNode}. */
export interface VmsNodeOptions extends NetOptions {
  /** Folder of the node (see the module doc). Default: a temporary folder removed on close (unless `store` is given). */
  storage?: string
  /** Folder of the node's own Corestore (default `<storage>/corestore`). */
  storeDir?: string
  /** Use a session of this Corestore instead of `<storage>/corestore` (the node closes only its session). */
  store?: Corestore
  /** Run a swarm (default true); false: no networking at all (the store's owner replicates it). */
  network?: boolean
  /** Use this swarm (not destroyed by the node); its connections still go through the node's handler. */
  swarm?: Hyperswarm
  /** The node key (swarm key pair; default `<storage>/node-key.json`, or a random one without storage). */
  nodeKey?: KeyPair
  /** Identity: a key pair, a file, or default `<storage>/identity.json` (a new key pair without storage). */
  identity?: KeyPair | string
  /** Use this gossip (and its attestation store) instead of owning one (not closed by the node). */
  gossip?: Gossip
  /** Keep attestations in the node's state bee (default: when the node has its own storage). */
  persist?: boolean
  /** Caps of the attestation store (see AttestationStoreOptions). */
  attestations?: Omit<AttestationStoreOptions, 'file' | 'persistence'>
  /** Connection guard limits (see guard.ts). */
  guard?: Omit<GuardOptions, 'ondrop'>
  /** How long a peer dropped for its reject budget is refused, ms (default 10 minutes). */
  banMs?: number
}

/** Most remote keys remembered as banned (the oldest go first). */
const MAX_BANNED = 10_000

/**
 * See the module doc. Events: `connection` (PeerInfo), `disconnection` (PeerInfo).
 */
export class VmsNode extends ReadyResource {
  /** The node's Corestore (its own, or a session of the one given). */
  readonly store: Corestore
  /** The folder of the node ('' with a borrowed store and no storage). */
  readonly storage: string
  /** The swarm (null before `ready()` and without networking). */
  swarm: Hyperswarm | null = null
  /** The node's identity; set in `ready()`. */
  identity!: Identity
  readonly attestations: AttestationStore
  readonly gossip: Gossip
  /** The node's own state (positions, attestations), in its store. */
  readonly state: NodeState
  /** Open connections, by remote noise key (hex). */
  readonly peers = new Map<string, PeerInfo>()
  private readonly services: NodeService[] = []
  private readonly opened_: NodeService[] = []
  private readonly banned = new Map<string, number>()
  private readonly opts: VmsNodeOptions
  private readonly tmpdir: string | null
  private readonly ownsGossip: boolean
  private readonly persist: boolean

  /** @param opts see {@link VmsNodeOptions}; does no I/O */
  constructor (opts: VmsNodeOptions = {}) {
    super()
    this.opts = opts
    this.tmpdir = opts.storage || opts.store ? null : path.join(os.tmpdir(), 'vms-node-' + process.pid + '-' + Math.random().toString(36).slice(2))
    this.storage = opts.storage ?? this.tmpdir ?? ''
    this.store = opts.store ? opts.store.session() : new Corestore(opts.storeDir ?? path.join(this.storage, 'corestore'))
    this.state = new NodeState(this.store)
    this.persist = opts.persist ?? (!opts.store && !!opts.storage)
    this.ownsGossip = !opts.gossip
    this.attestations = opts.gossip ? opts.gossip.store : new AttestationStore({ ...opts.attestations, persistence: this.persist ? attestationPersistence(this.state) : undefined })
    this.gossip = opts.gossip ?? new Gossip(this.attestations)
  }

  /**
   * Registers a service before the node opens (it is opened in `ready()`).
   * @returns the service
   * @throws VmsError INTERNAL once `ready()` was called (use {@link VmsNode.use})
   */
  add<S extends NodeService> (service: S): S {
    if (this.opening || this.closing) throw VmsError.INTERNAL('add services before ready(); use() adds one to an open node')
    this.services.push(service)
    return service
  }

  /**
   * Adds a service. Added to an open node, it is opened at once (and
   * joins the connections that open from then on).
   * @returns the service
   */
  async use<S extends NodeService> (service: S): Promise<S> {
    if (this.closing) throw VmsError.CLOSED('the node is closing')
    this.services.push(service)
    if (this.opened) await this.openService(service)
    return service
  }

  /**
   * Joins a topic on the swarm and flushes the announcement (no-op without networking).
   * @param topic 32 bytes (a discovery key)
   * @param opts `server` to announce, `client` to look up
   * @returns the discovery, or null without a swarm
   */
  join (topic: Uint8Array, opts: { server: boolean, client: boolean }): Discovery | null {
    if (!this.swarm) return null
    return this.swarm.join(topic, opts)
  }

  /** True while `key` (a remote noise public key) is refused. */
  isBanned (key: Uint8Array): boolean {
    const id = Buffer.from(key).toString('hex')
    const until = this.banned.get(id)
    if (until === undefined) return false
    if (until > Date.now()) return true
    this.banned.delete(id)
    return false
  }

  /** Refuses `key` (a remote noise public key) for `ms` (default `banMs`). */
  ban (key: Uint8Array, ms = this.opts.banMs ?? 10 * 60_000): void {
    if (this.banned.size >= MAX_BANNED) this.banned.delete(this.banned.keys().next().value as string)
    this.banned.set(Buffer.from(key).toString('hex'), Date.now() + ms)
  }

  protected override async _open (): Promise<void> {
    const opts = this.opts
    if (this.tmpdir) fs.mkdirSync(this.tmpdir, { recursive: true })
    await this.store.ready()
    this.identity = loadNodeIdentity(opts.identity, opts.storage)
    if (this.persist) await this.state.ready()
    if (this.ownsGossip) {
      await this.attestations.open()
      if (this.persist) await this.migrateAttestations()
    }
    if (opts.network !== false) {
      if (opts.swarm) {
        this.swarm = opts.swarm
      } else {
        const own = opts.firewall
        const firewall = (key: Buffer): boolean => this.isBanned(key) || (own ? own(key) : false)
        this.swarm = createSwarm({ ...opts, firewall }, opts.nodeKey ?? (opts.storage ? loadNodeKeyPair(opts.storage) : undefined))
      }
      this.swarm.on('connection', (conn: SwarmConnection) => this.onconnection(conn))
    }
    for (const s of this.services) await this.openService(s)
  }

  protected override async _close (): Promise<void> {
    // every step runs even when one before it failed; the first error is thrown at the end
    let error: unknown = null
    const step = async (fn: () => unknown): Promise<void> => {
      try {
        await fn()
      } catch (err) {
        if (error === null) error = err
      }
    }
    // off the network first, so no request reaches a closing service; then the rest in reverse order
    if (this.swarm && !this.opts.swarm) await step(async () => await (this.swarm as Hyperswarm).destroy())
    for (const s of this.opened_.splice(0).reverse()) await step(async () => await s.close?.())
    if (this.ownsGossip) {
      this.gossip.close()
      await step(async () => await this.attestations.close())
    }
    await step(async () => await this.state.close())
    await step(async () => await this.store.close())
    if (this.tmpdir) fs.rmSync(this.tmpdir, { recursive: true, force: true })
    if (error !== null) throw error
  }

  private async openService (s: NodeService): Promise<void> {
    if (s.open) await s.open(this)
    this.opened_.push(s)
    if (this.swarm && s.onconnection) {
      for (const conn of this.swarm.connections) {
        const info = this.peers.get(conn.remotePublicKey.toString('hex'))
        const guard = guards.get(conn)
        if (info && guard) s.onconnection(conn, { guard, info })
      }
    }
  }

  /** The one connection handler (see the module doc for its steps). */
  private onconnection (conn: SwarmConnection): void {
    if (this.isBanned(conn.remotePublicKey)) return conn.destroy()
    const guard = guardConnection(conn, {
      ...this.opts.guard,
      ondrop: (reason) => { if (reason.startsWith(REJECT_BUDGET_REASON)) this.ban(conn.remotePublicKey) }
    })
    guards.set(conn, guard)
    const info: PeerInfo = { publicKey: conn.remotePublicKey, since: Date.now() }
    const id = conn.remotePublicKey.toString('hex')
    this.peers.set(id, info)
    this.emit('connection', info)
    conn.on('close', () => {
      if (this.peers.get(id) === info) this.peers.delete(id)
      this.emit('disconnection', info)
    })
    this.store.replicate(conn)
    if (this.ownsGossip) this.gossip.attach(conn)
    const ctx: ConnectionContext = { guard, info }
    for (const s of this.opened_) if (s.onconnection) s.onconnection(conn, ctx)
  }

  /** Reads an old `attestations.json` once into the state bee, then renames it. */
  private async migrateAttestations (): Promise<void> {
    if (!this.opts.storage) return
    const file = path.join(this.opts.storage, 'attestations.json')
    if (!fs.existsSync(file)) return
    for (const bytes of readAttestationsFile(file)) this.attestations.addEncoded(bytes)
    await this.attestations.persisted()
    fs.renameSync(file, file + '.migrated')
  }
}

/** The guard of each connection a node handled (for services added later). */
const guards = new WeakMap<SwarmConnection, ConnectionGuard>()

/** The node's identity from a key pair, a file, `<storage>/identity.json`, or a new key pair. */
function loadNodeIdentity (id: KeyPair | string | undefined, storage: string | undefined): Identity {
  if (typeof id === 'object') return toIdentity(id)
  if (typeof id === 'string') return loadIdentity(id)
  if (storage) return loadIdentity(path.join(storage, 'identity.json'))
  return toIdentity(keyPair())
}
