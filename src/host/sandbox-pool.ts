/**
 * A bound on the live sandboxes (isolates) of one process. Every contract
 * host tells the pool when it uses its sandbox; when more than `max` are
 * live, the least recently used idle ones are evicted: their isolate is
 * disposed, and the host rebuilds it by replaying its log on its next call.
 * With fewer contracts than `max` nothing is ever evicted.
 *
 * The same LRU bound serves a host node's open contracts (host-node.ts):
 * there a member's `evict` closes the whole idle contract.
 */

/** Something that holds a sandbox it can drop while idle. */
export interface PoolMember {
  /**
   * Disposes the sandbox now if nothing is running in it.
   * @returns false when busy (kept)
   */
  evict (): boolean
}

/** Default bound on live sandboxes per process. */
export const DEFAULT_MAX_LIVE = 256

/** LRU set of live sandboxes with a bound. */
export class SandboxPool {
  /** Largest number of live sandboxes before idle ones are evicted. */
  max: number
  /** Sandboxes evicted so far. */
  evictions = 0
  /** Sandboxes rebuilt (by replay) after an eviction. */
  rebuilds = 0
  private readonly members = new Map<PoolMember, true>()

  /** @param max see {@link SandboxPool.max} */
  constructor (max = DEFAULT_MAX_LIVE) {
    this.max = max
  }

  /** Live sandboxes. */
  get live (): number {
    return this.members.size
  }

  /** Marks `m`'s sandbox live and most recently used; evicts others past `max`. */
  use (m: PoolMember): void {
    this.members.delete(m)
    this.members.set(m, true)
    if (this.members.size <= this.max) return
    for (const old of this.members.keys()) {
      if (this.members.size <= this.max) break
      if (old === m) continue
      if (old.evict()) {
        this.members.delete(old)
        this.evictions++
      }
    }
  }

  /** Forgets `m` (its sandbox was closed). */
  release (m: PoolMember): void {
    this.members.delete(m)
  }
}

/** The pool every contract host of this process uses unless given another. */
export const sandboxPool = new SandboxPool()
