/**
 * The one cache of drive checkouts that replays read through, for the host
 * (rebuilding a sandbox from its log) and the watcher (judging each call at
 * `filesBefore` and checking it at `filesAfter`).
 */

import safetyCatch from 'safety-catch'
import type Hyperdrive from 'hyperdrive'
import type { HyperdriveEntry } from 'hyperdrive'
import { BoundedMap } from '../bounded-map.js'
import { putBeeNodes, readCheckoutInPlace, shareBeeNodeCache, type BeeNode, type BeeNodeCache } from '../log/holepunch-internals.js'

/** Decoded database blocks kept per fork, at most (as many as a Hyperbee keeps by default). */
const NODES_MAX = 65536

/** Decoded database blocks of one fork of a drive, read by every checkout of that fork. */
class ForkNodes implements BeeNodeCache {
  readonly fork: number
  private readonly nodes = new BoundedMap<number, BeeNode>(NODES_MAX)

  constructor (fork: number) {
    this.fork = fork
  }

  get (seq: number): BeeNode | null {
    return this.nodes.get(seq) ?? null
  }

  set (seq: number, node: BeeNode): void {
    this.nodes.set(seq, node)
  }
}

/**
 * Checkouts of a drive by version, a few kept open (a call reads at
 * `filesBefore` and is checked at `filesAfter`, the next call's `filesBefore`).
 */
export class Checkouts {
  /** The live drive the checkouts are of. */
  readonly drive: Hyperdrive
  private readonly open: BoundedMap<number, { checkout: Hyperdrive, view: Hyperdrive }>
  private nodes: ForkNodes | null = null

  /**
   * @param drive the live drive
   * @param max checkouts kept open (least recently used closed first; 1
   *   suits a replay in log order, where consecutive read-only calls share one)
   */
  constructor (drive: Hyperdrive, max = 3) {
    this.drive = drive
    this.open = new BoundedMap(max, (_, old) => { old.checkout.close().catch(safetyCatch) })
  }

  /**
   * The drive at `version` (a db core length), read through
   * {@link cachedReads}. Its index lookups go through one node cache for
   * all checkouts of the drive's current fork, so consecutive versions do
   * not read the same nodes again (and a replay's read-ahead,
   * replay-ahead.ts, serves them); and its reads go through the one
   * snapshot the checkout holds, not one more each.
   */
  at (version: number): Hyperdrive {
    const hit = this.open.use(version)
    if (hit) return hit.view
    const checkout = this.drive.checkout(version)
    shareBeeNodeCache(checkout, this.forkNodes(this.drive.core.fork))
    readCheckoutInPlace(checkout)
    const co = { checkout, view: cachedReads(checkout) }
    this.open.set(version, co)
    return co.view
  }

  /**
   * Puts database blocks of the drive (at `start`, in order, as stored
   * here at fork `fork`) where the checkouts look nodes up. Dropped when
   * the drive has moved to another fork since.
   * @throws when a block is no Hyperbee node (the blocks before it are in)
   */
  cacheNodes (fork: number, start: number, raws: readonly Uint8Array[]): void {
    if (this.drive.core.fork !== fork) return
    putBeeNodes(this.forkNodes(fork), start, raws)
  }

  /**
   * {@link cacheNodes} for blocks read from storage, some maybe missing: each
   * run of consecutive indexes that were all stored goes in; a block that is
   * no Hyperbee node (a host's garbage) ends its run, and Hyperbee says what
   * is wrong with it when a checkout reads it itself.
   * @param indexes ascending block indexes; @param raws their bytes, null where not stored
   */
  cacheStored (fork: number, indexes: readonly number[], raws: ReadonlyArray<Uint8Array | null>): void {
    let k = 0
    while (k < raws.length) {
      while (k < raws.length && !raws[k]) k++
      const s = k
      while (k < raws.length && raws[k] && (k === s || indexes[k] === indexes[k - 1]! + 1)) k++
      if (k === s) continue
      try {
        this.cacheNodes(fork, indexes[s]!, raws.slice(s, k) as Uint8Array[])
      } catch {
        // not a Hyperbee node: left to Hyperbee's own read (see above)
      }
    }
  }

  private forkNodes (fork: number): ForkNodes {
    if (!this.nodes || this.nodes.fork !== fork) this.nodes = new ForkNodes(fork)
    return this.nodes
  }

  /** Closes every open checkout. */
  async close (): Promise<void> {
    const all = [...this.open.values()]
    this.open.clear()
    await Promise.all(all.map((c) => c.checkout.close().catch(safetyCatch)))
  }
}

/**
 * The read side of a drive checkout with its entries cached: wrap it in a
 * `DriveFiles` for a replay (same semantics, fewer lookups), and hand the
 * same object to {@link checkFiles} as `before` so the entries the replay
 * read are not looked up again. Only valid over a checkout (immutable).
 */
export function cachedReads (drive: Hyperdrive): Hyperdrive {
  const entries = new Map<string, Promise<HyperdriveEntry | null>>()
  const entry = (path: string): Promise<HyperdriveEntry | null> => {
    let e = entries.get(path)
    if (!e) entries.set(path, e = drive.entry(path))
    return e
  }
  const get = async (path: string, opts?: { wait?: boolean, timeout?: number }): Promise<Buffer | null> => {
    const e = await entry(path)
    return e && e.value.blob ? await drive.get(e, opts) : null
  }
  // everything else goes to the checkout itself
  return new Proxy(drive, {
    get (target, prop) {
      if (prop === 'entry') return entry
      if (prop === 'get') return get
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  })
}
