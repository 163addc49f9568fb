/**
 * Hosting one contract: its call log and files, its sandbox, and the call
 * pipeline. Calls run one at a time in the sandbox (the seeds' script-wide
 * lock) but are committed in groups (group commit): each call's file
 * writes are flushed to the drive as one drive batch, the records of all
 * calls that queued up together go into one log append, and each caller is
 * answered after the append that holds its record. A call is never
 * acknowledged before its record is durable.
 */

import ReadyResource from 'ready-resource'
import type Corestore from 'corestore'
import { INIT_METHOD, RECORD_VERSION } from '../../protocol/index.js'
import type { CallRecord, CallRequest, CallResponse, ContractInfo, GenesisRecord, Outcome, RootStatement } from '../../protocol/index.js'
import { NonceClock, signCall } from '../caller.js'
import { hash, randomBytes } from '../crypto.js'
import type { KeyPair } from '../crypto.js'
import { VmsError } from '../errors.js'
import { formatKey } from '../keys.js'
import { ContractLog } from '../log/contract-log.js'
import { DriveFiles, applyWrites } from '../log/drive-files.js'
import type { CallOutcome, Limits, Sandbox, SandboxFactory } from '../runtime/types.js'
import { DEFAULT_LIMITS } from '../runtime/types.js'
import { NonceTable } from './nonces.js'
import { replayRange } from './replay.js'
import { checkRequest } from './request-check.js'

/** Options for {@link ContractHost}. */
export interface ContractHostOptions {
  /** Corestore namespace of this contract. */
  store: Corestore
  /** Contract name (shown in info). */
  name: string
  /** Contract source; required to deploy, checked against the genesis on restart. */
  source?: string
  /** The host operator's identity: signs `init` at deploy. */
  identity: KeyPair
  sandboxFactory: SandboxFactory
  /** Runtime fingerprint written in the genesis. */
  runtime: string
  /** Limits for a new deploy (a restart uses the genesis limits). */
  limits?: Partial<Limits>
  /** Turn System.oracle on for a new deploy. */
  oracles?: boolean
  /** Largest number of calls in one group commit (default 256). */
  maxBatch?: number
  /** Largest number of queued calls before HOST_BUSY (default 10,000). */
  maxQueue?: number
}

interface Pending {
  req: CallRequest
  resolve: (res: CallResponse) => void
  reject: (err: Error) => void
}

/** Counters a UI or benchmark reads. */
export interface HostStats {
  /** Calls logged since open. */
  calls: number
  /** Requests rejected before the sandbox (bad signature, nonce, ...). */
  rejected: number
  /** Group commits done. */
  batches: number
  /** Sandbox rebuilds after a limit. */
  rebuilds: number
  /** Calls replayed to rebuild state at open. */
  replayedAtOpen: number
}

/**
 * One hosted contract. `await host.ready()` deploys it (empty storage) or
 * reopens it (rebuilding in-memory state by replaying the log).
 * Events: `call` ({ index, record }) after each record is durable.
 */
export class ContractHost extends ReadyResource {
  readonly log: ContractLog
  readonly name: string
  readonly stats: HostStats = { calls: 0, rejected: 0, batches: 0, rebuilds: 0, replayedAtOpen: 0 }
  private readonly opts: ContractHostOptions
  private sandbox: Sandbox | null = null
  private genesisRecord: GenesisRecord | null = null
  private readonly nonces = new NonceTable()
  private readonly queue: Pending[] = []
  private draining: Promise<void> | null = null
  private lastTimestamp = 0
  private readonly maxBatch: number
  private readonly maxQueue: number

  /** @param opts see {@link ContractHostOptions} */
  constructor (opts: ContractHostOptions) {
    super()
    this.opts = opts
    this.name = opts.name
    this.log = new ContractLog(opts.store)
    this.maxBatch = opts.maxBatch ?? 256
    this.maxQueue = opts.maxQueue ?? 10_000
  }

  /** The contract key (z-base32 via `formatKey`). */
  get key (): Buffer {
    return this.log.key
  }

  /** The genesis record. @throws VmsError CLOSED before ready */
  get genesis (): GenesisRecord {
    if (!this.genesisRecord) throw VmsError.CLOSED('contract is not open')
    return this.genesisRecord
  }

  /** Method names the contract exports. */
  get methods (): string[] {
    return this.sandbox ? this.sandbox.methods : []
  }

  /** What the `info` RPC returns. */
  info (): ContractInfo {
    const g = this.genesis
    return {
      contract: this.key,
      files: Buffer.from(g.files),
      name: g.name,
      methods: this.methods,
      length: this.log.length,
      fork: this.log.core.fork,
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
    if (!this.opened) await this.ready()
    if (length > this.log.length) throw VmsError.BAD_ARGUMENT(`the log has ${this.log.length} blocks, not ${length}`)
    return await this.log.signRoot(length || this.log.length)
  }

  protected override async _open (): Promise<void> {
    await this.log.ready()
    if (this.log.length === 0) await this.deploy()
    else await this.reopen()
  }

  protected override async _close (): Promise<void> {
    if (this.draining) await this.draining
    for (const p of this.queue.splice(0)) p.reject(VmsError.CLOSED('host is closing'))
    if (this.sandbox) await this.sandbox.close()
    await this.log.close()
  }

  private async deploy (): Promise<void> {
    const source = this.opts.source
    if (source === undefined) throw VmsError.BAD_ARGUMENT('no contract source to deploy')
    const limits: Limits = { ...DEFAULT_LIMITS, ...this.opts.limits }
    this.sandbox = await this.opts.sandboxFactory(source, { limits, filename: this.name + '.js' })
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
      deployer: this.opts.identity.publicKey,
      signer: kp.publicKey,
      runtime: this.opts.runtime,
      limits,
      oracles: !!this.opts.oracles,
      createdAt: Date.now()
    }
    await this.log.create(genesis)
    this.genesisRecord = genesis
    if (this.sandbox.methods.includes(INIT_METHOD)) {
      const nonce = new NonceClock().next()
      await this.enqueue(signCall(this.opts.identity, this.key, nonce, INIT_METHOD, '[]'))
    }
  }

  private async reopen (): Promise<void> {
    const genesis = await this.log.readGenesis()
    if (this.opts.source !== undefined && !hash(Buffer.from(this.opts.source)).equals(genesis.sourceHash)) {
      throw VmsError.CONTRACT_MISMATCH(`storage holds contract "${genesis.name}" ${formatKey(this.key)} with other source; use another --storage or --name`)
    }
    this.genesisRecord = genesis
    await this.rebuild()
  }

  /** New sandbox, state rebuilt by replaying the whole log. */
  private async rebuild (): Promise<void> {
    const g = this.genesis
    if (this.sandbox) await this.sandbox.close()
    this.sandbox = await this.opts.sandboxFactory(g.source, { limits: g.limits, filename: g.name + '.js' })
    const stats = await replayRange(this.sandbox, this.log, 1, this.log.length, (rec) => {
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
   * @throws VmsError WRONG_CONTRACT, BAD_SIGNATURE, NONCE_REUSED, UNKNOWN_METHOD,
   *   BAD_ARGUMENTS, ARGS_TOO_LARGE, HOST_BUSY, CLOSED (none of these is logged)
   */
  async call (req: CallRequest): Promise<CallResponse> {
    if (!this.opened) await this.ready()
    try {
      if (this.closing) throw VmsError.CLOSED('host is closing')
      checkRequest(req, this.key, this.methods, this.genesis.limits)
      if (this.queue.length >= this.maxQueue) throw VmsError.HOST_BUSY(`${this.queue.length} calls queued`)
    } catch (err) {
      this.stats.rejected++
      throw err
    }
    return await this.enqueue(req)
  }

  /** The last nonce the log holds for `caller` (0 when none). */
  lastNonce (caller: Uint8Array): number {
    return this.nonces.get(caller)
  }

  private enqueue (req: CallRequest): Promise<CallResponse> {
    try {
      this.nonces.reserve(req.caller, req.nonce)
    } catch (err) {
      this.stats.rejected++
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject })
      if (this.draining === null) this.draining = this.drain()
    })
  }

  private async drain (): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch)
        try {
          const rest = await this.runBatch(batch)
          if (rest.length > 0) this.queue.unshift(...rest)
        } catch (err) {
          const e = VmsError.from(err)
          for (const p of batch) p.reject(e)
        }
        if (this.sandbox && !this.sandbox.usable) {
          this.stats.rebuilds++
          await this.rebuild()
        }
      }
    } finally {
      this.draining = null
    }
  }

  /**
   * Runs calls in order, each call's writes flushed to the drive as one
   * batch, then appends all their records in one log append (group commit).
   * Stops early after a call that hit a limit (the sandbox must be rebuilt).
   * @returns the calls not run
   */
  private async runBatch (batch: Pending[]): Promise<Pending[]> {
    const log = this.log
    const drive = log.drive
    const sandbox = this.sandbox
    if (!drive || !sandbox) throw VmsError.CLOSED('contract is not open')
    const oracle = this.genesis.oracles ? { mode: 'record' as const } : { mode: 'off' as const }
    const view = new DriveFiles(drive)
    const done: Array<{ p: Pending, rec: CallRecord }> = []
    let marked = false
    let i = 0
    for (; i < batch.length && sandbox.usable; i++) {
      const p = batch[i]
      const timestamp = this.lastTimestamp = Math.max(this.lastTimestamp, Date.now())
      const seed = randomBytes(32)
      const filesBefore = drive.version
      const out = await sandbox.call({
        method: p.req.method,
        argsJson: p.req.args,
        callerId: formatKey(p.req.caller),
        timestamp,
        seed,
        files: view,
        oracle
      })
      if (out.ok && out.writes.length > 0) {
        if (!marked) {
          await log.beginBatch(drive.version)
          marked = true
        }
        // One drive batch per call: Hyperbee only writes a complete tree
        // index in the last block of a batch, so only per-call flushes make
        // every recorded version a valid checkout for replays.
        const files = drive.batch()
        try {
          await applyWrites(files, out.writes)
          await files.flush()
        } catch (err) {
          await files.close().catch(() => {})
          throw err
        }
      }
      done.push({
        p,
        rec: {
          version: RECORD_VERSION,
          request: p.req,
          timestamp,
          seed,
          oracles: out.oracles,
          outcome: toOutcome(out),
          filesBefore,
          filesAfter: drive.version,
          filesHash: Buffer.alloc(32)
        }
      })
    }
    await this.commit(done)
    return batch.slice(i)
  }

  private async commit (done: Array<{ p: Pending, rec: CallRecord }>): Promise<void> {
    if (done.length === 0) return
    const hashes = new Map<number, Buffer>()
    for (const { rec } of done) {
      let h = hashes.get(rec.filesAfter)
      if (!h) hashes.set(rec.filesAfter, h = (await this.log.filesState(rec.filesAfter)).hash)
      rec.filesHash = h
    }
    const start = await this.log.appendCalls(done.map((d) => d.rec))
    const root = await this.log.signRoot()
    this.stats.batches++
    for (let k = 0; k < done.length; k++) {
      const { p, rec } = done[k]
      this.stats.calls++
      this.emit('call', { index: start + k, record: rec })
      p.resolve({ outcome: rec.outcome, index: start + k, root })
    }
  }
}

/** The recorded form of a sandbox outcome. */
export function toOutcome (out: CallOutcome): Outcome {
  return {
    ok: out.ok,
    result: out.ok && out.resultJson !== undefined ? out.resultJson : null,
    error: out.ok ? null : (out.error ?? { code: 'INTERNAL', message: 'INTERNAL: no error given' }),
    limit: out.limit ?? null
  }
}

