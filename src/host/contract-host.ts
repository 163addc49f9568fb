/**
 * Hosting one contract: its call log and files, its sandbox, and the call
 * pipeline. Calls run one at a time in the sandbox (the seeds' script-wide
 * lock) but are committed in groups (group commit): the file writes of all
 * calls that queued up together reach the drive in one blobs append and one
 * database append (drive-group.ts keeps every version a record names a
 * valid checkout), their records go into one log append, and each caller is
 * answered after the append that holds its record. A call is never
 * acknowledged before its record is durable.
 *
 * Idle sandboxes may be evicted by the process's {@link SandboxPool}: the
 * next call rebuilds the sandbox by replaying the log. With an `openPool`
 * (host-node.ts), a whole idle contract may be closed too ({@link ContractHost.sleep}):
 * its log and files sessions and its sandbox; the next request reopens them
 * (the replication of its cores does not need it open: the Corestore opens
 * a stored core on a peer's request).
 */

import ReadyResource from 'ready-resource'
import { INIT_METHOD, RECORD_VERSION } from '../../protocol/index.js'
import type { BlockProof, CallRequest, CallResponse, ContractInfo, GenesisRecord, HeadStatement, RootStatement, SignerRecord } from '../../protocol/index.js'
import { NonceClock, signCall } from '../caller.js'
import { hash, randomBytes } from '../crypto.js'
import { VmsError } from '../errors.js'
import { noop } from '../noop.js'
import { formatKey } from '../keys.js'
import { ContractLog } from '../log/contract-log.js'
import { BlockProver } from '../log/block-proof.js'
import { signerOf } from '../attest/signer.js'
import { DriveCommitter } from '../log/drive-group.js'
import { releaseClosedLog, unpooled, unpooledFields } from './sleep-state.js'
import type { Limits, Sandbox } from '../runtime/types.js'
import { DEFAULT_LIMITS } from '../runtime/types.js'
import { MemoryFiles } from '../runtime/memory-files.js'
import { NonceTable } from '../replay/nonces.js'
import { replayRange } from '../replay/replay.js'
import { checkInitCall } from './init-call.js'
import { OrderedAdmission, REQUEST_OVERHEAD_BYTES, checkRequestCheap, type RequestCost } from './request-check.js'
import { sandboxPool, type PoolMember, type SandboxPool } from './sandbox-pool.js'
import { sharedVerifyPool } from '../sig/verify-pool.js'
import { commitGroup, executeGroup, type Done, type Pending } from './group-commit.js'
import type { ContractHostOptions, HostStats } from './host-options.js'
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
  /** The log commit of the last group, running while the next group executes. */
  private committing: Promise<void> | null = null
  /** Files version to truncate back to: a group's writes whose records never reached the log. */
  private undoTo: number | null = null
  private genesisRecord: GenesisRecord | null = null
  private prover: BlockProver | null = null
  private readonly nonces = new NonceTable()
  /** A group wrote to the drive and its records are not in the log yet (see {@link head}). */
  private unloggedFiles = false
  private readonly headWaiters = new Set<() => void>()
  private readonly queue: Pending[] = []
  private draining: Promise<void> | null = null
  private lastTimestamp = 0
  private readonly maxBatch: number
  private readonly maxQueue: number
  /** Set while closed for idleness: resolves once the sessions are closed. */
  private asleep: Promise<void> | null = null
  private waking: Promise<void> | null = null
  /** Opened lazily: nothing was replayed yet (nonces, methods, sandbox), the first wake does it. */
  private unreplayed = false
  private replaying: Promise<void> | null = null
  /** Requests running (they keep the contract awake). */
  private inUse = 0
  private slept = { length: 0, fork: 0 }
  /** Known once the log is open (a sleeping contract's closed log no longer knows it). */
  private contractKey: Buffer | null = null
  private signerRecord: SignerRecord | null = null
  /** The root statement signed as the contract went to sleep (its log cannot grow while asleep). */
  private sleptRoot: RootStatement | null = null
  private readonly openMember: PoolMember = { evict: () => this.sleep() }

  /** @param opts see {@link ContractHostOptions} */
  constructor (opts: ContractHostOptions) {
    super()
    this.opts = opts
    this.name = opts.name
    this.logRef = new ContractLog(opts.store)
    this.maxBatch = opts.maxBatch ?? 256
    this.maxQueue = opts.maxQueue ?? 10_000
    this.pool = opts.pool ?? sandboxPool
    this.admission = new OrderedAdmission(opts.verifier ?? sharedVerifyPool())
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
    return this.asleep ? this.slept.length : this.log.length
  }

  /** True while closed for idleness ({@link ContractHost.sleep}). */
  get sleeping (): boolean {
    return this.asleep !== null
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
    if (this.asleep || this.waking || this.draining || this.committing || this.queue.length > 0 || this.inUse > 0) return false
    if (this.closing || !this.opened || this.unloggedFiles || this.undoTo !== null || this.headWaiters.size > 0) return false
    this.slept = { length: this.log.length, fork: this.log.core.fork }
    const signer = this.signerRecord ?? signerOf(this.log.core) // what a reply needs even when its contract sleeps in between
    if (signer) this.signerRecord = unpooledFields(signer)
    if (this.genesisRecord) this.genesisRecord = unpooledFields(this.genesisRecord)
    if (this.contractKey) this.contractKey = unpooled(this.contractKey)
    const sb = this.sandbox
    const log = this.logRef
    this.sandbox = null
    this.files = null
    this.prover = null
    this.pool.release(this)
    this.asleep = (async () => {
      // nothing appends while asleep: the root at this length answers `root` requests (watchers poll them) without a wake
      const root = await log.signRoot(this.slept.length).catch(() => null)
      if (root) this.sleptRoot = unpooledFields(root)
      if (sb) await sb.close().catch(safetyCatch)
      await log.close()
      releaseClosedLog(log)
    })()
    this.asleep.catch(safetyCatch)
    return true
  }

  /** Reopens a sleeping contract (once, however many ask). */
  private async wake (): Promise<void> {
    if (!this.waking) {
      if (this.closing) throw VmsError.CLOSED('host is closing')
      this.waking = (async () => {
        await this.asleep?.catch(safetyCatch)
        const log = new ContractLog(this.opts.store)
        try {
          await log.ready()
        } catch (err) {
          await log.close().catch(safetyCatch)
          throw err
        }
        this.logRef = log
        if (log.drive) this.files = new DriveCommitter(log.drive)
        this.asleep = null
        this.sleptRoot = null
      })().finally(() => { this.waking = null })
    }
    await this.waking
  }

  /** The replay a lazy open skipped (sandbox, nonces, methods), once. */
  private async replayFirst (): Promise<void> {
    if (!this.replaying) {
      this.replaying = this.rebuild().then(() => { this.unreplayed = false }).finally(() => { this.replaying = null })
    }
    await this.replaying
  }

  /**
   * Runs `fn` with the contract open (woken when asleep) and kept awake
   * until it settles; first the replay a lazy open skipped (at most once per
   * open: what an eager open would have done), its time added to
   * `cost.ms` (a call's: charged to the peer when its call is rejected).
   */
  private async using<T> (fn: () => Promise<T>, cost: RequestCost = { ms: 0 }): Promise<T> {
    this.inUse++
    try {
      if (!this.opened) await this.ready()
      while (this.asleep || this.waking) await this.wake()
      if (this.unreplayed) {
        const t0 = performance.now()
        await this.replayFirst()
        cost.ms += performance.now() - t0
      }
      this.opts.openPool?.use(this.openMember)
      return await fn()
    } finally {
      this.inUse--
    }
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
    if (this.draining || this.replaying || this.closing || !this.opened || !this.sandbox) return false
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
      fork: this.asleep ? this.slept.fork : this.log.core.fork,
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
    const slept = this.sleptRoot
    if (this.asleep && !this.waking && slept && (length === 0 || length === slept.length)) return slept
    return await this.using(async () => {
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
    return await this.using(async () => await this.headAwake())
  }

  private async headAwake (): Promise<HeadStatement> {
    const snap = (): { length: number, fork: number, files: number } => ({ length: this.log.length, fork: this.log.core.fork, files: this.log.drive?.core.length ?? 0 })
    let at = this.unloggedFiles ? null : snap()
    if (!at) {
      at = await new Promise<ReturnType<typeof snap> | null>((resolve) => {
        const timer = setTimeout(() => { this.headWaiters.delete(take); resolve(null) }, 5000)
        timer.unref()
        const take = (): void => { clearTimeout(timer); resolve(snap()) }
        this.headWaiters.add(take)
      })
      if (!at) throw VmsError.HOST_BUSY('the files drive stayed ahead of the log (groups in flight) for 5,000 ms; ask again')
    }
    return await this.log.signHead(at.length, at.fork, at.files)
  }

  /** Drive writes of a group wait for their records (true) or not; false again wakes `head` requests in the same tick. */
  // eslint-disable-next-line accessor-pairs -- write-only: reads go to `unloggedFiles`
  private set unlogged (v: boolean) {
    this.unloggedFiles = v
    if (!v) for (const w of [...this.headWaiters]) { this.headWaiters.delete(w); w() }
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
    return await this.using(async () => {
      if (!this.prover) this.prover = new BlockProver(this.log.core)
      return await this.prover.prove(index, length)
    })
  }

  protected override async _open (): Promise<void> {
    await this.log.ready()
    this.contractKey = this.log.key
    if (this.log.drive) this.files = new DriveCommitter(this.log.drive)
    if (this.log.length === 0) await this.deploy()
    else await this.reopen()
    this.opts.openPool?.use(this.openMember)
  }

  protected override async _close (): Promise<void> {
    await this.waking?.catch(safetyCatch)
    if (this.draining) await this.draining
    for (const p of this.queue.splice(0)) p.reject(VmsError.CLOSED('host is closing'))
    this.pool.release(this)
    this.opts.openPool?.release(this.openMember)
    await this.asleep?.catch(safetyCatch)
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
    if (hasInit) await this.tryInit(source, limits)
    const filesVersion = await this.log.initFiles()
    const kp = this.log.core.keyPair
    if (!this.log.drive?.key || !kp) throw VmsError.INTERNAL('log or files not writable')
    const genesis: GenesisRecord = {
      version: RECORD_VERSION,
      name: this.name,
      source,
      sourceHash: hash(Buffer.from(source)),
      files: this.log.drive.key,
      filesVersion,
      deployer: remote ? remote.deployer : this.opts.identity.publicKey,
      signer: kp.publicKey,
      runtime: this.opts.runtime,
      limits,
      oracles: !!this.opts.oracles,
      createdAt: Date.now(),
      ...(remote ? { deployRequest: remote.request } : {})
    }
    await this.log.create(genesis)
    this.genesisRecord = genesis
    if (hasInit) {
      const nonce = new NonceClock().next()
      await this.enqueue(remote?.init ?? signCall(this.opts.identity, this.key, nonce, INIT_METHOD, '[]'))
    }
  }

  /**
   * Deploy = genesis + init: runs `init` once in a scratch sandbox over empty
   * files (what the drive holds at deploy), so an `init` that throws keeps
   * nothing: no genesis is written and the next start deploys afresh.
   * @throws VmsError CONTRACT_INIT with init's error message
   */
  private async tryInit (source: string, limits: Limits): Promise<void> {
    const scratch = await this.opts.sandboxFactory(source, { limits, filename: this.name + '.js' })
    try {
      const out = await scratch.call({
        method: INIT_METHOD,
        argsJson: '[]',
        callerId: formatKey(this.opts.remote?.deployer ?? this.opts.identity.publicKey),
        timestamp: Date.now(),
        seed: randomBytes(32),
        files: new MemoryFiles(),
        oracle: this.opts.oracles ? { mode: 'record' } : { mode: 'off' }
      })
      if (!out.ok) throw VmsError.CONTRACT_INIT(`init failed, nothing was deployed: ${out.error?.message ?? 'no error'}`)
    } finally {
      await scratch.close()
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
      this.unreplayed = true
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
    return await this.using(async () => await this.callAwake(req, cost), cost)
  }

  private async callAwake (req: CallRequest, cost: RequestCost): Promise<CallResponse> {
    const t0 = performance.now()
    try {
      if (this.closing) throw VmsError.CLOSED('host is closing')
      if (this.opts.admit) this.opts.admit()
      checkRequestCheap(req, this.key, this.methods, this.genesis.limits)
      if (this.queue.length >= this.maxQueue) throw VmsError.HOST_BUSY(`${this.queue.length} calls queued`)
    } catch (err) {
      this.rejected(req, err)
      throw err
    } finally {
      cost.ms += performance.now() - t0
    }
    // the signature is checked off this thread, then the arguments, the nonce check and the queue, in arrival order
    const { done } = await this.admission.admit(req, this.genesis.limits, () => {
      if (this.closing) throw VmsError.CLOSED('host is closing')
      return { done: this.enqueue(req) }
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

  private enqueue (req: CallRequest): Promise<CallResponse> {
    try {
      this.nonces.reserve(req.caller, req.nonce)
    } catch (err) {
      this.rejected(req, err)
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject })
      if (this.draining === null) this.draining = this.drain()
    })
  }

  private async drain (): Promise<void> {
    try {
      do {
        await this.drainQueue()
        // calls queued while the last commit finished are this drain's too
        await this.previous().catch(async () => await this.settleAndRebuild())
      } while (this.queue.length > 0)
    } finally {
      this.draining = null
    }
  }

  private async drainQueue (): Promise<void> {
    while (this.queue.length > 0) {
      if (!this.sandbox) {
        // evicted by the pool while idle: rebuild it by replaying the log
        this.stats.evictions++
        this.pool.rebuilds++
        if (!(await this.settleAndRebuild())) continue
      }
      const batch = this.queue.splice(0, this.maxBatch)
      let failed = false
      try {
        const rest = await this.runBatch(batch)
        if (rest.length > 0) this.queue.unshift(...rest)
      } catch (err) {
        failed = true
        const e = VmsError.from(err)
        for (const p of batch) p.reject(e)
      }
      if (failed || (this.sandbox && !this.sandbox.usable)) {
        // after a limit, or calls that ran but were never logged: memory must follow the log again
        this.stats.rebuilds++
        await this.settleAndRebuild()
      } else {
        this.pool.use(this)
      }
    }
  }

  /** Waits for the log commit of the previous group. @throws its failure */
  private previous (): Promise<void> {
    const p = this.committing ?? Promise.resolve()
    this.committing = null
    return p
  }

  /**
   * Lets the last group reach the log (or undoes its files when it could
   * not), then rebuilds the sandbox from the log; when that fails, every
   * queued call is rejected with the reason.
   */
  private async settleAndRebuild (): Promise<boolean> {
    try {
      await this.previous().catch(safetyCatch) // its callers got its error
      if (this.undoTo !== null) await this.undoFiles(this.undoTo)
      await this.rebuild()
      return true
    } catch (err) {
      const e = VmsError.from(err)
      for (const p of this.queue.splice(0)) p.reject(e)
      this.emit('warning', e)
      return false
    }
  }

  /**
   * Executes one group (group-commit.ts) and starts its log commit without
   * waiting for it: the next group executes meanwhile. Stops early after a
   * call that hit a limit.
   * @returns the calls not run
   * @throws when the group (or the one before it) could not be made
   *   durable; nothing of it is then left in the drive, and none of its calls
   *   is acknowledged
   */
  private async runBatch (batch: Pending[]): Promise<Pending[]> {
    const log = this.log
    const sandbox = this.sandbox
    const files = this.files
    if (!files || !sandbox) throw VmsError.CLOSED('contract is not open')
    let marked = false
    const group = files.begin(async () => {
      // the drive is about to change: the previous group's records first, then the marker
      await this.previous()
      await log.beginBatch(group.startVersion)
      marked = true
      this.unlogged = true
    })
    const oracle = this.genesis.oracles ? { mode: 'record' as const } : { mode: 'off' as const }
    const clock = (): number => (this.lastTimestamp = Math.max(this.lastTimestamp, Date.now()))
    let result: { done: Done[], ran: number }
    try {
      result = await executeGroup({ sandbox, group, oracle, clock }, batch)
      await this.previous()
    } catch (err) {
      await group.discard()
      if (marked) await this.undoFiles(group.startVersion)
      throw err
    }
    const { done, ran } = result
    if (done.length > 0) {
      const logLength = log.length
      this.committing = commitGroup(log, done, (index, record) => {
        this.stats.calls++
        this.emit('call', { index, record })
      }).then(() => {
        this.stats.batches++
        if (marked) this.unlogged = false
      }, (err) => {
        // never logged: its writes must leave the drive before anything else happens
        if (marked && log.length === logLength) this.undoTo = group.startVersion
        const e = VmsError.from(err)
        for (const d of done) d.p.reject(e)
        throw err
      })
      this.committing.catch(noop)
    }
    return batch.slice(ran)
  }

  /** Takes the drive back to `version` after a group whose records never reached the log. */
  private async undoFiles (version: number): Promise<void> {
    this.undoTo = null
    const drive = this.log.drive
    if (!drive || !this.files) return
    if (drive.version > version) await drive.truncate(version)
    this.files.reset()
    await this.log.clearPending()
    this.unlogged = false
  }
}
