/**
 * Public hosting, the node's side: contracts others deploy onto this node.
 *
 * A deploy takes two requests on the node channel (protocol/deploy.ts):
 * `prepare` carries the deployer's signed deploy request; the node checks the
 * signature, that it names this node, the deployer's nonce (above every one the
 * registry holds: a replayed request is refused), its policy (deploy-policy.ts)
 * and loads the source and tries `init` as the deployer in a scratch sandbox:
 * nothing is stored before all of that passed. It answers the contract key the
 * deploy will create (derived from its store, not yet stored). `commit` then
 * carries the deployer's signed `init` call on that key (so the init record in
 * the call log is the deployer's own, verifiable by any watcher); the node
 * creates the contract (genesis naming the deployer and the deploy request's
 * hash), appends the deploy to its registry log (registry-log.ts) and serves it.
 * An undeploy (by the deployer or the operator, i.e. the node key) is appended
 * to the registry before the node stops serving.
 *
 * At open, every contract the registry holds as deployed is reopened.
 */

import Hypercore from 'hypercore'
import ProtomuxRPC from 'protomux-rpc'
import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import Hyperdrive from 'hyperdrive'
import type Corestore from 'corestore'
import { NODE_PROTOCOL, contractListing, deployCommit, deployPrepared, deployRequest, deployResult, undeployRequest, type CallRequest, type ContractListing, type DeployCommit, type DeployPrepared, type DeployRequest, type DeployResult, type UndeployRequest } from '../../protocol/index.js'
import { randomBytes, type KeyPair } from '../crypto.js'
import { VmsError } from '../errors.js'
import { DEFAULT_LIMITS, type Limits, type SandboxFactory } from '../runtime/types.js'
import type { ContractHost } from './contract-host.js'
import { DeployPolicy, MAX_DEPLOY_SOURCE_BYTES, type DeployPolicyOptions } from './deploy-policy.js'
import { RegistryLog, deployRequestHash, type DeployEntry } from './registry-log.js'
import { checkInitCall, tryInit } from './init-call.js'
import { loadedBlobsCore } from '../log/holepunch-internals.js'

/** What the service needs of its node (HostNode implements it). */
export interface DeployTarget {
  readonly store: Corestore
  readonly contracts: Map<string, ContractHost>
  /** Opens (or reopens) a contract in namespace `namespace` and serves it. */
  deploy (source: string, opts: { name: string, namespace: string, limits?: Partial<Limits>, oracles?: boolean, remote?: { deployer: Uint8Array, request: Uint8Array, init: CallRequest | null }, admit?: (host: ContractHost) => void }): Promise<ContractHost>
  /** Stops serving a contract (closes it, leaves its topics). */
  stop (key: Uint8Array): Promise<ContractHost | null>
}

/** Options for {@link DeployService}. */
export interface DeployServiceOptions extends DeployPolicyOptions {
  /** Accept deploys from others (default false: `prepare` answers DEPLOY_REFUSED; `contracts` still answers). */
  acceptDeploys?: boolean
  sandboxFactory: SandboxFactory
  /** How long a prepared deploy waits for its commit, ms (default 60,000). */
  prepareTtlMs?: number
}

interface Prepared {
  request: DeployRequest
  hash: Buffer
  namespace: string
  contract: Buffer
  limits: Partial<Limits>
  init: boolean
  expires: number
}

const NAME = /^[\w.-]{1,64}$/

/** Deployed contracts reopened at once when a node starts. */
export const REOPEN_CONCURRENCY = 8

/** Deploys, undeploys and the registry of one node. */
export class DeployService {
  readonly registry: RegistryLog
  readonly policy: DeployPolicy
  readonly nodeKey: Buffer
  private readonly node: DeployTarget
  private readonly opts: DeployServiceOptions
  private readonly prepared = new Map<string, Prepared>()
  /** Serialises registry changes (commit, undeploy): one at a time. */
  private lock: Promise<unknown> = Promise.resolve()

  /**
   * @param node the hosting node
   * @param nodeKeyPair the node key pair (signs the registry log)
   * @param opts see {@link DeployServiceOptions}
   */
  constructor (node: DeployTarget, nodeKeyPair: KeyPair, opts: DeployServiceOptions) {
    this.node = node
    this.opts = opts
    this.nodeKey = Buffer.from(nodeKeyPair.publicKey)
    this.registry = new RegistryLog(node.store, nodeKeyPair)
    this.policy = new DeployPolicy(opts)
  }

  /**
   * Opens the registry and reopens every deployed contract it holds,
   * {@link REOPEN_CONCURRENCY} at a time (each open waits mostly for storage
   * reads and the DHT announce, not for the CPU).
   * @throws VmsError BAD_RECORD, or the first error of a reopen (after all of them settled)
   */
  async open (): Promise<void> {
    await this.registry.ready()
    const entries = [...this.registry.state.active.values()]
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < entries.length) {
        const e = entries[next++]!
        await this.node.deploy(e.request.source, { name: e.request.name, namespace: namespaceOf(deployRequestHash(e.request)), admit: this.admit })
      }
    }
    const settled = await Promise.allSettled(Array.from({ length: Math.min(REOPEN_CONCURRENCY, entries.length) }, worker))
    for (const r of settled) if (r.status === 'rejected') throw r.reason
  }

  /** Closes the registry core. */
  async close (): Promise<void> {
    await this.registry.close()
  }

  /** The deploy entry of a hosted deployed contract (null for local ones). */
  deployed (key: Uint8Array): DeployEntry | null {
    return this.registry.state.active.get(Buffer.from(key).toString('hex')) ?? null
  }

  /**
   * Step 1 of a deploy: every check, the init trial; nothing stored.
   * @throws VmsError DEPLOY_REFUSED, BAD_SIGNATURE, WRONG_NODE, NONCE_REUSED, DEPLOY_QUOTA,
   *   DEPLOY_RATE, LIMITS_TOO_HIGH, BAD_ARGUMENT, CONTRACT_LOAD, CONTRACT_INIT
   */
  async prepare (req: DeployRequest): Promise<DeployPrepared> {
    if (!this.opts.acceptDeploys) throw VmsError.DEPLOY_REFUSED('this node accepts no deploys (its operator did not pass --accept-deploys)')
    this.expire()
    // signature, node key and nonce first: nothing else is believed of an unsigned request
    this.registry.check({ type: 'deploy', request: req, contract: randomBytes(32), files: Buffer.alloc(32), init: null })
    for (const p of this.prepared.values()) {
      if (Buffer.from(p.request.deployer).equals(req.deployer) && p.request.nonce >= req.nonce) throw VmsError.NONCE_REUSED('a deploy with this or a later nonce is already prepared')
    }
    if (!NAME.test(req.name)) throw VmsError.BAD_ARGUMENT(`bad contract name ${JSON.stringify(req.name)}: use letters, digits, . _ -`)
    if (Buffer.byteLength(req.source) > MAX_DEPLOY_SOURCE_BYTES) throw VmsError.BAD_ARGUMENT(`contract source over ${MAX_DEPLOY_SOURCE_BYTES} bytes`)
    const counts = this.counts(req.deployer)
    const limits = this.policy.check(req.deployer, counts, req.limits)
    this.policy.charge(req.deployer) // before the trial: a failing init costs a sandbox too
    // init runs as the deployer over empty files: one that throws leaves nothing
    const init = await tryInit(this.opts.sandboxFactory, { source: req.source, limits: { ...DEFAULT_LIMITS, ...limits }, name: req.name, deployer: req.deployer, oracles: req.oracles })
    const hash = deployRequestHash(req)
    const namespace = namespaceOf(hash)
    const kp = await this.node.store.namespace(namespace).createKeyPair('call-log')
    const contract = Hypercore.key({ version: 1, signers: [{ publicKey: kp.publicKey }] })
    this.prepared.set(hash.toString('hex'), { request: req, hash, namespace, contract, limits, init, expires: Date.now() + (this.opts.prepareTtlMs ?? 60_000) })
    return { contract, request: hash, init }
  }

  /**
   * Step 2: creates the contract with the deployer's init call, records the
   * deploy in the registry and serves it.
   * @throws VmsError NOT_FOUND (nothing prepared under that hash), BAD_ARGUMENT, WRONG_CONTRACT,
   *   BAD_SIGNATURE (init call), CONTRACT_INIT, and what `prepare` throws (checked again)
   */
  async commit (m: DeployCommit): Promise<DeployResult> {
    return await this.serial(async () => {
      this.expire()
      const id = Buffer.from(m.request).toString('hex')
      const p = this.prepared.get(id)
      if (!p) throw VmsError.NOT_FOUND('no prepared deploy of that request (expired, or never prepared)')
      this.prepared.delete(id)
      const req = p.request
      checkInitCall(m.init, p.init, p.request.deployer, p.contract)
      this.registry.check({ type: 'deploy', request: req, contract: p.contract, files: Buffer.alloc(32), init: m.init })
      this.policy.check(req.deployer, this.counts(req.deployer), req.limits, null)
      const host = await this.node.deploy(req.source, { name: req.name, namespace: p.namespace, limits: p.limits, oracles: req.oracles, remote: { deployer: req.deployer, request: p.hash, init: m.init }, admit: this.admit })
      if (!host.key.equals(p.contract)) {
        await this.node.stop(host.key)
        throw VmsError.INTERNAL('the created contract key differs from the prepared one')
      }
      const files = Buffer.from(host.genesis.files)
      try {
        await this.registry.append({ type: 'deploy', request: req, contract: host.key, files, init: m.init })
      } catch (err) {
        await this.node.stop(host.key)
        throw err
      }
      return { contract: host.key, files }
    })
  }

  /**
   * Stops hosting a deployed contract: the signed undeploy is appended to the
   * registry, then the node stops serving it; with `delete` its log and files
   * are removed from the node's storage too.
   * @throws VmsError BAD_SIGNATURE, WRONG_NODE, NONCE_REUSED, NOT_FOUND, NOT_DEPLOYER
   */
  async undeploy (req: UndeployRequest): Promise<void> {
    await this.serial(async () => {
      await this.registry.append({ type: 'undeploy', request: req })
      const host = await this.node.stop(req.contract)
      if (req.delete && host) await purge(host)
    })
  }

  /** What the node hosts now: deployed contracts (in the registry) and the operator's local ones. */
  listing (operator: Uint8Array): ContractListing {
    const contracts = [...this.node.contracts.values()].map((h) => {
      const e = this.deployed(h.key)
      return { contract: h.key, name: h.genesis.name, deployer: Buffer.from(e ? e.request.deployer : h.genesis.deployer ?? operator), length: h.length, deployed: !!e }
    })
    return { registryLength: this.registry.length, contracts }
  }

  /**
   * Serves the node channel on a connection (channel id: the node key).
   * @param stream a swarm connection
   * @param operator the operator's key, listed as deployer of local contracts
   */
  attach (stream: unknown, operator: Uint8Array): void {
    let rpc: ProtomuxRPC
    try {
      rpc = new ProtomuxRPC(stream, { id: this.nodeKey, protocol: NODE_PROTOCOL })
    } catch {
      return
    }
    const decode = <T>(enc: Encoder<T>, raw: Uint8Array, what: string): T => {
      try {
        return c.decode(enc, raw)
      } catch (err) {
        throw VmsError.BAD_REQUEST(`${what} does not decode: ${(err as Error).message}`)
      }
    }
    rpc.respond('prepare', { requestEncoding: c.raw, responseEncoding: deployPrepared }, async (raw: Uint8Array) => await this.prepare(decode(deployRequest, raw, 'deploy request')))
    rpc.respond('commit', { requestEncoding: c.raw, responseEncoding: deployResult }, async (raw: Uint8Array) => await this.commit(decode(deployCommit, raw, 'deploy commit')))
    rpc.respond('undeploy', { requestEncoding: c.raw, responseEncoding: c.none }, async (raw: Uint8Array) => { await this.undeploy(decode(undeployRequest, raw, 'undeploy request')); return null })
    rpc.respond('contracts', { requestEncoding: c.raw, responseEncoding: contractListing }, () => this.listing(operator))
  }

  /**
   * The per-contract storage cap: a deployed contract whose log and files
   * hold more than `maxStorageBytes` gets STORAGE_QUOTA for every further call
   * (unlogged; replays never see it). Reads stay open to everyone.
   */
  private readonly admit = (host: ContractHost): void => {
    const used = storageBytes(host)
    if (used > this.policy.maxStorageBytes) throw VmsError.STORAGE_QUOTA(`this contract's log and files hold ${used} bytes, over the node's cap of ${this.policy.maxStorageBytes}`)
  }

  private counts (deployer: Uint8Array): { mine: number, total: number } {
    let mine = 0
    let total = 0
    const add = (d: Uint8Array): void => { total++; if (Buffer.from(d).equals(deployer)) mine++ }
    for (const e of this.registry.state.active.values()) add(e.request.deployer)
    for (const p of this.prepared.values()) add(p.request.deployer)
    return { mine, total }
  }

  private expire (): void {
    const now = Date.now()
    for (const [id, p] of this.prepared) if (p.expires < now) this.prepared.delete(id)
  }

  private async serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn)
    this.lock = run.catch(() => {})
    return await run
  }
}

/** Corestore namespace of a deployed contract: by its deploy request's hash. */
export function namespaceOf (requestHash: Uint8Array): string {
  return 'deployed/' + Buffer.from(requestHash).toString('hex')
}

/** Bytes a contract's log and files take (call log, files database and blobs cores). */
export function storageBytes (host: ContractHost): number {
  const drive = host.log.drive
  return host.log.core.byteLength + (drive ? drive.core.byteLength + (loadedBlobsCore(drive)?.byteLength ?? 0) : 0)
}

/**
 * Deletes a stopped contract's log and files blocks from the node's storage
 * (Hypercore `clear`: the blocks go, the cores' signed trees stay; replicas
 * elsewhere keep theirs).
 */
async function purge (host: ContractHost): Promise<void> {
  const store = host.log.store
  const drive = new Hyperdrive(store.namespace('files'))
  await drive.ready()
  await drive.clearAll()
  if (drive.core.length > 0) await drive.core.clear(0, drive.core.length)
  await drive.close()
  const core = store.get({ name: 'call-log' })
  await core.ready()
  if (core.length > 0) await core.clear(0, core.length)
  await core.close()
}
