/**
 * What a watcher asks its peers for while its judge is behind the log.
 *
 * Hypercore's range download (`core.download({ start, end })`) picks the
 * blocks it asks for at random within the range. A cold watcher that asked
 * for the whole of its three cores (call log, files database, blobs) that
 * way judged only 4,300-5,000 of 100,000 calls in the 32 s the files took to
 * arrive: the judge reads blocks in log order, and each call waited for its
 * own blocks, asked one by one behind the range's requests (bench, cold
 * verify). So while the judge is behind, each core is asked for in windows
 * just ahead of it (at random inside a window, so that many blocks are in
 * flight, as Hypercore does), and the whole core (live, `end: -1`) once the
 * judge has caught up with the log: from then on the replica is complete.
 *
 * It only orders the download: what is judged, and when a block is
 * missing, is the judge's business (it asks for what it needs itself).
 */

import type Hypercore from 'hypercore'

/** Calls per window (each core's window spans the blocks of about that many calls). */
export const WINDOW_CALLS = 4096
/** Most blocks in one window, whatever the lengths say (a host's files core may be any length). */
export const WINDOW_MAX_BLOCKS = 65536

interface Tracked {
  core: Hypercore
  /** The window asked for, if any: blocks [start, end). */
  current: { start: number, end: number, range: { destroy (): void } } | null
  /** The window before it, kept until the judge is past it. */
  previous: { start: number, end: number, range: { destroy (): void } } | null
}

/** The download windows of one watched contract (see the module doc). */
export class DownloadWindows {
  private readonly log: Hypercore
  private readonly calls: number
  private readonly tracked: Tracked[] = []
  private readonly whole: Array<{ destroy (): void }> = []
  private done = false

  /**
   * @param log the call log (its length maps the judge's position onto the other cores)
   * @param calls calls per window (default {@link WINDOW_CALLS})
   */
  constructor (log: Hypercore, calls = WINDOW_CALLS) {
    this.log = log
    this.calls = calls
    this.tracked.push({ core: log, current: null, previous: null })
  }

  /** True once the whole cores are asked for. */
  get caughtUp (): boolean {
    return this.done
  }

  /** Adds a core whose blocks follow the log's (the files database, the blobs). */
  add (core: Hypercore): void {
    if (this.done) {
      this.whole.push(core.download({ start: 0, end: -1 }))
      return
    }
    this.tracked.push({ core, current: null, previous: null })
  }

  /**
   * The judge is at block `judged` of the log (the blocks before it are
   * judged): asks for the next window of each core when the judge is past
   * half of the current one. A core's position is the log's, scaled by the
   * two lengths (blocks per call, about).
   */
  advance (judged: number): void {
    if (this.done) return
    const logLength = this.log.length
    if (logLength === 0) return
    for (const t of this.tracked) {
      const length = t.core.length
      if (length === 0) continue
      const perCall = length / logLength
      const at = Math.min(length, Math.floor(judged * perCall))
      const span = Math.min(WINDOW_MAX_BLOCKS, Math.max(64, Math.ceil(this.calls * perCall)))
      const cur = t.current
      if (t.previous && at >= t.previous.end) {
        t.previous.range.destroy()
        t.previous = null
      }
      // not yet past half of the window, or it reaches the end (the live download takes over later)
      if (cur && (cur.end >= length || at + span / 2 < cur.end)) continue
      const start = cur ? cur.end : Math.max(0, at - 16)
      const end = Math.min(length, Math.max(start, at) + span)
      if (end <= start) continue
      if (t.previous) t.previous.range.destroy()
      t.previous = cur
      t.current = { start, end, range: t.core.download({ start, end }) }
    }
  }

  /** The judge has caught up with the log: asks for the whole of every core, live, and drops the windows. */
  catchUp (): void {
    if (this.done) return
    this.done = true
    for (const t of this.tracked) this.whole.push(t.core.download({ start: 0, end: -1 }))
    this.dropWindows()
  }

  /** Stops every download asked for. */
  destroy (): void {
    this.done = true
    this.dropWindows()
    for (const r of this.whole) r.destroy()
    this.whole.length = 0
  }

  private dropWindows (): void {
    for (const t of this.tracked) {
      t.current?.range.destroy()
      t.previous?.range.destroy()
      t.current = t.previous = null
    }
  }
}
