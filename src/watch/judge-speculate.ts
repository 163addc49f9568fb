/**
 * The watcher's judge replays call `i + 1` while it is still confirming call
 * `i` (comparing the host's drive blocks with those the replay of `i` makes
 * in the mirror, mirror.ts): the sandbox runs in its own process or thread,
 * the confirmation on the main thread, so the two overlap.
 *
 * The replay of `i + 1` reads the mirror's view once it shows `i`'s
 * replayed writes, which is exactly what it reads when started after `i`
 * passed: the mirror then holds the host's drive at `i`'s `filesAfter`,
 * which `i`'s confirmation proved equal to those writes applied. So a
 * speculative outcome is only ever used when call `i` passed the mirror's
 * check (block for block, and its files hash), the record of `i + 1` is the
 * one it was started for (same bytes) and the mirror did not move in
 * between. In every other case (`i` diverged, took the full check, a read
 * failed, a truncation) the speculation is dropped, and since the sandbox
 * ran a call that was not judged, it is rebuilt from the log before the next
 * replay; speculating then stops for the rest of the run, so a host that
 * makes the fast path miss on purpose costs one rebuild, not one per call.
 */

import b4a from 'b4a'
import safetyCatch from 'safety-catch'
import type { CallRecord } from '../../protocol/index.js'
import { isLimitRecord, replayContext } from '../replay/replay.js'
import type { CallOutcome, FilesView, Sandbox } from '../runtime/types.js'

/** A replay started ahead of its turn. */
interface Started {
  index: number
  /** The record block it was started from (checked again when it is judged). */
  raw: Uint8Array
  /** The mirror version it read (the record's `filesBefore`). */
  version: number
  out: Promise<CallOutcome>
}

/** At most one replay ahead of the judge (see the module doc). */
export class ReplayAhead {
  /** False once a speculation was dropped: no more this run. */
  enabled = true
  /** Speculative outcomes used, and dropped. */
  readonly counts = { used: 0, dropped: 0 }
  private started: Started | null = null

  /**
   * Starts replaying `rec` (block `index`, bytes `raw`) in `sandbox`, reading `view`.
   * @param prev the record of the call before it, still being confirmed
   * @param statHints the paths its record wrote (see CallContext)
   * @returns whether it started (not for a limit record, nor one that does not follow `prev`)
   */
  start (index: number, raw: Uint8Array, rec: CallRecord, prev: CallRecord, sandbox: Sandbox, view: FilesView, statHints?: readonly string[]): boolean {
    if (!this.enabled || this.started || isLimitRecord(rec) || rec.filesBefore !== prev.filesAfter || !sandbox.usable) return false
    const out = sandbox.call(replayContext(rec, view, statHints))
    out.catch(safetyCatch) // awaited when used; a dropped one's failure is nobody's
    this.started = { index, raw, version: rec.filesBefore, out }
    return true
  }

  /** Whether a replay was started for block `index`. */
  has (index: number): boolean {
    return this.started !== null && this.started.index === index
  }

  /**
   * The outcome of the replay started for block `index`, when it was started
   * from exactly `raw` at mirror version `version`; otherwise null (and
   * whatever was started is dropped: see {@link drop}).
   */
  take (index: number, raw: Uint8Array, version: number): Promise<CallOutcome> | null {
    const s = this.started
    if (!s) return null
    if (s.index !== index || s.version !== version || !b4a.equals(s.raw, raw)) {
      this.drop()
      return null
    }
    this.started = null
    this.counts.used++
    return s.out
  }

  /**
   * Drops the replay started ahead, if any.
   * @returns true when there was one: the sandbox ran a call that was not judged and must be rebuilt
   */
  drop (): boolean {
    if (!this.started) return false
    this.started = null
    this.enabled = false
    this.counts.dropped++
    return true
  }
}
