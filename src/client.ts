/**
 * `VmsClient`: call a contract by its key from anywhere on the DHT, as the
 * seeds' `nodevms-client` does. The client finds the host by the call log's
 * discovery key, opens the host RPC on the swarm connection, signs every call
 * with the caller's identity, and replicates the log and files so that the
 * state can be read with a stock Hyperdrive (`await client.openFiles()`).
 *
 * ```js
 * const client = await VmsClient.connect(key, { bootstrap: [{ host: '127.0.0.1', port: 49737 }] })
 * await client.RSVP('bob', true)
 * await client.close()
 * ```
 */

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import type Hyperswarm from 'hyperswarm'
import type Hypercore from 'hypercore'
import type { SwarmConnection } from 'hyperswarm'
import type { ContractInfo, RootStatement } from '../protocol/index.js'
import { NonceClock, signCall } from './caller.js'
import { discoveryKey } from './crypto.js'
import type { KeyPair } from './crypto.js'
import { VmsError } from './errors.js'
import { loadIdentity, toIdentity, type Identity } from './identity.js'
import { canonicalArgs } from './json.js'
import { parseKey } from './keys.js'
import { RpcClient } from './net/rpc.js'
import { createSwarm, type NetOptions } from './net/swarm.js'
import { Gossip } from './net/gossip.js'
import { AttestationStore } from './attest/store.js'
import { assertNoFault, waitForQuorum } from './attest/quorum.js'
import { reportSplitViews } from './attest/attester.js'
import { signerOf } from './attest/signer.js'
import { checkReceipt, type ReceiptCheck } from './attest/receipt.js'
import { VERSION } from './version.js'
import type { SandboxFactory } from './runtime/types.js'
import type { ContractWatch } from './watch/contract-watch.js'
import type { Verdict } from './watch/verdict.js'
import type { Watcher } from './watch/watcher.js'

/** Options for {@link VmsClient.connect}. */
export interface ClientOptions extends NetOptions {
  /** Caller identity: a key pair, or an identity file path (default `~/.vms-node/identity.json`). */
  identity?: KeyPair | string
  /** Per-request and connect timeout, ms (default 5,000, as in the seeds). */
  timeout?: number
  /** Folder for the client's Corestore (default: a temporary folder removed on close). */
  storage?: string
  /**
   * Trust policy: resolve a call only after this many distinct watchers
   * attested ok at or beyond its receipt's log length (default 0: don't wait).
   * Calls to a contract with a known fault are refused either way (see `faultQuorum`).
   */
  quorum?: number
  /** How long a call waits for its quorum, ms (default 30,000). */
  quorumTimeout?: number
  /**
   * Distinct watchers whose replay faults make calls fail with
   * CONTRACT_FAULTY (default 1). Split-view evidence (two host signatures
   * that disagree) is checked and refuses the contract whatever this is.
   */
  faultQuorum?: number
  /**
   * Replay and judge the contract in the background (a watcher on this
   * client's store and connection): see `client.verdict` and the
   * `verdict`/`fault` events of `client.auditor`.
   */
  audit?: boolean
  /** Sandbox factory of the background audit (default: supervised sandbox processes). */
  sandboxFactory?: SandboxFactory
}

/** What the host signed for the last call: the call's place in the log. */
export interface Receipt {
  /** Log block index of the call record. */
  index: number
  /** The host's signed root of the log including that record. */
  root: RootStatement
}

/** A contract method on the client: takes JSON arguments, resolves to the JSON result. */
export type ContractMethod = (...args: unknown[]) => Promise<unknown>

/** A connected client: its own members plus one function per contract method. */
export type ConnectedClient = VmsClient & { [method: string]: ContractMethod }

/** A connection to one contract. Use {@link VmsClient.connect}. */
export class VmsClient {
  readonly key: Buffer
  readonly identity: Identity
  /** The contract's info as the host gave it at connect time. */
  info!: ContractInfo
  /** Receipt of the last call that ran. */
  lastReceipt: Receipt | null = null
  readonly store: Corestore
  /** Attestations gossiped by peers (latest per watcher, verified faults). */
  readonly attestations: AttestationStore
  readonly gossip: Gossip
  readonly swarm: Hyperswarm
  /** The replicated call log. */
  readonly core: Hypercore
  private readonly timeout: number
  private readonly tmpdir: string | null
  private readonly nonces = new NonceClock()
  private rpc: RpcClient | null = null
  private waiting: Array<(rpc: RpcClient) => void> = []
  private drive: Hyperdrive | null = null
  private closed = false
  private readonly quorum: number
  private readonly stopSplitViews: () => void
  private readonly quorumTimeout: number
  private readonly faultQuorum: number
  private watcher: Watcher | null = null
  /** The background audit (with `audit: true`): emits `verdict` and `fault` (a Verdict). */
  auditor: ContractWatch | null = null

  private constructor (key: Buffer, opts: ClientOptions) {
    this.key = key
    this.timeout = opts.timeout ?? 5000
    const id = opts.identity
    this.identity = typeof id === 'object' ? toIdentity(id) : loadIdentity(id)
    this.tmpdir = opts.storage ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'vms-client-'))
    this.store = new Corestore(opts.storage ?? (this.tmpdir as string))
    this.core = this.store.get({ key })
    this.swarm = createSwarm(opts)
    this.attestations = new AttestationStore({ file: opts.storage ? path.join(opts.storage, 'attestations.json') : undefined })
    this.gossip = new Gossip(this.attestations)
    this.quorum = opts.quorum ?? 0
    this.faultQuorum = opts.faultQuorum ?? 1
    this.stopSplitViews = reportSplitViews(this.attestations, this.gossip, this.identity, `vms-node/${VERSION}`)
    this.quorumTimeout = opts.quorumTimeout ?? 30_000
    this.swarm.on('connection', (conn: SwarmConnection) => this.onconnection(conn))
  }

  /**
   * Connects to the contract `key` (z-base32 or hex) and reads its info.
   * @returns the client, with one method per contract method
   * @throws VmsError BAD_KEY, NOT_FOUND (no host found within `timeout` ms), REQUEST_TIMEOUT
   */
  static async connect (key: string | Uint8Array, opts: ClientOptions = {}): Promise<ConnectedClient> {
    const client = new VmsClient(parseKey(key), opts)
    try {
      await client.core.ready()
      client.swarm.join(discoveryKey(client.key), { server: false, client: true })
      const rpc = await client.channel()
      client.info = await rpc.info(client.timeout)
      if (opts.audit) await client.startAudit(opts.sandboxFactory)
    } catch (err) {
      await client.close()
      throw err
    }
    return client.proxy()
  }

  /** The background audit's latest verdict (null without `audit: true` or before the first). */
  get verdict (): Verdict | null {
    return this.auditor ? this.auditor.verdict : null
  }

  private async startAudit (sandboxFactory?: SandboxFactory): Promise<void> {
    const { Watcher } = await import('./watch/watcher.js')
    this.watcher = new Watcher({ store: this.store, sandboxFactory, gossip: this.gossip, identity: this.identity })
    this.auditor = await this.watcher.watch(this.key, { rootSource: async (timeout) => await (await this.channel()).root(timeout) })
  }

  /** Method names of the contract. */
  get methods (): string[] {
    return this.info.methods
  }

  /**
   * Calls `method` with JSON arguments, signed by this client's identity.
   * @returns the method's JSON result (undefined when it returned nothing)
   * @throws VmsError with the recorded code when the call ran and failed
   *   (CONTRACT_ERROR, ENOENT, TIMEOUT, MEMORY_LIMIT...), or the rejection code
   *   (BAD_SIGNATURE, UNKNOWN_METHOD, ARGS_TOO_LARGE...), REQUEST_TIMEOUT, CLOSED;
   *   CONTRACT_FAULTY when split-view evidence or `faultQuorum` watchers' faults are known, QUORUM_TIMEOUT when `quorum`
   *   watchers did not attest the call's log length in time
   */
  async call (method: string, ...args: unknown[]): Promise<unknown> {
    const argsJson = canonicalArgs(args)
    assertNoFault(this.attestations, this.key, this.faultQuorum)
    for (let attempt = 0; ; attempt++) {
      const rpc = await this.channel()
      const req = signCall(this.identity, this.key, this.nonces.next(), method, argsJson)
      const reply = await rpc.call(req, this.timeout)
      if (!reply.accepted) {
        // another process with the same identity may have used a larger nonce: retry with a fresh one
        if (reply.error.code === 'NONCE_REUSED' && attempt < 2) continue
        throw VmsError.fromInfo(reply.error)
      }
      const { outcome, index, root } = reply.response
      this.lastReceipt = { index, root }
      const signer = signerOf(this.core)
      if (signer) this.attestations.addStatement(root, signer) // a receipt is a signed root too: check it for split views
      if (this.quorum > 0) await waitForQuorum(this.attestations, this.key, root.length, this.quorum, this.quorumTimeout, this.faultQuorum)
      if (!outcome.ok) throw VmsError.fromInfo(outcome.error ?? { code: 'INTERNAL', message: 'INTERNAL: failed without an error' })
      return outcome.result === null ? undefined : JSON.parse(outcome.result)
    }
  }

  /**
   * Checks that a call the host acknowledged is still in its log: the
   * receipt's root must verify under the contract's log signer, the host's
   * current log must still have that root as its prefix (its signed root at
   * the receipt's length, and the replicated log's tree hash there), and
   * the receipt's block must be a call record. A host that dropped the call
   * is caught by its own signature: the result names the fault and, when two
   * host-signed roots conflict, carries evidence `vms-node check` verifies
   * offline (the conflicting roots also go to the attestation store, which
   * reports and gossips the split view).
   * @param receipt a receipt this client got (default: the last call's)
   * @returns `{ ok: true }`, or `{ ok: false, fault: 'truncated' | 'rewritten', receipt, current, evidence }`
   * @throws VmsError BAD_ARGUMENT (no receipt, or not one of this contract),
   *   NOT_FOUND / REQUEST_TIMEOUT / CLOSED when the host could not be asked
   */
  async checkReceipt (receipt: Receipt | null = this.lastReceipt): Promise<ReceiptCheck> {
    if (!receipt) throw VmsError.BAD_ARGUMENT('no receipt to check: make a call first')
    return await checkReceipt({
      core: this.core,
      store: this.attestations,
      timeout: this.timeout,
      root: async (length) => await (await this.channel()).root(this.timeout, length)
    }, receipt)
  }

  /**
   * The contract's files drive (a stock Hyperdrive over the replicated
   * cores), updated to the host's latest version.
   */
  async openFiles (): Promise<Hyperdrive> {
    if (!this.drive) {
      this.drive = new Hyperdrive(this.store, this.info.files)
      await this.drive.ready()
    }
    await this.drive.core.update({ wait: true })
    return this.drive
  }

  /** Leaves the swarm and closes storage (removing a temporary folder). */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.watcher) await this.watcher.close()
    if (this.rpc) this.rpc.close()
    this.stopSplitViews()
    this.gossip.close()
    this.attestations.flush()
    await this.swarm.destroy()
    if (this.drive) await this.drive.close()
    await this.core.close()
    await this.store.close()
    if (this.tmpdir) fs.rmSync(this.tmpdir, { recursive: true, force: true })
  }

  private onconnection (conn: SwarmConnection): void {
    this.store.replicate(conn)
    this.gossip.attach(conn)
    const rpc = new RpcClient(conn, this.key)
    rpc.rpc.on('close', () => { if (this.rpc === rpc) this.rpc = null })
    rpc.rpc.fullyOpened().then(() => {
      if (this.closed) return
      this.rpc = rpc
      for (const w of this.waiting.splice(0)) w(rpc)
    }, () => {})
  }

  /** The open RPC channel, waiting up to `timeout` ms for one. */
  private channel (): Promise<RpcClient> {
    if (this.closed) return Promise.reject(VmsError.CLOSED('client is closed'))
    if (this.rpc) return Promise.resolve(this.rpc)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== done)
        reject(VmsError.NOT_FOUND(`no host of ${this.key.toString('hex').slice(0, 16)}... answered within ${this.timeout} ms`))
      }, this.timeout)
      const done = (rpc: RpcClient): void => { clearTimeout(timer); resolve(rpc) }
      this.waiting.push(done)
    })
  }

  private proxy (): ConnectedClient {
    return new Proxy(this, {
      get (target, prop, receiver) {
        if (typeof prop === 'string' && !(prop in target) && prop !== 'then' && target.info.methods.includes(prop)) {
          return (...args: unknown[]) => target.call(prop, ...args)
        }
        return Reflect.get(target, prop, receiver)
      }
    }) as unknown as ConnectedClient
  }
}
