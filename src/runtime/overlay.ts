/**
 * The files of one call: the read-only {@link FilesView} the call started
 * from, plus an overlay of the call's own changes, so that a call reads its
 * own writes. Every change is also recorded as a {@link FileOp}, in order;
 * applying those ops to the view gives exactly what the overlay shows.
 *
 * Known approximation: a directory that exists in the view keeps existing
 * when this call deletes every file below it (the view cannot tell an
 * explicit, mkdir-made directory from an implicit one).
 */

import { VmsError } from '../errors.js'
import { ENTRY_OVERHEAD_BYTES, type FileOp, type FileStat, type FilesView, type Limits } from './types.js'
import { childPrefix, joinPath, parentOf } from './paths.js'

type Entry =
  | { t: 'file', data: Uint8Array }
  | { t: 'dir' }
  | { t: 'gone' }

/** What is at a path: a file (with its size in bytes), a directory, or nothing (null). */
export type Found = FileStat | null

/** The limits a call's files obey (see {@link Limits}). */
export type FilesLimits = Pick<Limits, 'maxWriteBytes' | 'maxEntries' | 'maxPathBytes'>

const DIR: FileStat = Object.freeze({ type: 'directory', size: 0 }) as FileStat

/**
 * The view of one call plus its overlay. All paths given to it must already
 * be normalised (see `normalisePath`). Methods are not safe to run
 * concurrently with each other: the caller serialises them.
 */
export class CallFiles {
  /** The changes made so far, in order. */
  readonly writes: FileOp[] = []
  /**
   * Bytes this call added so far: content, plus for every change the UTF-8
   * bytes of its path and {@link ENTRY_OVERHEAD_BYTES} (entry and metadata).
   */
  bytesWritten = 0
  /** Set (once) when a write went over the byte limit; the call must fail with it. */
  doom: VmsError | null = null

  /** The call's limits: bytes and entries it may add, longest path. */
  readonly limits: FilesLimits

  private readonly view: FilesView
  private readonly overlay = new Map<string, Entry>()

  /**
   * @param view the files as they were before the call
   * @param limits `maxWriteBytes` (bytes the call may add, paths and entries included),
   *   `maxEntries` (changes it may make), `maxPathBytes` (longest path, see files-api.ts)
   */
  constructor (view: FilesView, limits: FilesLimits) {
    this.view = view
    this.limits = limits
  }

  /**
   * What is at `path` now (view + overlay).
   * @returns `{ type, size }` or null
   */
  async find (path: string): Promise<Found> {
    if (path === '/') return DIR
    const o = this.overlay.get(path)
    if (o !== undefined) {
      if (o.t === 'file') return { type: 'file', size: o.data.byteLength }
      if (o.t === 'dir') return DIR
      return this.liveBelow(path) ? DIR : null
    }
    const s = await this.view.stat(path)
    if (s !== null) return s
    return this.liveBelow(path) ? DIR : null
  }

  /**
   * Content of the file at `path`.
   * @throws VmsError ENOENT when nothing is there, EISDIR on a directory
   */
  async read (path: string): Promise<Uint8Array> {
    const o = this.overlay.get(path)
    if (o !== undefined && o.t === 'file') return o.data
    if (o === undefined && path !== '/') {
      const data = await this.view.read(path)
      if (data !== null) return data
    }
    const f = await this.find(path)
    if (f === null) throw VmsError.ENOENT(path)
    if (f.type === 'directory') throw VmsError.EISDIR(path)
    throw VmsError.ENOENT(path)
  }

  /**
   * Creates or replaces the file at `path`. Parent directories need not exist.
   * @param data the new content (kept, not copied: pass a fresh array)
   * @throws VmsError EISDIR when `path` is a directory, ENOTDIR when an
   *   ancestor is a file, WRITES_TOO_LARGE when the call's writes pass the limit
   */
  async write (path: string, data: Uint8Array): Promise<void> {
    if (path === '/') throw VmsError.EISDIR(path)
    this.checkDoom()
    const f = await this.find(path)
    if (f !== null && f.type === 'directory') throw VmsError.EISDIR(path)
    await this.checkAncestors(path)
    this.count(path, data.byteLength)
    this.overlay.set(path, { t: 'file', data })
    this.writes.push({ op: 'put', path, data })
  }

  /**
   * Makes a directory entry at `path`.
   * @throws VmsError EEXIST when a file or directory is there, ENOTDIR when an ancestor is a file
   */
  async mkdir (path: string): Promise<void> {
    this.checkDoom()
    if ((await this.find(path)) !== null) throw VmsError.EEXIST(path)
    await this.checkAncestors(path)
    this.count(path, 0)
    this.overlay.set(path, { t: 'dir' })
    this.writes.push({ op: 'mkdir', path })
  }

  /**
   * Sorted names (code-unit order) of the children of directory `path`.
   * @throws VmsError ENOENT when nothing is there, ENOTDIR on a file
   */
  async readdir (path: string): Promise<string[]> {
    const f = await this.find(path)
    if (f === null) throw VmsError.ENOENT(path)
    if (f.type !== 'directory') throw VmsError.ENOTDIR(path)
    const names = new Set<string>()
    for (const name of await this.viewNames(path)) names.add(name)
    const prefix = childPrefix(path)
    const touched = new Set<string>()
    for (const key of this.overlay.keys()) {
      if (key.length <= prefix.length || !key.startsWith(prefix)) continue
      const rest = key.slice(prefix.length)
      const slash = rest.indexOf('/')
      touched.add(slash === -1 ? rest : rest.slice(0, slash))
    }
    for (const name of touched) {
      if ((await this.find(joinPath(path, name))) !== null) names.add(name)
      else names.delete(name)
    }
    return [...names].sort(compareCodeUnits)
  }

  /**
   * Deletes the file at `path`.
   * @throws VmsError ENOENT when nothing is there, EISDIR on a directory
   */
  async unlink (path: string): Promise<void> {
    this.checkDoom()
    const f = await this.find(path)
    if (f === null) throw VmsError.ENOENT(path)
    if (f.type === 'directory') throw VmsError.EISDIR(path)
    this.count(path, 0)
    this.overlay.set(path, { t: 'gone' })
    this.writes.push({ op: 'del', path })
  }

  /**
   * Removes directory `path`; with `recursive`, everything below it first
   * (files as `del`, directories deepest first as `rmdir`).
   * @throws VmsError EINVAL for the root, ENOENT when nothing is there,
   *   ENOTDIR on a file, ENOTEMPTY when not empty and not recursive
   */
  async rmdir (path: string, recursive: boolean): Promise<void> {
    this.checkDoom()
    if (path === '/') throw VmsError.EINVAL('cannot remove the root directory')
    const f = await this.find(path)
    if (f === null) throw VmsError.ENOENT(path)
    if (f.type !== 'directory') throw VmsError.ENOTDIR(path)
    const names = await this.readdir(path)
    if (names.length > 0 && !recursive) throw VmsError.ENOTEMPTY(path)
    for (const name of names) {
      const child = joinPath(path, name)
      const c = await this.find(child)
      if (c === null) continue
      if (c.type === 'directory') {
        await this.rmdir(child, true)
      } else {
        this.count(child, 0)
        this.overlay.set(child, { t: 'gone' })
        this.writes.push({ op: 'del', path: child })
      }
    }
    this.count(path, 0)
    this.overlay.set(path, { t: 'gone' })
    this.writes.push({ op: 'rmdir', path })
  }

  private checkDoom (): void {
    if (this.doom !== null) throw this.doom
  }

  /**
   * Counts one change at `path` with `content` bytes against the call's
   * limits, before it is made.
   * @throws VmsError WRITES_TOO_LARGE (and dooms the call) past maxEntries or maxWriteBytes
   */
  private count (path: string, content: number): void {
    const { maxEntries, maxWriteBytes } = this.limits
    if (this.writes.length + 1 > maxEntries) {
      this.doom = VmsError.WRITES_TOO_LARGE(`the call made more than ${maxEntries} file changes`)
      throw this.doom
    }
    this.bytesWritten += content + Buffer.byteLength(path) + ENTRY_OVERHEAD_BYTES
    if (this.bytesWritten > maxWriteBytes) {
      this.doom = VmsError.WRITES_TOO_LARGE(`the call wrote more than ${maxWriteBytes} bytes`)
      throw this.doom
    }
  }

  /** ENOTDIR when the nearest existing ancestor of `path` is a file. */
  private async checkAncestors (path: string): Promise<void> {
    for (let dir = parentOf(path); dir !== '/'; dir = parentOf(dir)) {
      const f = await this.find(dir)
      if (f === null) continue
      if (f.type === 'directory') return
      throw VmsError.ENOTDIR(dir)
    }
  }

  /** True when the overlay holds a live file or directory strictly below `path`. */
  private liveBelow (path: string): boolean {
    const prefix = childPrefix(path)
    for (const [key, e] of this.overlay) {
      if (e.t !== 'gone' && key.length > prefix.length && key.startsWith(prefix)) return true
    }
    return false
  }

  private async viewNames (path: string): Promise<string[]> {
    const o = this.overlay.get(path)
    if (o !== undefined && o.t !== 'dir') return [] // replaced by this call: the view's children are gone
    try {
      return await this.view.readdir(path)
    } catch {
      // the view may be a replica of the host's drive: whatever its blocks make the listing throw, it lists nothing
      return []
    }
  }
}

function compareCodeUnits (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
