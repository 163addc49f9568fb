/**
 * Following one contract: replicate its call log and files drive, judge
 * every call in order (judge.ts), keep the host's signed root statements and
 * notice forks (fork.ts), and persist how far it got (state.ts) so that a
 * restart resumes instead of starting over.
 *
 * Events: `verdict` (Verdict) when the judged length advances or a root
 * statement confirms it; `fault` (Verdict) once, the first fault (final);
 * `statement` (RootStatement) when a root signed by the contract's signer
 * is kept (also after a fault: that is how a fault found before any root
 * gets one to be attested with); `warning` (Error).
 *
 * Roots are asked of every peer that opened the contract's RPC channel, at
 * once; each answer is verified against the contract's signer (the genesis
 * signer, bound to the contract key by the log's manifest) before it is
 * believed, and a peer that answers a forged one is dropped ({@link RootPeer}).
 * A one-shot audit judges up to the longest valid root, never to the first
 * answer.
 *
 * The parts, each readable alone: judging calls (judge.ts), root polling
 * and the checks of kept roots against the log (root-poll.ts), head pairs
 * (head.ts), the stored progress and resuming from it (progress.ts), the
 * stall timer (stall.ts), reading block 0 (genesis-read.ts), making
 * verdicts and faults (watch-verdict.ts), the options (watch-options.ts).
 * This file is the pump that drives them in order and the watch's API.
 */

import ReadyResource from 'ready-resource'
import Signal from 'signal-promise'
import safetyCatch from 'safety-catch'
import type { GenesisRecord, RootStatement } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { formatKey } from '../keys.js'
import { ContractLog } from '../log/contract-log.js'
import type { FaultDraft } from './audit.js'
import { readGenesis } from './genesis-read.js'
import type { ContractWatchOptions } from './watch-options.js'
import { RootBook, truncationFault, type ForkFault, type RootPeer, type RootSource } from './fork.js'
import { CallJudge, type WatchStats } from './judge.js'
import { HeadWatch } from './head.js'
import { StateFile } from './state.js'
import { WatchProgress } from './progress.js'
import { RootPoll } from './root-poll.js'
import { withStallWarnings } from './stall.js'
import type { Evidence, Fault, FaultCause, Verdict } from './verdict.js'
import { buildFault, verdictNow } from './watch-verdict.js'

export type { WatchStats } from './judge.js'
export { replayLimits } from './judge.js'

export type { RootPeer, RootSource } from './fork.js'
export type { ContractWatchOptions } from './watch-options.js'

/** While judging a backlog, a verdict at least this often (ms). */
const VERDICT_EVERY_MS = 250

/** One followed contract. Use {@link Watcher.watch} (or construct and `ready()`). */
export class ContractWatch extends ReadyResource {
  readonly key: Buffer
  readonly log: ContractLog
  /** The latest verdict (null until the genesis is judged). */
  verdict: Verdict | null = null
  genesis: GenesisRecord | null = null
  /** Root or head answers the contract's signer did not sign (their peers were dropped). */
  forgedRoots = 0
  private readonly opts: ContractWatchOptions
  private readonly progress: WatchProgress
  private readonly poll: RootPoll
  private readonly heads: HeadWatch
  private genesisRaw: Buffer | null = null
  private judge: CallJudge | null = null
  private resumedFrom = 0
  private audited = 0
  private fault: Fault | null = null
  private forked: { to: number, fork: number } | null = null
  private error: Error | null = null
  // the pump: runs while `dirty`, up to `stopAt`
  private pumping: Promise<void> | null = null
  private dirty = false
  private started = false
  private stopAt = Infinity
  private lastEmitted = -1
  private lastVerdictAt = 0
  /** Notified whenever the state a waiter may wait for changes. */
  private readonly changed = new Signal()
  private readonly downloads: Array<{ destroy (): void }> = []

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
    }, opts.rootInterval ?? 1000, opts.requestTimeout ?? 10_000)
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

  /** Head pairs judged consistent with the log (head.ts). */
  get headChecks (): number {
    return this.heads.checks
  }

  /** Counters of this run: the judge's, and where judging resumed. */
  get stats (): WatchStats {
    const counts = this.judge ? this.judge.counts : { judged: 0, warmup: 0, replayed: 0, rebuildReplays: 0, rebuilds: 0, skipped: 0 }
    return { ...counts, resumedFrom: this.resumedFrom }
  }

  /** Blocks judged so far (genesis included). */
  get length (): number {
    return this.audited
  }

  /** The fault found, if any (final). */
  get faulted (): Fault | null {
    return this.fault
  }

  /** Kept root statements (host-signed). */
  get statements (): readonly RootStatement[] {
    return this.poll.book ? this.poll.book.statements : []
  }

  protected override async _open (): Promise<void> {
    await this.log.ready()
    await this.progress.load()
    const core = this.log.core
    core.on('append', () => this.kick())
    core.on('truncate', (to: number, fork: number) => {
      if (!this.forked) this.forked = { to, fork }
      this.kick()
    })
    this.downloads.push(core.download({ start: 0, end: -1 }))
  }

  protected override async _close (): Promise<void> {
    this.poll.stop()
    this.started = false
    const pumping = this.pumping
    if (pumping) await Promise.race([pumping, new Promise((resolve) => setTimeout(resolve, 2000))])
    // a last save: one that fails while closing is reported, not thrown
    if (!this.pumping) await this.save().catch((err) => { safetyCatch(err); this.warn(err) })
    for (const d of this.downloads) d.destroy()
    this.wake()
    if (this.judge) await this.judge.close()
    await this.log.close()
  }

  /** Starts judging (live: keeps following appends). */
  start (): void {
    this.started = true
    this.kick()
  }

  /**
   * Adds a peer to ask for root statements (a bare function: a peer with no
   * way to drop it). @returns a function that removes it
   */
  addRootSource (source: RootSource | RootPeer): () => void {
    const remove = this.poll.sources.add(source)
    if (this.started && this.audited > 0) this.poll.schedule(0)
    this.wake()
    return remove
  }

  /** Whether a peer opened the contract's RPC channel (and was not dropped for a forged answer). */
  get connected (): boolean {
    return this.poll.sources.size > 0
  }

  /** Whether a peer proved itself: it gave a root the contract's signer signed. */
  get proven (): boolean {
    return this.poll.sources.proven
  }

  /**
   * One-shot audit: asks the host for its signed root, then judges the log up
   * to that length.
   * @param timeout ms to find a host and for each block to arrive
   * @returns the verdict at the host's length (or the first fault)
   * @throws VmsError NOT_FOUND (no host answered), REQUEST_TIMEOUT (blocks stopped coming)
   */
  async auditOnce (timeout: number): Promise<Verdict> {
    if (!this.opened) await this.ready()
    const deadline = Date.now() + timeout
    const left = (): number => Math.max(1, deadline - Date.now())
    const none = (): Error => VmsError.NOT_FOUND(`no peer of ${formatKey(this.key)} gave a root signed by the contract's signer within ${timeout} ms`)
    const sources = this.poll.sources
    await this.waitFor(() => sources.size > 0, timeout, () => VmsError.NOT_FOUND(`no host of ${formatKey(this.key)} answered within ${timeout} ms`))
    // the genesis first: roots are checked against its signer before one sets the target
    this.stopAt = 1
    this.start()
    await this.waitFor(() => this.poll.book !== null || this.fault !== null || this.error !== null, 0)
    let s: RootStatement | null = null
    while (!s && !this.fault && !this.error) {
      s = await this.poll.round(left())
      if (s || this.fault) break
      if (Date.now() >= deadline) throw none()
      if (this.closing) throw VmsError.CLOSED('watcher closed')
      // every peer so far failed to prove itself: wait for another one (or the next round)
      const known = sources.size
      await this.waitFor(() => sources.size !== known, Math.min(500, left())).catch((err) => {
        safetyCatch(err)
        if (err.code !== 'REQUEST_TIMEOUT' && err.code !== 'CLOSED') throw err // expected: no new peer in time, or closing (checked above)
      })
    }
    if (this.error && !this.fault) throw this.error
    const target = s ? s.length : this.audited
    this.stopAt = target
    this.kick()
    await this.waitFor(() => this.fault !== null || this.error !== null || (this.audited >= target && this.pumping === null), 0)
    if (this.error && !this.fault) throw this.error
    if (!this.fault) await this.heads.round(timeout)
    return await this.makeVerdict()
  }

  /** Resolves once `length` blocks are judged (or a fault is found). */
  async until (length: number, timeout = 0): Promise<Verdict> {
    await this.waitFor(() => this.fault !== null || (this.audited >= length && this.verdict !== null && this.verdict.length >= length), timeout)
    return this.verdict ?? await this.makeVerdict()
  }

  private kick (): void {
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
  private async pump (): Promise<void> {
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
          if (this.progress.judged()) await this.save()
          // a long backlog still gives verdicts (and so attestations) as it goes
          if (Date.now() - this.lastVerdictAt >= VERDICT_EVERY_MS) await this.emitVerdict()
        }
        if (this.fault || !this.started) break
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
  private async stallWarnings<V> (i: number, judging: Promise<V>): Promise<V> {
    const every = this.opts.timeout ? 0 : this.opts.stallMs ?? 30_000
    return await withStallWarnings(judging, every, (s) => {
      // what was judged before the stalled call gets its verdict now
      this.emitVerdict().catch((err) => this.warn(err))
      this.warn(VmsError.STALLED(`block ${i}: waited ${s} s for blocks no peer served (the call record, or the files version it names); log length ${this.log.core.length}, files length ${this.log.drive?.core.length ?? 0}`))
    })
  }

  private async openGenesis (): Promise<void> {
    const { raw, genesis: g, draft: d } = await readGenesis(this.log, this.waitOpts(), this.opts.expected)
    this.genesisRaw = raw
    if (!g) {
      await this.fail(d!, 0, 'host', [0])
      return
    }
    this.genesis = g
    this.poll.book = new RootBook(this.key, g.signer, this.progress.statements)
    if (d) {
      await this.fail(d, 0, 'host', [0])
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
    this.downloads.push(drive.core.download({ start: 0, end: -1 }))
    drive.core.on('append', () => this.heads.maybe())
    drive.getBlobs().then((blobs) => {
      if (blobs !== null && !this.closing) this.downloads.push(blobs.core.download({ start: 0, end: -1 }))
    }, safetyCatch) // no blobs core yet: its blocks are fetched on demand
  }

  /** Picks up the stored progress (progress.ts): a stored fault stays; otherwise re-executes the judged calls. */
  private async resume (): Promise<void> {
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
  private async fail (d: FaultDraft, index: number, cause: FaultCause, blocks: number[], extra: Partial<Evidence> = {}): Promise<void> {
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
  private async forkFail (f: ForkFault, blocks: number[]): Promise<void> {
    await this.fail(f.draft, f.index, 'host', blocks, { statements: f.statements })
  }

  /** The log was truncated (hypercore fork): fault with the host's signed statements before and after. */
  private async forkFault (): Promise<void> {
    const f = this.forked!
    const { before, after } = await this.poll.aroundTruncation()
    await this.forkFail(truncationFault(f.to, f.fork, before, after, this.audited), [])
  }

  /** After a round of roots kept one: check it against the log, save, and give the verdict it confirms. */
  private async settled (): Promise<void> {
    if (!this.fault) {
      await this.poll.checkPending()
      await this.save()
      await this.emitVerdict(true)
    } else {
      await this.save().catch((err) => this.warn(err))
    }
  }

  /** A peer answered a root or head the contract's signer did not sign: drop it, say so. */
  private forged (drop: () => void, reason: string): void {
    drop()
    this.forgedRoots++
    this.warn(VmsError.FORGED_ROOT(`dropped a peer of ${formatKey(this.key)}: ${reason}`))
  }

  /** The verdict as it stands now (watch-verdict.ts). */
  async makeVerdict (): Promise<Verdict> {
    return await verdictNow({ key: this.key, core: this.log.core, audited: this.audited, fault: this.fault, book: this.poll.book, judge: this.judge, genesis: this.genesis, runtime: this.opts.runtime })
  }

  private async emitVerdict (force = false): Promise<void> {
    if (this.fault || this.audited === 0) return
    if (!force && this.audited === this.lastEmitted) return
    this.lastEmitted = this.audited
    this.lastVerdictAt = Date.now()
    this.verdict = await this.makeVerdict()
    this.emit('verdict', this.verdict)
    this.wake()
  }

  /** Saves the progress (progress.ts). */
  private async save (): Promise<void> {
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

  private waitOpts (): { wait: boolean, timeout?: number } {
    return this.opts.timeout ? { wait: true, timeout: this.opts.timeout } : { wait: true }
  }

  private warn (err: unknown): void {
    if (this.listenerCount('warning') > 0) this.emit('warning', VmsError.from(err))
  }

  private wake (): void {
    this.changed.notify()
  }

  /**
   * Waits until `cond()` holds (checked whenever state changes).
   * @param timeout ms (0: no limit)
   * @throws `onTimeout()` (default REQUEST_TIMEOUT) after `timeout` ms; CLOSED when the watch closes first
   */
  private async waitFor (cond: () => boolean, timeout: number, onTimeout: () => Error = () => VmsError.REQUEST_TIMEOUT(`waited ${timeout} ms`)): Promise<void> {
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
