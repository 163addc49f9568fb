/**
 * `NodeClient`: a deployer's (or auditor's) connection to one node by its
 * node key, for public hosting: deploy a contract onto it, undeploy one, and
 * list what it hosts, checked against the node's signed registry log.
 *
 * The connection is direct (Hyperswarm `joinPeer` to the node key: the noise
 * handshake proves the peer holds it). Only the node key is trusted: the
 * listing is believed only as far as the registry log, whose key derives from
 * the node key (host/registry-log.ts) and whose blocks Hypercore verifies on
 * replication, backs it; every request in it is checked again here.
 *
 * ```js
 * const node = await NodeClient.connect(nodeKey, { bootstrap, identity: 'me.json' })
 * const { contract } = await node.deploy(source, { name: 'counter' })
 * await node.close()
 * ```
 */

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import c from 'compact-encoding'
import Corestore from 'corestore'
import ProtomuxRPC from 'protomux-rpc'
import type Hyperswarm from 'hyperswarm'
import type { SwarmConnection } from 'hyperswarm'
import { INIT_METHOD, NODE_PROTOCOL, contractListing, deployCommit, deployPrepared, deployRequest, deployResult, deploySignable, undeployRequest, undeploySignable, type ContractListing, type DeployRequest, type ListedContract, type RegistryEntry, type UndeployRequest } from '../protocol/index.js'
import { NonceClock, signCall } from './caller.js'
import { sign, type KeyPair } from './crypto.js'
import { VmsError } from './errors.js'
import { loadIdentity, toIdentity, type Identity } from './identity.js'
import { parseKey } from './keys.js'
import { guardConnection } from './net/guard.js'
import { createSwarm, type NetOptions } from './net/swarm.js'
import type { Limits } from './runtime/types.js'
import { decodeRegistryBlock, deployRequestHash, foldRegistry, registryKey } from './host/registry-log.js'

/** Options for {@link NodeClient.connect}. */
export interface NodeClientOptions extends NetOptions {
  /** The deployer's key pair, or its file (default: ~/.vms-node/identity.json). */
  identity?: string | KeyPair
  /** Connect and request timeout, ms (default 10,000). */
  timeout?: number
}

/** What to deploy, besides the source. */
export interface DeployOptions {
  /** Contract name (default `contract`). */
  name?: string
  /** Limits asked for (at most the node's maxima). */
  limits?: Partial<Limits>
  oracles?: boolean
}

/** A deploy's outcome. */
export interface Deployed {
  contract: Buffer
  files: Buffer
  /** BLAKE2b-256 of the signed deploy request (the genesis names it). */
  request: Buffer
}

/** A listing checked against the registry log. */
export interface VerifiedListing {
  /** Registry log key (derived from the node key) and the length checked. */
  registry: { key: Buffer, length: number }
  contracts: ListedContract[]
}

/** A connection to one node, by its node key. */
export class NodeClient {
  readonly nodeKey: Buffer
  readonly identity: Identity
  private readonly swarm: Hyperswarm
  private readonly store: Corestore
  private readonly tmpdir: string
  private readonly timeout: number
  private readonly nonces = new NonceClock()
  private rpc: ProtomuxRPC | null = null

  private constructor (nodeKey: Buffer, opts: NodeClientOptions) {
    this.nodeKey = nodeKey
    const id = opts.identity
    this.identity = typeof id === 'object' ? toIdentity(id) : loadIdentity(id)
    this.timeout = opts.timeout ?? 10_000
    this.tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'vms-node-client-'))
    this.store = new Corestore(this.tmpdir)
    this.swarm = createSwarm(opts)
  }

  /**
   * Connects to the node `nodeKey` (z-base32 or hex).
   * @throws VmsError BAD_KEY, NOT_FOUND (no connection within `timeout` ms)
   */
  static async connect (nodeKey: string | Uint8Array, opts: NodeClientOptions = {}): Promise<NodeClient> {
    const client = new NodeClient(parseKey(nodeKey), opts)
    try {
      await client.open()
    } catch (err) {
      await client.close()
      throw err
    }
    return client
  }

  private async open (): Promise<void> {
    await this.store.ready()
    const conn = await new Promise<SwarmConnection>((resolve, reject) => {
      const timer = setTimeout(() => reject(VmsError.NOT_FOUND(`no connection to node ${this.nodeKey.toString('hex').slice(0, 16)}… within ${this.timeout} ms`)), this.timeout)
      this.swarm.on('connection', (conn: SwarmConnection) => {
        if (!conn.remotePublicKey.equals(this.nodeKey)) return conn.destroy()
        clearTimeout(timer)
        resolve(conn)
      })
      this.swarm.joinPeer(this.nodeKey)
    })
    guardConnection(conn) // first: it must see every frame before protomux does
    this.store.replicate(conn)
    this.rpc = new ProtomuxRPC(conn, { id: this.nodeKey, protocol: NODE_PROTOCOL })
  }

  /**
   * Deploys `source` onto the node, signed by this client's identity (the
   * deployer: `init` runs as it, signed by it).
   * @throws VmsError DEPLOY_REFUSED, DEPLOY_QUOTA, DEPLOY_RATE, LIMITS_TOO_HIGH, CONTRACT_LOAD,
   *   CONTRACT_INIT, BAD_ARGUMENT, REQUEST_TIMEOUT, CLOSED, FORGED_REPLY (the node created another key than it prepared)
   */
  async deploy (source: string, opts: DeployOptions = {}): Promise<Deployed> {
    const body: Omit<DeployRequest, 'signature'> = {
      node: this.nodeKey,
      deployer: this.identity.publicKey,
      nonce: this.nonces.next(),
      name: opts.name ?? 'contract',
      source,
      oracles: !!opts.oracles,
      limits: Object.entries(opts.limits ?? {}).filter(([, v]) => v !== undefined).map(([name, value]) => ({ name, value: value as number }))
    }
    const req: DeployRequest = { ...body, signature: sign(deploySignable(body), this.identity.secretKey) }
    const prepared = await this.request<{ contract: Buffer, request: Buffer, init: boolean }>('prepare', c.encode(deployRequest, req), deployPrepared)
    if (!deployRequestHash(req).equals(prepared.request)) throw VmsError.FORGED_REPLY('the node prepared another deploy request than the one sent')
    const init = prepared.init ? signCall(this.identity, prepared.contract, this.nonces.next(), INIT_METHOD, '[]') : null
    const result = await this.request<{ contract: Buffer, files: Buffer }>('commit', c.encode(deployCommit, { request: prepared.request, init }), deployResult)
    if (!result.contract.equals(prepared.contract)) throw VmsError.FORGED_REPLY('the node created another contract key than it prepared')
    return { contract: result.contract, files: result.files, request: prepared.request }
  }

  /**
   * Asks the node to stop hosting `contract` (signed by this identity: the
   * deployer's, or the node key's for the operator).
   * @param opts `delete`: also remove its log and files from the node
   * @throws VmsError NOT_DEPLOYER, NOT_FOUND, BAD_KEY, REQUEST_TIMEOUT
   */
  async undeploy (contract: string | Uint8Array, opts: { delete?: boolean } = {}): Promise<void> {
    const body: Omit<UndeployRequest, 'signature'> = { node: this.nodeKey, contract: parseKey(contract), requester: this.identity.publicKey, nonce: this.nonces.next(), delete: !!opts.delete }
    const req: UndeployRequest = { ...body, signature: sign(undeploySignable(body), this.identity.secretKey) }
    await this.request<null>('undeploy', c.encode(undeployRequest, req), c.none)
  }

  /**
   * What the node hosts, checked against its registry log: every contract
   * the registry holds as deployed is listed with the name and deployer of its
   * signed deploy request, and nothing else is listed as deployed. Log lengths
   * are the node's word (each contract's own log proves them). A listing
   * older than the registry the node signed is refused too.
   * @throws VmsError REGISTRY_MISMATCH, BAD_RECORD (a registry block breaks the rules), REQUEST_TIMEOUT
   */
  async contracts (): Promise<VerifiedListing> {
    // a listing taken while a deploy landed may be one block behind: ask once more before calling it stale
    for (let attempt = 0; ; attempt++) {
      const v = await this.checkedListing(attempt > 0)
      if (v !== null) return v
    }
  }

  /** One listing checked against the registry; null when the registry is ahead of it (first time only). */
  private async checkedListing (last: boolean): Promise<VerifiedListing | null> {
    const listing = await this.request<ContractListing>('contracts', Buffer.alloc(0), contractListing)
    const key = registryKey(this.nodeKey)
    const core = this.store.get({ key })
    await core.ready()
    const entries: RegistryEntry[] = []
    for (let i = 0; i < listing.registryLength; i++) {
      const buf = await core.get(i, { timeout: this.timeout }).catch(() => null)
      if (!buf) throw VmsError.REGISTRY_MISMATCH(`the node lists a registry of ${listing.registryLength} blocks but served no block ${i}`)
      entries.push(decodeRegistryBlock(buf, i))
    }
    const state = foldRegistry(this.nodeKey, entries)
    const listed = new Set<string>()
    for (const l of listing.contracts) {
      const id = Buffer.from(l.contract).toString('hex')
      listed.add(id)
      const e = state.active.get(id)
      if (!l.deployed) {
        if (e || state.ended.has(id)) throw VmsError.REGISTRY_MISMATCH(`contract ${id.slice(0, 16)}… is in the registry but listed as the operator's own`)
        continue
      }
      if (!e) throw VmsError.REGISTRY_MISMATCH(`contract ${id.slice(0, 16)}… is listed as deployed but the registry holds no live deploy of it`)
      if (e.request.name !== l.name || !Buffer.from(e.request.deployer).equals(l.deployer)) throw VmsError.REGISTRY_MISMATCH(`contract ${id.slice(0, 16)}…: name or deployer differ from its signed deploy request`)
    }
    for (const id of state.active.keys()) {
      if (!listed.has(id)) throw VmsError.REGISTRY_MISMATCH(`the registry holds contract ${id.slice(0, 16)}… as deployed but the node does not list it`)
    }
    // the node signed a longer registry than the listing it answered: a stale (or hiding) listing
    const signed = core.length
    await core.close()
    if (signed > listing.registryLength) {
      if (!last) return null
      throw VmsError.REGISTRY_MISMATCH(`the node's signed registry has ${signed} blocks but its listing covers ${listing.registryLength}`)
    }
    return { registry: { key, length: listing.registryLength }, contracts: listing.contracts }
  }

  private async request<T> (method: string, value: Uint8Array, enc: unknown): Promise<T> {
    const rpc = this.rpc
    if (!rpc) throw VmsError.CLOSED('not connected')
    try {
      return await rpc.request<T>(method, value, { requestEncoding: c.raw, responseEncoding: enc, timeout: this.timeout })
    } catch (err) {
      const e = err as { code?: string, cause?: { code?: string, message?: string } }
      if (e.code === 'REQUEST_ERROR' && e.cause && typeof e.cause.code === 'string' && typeof e.cause.message === 'string') throw VmsError.from(e.cause)
      if (e.code === 'TIMEOUT_EXCEEDED') throw VmsError.REQUEST_TIMEOUT(`no answer to ${method} in ${this.timeout} ms`)
      if (e.code === 'CHANNEL_CLOSED' || e.code === 'CHANNEL_DESTROYED') throw VmsError.CLOSED('connection to the node closed')
      throw VmsError.from(err)
    }
  }

  /** Closes the connection and removes the temporary store. */
  async close (): Promise<void> {
    this.rpc?.destroy()
    await this.swarm.destroy()
    await this.store.close()
    fs.rmSync(this.tmpdir, { recursive: true, force: true })
  }
}

/**
 * Connects to `opts.to`, deploys `source`, closes.
 * @returns the new contract's keys
 * @throws as {@link NodeClient.connect} and {@link NodeClient.deploy}
 */
export async function deployTo (source: string, opts: DeployOptions & NodeClientOptions & { to: string | Uint8Array }): Promise<Deployed> {
  const node = await NodeClient.connect(opts.to, opts)
  try {
    return await node.deploy(source, opts)
  } finally {
    await node.close()
  }
}

/**
 * Connects to `opts.to`, undeploys `contract`, closes.
 * @throws as {@link NodeClient.undeploy}
 */
export async function undeployFrom (contract: string | Uint8Array, opts: NodeClientOptions & { to: string | Uint8Array, delete?: boolean }): Promise<void> {
  const node = await NodeClient.connect(opts.to, opts)
  try {
    await node.undeploy(contract, opts)
  } finally {
    await node.close()
  }
}
