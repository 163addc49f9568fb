/**
 * When a host may sign a head pair (protocol/head.ts): only at a point
 * between group commits, never while a group's drive writes wait for their
 * records. A {@link HeadGate} is shut while such writes are out and wakes
 * every waiter in the tick it opens again.
 */

/** Shut while the files drive is ahead of the log (a group's writes wait for their records). */
export class HeadGate {
  private shutNow = false
  private readonly waiters = new Set<() => void>()

  /** Whether drive writes wait for their records now. */
  get shut (): boolean {
    return this.shutNow
  }

  /** Whether a head request waits for the gate to open. */
  get waiting (): boolean {
    return this.waiters.size > 0
  }

  /** Shuts (true) or opens (false) the gate; opening wakes every waiter in this tick. */
  set (shut: boolean): void {
    this.shutNow = shut
    if (!shut) for (const w of [...this.waiters]) { this.waiters.delete(w); w() }
  }

  /**
   * Runs `take` at once when open, else in the tick the gate opens.
   * @param ms most time to wait
   * @returns what `take` returned; null when the gate stayed shut for `ms`
   */
  async when<T> (take: () => T, ms: number): Promise<T | null> {
    if (!this.shutNow) return take()
    return await new Promise<T | null>((resolve) => {
      const timer = setTimeout(() => { this.waiters.delete(wake); resolve(null) }, ms)
      timer.unref()
      const wake = (): void => { clearTimeout(timer); resolve(take()) }
      this.waiters.add(wake)
    })
  }
}
