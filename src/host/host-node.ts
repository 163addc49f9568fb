/**
 * A host node: one Corestore on disk, one operator identity, one swarm, and
 * any number of hosted contracts. Every swarm connection replicates the
 * Corestore (call logs and files drives) and serves the host RPC.
 *
 * A host is the hosting service of a {@link VmsNode} (node/node.ts), which
 * owns the store, swarm, identity, gossip and the connection handler; the
 * host adds the host RPC to every connection and the contracts' topics.
 *
 * Storage layout under `storage`: `corestore/` (all cores, and the node's
 * state: the latest attestations gossiped about its contracts), `identity.json`
 * (the operator's caller key pair, who `init` runs as), `node-key.json` (the
 * node key: the swarm key pair, kept so a restarted host announces under the
 * same key).
 *
 * Each connection is guarded (guard.ts); a peer whose rejected call requests
 * cost more CPU than its budget is dropped and refused for `banMs`.
 *
 * Hosts take part in attestation gossip like every node: they keep and
 * forward what watchers sign, so clients can ask any peer for them.
 *
 * Many contracts: at most `maxOpenContracts` are open at once; past it the
 * least recently used idle ones are closed (their sandbox and their log and
 * files sessions: ContractHost.sleep) and reopened by their next request.
 * They stay served all the while: their topics stay announced, and a peer
 * that asks to replicate one of their cores gets it (the Corestore opens a
 * stored core on request and closes it again once idle). A restart with
 * more contracts than that opens the rest without replaying their logs (the
 * first request does).
 */

import safetyCatch from 'safety-catch'
import path from 'node:path'
import ReadyResource from 'ready-resource'
import type Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import type { SwarmConnection } from 'hyperswarm'
import { VmsError } from '../errors.js'
import type { Identity } from '../identity.js'
import type { NetOptions } from '../net/swarm.js'
import { serveRpc } from '../net/rpc.js'
import type { AttestationGossip as Gossip } from '../attest/gossip.js'
import type { GuardOptions } from '../net/guard.js'
import type { AttestationStore } from '../attest/store.js'
import { VmsNode, type ConnectionContext, type NodeService, type PeerInfo } from '../node/node.js'
import type { Limits, SandboxFactory } from '../runtime/types.js'
import { createProcessSandbox } from '../runtime/sandbox-process.js'
import { ContractHost } from './contract-host.js'
import { SandboxPool } from './sandbox-pool.js'
import { DeployService, type DeployServiceOptions } from './deploy-service.js'
import type { CallRequest } from '../../protocol/index.js'

export type { PeerInfo } from '../node/node.js'

/** Options for {@link HostNode}. */
export interface HostNodeOptions extends NetOptions {
  /** Folder for the Corestore and the operator identity. */
  storage: string
  /**
   * Builds sandboxes. Default: supervised sandbox processes (sandbox-process.ts),
   * so no contract can take the node down; tests may inject the in-process runtime.
   */
  sandboxFactory?: SandboxFactory
  /** Runtime fingerprint for new genesis records. */
  runtime: string
  /** Operator identity file (default `<storage>/identity.json`). */
  identityFile?: string
  /** Connection guard limits (reject budget, frame size, channels), see guard.ts. */
  guard?: Omit<GuardOptions, 'ondrop'>
  /** How long a peer dropped for its reject budget is refused, ms (default 10 minutes). */
  banMs?: number
  /**
   * Public hosting (deploy-service.ts): `acceptDeploys` lets others deploy
   * contracts here, under the policy (allowlist, quotas, limit maxima, rate).
   * Without it the node still answers `contracts`.
   */
  deploys?: Omit<DeployServiceOptions, 'sandboxFactory'>
  /**
   * Contracts open at once (default {@link DEFAULT_MAX_OPEN_CONTRACTS});
   * past it idle ones are closed until their next request (see the module doc).
   */
  maxOpenContracts?: number
}

/**
 * Default bound on open contracts per host node: about 190 KB of memory
 * each (cores, drive, caches; measured with 1,000-3,000 contracts), a
 * sleeping one ~10 KB (its topics, keys and nonce table).
 */
export const DEFAULT_MAX_OPEN_CONTRACTS = 512

/** Options for {@link HostNode.deploy}. */
export interface DeployOptions {
  /** Contract name; its namespace in the store (default `contract`). */
  name?: string
  limits?: Partial<Limits>
  oracles?: boolean
  /** Corestore namespace (default `contract/<name>`; deployed contracts live under `deployed/<request hash>`). */
  namespace?: string
  /** A deploy by someone else: see ContractHostOptions.remote. */
  remote?: { deployer: Uint8Array, request: Uint8Array, init: CallRequest | null }
  /** Checked before each call (see ContractHostOptions.admit). */
  admit?: (host: ContractHost) => void
}

/**
 * Hosts contracts on the swarm. Events: `connection` (PeerInfo),
 * `disconnection` (PeerInfo), `contract` (ContractHost) after a deploy,
 * `undeploy` (ContractHost) after {@link HostNode.stop}.
 */
export class HostNode extends ReadyResource {
  /** The node this host is a service of (store, swarm, identity, gossip, connections). */
  readonly node: VmsNode
  readonly contracts = new Map<string, ContractHost>()
  /** CPU charged to peers for rejected call requests (all connections, all time), ms. */
  rejectCpuMs = 0
  private readonly opts: HostNodeOptions
  /** Deploys by others and the registry log (set once open). */
  deployService: DeployService | null = null
  private reopening = false
  /** The bound on open contracts (see {@link HostNodeOptions.maxOpenContracts}); `live` counts the open ones. */
  readonly openContracts: SandboxPool
  /** The topics each served contract joined (log and files discovery keys), by contract key (hex). */
  private readonly topics = new Map<string, Buffer[]>()
  /** Resolves once the swarm announced the node key (deployers reach the node by it). */
  listening: Promise<void> = Promise.resolve()

  /** @param opts see {@link HostNodeOptions}; does no I/O */
  constructor (opts: HostNodeOptions) {
    super()
    this.opts = opts
    this.openContracts = new SandboxPool(opts.maxOpenContracts ?? DEFAULT_MAX_OPEN_CONTRACTS)
    this.node = new VmsNode({
      ...opts,
      firewalled: opts.firewalled ?? false,
      identity: opts.identityFile ?? path.join(opts.storage, 'identity.json')
    })
    this.node.on('connection', (info: PeerInfo) => this.emit('connection', info))
    this.node.on('disconnection', (info: PeerInfo) => this.emit('disconnection', info))
    const hosting: NodeService = {
      name: 'hosting',
      onconnection: (conn, ctx) => this.onconnection(conn, ctx),
      close: async () => {
        for (const host of [...this.contracts.values()].reverse()) await host.close()
        if (this.deployService) await this.deployService.close()
      }
    }
    this.node.add(hosting)
  }

  get store (): Corestore { return this.node.store }
  /** The operator identity (who `init` runs as); set once ready. */
  get identity (): Identity { return this.node.identity }
  get swarm (): Hyperswarm | null { return this.node.swarm }
  /** Open connections, by remote noise key (hex). */
  get peers (): Map<string, PeerInfo> { return this.node.peers }
  get attestations (): AttestationStore { return this.node.attestations }
  get gossip (): Gossip { return this.node.gossip }

  protected override async _open (): Promise<void> {
    await this.node.ready()
    const swarm = this.swarm
    if (!swarm) return
    // reachable by its node key alone (deployers, `contracts`) even with no contract; not awaited, so a
    // contract that fails to load says so at once even when no DHT answers (see `listening`)
    this.listening = swarm.listen().catch((err: unknown) => { this.emit('warning', VmsError.from(err)) })
    const service = new DeployService(this, swarm.keyPair, { ...this.opts.deploys, sandboxFactory: this.opts.sandboxFactory ?? createProcessSandbox })
    this.reopening = true
    try {
      await service.open() // reopens every deployed contract (deploy() below, while this open runs)
    } finally {
      this.reopening = false
    }
    this.deployService = service
  }

  protected override async _close (): Promise<void> {
    await this.node.close()
  }

  /**
   * Deploys a contract, or reopens it when the storage already holds one of
   * that name, and announces it on the DHT.
   * @param source contract source (CommonJS)
   * @returns the ready contract host
   * @throws VmsError CONTRACT_LOAD, CONTRACT_MISMATCH
   */
  async deploy (source: string, opts: DeployOptions = {}): Promise<ContractHost> {
    if (!this.opened && !this.reopening) await this.ready()
    const name = opts.name ?? 'contract'
    if (!/^[\w.-]{1,64}$/.test(name)) throw VmsError.BAD_ARGUMENT(`bad contract name ${JSON.stringify(name)}: use letters, digits, . _ -`)
    const host = new ContractHost({
      store: this.store.namespace(opts.namespace ?? 'contract/' + name),
      remote: opts.remote,
      // the check runs per call, long after this constructor returned
      admit: opts.admit ? () => { opts.admit!(host) } : undefined,
      name,
      source,
      identity: this.identity,
      sandboxFactory: this.opts.sandboxFactory ?? createProcessSandbox,
      runtime: this.opts.runtime,
      limits: opts.limits,
      oracles: opts.oracles,
      openPool: this.openContracts
    })
    try {
      await host.ready()
    } catch (err) {
      await host.close().catch(safetyCatch)
      throw err
    }
    const id = host.key.toString('hex')
    this.contracts.set(id, host)
    this.attestations.want(host.key) // the store keeps attestations about hosted contracts only
    // read now: a contract that sleeps later no longer knows them
    const topics = [host.log.core.discoveryKey as Buffer]
    const files = host.log.drive?.discoveryKey
    if (files) topics.push(files)
    this.topics.set(id, topics)
    const swarm = this.swarm
    if (swarm) {
      // this contract's announces only: swarm.flush() waits on every topic joined (O(contracts) per deploy)
      const sessions = topics.map((topic) => swarm.join(topic, { server: true, client: false }))
      await Promise.all(sessions.map(async (d) => await d.flushed()))
    }
    this.emit('contract', host)
    return host
  }

  /**
   * Stops serving a contract: leaves its topics and closes it (its storage stays).
   * @returns the closed host, or null when not hosted here
   */
  async stop (key: Uint8Array): Promise<ContractHost | null> {
    const id = Buffer.from(key).toString('hex')
    const host = this.contracts.get(id)
    if (!host) return null
    this.contracts.delete(id)
    const topics = this.topics.get(id) ?? []
    this.topics.delete(id)
    const swarm = this.swarm
    if (swarm) for (const topic of topics) await swarm.leave(topic)
    await host.close()
    this.emit('undeploy', host)
    return host
  }

  /**
   * The topics a served contract is announced on: its log's and its files
   * drive's discovery keys (32 bytes each; also while it sleeps).
   * @returns [] when not hosted here
   */
  topicsOf (key: Uint8Array): Buffer[] {
    return [...(this.topics.get(Buffer.from(key).toString('hex')) ?? [])]
  }

  /** True while `key` (a remote noise public key) is refused. */
  isBanned (key: Uint8Array): boolean {
    return this.node.isBanned(key)
  }

  /** The hosting service's part of a connection: the host RPC. */
  private onconnection (conn: SwarmConnection, { guard, info }: ConnectionContext): void {
    serveRpc(conn, (key) => this.contracts.get(key.toString('hex')) ?? null, (method) => {
      if (method === 'call') info.role = 'client'
      else if (method === 'root' && !info.role) info.role = 'watcher'
    }, (ms) => {
      this.rejectCpuMs += ms
      guard.charge(ms)
    })
    this.deployService?.attach(conn, this.identity.publicKey)
  }
}
