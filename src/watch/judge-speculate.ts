/**
 * The watcher's judge replays the calls after call `i` while it is still
 * judging `i` (comparing its outcome, confirming the host's drive blocks
 * against the mirror, mirror.ts): up to {@link SPECULATION_DEPTH} calls are
 * in flight in the sandbox, which runs them in order in its own process or
 * thread while the judge confirms on the main thread, so neither waits for
 * the other, nor for a round trip to a sandbox process.
 *
 * A call replayed ahead reads the host's drive at its record's
 * `filesBefore` (a checkout, fixed once written), not the mirror. That is
 * exactly what a replay started after the calls before it passed reads:
 * passing call `j - 1` proves the host's drive at its `filesAfter` equal to
 * the state its replayed writes make, and passing call `j`'s log rules
 * proves its `filesBefore` is that `filesAfter`. The sandbox's memory is
 * that of the calls before it, run in order. So a speculative outcome is
 * used only when every call before it since it was started passed, in
 * order, with no rebuild between, and the record judged is the one it was
 * started from (same bytes): it is then that call's replay, judged as any
 * other (an outcome that differs from the record is a divergence, or a
 * failure of this machine, retried as usual, and the replays started after
 * it are dropped). In every other case (a call diverged, a read failed, a
 * truncation, a retried replay) everything started ahead is dropped, and
 * since the sandbox ran calls that were not judged, it is rebuilt from the
 * log before the next replay; the call is then replayed as if nothing had
 * been started.
 * Speculating stops for the rest of the run after a drop, so a host that
 * makes it miss on purpose costs one rebuild, not one per call.
 */

import b4a from 'b4a'
import type { CallRecord } from '../../protocol/index.js'
import { isLimitRecord, replayContext } from '../replay/replay.js'
import type { CallOutcome, FilesView, Sandbox } from '../runtime/types.js'

/** Calls replayed ahead of the judge at most. */
export const SPECULATION_DEPTH = 16

/** A replay started ahead of its turn. */
interface Started {
  index: number
  /** The record block it was started from (checked again when it is judged). */
  raw: Uint8Array
  rec: CallRecord
  /** Its outcome; a failure (a read, a closed sandbox) resolves null. */
  out: Promise<CallOutcome | null>
}

/** Replays started ahead of the judge, in log order (see the module doc). */
export class SpeculativeReplays {
  /** False once a speculation was dropped: no more this run. */
  enabled = true
  /** Speculative outcomes used, and dropped. */
  readonly counts = { used: 0, dropped: 0 }
  private readonly depth: number
  private readonly started: Started[] = []

  /** @param depth calls in flight at most (default {@link SPECULATION_DEPTH}) */
  constructor (depth = SPECULATION_DEPTH) {
    this.depth = depth
  }

  /** Replays started and not yet taken. */
  get size (): number {
    return this.started.length
  }

  /**
   * The block a replay may be started for next, after the call `judging`
   * whose outcome matched its record: the block after the last started, or
   * `judging + 1`; null when enough are in flight (or speculating stopped).
   */
  nextIndex (judging: number): number | null {
    if (!this.enabled) return null
    const last = this.started.at(-1)
    const next = last ? last.index + 1 : judging + 1
    return next - judging <= this.depth ? next : null
  }

  /**
   * Starts replaying `rec` (block `index`, bytes `raw`) in `sandbox`, reading `view`.
   * @param prev the record of the call before it (judged, or started just before it)
   * @param view the host's drive at `rec.filesBefore`
   * @param statHints the paths its record wrote (see CallContext)
   * @returns whether it started: not for a limit record (the sandbox is
   *   rebuilt there), one that does not follow `prev`, nor out of order
   */
  start (index: number, raw: Uint8Array, rec: CallRecord, prev: CallRecord, sandbox: Sandbox, view: FilesView, statHints?: readonly string[]): boolean {
    const last = this.started.at(-1)
    if (!this.enabled || (last && last.index + 1 !== index) || isLimitRecord(rec) || isLimitRecord(prev) || rec.filesBefore !== prev.filesAfter || !sandbox.usable) return false
    const out = sandbox.call(replayContext(rec, view, statHints)).then((o) => o, () => null)
    this.started.push({ index, raw, rec, out })
    return true
  }

  /**
   * The record the next {@link start} follows: the last one started, or
   * `judged` (the call being judged) when none is in flight.
   */
  previous (judged: CallRecord): CallRecord {
    return this.started.at(-1)?.rec ?? judged
  }

  /**
   * The outcome of the replay started for block `index` when it was started
   * from exactly `raw` and it is the first in flight; otherwise null, and
   * everything started is dropped (see {@link drop}); null too when that
   * replay failed to run (a read failed, the sandbox was closed).
   */
  async take (index: number, raw: Uint8Array): Promise<CallOutcome | null> {
    const s = this.started[0]
    if (!s || s.index !== index || !b4a.equals(s.raw, raw)) {
      this.drop()
      return null
    }
    this.started.shift()
    const out = await s.out
    if (!out) {
      this.drop(1)
      return null
    }
    this.counts.used++
    return out
  }

  /**
   * Drops every replay started ahead.
   * @param taken replays already taken off that count as dropped too
   * @returns true when there was one: the sandbox ran calls that were not judged and must be rebuilt
   */
  drop (taken = 0): boolean {
    const n = this.started.length + taken
    if (n === 0) return false
    this.started.length = 0
    this.enabled = false
    this.counts.dropped += n
    return true
  }
}
