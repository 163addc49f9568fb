/**
 * An in-memory {@link FilesView}: a map of path to bytes plus a set of
 * explicit directories. Useful for tests, benchmarks and tools that run a
 * contract without a Hyperdrive. Follows the drive's rules: a directory
 * exists when it was made with mkdir or when some file lies below it.
 */

import type { FileOp, FileStat, FilesView } from './types.js'
import { childPrefix, normalisePath, parentOf } from './paths.js'

/** A {@link FilesView} held in memory, that can also apply a call's writes. */
export class MemoryFiles implements FilesView {
  /** File contents by normalised path. */
  readonly files = new Map<string, Uint8Array>()
  /** Directories made explicitly (mkdir). */
  readonly dirs = new Set<string>()
  /** For each implicit directory, how many files lie below it. */
  private readonly below = new Map<string, number>()

  /**
   * @param init optional initial files: path (normalised here) to bytes or UTF-8 text
   */
  constructor (init?: Record<string, Uint8Array | string>) {
    if (init) {
      for (const [p, v] of Object.entries(init)) {
        this.put(normalisePath(p), typeof v === 'string' ? new TextEncoder().encode(v) : v)
      }
    }
  }

  /** Content of the file at `path`, or null (also for directories). */
  async read (path: string): Promise<Uint8Array | null> {
    return this.files.get(path) ?? null
  }

  /** `{ type, size }` of what is at `path`, or null. Size in bytes; 0 for directories. */
  async stat (path: string): Promise<FileStat | null> {
    return this.statSync(path)
  }

  /** Names of the children of `path`, sorted by code unit; [] when there are none. */
  async readdir (path: string): Promise<string[]> {
    const prefix = childPrefix(path)
    const names = new Set<string>()
    const add = (p: string): void => {
      if (p.length <= prefix.length || !p.startsWith(prefix)) return
      const rest = p.slice(prefix.length)
      const slash = rest.indexOf('/')
      names.add(slash === -1 ? rest : rest.slice(0, slash))
    }
    for (const p of this.files.keys()) add(p)
    for (const p of this.dirs) add(p)
    return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  /** Synchronous {@link stat}. */
  statSync (path: string): FileStat | null {
    if (path === '/') return { type: 'directory', size: 0 }
    const f = this.files.get(path)
    if (f !== undefined) return { type: 'file', size: f.byteLength }
    if (this.dirs.has(path) || (this.below.get(path) ?? 0) > 0) return { type: 'directory', size: 0 }
    return null
  }

  /**
   * Applies a call's writes in order (what the log layer does to a drive).
   * `rmdir` removes the explicit directory entry only.
   * @param writes ops from a CallOutcome
   */
  apply (writes: readonly FileOp[]): void {
    for (const w of writes) {
      switch (w.op) {
        case 'put': this.put(w.path, w.data.slice()); break
        case 'del': this.del(w.path); break
        case 'mkdir': this.dirs.add(w.path); break
        case 'rmdir': this.dirs.delete(w.path); break
      }
    }
  }

  /** Content of `path` as UTF-8 text, or null. For tests. */
  text (path: string): string | null {
    const f = this.files.get(path)
    return f === undefined ? null : new TextDecoder().decode(f)
  }

  private put (path: string, data: Uint8Array): void {
    if (!this.files.has(path)) this.count(path, 1)
    this.files.set(path, data)
  }

  private del (path: string): void {
    if (this.files.delete(path)) this.count(path, -1)
  }

  private count (path: string, delta: number): void {
    for (let dir = parentOf(path); dir !== '/'; dir = parentOf(dir)) {
      const n = (this.below.get(dir) ?? 0) + delta
      if (n === 0) this.below.delete(dir)
      else this.below.set(dir, n)
    }
  }
}
