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
 * The pump that drives them in order is watch-pump.ts; this file is the
 * watch's API.
 */
import safetyCatch from 'safety-catch'
import type { RootStatement } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { formatKey } from '../keys.js'
import type { RootPeer, RootSource } from './fork.js'
import type { WatchStats } from './judge.js'
import type { Fault, Verdict } from './verdict.js'
import { DownloadWindows } from './download-window.js'
import { WatchPump } from './watch-pump.js'

export type { WatchStats } from './judge.js'
export { replayLimits } from './judge.js'

export type { RootPeer, RootSource } from './fork.js'
export type { ContractWatchOptions } from './watch-options.js'

/** One followed contract. Use {@link Watcher.watch} (or construct and `ready()`). */
export class ContractWatch extends WatchPump {
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
    // the whole log, live (it also learns the host's length so); the files follow in windows (download-window.ts)
    this.downloads.push(core.download({ start: 0, end: -1 }))
    this.windows = new DownloadWindows(core)
  }

  protected override async _close (): Promise<void> {
    this.poll.stop()
    this.started = false
    const pumping = this.pumping
    if (pumping) await Promise.race([pumping, new Promise((resolve) => setTimeout(resolve, 2000))])
    // a last save: one that fails while closing is reported, not thrown
    if (!this.pumping) await this.save().catch((err) => { safetyCatch(err); this.warn(err) })
    for (const d of this.downloads) d.destroy()
    this.windows?.destroy()
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
}
