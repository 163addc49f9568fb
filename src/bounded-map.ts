/**
 * The one bounded cache of the project: a Map that keeps at most `max`
 * entries and drops the oldest (in order of last {@link BoundedMap.set} or
 * {@link BoundedMap.use}) past it: an LRU when readers `use`, insertion
 * order when they only `get`. Used for the drive checkouts of replays, the
 * files cache, the block prover's tree nodes and gossip's dedup ids.
 */

/** A Map bounded to `max` entries, oldest dropped first. */
export class BoundedMap<K, V> {
  /** Most entries kept. */
  readonly max: number
  private readonly map = new Map<K, V>()
  private readonly onevict: ((key: K, value: V) => void) | null

  /**
   * @param max most entries kept (at least 1)
   * @param onevict called with every entry dropped for the bound (not on delete or clear)
   */
  constructor (max: number, onevict: ((key: K, value: V) => void) | null = null) {
    this.max = Math.max(1, max)
    this.onevict = onevict
  }

  /** Entries held. */
  get size (): number {
    return this.map.size
  }

  /** The value of `key`, without making it newer. */
  get (key: K): V | undefined {
    return this.map.get(key)
  }

  /** The value of `key`, made the newest (an LRU read). */
  use (key: K): V | undefined {
    const v = this.map.get(key)
    if (v === undefined) return undefined
    this.map.delete(key)
    this.map.set(key, v)
    return v
  }

  /** True when `key` is held. */
  has (key: K): boolean {
    return this.map.has(key)
  }

  /** Sets `key` as the newest entry; drops the oldest past `max`. */
  set (key: K, value: V): this {
    this.map.delete(key)
    this.map.set(key, value)
    while (this.map.size > this.max) {
      const [k, v] = this.map.entries().next().value as [K, V]
      this.map.delete(k)
      if (this.onevict) this.onevict(k, v)
    }
    return this
  }

  /** Forgets `key`. @returns whether it was held */
  delete (key: K): boolean {
    return this.map.delete(key)
  }

  /** Forgets everything. */
  clear (): void {
    this.map.clear()
  }

  /** The values, oldest first. */
  values (): IterableIterator<V> {
    return this.map.values()
  }
}
