/**
 * The pump of one contract watch (contract-watch.ts holds its API): the
 * state it drives and the loop that judges blocks in order while there is
 * work (genesis, resume, calls, then the checks of kept roots and heads),
 * making faults and verdicts as it goes, and saving the progress. Split from
 * contract-watch.ts by job: this file moves the state, that one answers
 * callers.
 */

import ReadyResource from 'ready-resource'
import Signal from 'signal-promise'
import safetyCatch from 'safety-catch'
import type { DownloadWindows } from './download-window.js'
import type { GenesisRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { formatKey } from '../keys.js'
import { ContractLog } from '../log/contract-log.js'
import type { FaultDraft } from './audit.js'
import { readGenesis } from './genesis-read.js'
import type { ContractWatchOptions } from './watch-options.js'
import { RootBook, truncationFault, type ForkFault } from './fork.js'
import { CallJudge } from './judge.js'
import { HeadWatch } from './head.js'
import { StateFile } from './state.js'
import { WatchProgress } from './progress.js'
import { RootPoll } from './root-poll.js'
import { withStallWarnings } from './stall.js'
import type { Evidence, Fault, FaultCause, Verdict } from './verdict.js'
import { buildFault, verdictNow } from './watch-verdict.js'

/** While judging a backlog, a verdict at least this often (ms). */
const VERDICT_EVERY_MS = 250

/**
 * Default ms between root requests while the log grows past the newest kept
 * root: an ok attestation waits for a root its judged length covers, so this
 * bounds the audit lag from below; each request costs the host one ed25519
 * signature (tens of µs), and none is sent while the newest root covers the log.
 */
const ROOT_INTERVAL_MS = 250

/** The state of a contract watch and the pump that moves it; {@link ContractWatch} is the class to use. */
export abstract class WatchPump extends ReadyResource {
  readonly key: Buffer
  readonly log: ContractLog
  /** The latest verdict (null until the genesis is judged). */
  verdict: Verdict | null = null
  genesis: GenesisRecord | null = null
  /** Root or head answers the contract's signer did not sign (their peers were dropped). */
  forgedRoots = 0
  protected readonly opts: ContractWatchOptions
  protected readonly progress: WatchProgress
  protected readonly poll: RootPoll
  protected readonly heads: HeadWatch
  protected genesisRaw: Buffer | null = null
  protected judge: CallJudge | null = null
  protected resumedFrom = 0
  protected audited = 0
  protected fault: Fault | null = null
  protected forked: { to: number, fork: number } | null = null
  protected error: Error | null = null
  // the pump: runs while `dirty`, up to `stopAt`
  protected pumping: Promise<void> | null = null
  protected dirty = false
  protected started = false
  protected stopAt = Infinity
  protected lastEmitted = -1
  protected lastVerdictAt = 0
  /** Notified whenever the state a waiter may wait for changes. */
  protected readonly changed = new Signal()
  protected readonly downloads: Array<{ destroy (): void }> = []
  /** What is asked of peers while judging is behind (download-window.ts); made when the log opens. */
  protected windows: DownloadWindows | null = null

  /** True once the judge has caught up with the log at least once (from then on every block is asked for). */
  get caughtUp (): boolean {
    return this.windows ? this.windows.caughtUp : false
  }

  /** @param opts see {@link ContractWatchOptions} */
  constructor (opts: ContractWatchOptions) {
    super()
    this.opts = opts
    this.key = opts.key
    this.log = new ContractLog(opts.store, { key: opts.key })
    this.progress = new WatchProgress(opts.stateStore ?? new StateFile(opts.stateDir, opts.key.toString('hex')), opts.key.toString('hex'))
    this.poll = new RootPoll({
      core: this.log.core,
      audited: () => this.audited,
      faulted: () => this.fault !== null,
      following: () => this.started,
      closing: () => this.closing !== null,
      fail: (f, blocks) => this.forkFail(f, blocks),
      kept: (s) => this.emit('statement', s),
      settled: () => this.settled(),
      forged: (drop, reason) => this.forged(drop, reason),
      warn: (err) => this.warn(err)
    }, opts.rootInterval ?? ROOT_INTERVAL_MS, opts.requestTimeout ?? 10_000)
    this.heads = new HeadWatch({
      key: this.key,
      log: this.log,
      roots: this.poll.sources,
      genesis: () => this.genesis,
      audited: () => this.audited,
      filesAfter: () => this.judge ? this.judge.filesAfter : null,
      active: () => !this.fault && !this.closing,
      following: () => this.started && !this.opts.timeout,
      fail: async (f) => { await this.fail(f.draft, f.index, 'host', f.blocks, f.extra) },
      forged: (drop, reason) => this.forged(drop, reason),
      warn: (err) => this.warn(err)
    }, opts.timeout ?? 0, opts.requestTimeout ?? 10_000)
  }

  protected kick (): void {
    this.dirty = true
    if (!this.started || this.pumping || this.closing) return
    if (this.audited >= this.stopAt && !this.forked) return
    this.pumping = this.pump().finally(() => {
      this.pumping = null
      this.wake()
      if (this.dirty && this.started && !this.fault && !this.error) this.kick()
    })
  }

  /** Judges blocks in order while there is work: genesis, resume, calls, then the checks of kept roots and heads. */
  protected async pump (): Promise<void> {
    try {
      while (this.dirty && this.started && !this.fault) {
        this.dirty = false
        if (!this.genesis) await this.openGenesis()
        if (this.fault) break
        if (this.resumedFrom === 0) await this.resume()
        while (this.started && !this.fault) {
          if (this.forked) { await this.forkFault(); break }
          if (this.audited >= Math.min(this.log.core.length, this.stopAt)) break
          const i = this.audited
          const d = await this.stallWarnings(i, this.judge!.judge(i))
          if (d) {
            await this.fail(d.draft, i, d.cause, d.blocks, d.extra)
            break
          }
          this.audited = i + 1
          this.windows?.advance(this.audited)
          if (this.progress.judged()) await this.save()
          // a long backlog still gives verdicts (and so attestations) as it goes, and roots keep coming:
          // an ok attestation needs a host-signed root that the judged length covers, and the ones
          // asked before a backlog that the host keeps growing are soon all behind it
          if (Date.now() - this.lastVerdictAt >= VERDICT_EVERY_MS) {
            await this.poll.checkPending()
            if (this.fault) break
            await this.emitVerdict()
            this.poll.schedule()
          }
        }
        if (this.fault || !this.started) break
        // judged all of a log that is all here: from now on every block is asked for, live
        const core = this.log.core
        if (this.audited >= core.length && core.contiguousLength >= core.length) this.windows?.catchUp()
        await this.poll.checkPending()
        await this.heads.checkPending()
        if (this.fault) break
        await this.save()
        await this.emitVerdict()
        if (this.audited >= this.stopAt) break
        this.poll.schedule()
        this.heads.maybe()
      }
    } catch (err) {
      // not ignored: reported as a warning (or the audit's error), then judging retries
      if (process.env.VMS_DEBUG) process.stderr.write(`watch ${formatKey(this.key)}: ${String((err as Error).stack ?? err)}\n`)
      if (this.forked && !this.fault && this.started) {
        await this.forkFault().catch((e) => this.warn(e))
      } else if (this.started && !this.fault) {
        this.error = VmsError.from(err)
        if (this.opts.timeout) return
        this.warn(this.error)
        this.error = null
        await sleep(1000)
        this.dirty = true
      }
    }
  }

  /** Resolves as `judging` does; meanwhile warns STALLED every `stallMs` (following only). */
  protected async stallWarnings<V> (i: number, judging: Promise<V>): Promise<V> {
    const every = this.opts.timeout ? 0 : this.opts.stallMs ?? 30_000
    return await withStallWarnings(judging, every, (s) => {
      // what was judged before the stalled call gets its verdict now
      this.emitVerdict().catch((err) => this.warn(err))
      this.warn(VmsError.STALLED(`block ${i}: waited ${s} s for blocks no peer served (the call record, or the files version it names); log length ${this.log.core.length}, files length ${this.log.drive?.core.length ?? 0}`))
    })
  }

  protected async openGenesis (): Promise<void> {
    const { raw, genesis: g, draft: d } = await readGenesis(this.log, this.waitOpts(), this.opts.expected)
    this.genesisRaw = raw
    if (!g) {
      await this.fail(d!, 0, 'host', [0])
      return
    }
    this.genesis = g
    this.poll.book = new RootBook(this.key, g.signer, this.progress.statements)
    if (d) {
      await this.fail(d, 0, d.expectation ? 'expectation' : 'host', [0])
      return
    }
    const drive = await this.log.openFiles()
    this.judge = new CallJudge({
      key: this.key,
      log: this.log,
      genesis: g,
      drive,
      sandboxFactory: this.opts.sandboxFactory,
      timeout: this.opts.timeout ?? 0,
      warn: (err) => this.warn(err)
    })
    // in windows ahead of the judge while it is behind, then whole (download-window.ts)
    this.windows?.add(drive.core)
    drive.core.on('append', () => this.heads.maybe())
    drive.getBlobs().then((blobs) => {
      if (blobs !== null && !this.closing) this.windows?.add(blobs.core)
    }, safetyCatch) // no blobs core yet: its blocks are fetched on demand
  }

  /** Picks up the stored progress (progress.ts): a stored fault stays; otherwise re-executes the judged calls. */
  protected async resume (): Promise<void> {
    const r = await this.progress.resume(this.log.core)
    this.resumedFrom = r.resumedFrom
    if (r.kind === 'fault') {
      this.fault = r.verdict.fault
      this.audited = r.verdict.length
      this.verdict = r.verdict
      this.emit('fault', r.verdict)
      return
    }
    this.audited = r.resumedFrom
    if (r.kind === 'forked') this.forked = { to: r.to, fork: r.fork }
    else if (r.kind === 'warm') await this.judge!.warmup(r.resumedFrom, r.filesVersion, r.filesHash)
  }

  /** Builds the fault, stops judging, saves and emits. */
  protected async fail (d: FaultDraft, index: number, cause: FaultCause, blocks: number[], extra: Partial<Evidence> = {}): Promise<void> {
    if (this.fault) return
    this.fault = await buildFault(this.key, this.log.core, this.genesisRaw, d, index, cause, blocks, extra)
    const v = await this.makeVerdict()
    this.verdict = v
    await this.save().catch((err) => this.warn(err))
    this.emit('fault', v)
    this.wake()
    if (!this.opts.timeout && this.poll.book && this.poll.book.statements.length === 0) this.poll.afterFault().catch((err) => this.warn(err))
  }

  /** A fork fault (root-poll.ts): blamed on the host, with the statements as evidence. */
  protected async forkFail (f: ForkFault, blocks: number[]): Promise<void> {
    await this.fail(f.draft, f.index, 'host', blocks, { statements: f.statements })
  }

  /** The log was truncated (hypercore fork): fault with the host's signed statements before and after. */
  protected async forkFault (): Promise<void> {
    const f = this.forked!
    const { before, after } = await this.poll.aroundTruncation()
    await this.forkFail(truncationFault(f.to, f.fork, before, after, this.audited), [])
  }

  /** After a round of roots kept one: check it against the log, save, and give the verdict it confirms. */
  protected async settled (): Promise<void> {
    if (!this.fault) {
      await this.poll.checkPending()
      await this.save()
      await this.emitVerdict(true)
    } else {
      await this.save().catch((err) => this.warn(err))
    }
  }

  /** A peer answered a root or head the contract's signer did not sign: drop it, say so. */
  protected forged (drop: () => void, reason: string): void {
    drop()
    this.forgedRoots++
    this.warn(VmsError.FORGED_ROOT(`dropped a peer of ${formatKey(this.key)}: ${reason}`))
  }

  /** The verdict as it stands now (watch-verdict.ts). */
  async makeVerdict (): Promise<Verdict> {
    return await verdictNow({ key: this.key, core: this.log.core, audited: this.audited, fault: this.fault, book: this.poll.book, judge: this.judge, genesis: this.genesis, runtime: this.opts.runtime })
  }

  protected async emitVerdict (force = false): Promise<void> {
    if (this.fault || this.audited === 0) return
    if (!force && this.audited === this.lastEmitted) return
    this.lastEmitted = this.audited
    this.lastVerdictAt = Date.now()
    this.verdict = await this.makeVerdict()
    this.emit('verdict', this.verdict)
    this.wake()
  }

  /** Saves the progress (progress.ts). */
  protected async save (): Promise<void> {
    const judge = this.judge
    await this.progress.save({
      audited: this.audited,
      forked: this.forked !== null,
      core: this.log.core,
      files: judge ? { version: judge.filesAfter, hash: judge.filesHash } : null,
      fault: this.fault ? (this.verdict ?? await this.makeVerdict()) : null,
      statements: this.poll.book ? this.poll.book.toJSON() : null
    })
  }

  protected waitOpts (): { wait: boolean, timeout?: number } {
    return this.opts.timeout ? { wait: true, timeout: this.opts.timeout } : { wait: true }
  }

  protected warn (err: unknown): void {
    if (this.listenerCount('warning') > 0) this.emit('warning', VmsError.from(err))
  }

  protected wake (): void {
    this.changed.notify()
  }

  /**
   * Waits until `cond()` holds (checked whenever state changes).
   * @param timeout ms (0: no limit)
   * @throws `onTimeout()` (default REQUEST_TIMEOUT) after `timeout` ms; CLOSED when the watch closes first
   */
  protected async waitFor (cond: () => boolean, timeout: number, onTimeout: () => Error = () => VmsError.REQUEST_TIMEOUT(`waited ${timeout} ms`)): Promise<void> {
    const deadline = timeout > 0 ? Date.now() + timeout : Infinity
    while (!cond()) {
      if (this.closing) throw VmsError.CLOSED('watcher closed')
      const left = deadline - Date.now()
      if (left <= 0) throw onTimeout()
      await this.changed.wait(left === Infinity ? undefined : left)
    }
  }
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
