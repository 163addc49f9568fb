/**
 * Hosting one contract: its call log and files, its sandbox, and the call
 * queue. Calls run one at a time in the sandbox (the seeds' script-wide
 * lock) but are committed in groups (group-pipeline.ts, group-commit.ts):
 * the file writes of all calls that queued up together and their records
 * reach storage in one write (drive-group.ts keeps every version a record
 * names a valid checkout), and each caller is answered after the write that
 * holds its record. A call is never acknowledged before its record is
 * durable.
 *
 * The queue and its drain live in call-queue.ts, the genesis in deploy-genesis.ts.
 *
 * Idle sandboxes may be evicted by the process's {@link SandboxPool}: the
 * next call rebuilds the sandbox by replaying the log. With an `openPool`
 * (host-node.ts), a whole idle contract may be closed too ({@link ContractHost.sleep},
 * sleep-cycle.ts): its log and files sessions and its sandbox; the next
 * request reopens them (the replication of its cores does not need it open:
 * the Corestore opens a stored core on a peer's request).
 */

import ReadyResource from 'ready-resource'
import { INIT_METHOD } from '../../protocol/index.js'
import type { BlockProof, CallRequest, CallResponse, ContractInfo, GenesisRecord, HeadStatement, RootStatement, SignerRecord } from '../../protocol/index.js'
import { NonceClock, signCall } from '../caller.js'
import { hash } from '../crypto.js'
import { VmsError } from '../errors.js'
import { formatKey } from '../keys.js'
import { ContractLog } from '../log/contract-log.js'
import { BlockProver } from '../log/block-proof.js'
import { signerOf } from '../attest/signer.js'
import { DriveCommitter } from '../log/drive-committer.js'
import { groupsAppendOnce } from '../log/drive-group.js'
import { unpooled, unpooledFields } from './sleep-state.js'
import type { Limits, Sandbox } from '../runtime/types.js'
import { DEFAULT_LIMITS } from '../runtime/types.js'
import { NonceTable } from '../replay/nonces.js'
import { replayRange } from '../replay/replay.js'
import { checkInitCall, tryInit } from './init-call.js'
import { writeGenesis } from './deploy-genesis.js'
import { OrderedAdmission, REQUEST_OVERHEAD_BYTES, checkRequestCheap, type RequestCost } from './request-check.js'
import { sandboxPool, type PoolMember, type SandboxPool } from './sandbox-pool.js'
import { sharedVerifyPool } from '../sig/verify-pool.js'
import { CallQueue } from './call-queue.js'
import { SleepCycle } from './sleep-cycle.js'
import type { ContractHostOptions, HostStats } from './host-options.js'
import { GroupPipeline } from './group-pipeline.js'
import safetyCatch from 'safety-catch'

export { toOutcome } from './group-commit.js'
export type { ContractHostOptions, HostStats } from './host-options.js'

/**
 * One hosted contract. `await host.ready()` deploys it (empty storage) or
 * reopens it (rebuilding in-memory state by replaying the log).
 * Events: `call` ({ index, record }) after each record is durable.
 */
export class ContractHost extends ReadyResource implements PoolMember {
  private logRef: ContractLog
  readonly name: string
  readonly stats: HostStats = { calls: 0, rejected: 0, batches: 0, rebuilds: 0, replayedAtOpen: 0, evictions: 0 }
  private readonly opts: ContractHostOptions
  private readonly pool: SandboxPool
  private sandbox: Sandbox | null = null
  private methodNames: string[] = []
  private files: DriveCommitter | null = null
  private readonly admission: OrderedAdmission
  private genesisRecord: GenesisRecord | null = null
  private prover: BlockProver | null = null
  private readonly nonces = new NonceTable()
  private readonly calls: CallQueue
  private readonly cycle: SleepCycle
  private lastTimestamp = 0
  /** Known once the log is open (a sleeping contract's closed log no longer knows it). */
  private contractKey: Buffer | null = null
  private signerRecord: SignerRecord | null = null

  /** @param opts see {@link ContractHostOptions} */
  constructor (opts: ContractHostOptions) {
    super()
    this.opts = opts
    this.name = opts.name
    this.logRef = new ContractLog(opts.store)
    this.pool = opts.pool ?? sandboxPool
    this.admission = new OrderedAdmission(opts.verifier ?? sharedVerifyPool())
    this.calls = new CallQueue({
      maxBatch: opts.maxBatch ?? 256,
      maxQueue: opts.maxQueue ?? 10_000,
      stats: this.stats,
      nonces: this.nonces,
      rejected: (req, err) => this.rejected(req, err),
      pool: this.pool,
      member: this,
      sandbox: () => this.sandbox,
      rebuild: async () => await this.rebuild(),
      makePipeline: () => this.makePipeline(),
      warn: (err) => this.emit('warning', err)
    })
    this.cycle = new SleepCycle({
      openPool: opts.openPool,
      closing: () => this.closing !== null,
      idle: () => !this.closing && this.opened && this.calls.idle,
      detach: () => this.detach(),
      newLog: () => new ContractLog(opts.store),
      attach: (log) => { this.logRef = log; this.files = this.committerOf(log) },
      ready: async () => { if (!this.opened) await this.ready() },
      replay: async () => await this.rebuild()
    })
  }

  /** The call log and files (a closed one while asleep: key and discovery keys still read). */
  get log (): ContractLog {
    return this.logRef
  }

  /** The contract key (z-base32 via `formatKey`). */
  get key (): Buffer {
    return this.contractKey ?? this.log.key
  }

  /** Blocks in the call log (genesis included), also while asleep. */
  get length (): number {
    return this.cycle.at?.length ?? this.log.length
  }

  /** True while closed for idleness ({@link ContractHost.sleep}). */
  get sleeping (): boolean {
    return this.cycle.sleeping
  }

  /**
   * Closes the contract while nothing uses it (the open pool's eviction):
   * its sandbox and its log and files sessions; the in-memory nonce table
   * stays. The next request reopens it (and its next call rebuilds the
   * sandbox by replay). Nothing is lost: it sleeps only with no call
   * queued, running or committing and no files written ahead of the log.
   * @returns false when busy, closing or already asleep (kept)
   */
  sleep (): boolean {
    return this.cycle.sleep()
  }

  /** What sleep lets go of: the sessions' users; the small records kept are copied out of pooled buffers (sleep-state.ts). */
  private detach (): { log: ContractLog, sandbox: Sandbox | null } {
    const signer = this.signerRecord ?? signerOf(this.log.core) // what a reply needs even when its contract sleeps in between
    if (signer) this.signerRecord = unpooledFields(signer)
    if (this.genesisRecord) this.genesisRecord = unpooledFields(this.genesisRecord)
    if (this.contractKey) this.contractKey = unpooled(this.contractKey)
    const sandbox = this.sandbox
    this.sandbox = null
    this.files = null
    this.prover = null
    this.calls.drop()
    this.pool.release(this)
    return { log: this.logRef, sandbox }
  }

  /** The genesis record. @throws VmsError CLOSED before ready */
  get genesis (): GenesisRecord {
    if (!this.genesisRecord) throw VmsError.CLOSED('contract is not open')
    return this.genesisRecord
  }

  /** Method names the contract exports. */
  get methods (): string[] {
    return this.methodNames
  }

  /**
   * Disposes the sandbox while no call runs (the pool's eviction); the next
   * call rebuilds it by replaying the log.
   * @returns false when busy or closing (kept)
   */
  evict (): boolean {
    if (this.calls.busy || this.cycle.replaying || this.closing || !this.opened || !this.sandbox) return false
    const sb = this.sandbox
    this.sandbox = null
    sb.close().catch(safetyCatch)
    return true
  }

  /** What the `info` RPC returns. */
  info (): ContractInfo {
    const g = this.genesis
    return {
      contract: this.key,
      files: Buffer.from(g.files),
      name: g.name,
      methods: this.methods,
      length: this.length,
      fork: this.cycle.at?.fork ?? this.log.core.fork,
      runtime: g.runtime,
      oracles: g.oracles,
      limits: g.limits
    }
  }

  /**
   * The host's signed root statement of the log at `length` (the `root` RPC).
   * @param length blocks; 0 (default) for the current length
   * @throws VmsError BAD_ARGUMENT when `length` is past the log
   */
  async root (length = 0): Promise<RootStatement> {
    const slept = this.cycle.rootAsleep(length)
    if (slept) return slept
    return await this.cycle.use(async () => {
      if (length > this.log.length) throw VmsError.BAD_ARGUMENT(`the log has ${this.log.length} blocks, not ${length}`)
      return await this.log.signRoot(length || this.log.length)
    })
  }

  /**
   * The host's signed head pair (the `head` RPC, protocol/head.ts): the log
   * root and the files drive's length, taken at one point between group
   * commits, i.e. never while a group's drive writes wait for their records
   * (then it waits for that group's commit). On a drive nobody edited behind
   * the log the drive length is the last record's `filesAfter`; on one edited
   * outside the host it is not, and this signature proves it.
   * @throws VmsError HOST_BUSY when no such point came within 5,000 ms
   */
  async head (): Promise<HeadStatement> {
    return await this.cycle.use(async () => await this.headAwake())
  }

  private async headAwake (): Promise<HeadStatement> {
    const gate = this.calls.pipeline?.headGate
    const snap = (): { length: number, fork: number, files: number } => ({ length: this.log.length, fork: this.log.core.fork, files: this.log.drive?.core.length ?? 0 })
    const at = gate ? await gate.when(snap, 5000) : snap()
    if (!at) throw VmsError.HOST_BUSY('the files drive stayed ahead of the log (groups in flight) for 5,000 ms; ask again')
    return await this.log.signHead(at.length, at.fork, at.files)
  }

  /**
   * The log's signer: the manifest fields that hash to the contract key.
   * @throws VmsError INTERNAL when the log has no single-signer manifest
   */
  signer (): SignerRecord {
    const s = this.signerRecord ?? signerOf(this.log.core)
    if (!s) throw VmsError.INTERNAL('the call log has no single-signer manifest')
    return s
  }

  /**
   * Inclusion proof of log block `index` under the tree at `length` (what a
   * reply carries so the caller can check it, protocol/proof.ts).
   * @throws VmsError BAD_ARGUMENT when `index >= length` or `length` is past the log
   */
  async prove (index: number, length: number): Promise<BlockProof> {
    return await this.cycle.use(async () => await this.proverOf().prove(index, length))
  }

  private proverOf (): BlockProver {
    return (this.prover ??= new BlockProver(this.log.core))
  }

  /** The drive's group committer on `log` (atomic with the log's appends where Hyperbee allows), null without a drive. */
  private committerOf (log: ContractLog): DriveCommitter | null {
    return log.drive ? new DriveCommitter(log.drive, { atomic: log.atomic && groupsAppendOnce() }) : null
  }

  /** A new group commit (made at the first call: it needs the genesis). @throws VmsError CLOSED without the files */
  private makePipeline (): GroupPipeline {
    if (!this.files) throw VmsError.CLOSED('contract is not open')
    return new GroupPipeline({
      log: this.log,
      files: this.files,
      prover: this.proverOf(),
      oracle: this.genesis.oracles ? { mode: 'record' } : { mode: 'off' },
      clock: () => (this.lastTimestamp = Math.max(this.lastTimestamp, Date.now())),
      onCall: (index, record) => { this.stats.calls++; this.emit('call', { index, record }) },
      onGroup: () => { this.stats.batches++ }
    })
  }

  protected override async _open (): Promise<void> {
    await this.log.ready()
    this.contractKey = this.log.key
    this.files = this.committerOf(this.log)
    if (this.log.length === 0) await this.deploy()
    else await this.reopen()
    this.cycle.used()
  }

  protected override async _close (): Promise<void> {
    await this.cycle.woken()
    await this.calls.close(VmsError.CLOSED('host is closing'))
    this.pool.release(this)
    await this.cycle.release()
    if (this.sandbox) await this.sandbox.close()
    await this.log.close()
  }

  private async deploy (): Promise<void> {
    const source = this.opts.source
    if (source === undefined) throw VmsError.BAD_ARGUMENT('no contract source to deploy')
    const limits: Limits = { ...DEFAULT_LIMITS, ...this.opts.limits }
    this.sandbox = await this.opts.sandboxFactory(source, { limits, filename: this.name + '.js' })
    this.methodNames = this.sandbox.methods
    this.pool.use(this)
    const remote = this.opts.remote
    const hasInit = this.sandbox.methods.includes(INIT_METHOD)
    if (remote) checkInitCall(remote.init, hasInit, remote.deployer, this.key)
    const deployer = remote ? remote.deployer : this.opts.identity.publicKey
    if (hasInit) await tryInit(this.opts.sandboxFactory, { source, limits, name: this.name, deployer, oracles: !!this.opts.oracles })
    this.genesisRecord = await writeGenesis(this.log, { name: this.name, source, deployer, runtime: this.opts.runtime, limits, oracles: !!this.opts.oracles, deployRequest: remote?.request })
    if (hasInit) {
      const nonce = new NonceClock().next()
      await this.calls.enqueue(remote?.init ?? signCall(this.opts.identity, this.key, nonce, INIT_METHOD, '[]'))
    }
  }

  private async reopen (): Promise<void> {
    const genesis = await this.log.readGenesis()
    if (this.opts.source !== undefined && !hash(Buffer.from(this.opts.source)).equals(genesis.sourceHash)) {
      throw VmsError.CONTRACT_MISMATCH(`storage holds contract "${genesis.name}" ${formatKey(this.key)} with other source; use another --storage or --name`)
    }
    this.genesisRecord = genesis
    const open = this.opts.openPool
    if (open && open.live >= open.max) {
      // past the open bound: replay on the first request instead (keeps a start with many contracts short)
      this.cycle.deferReplay()
      return
    }
    await this.rebuild()
  }

  /** New sandbox, state rebuilt by replaying the whole log. */
  private async rebuild (): Promise<void> {
    const g = this.genesis
    if (this.sandbox) await this.sandbox.close()
    this.sandbox = null
    const sandbox = await this.opts.sandboxFactory(g.source, { limits: g.limits, filename: g.name + '.js' })
    this.sandbox = sandbox
    this.methodNames = sandbox.methods
    this.pool.use(this)
    const stats = await replayRange(sandbox, this.log, 1, this.log.length, (rec) => {
      this.nonces.observe(rec.request.caller, rec.request.nonce)
      this.lastTimestamp = Math.max(this.lastTimestamp, rec.timestamp)
    })
    if (!this.opened) this.stats.replayedAtOpen = stats.replayed
    if (stats.mismatches.length > 0) this.emit('warning', VmsError.INTERNAL(`replay of calls ${stats.mismatches.slice(0, 5).join(', ')} differed from the log: the contract is nondeterministic`))
  }

  /**
   * Runs a signed call request: checks it, queues it, and answers once its
   * record is durable in the log.
   * @returns the outcome (result or recorded error) and the receipt
   * Checks run cheapest first (request-check.ts): sizes, then the signature,
   * then the argument parse.
   * @param cost gets the CPU the checks spent (ms), for the caller to charge a peer whose request is rejected
   * @throws VmsError WRONG_CONTRACT, BAD_SIGNATURE, NONCE_REUSED, UNKNOWN_METHOD,
   *   BAD_ARGUMENTS, ARGS_TOO_LARGE, TOO_DEEP, HOST_BUSY, CLOSED, or what `opts.admit`
   *   throws (e.g. STORAGE_QUOTA) (none of these is logged)
   */
  async call (req: CallRequest, cost: RequestCost = { ms: 0 }): Promise<CallResponse> {
    return await this.cycle.use(async () => await this.callAwake(req, cost), cost)
  }

  private async callAwake (req: CallRequest, cost: RequestCost): Promise<CallResponse> {
    const t0 = performance.now()
    try {
      if (this.closing) throw VmsError.CLOSED('host is closing')
      if (this.opts.admit) this.opts.admit()
      checkRequestCheap(req, this.key, this.methods, this.genesis.limits)
      this.calls.checkRoom()
    } catch (err) {
      this.rejected(req, err)
      throw err
    } finally {
      cost.ms += performance.now() - t0
    }
    // the signature is checked off this thread, then the arguments, the nonce check and the queue, in arrival order
    const { done } = await this.admission.admit(req, this.genesis.limits, () => {
      if (this.closing) throw VmsError.CLOSED('host is closing')
      return { done: this.calls.enqueue(req) }
    }, cost).catch((err: VmsError) => {
      if (err.code === 'BAD_SIGNATURE' || err.code === 'BAD_ARGUMENTS') this.rejected(req, err)
      throw err
    })
    return await done
  }

  /** Largest call request frame worth decoding, bytes (maxArgsBytes plus the rest of a request). */
  get maxRequestBytes (): number {
    return this.genesis.limits.maxArgsBytes + REQUEST_OVERHEAD_BYTES
  }

  /**
   * Counts a request refused before the log and emits `rejected` with
   * `{ method, caller, error }` (caller: the claimed key; nothing is logged).
   */
  private rejected (req: CallRequest, err: unknown): void {
    this.stats.rejected++
    this.emit('rejected', { method: req.method, caller: req.caller, error: VmsError.from(err) })
  }

  /** The last nonce the log holds for `caller` (0 when none). */
  lastNonce (caller: Uint8Array): number {
    return this.nonces.get(caller)
  }
}
