/**
 * Looking a topic up again while nothing was found. Hyperswarm looks a
 * joined topic up once, then every 10 minutes (its PeerDiscovery refresh
 * interval), so a watcher started before its host would wait up to 10
 * minutes for it. This asks the DHT again sooner, backing off, for as long
 * as `found()` is false.
 */

import safetyCatch from 'safety-catch'

/** What {@link keepLooking} needs of a hyperswarm PeerDiscovery (the value `swarm.join` returns). */
export interface Refreshable {
  refresh (): Promise<void>
}

/** Timing of {@link keepLooking}, ms. */
export interface LookupOptions {
  /** First wait before looking again (default 2,000 ms); also the wait after a found peer is lost. */
  minMs?: number
  /** Longest wait between two lookups (default 60,000 ms); each lookup that finds nothing doubles the wait up to this. */
  maxMs?: number
}

/**
 * Refreshes `discovery` while `found()` is false: after `minMs`, then twice
 * as long each time, up to `maxMs`. While `found()` is true nothing is done,
 * and the wait starts again from `minMs` once it turns false. Timers are
 * unref'd (they never keep the process alive); refresh errors are ignored
 * (the next one retries).
 * @returns a function that stops it
 */
export function keepLooking (discovery: Refreshable, found: () => boolean, opts: LookupOptions = {}): () => void {
  const minMs = opts.minMs ?? 2_000
  const maxMs = opts.maxMs ?? 60_000
  let wait = minMs
  let timer: NodeJS.Timeout | null = null
  let stopped = false
  const tick = (): void => {
    timer = null
    if (stopped) return
    if (found()) {
      wait = minMs
      schedule(minMs)
      return
    }
    discovery.refresh().catch(safetyCatch).finally(() => schedule(wait))
    wait = Math.min(wait * 2, maxMs)
  }
  const schedule = (ms: number): void => {
    if (stopped) return
    timer = setTimeout(tick, ms)
    timer.unref()
  }
  schedule(minMs)
  return () => {
    stopped = true
    if (timer) clearTimeout(timer)
  }
}
