/**
 * The stall timer of a following watch: a host that logs a call but never
 * serves its record or its files would otherwise just look idle.
 */

/**
 * Resolves as `judging` does; meanwhile calls `onStall` every `every` ms
 * with the seconds waited so far.
 * @param every ms between calls (0 or less: never)
 */
export async function withStallWarnings<V> (judging: Promise<V>, every: number, onStall: (seconds: string) => void): Promise<V> {
  if (every <= 0) return await judging
  const start = Date.now()
  const timer = setInterval(() => onStall(((Date.now() - start) / 1000).toFixed(1)), every)
  timer.unref()
  try {
    return await judging
  } finally {
    clearInterval(timer)
  }
}
