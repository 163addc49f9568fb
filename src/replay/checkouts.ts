/**
 * The one cache of drive checkouts that replays read through, for the host
 * (rebuilding a sandbox from its log) and the watcher (judging each call at
 * `filesBefore` and checking it at `filesAfter`).
 */

import safetyCatch from 'safety-catch'
import type Hyperdrive from 'hyperdrive'
import type { HyperdriveEntry } from 'hyperdrive'
import { BoundedMap } from '../bounded-map.js'

/**
 * Checkouts of a drive by version, a few kept open (a call reads at
 * `filesBefore` and is checked at `filesAfter`, the next call's `filesBefore`).
 */
export class Checkouts {
  private readonly drive: Hyperdrive
  private readonly open: BoundedMap<number, { checkout: Hyperdrive, view: Hyperdrive }>

  /**
   * @param drive the live drive
   * @param max checkouts kept open (least recently used closed first; 1
   *   suits a replay in log order, where consecutive read-only calls share one)
   */
  constructor (drive: Hyperdrive, max = 3) {
    this.drive = drive
    this.open = new BoundedMap(max, (_, old) => { old.checkout.close().catch(safetyCatch) })
  }

  /** The drive at `version` (a db core length), read through {@link cachedReads}. */
  at (version: number): Hyperdrive {
    const hit = this.open.use(version)
    if (hit) return hit.view
    const checkout = this.drive.checkout(version)
    const co = { checkout, view: cachedReads(checkout) }
    this.open.set(version, co)
    return co.view
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
