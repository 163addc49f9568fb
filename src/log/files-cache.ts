/**
 * A read cache of the host's files drive: the entry and the `stat` of
 * recently read paths, and recently read blob contents. Only valid because
 * the host is the only writer of its drive and every write goes through a
 * drive group, which reports what it changed once it is flushed
 * ({@link FilesCache.applied}); a truncation clears everything.
 *
 * Blob contents are keyed by their blob id, which never names other bytes
 * (blobs are append-only), so they need no invalidation besides truncation.
 */

import type Hyperdrive from 'hyperdrive'
import type { HyperdriveEntry } from 'hyperdrive'
import type { FileStat, FilesView } from '../runtime/types.js'
import { BoundedMap } from '../bounded-map.js'
import { DriveFiles, isDirEntry, type BlobId } from './drive-files.js'
import safetyCatch from 'safety-catch'

/** What a drive entry holds (its `value`). */
export type EntryValue = HyperdriveEntry['value']

/** Bounds of a {@link FilesCache}. */
export interface FilesCacheLimits {
  /** Paths remembered (entries and stats each), default 100,000. */
  paths: number
  /** Bytes of blob content kept, default 32 MiB. */
  blobBytes: number
  /** Largest blob kept, bytes (default 1 MiB). */
  blobMax: number
}

const DEFAULTS: FilesCacheLimits = { paths: 100_000, blobBytes: 32 * 1024 * 1024, blobMax: 1024 * 1024 }
const DIR: FileStat = Object.freeze({ type: 'directory', size: 0 }) as FileStat

/** What `stat` says about a path from its entry alone; undefined when only a listing can tell. */
export function statOfEntry (value: EntryValue | null): FileStat | null | undefined {
  if (value === null) return undefined
  if (value.blob) return { type: 'file', size: value.blob.byteLength }
  if (isDirEntry({ seq: 0, key: '', value })) return DIR
  return undefined
}

/** Every ancestor of a normalised path, nearest first, the root excluded. */
export function ancestors (path: string): string[] {
  const out: string[] = []
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) out.push(path.slice(0, i))
  return out
}

function blobKey (id: BlobId): string {
  return `${id.blockOffset}/${id.blockLength}/${id.byteOffset}/${id.byteLength}`
}

/** Read cache of a writable drive (see the module doc). */
export class FilesCache {
  private readonly drive: Hyperdrive
  private readonly limits: FilesCacheLimits
  private readonly entries: BoundedMap<string, EntryValue | null>
  private readonly stats: BoundedMap<string, FileStat | null>
  private readonly blobs = new Map<string, Uint8Array>()
  private blobBytes = 0
  private readerDrive: Hyperdrive | null = null
  /** Bumped by every change, so a lookup that raced with one does not store a stale answer. */
  private gen = 0
  /** A write that lands changes the cache already holds (see {@link waitFor}); misses wait for it. */
  private landing: Promise<void> | null = null

  private readonly blobSource: { get (id: BlobId): Promise<Uint8Array | null> } | null

  /**
   * @param drive the host's files drive
   * @param limits see {@link FilesCacheLimits}
   * @param blobs where blob contents are read (default: the drive's own blobs)
   */
  constructor (drive: Hyperdrive, limits: Partial<FilesCacheLimits> = {}, blobs: { get (id: BlobId): Promise<Uint8Array | null> } | null = null) {
    this.drive = drive
    this.limits = { ...DEFAULTS, ...limits }
    this.entries = new BoundedMap(this.limits.paths)
    this.stats = new BoundedMap(this.limits.paths)
    this.blobSource = blobs
  }

  /**
   * Makes lookups the cache cannot answer wait for `landing` before they
   * read the drive: the cache was given ({@link applied}) writes that reach
   * the drive when it settles (a sealed drive group, drive-group.ts).
   * @param landing never rejects
   */
  waitFor (landing: Promise<void>): void {
    this.landing = landing
    landing.then(() => {
      if (this.landing === landing) this.landing = null
    }, safetyCatch)
  }

  /** The entry at `path` in the drive as flushed, or null. */
  async entry (path: string): Promise<EntryValue | null> {
    const hit = this.entries.get(path)
    if (hit !== undefined) return hit
    if (this.landing) await this.landing
    const gen = this.gen
    const e = await this.reader().entry(path)
    const value = e ? e.value : null
    if (gen === this.gen) this.entries.set(path, value)
    return value
  }

  /** `stat` of `path` in the drive as flushed (directories made by mkdir or implied by files below). */
  async stat (path: string): Promise<FileStat | null> {
    if (path === '/') return DIR
    const hit = this.stats.get(path)
    if (hit !== undefined) return hit
    if (this.landing) await this.landing
    const gen = this.gen
    const known = statOfEntry(await this.entry(path))
    if (known !== undefined) return known
    let s: FileStat | null = null
    // eslint-disable-next-line no-unreachable-loop -- the first name is enough: it is a directory
    for await (const name of this.reader().readdir(path)) {
      if (name) s = DIR
      break
    }
    if (gen === this.gen) this.stats.set(path, s)
    return s
  }

  /** Content of an appended blob. */
  async blob (id: BlobId): Promise<Uint8Array | null> {
    const key = blobKey(id)
    const hit = this.blobs.get(key)
    if (hit) return hit
    if (this.landing) await this.landing
    const blobs = this.blobSource ?? await this.drive.getBlobs()
    if (blobs === null) return null // an empty replica: no blob is held yet
    const data = await blobs.get(id)
    if (data && data.byteLength <= this.limits.blobMax) {
      this.blobs.set(key, data)
      this.blobBytes += data.byteLength
      for (const [k, v] of this.blobs) {
        if (this.blobBytes <= this.limits.blobBytes) break
        this.blobs.delete(k)
        this.blobBytes -= v.byteLength
      }
    }
    return data
  }

  /**
   * A group of writes reached the drive: `changed` holds the final entry of
   * every path it wrote (null for a delete), `blobs` the content it wrote.
   */
  applied (changed: ReadonlyMap<string, EntryValue | null>): void {
    this.gen++
    for (const [path, value] of changed) {
      this.entries.set(path, value)
      this.stats.delete(path)
      for (const a of ancestors(path)) this.stats.delete(a)
    }
  }

  /**
   * A batch of the drive that never writes: it reads the latest flushed
   * version without opening a snapshot session per lookup, as reads of the
   * drive itself do.
   */
  private reader (): Hyperdrive {
    if (!this.readerDrive) this.readerDrive = this.drive.batch()
    return this.readerDrive
  }

  /** Forgets everything (after a truncation, or writes the cache did not see). */
  clear (): void {
    const r = this.readerDrive
    this.readerDrive = null
    if (r) r.close().catch(safetyCatch)
    this.gen++
    this.entries.clear()
    this.stats.clear()
    this.blobs.clear()
    this.blobBytes = 0
  }
}

/** What {@link GroupFiles} reads of a drive group (drive-group.ts). */
export interface GroupState {
  /** Final entry of every path written and not yet flushed (null: deleted). */
  readonly pending: ReadonlyMap<string, EntryValue | null>
  /** Paths with a pending put or mkdir below them. */
  readonly putsBelow: ReadonlySet<string>
  /** Paths with a pending delete below them. */
  readonly delsBelow: ReadonlySet<string>
  /** The cache of the drive as flushed. */
  readonly cache: FilesCache
  /** Content of a blob, staged or appended. */
  blob (id: BlobId): Promise<Uint8Array | null>
  /** The group's batch (or the drive) once its queued writes are in it. */
  settled (): Promise<Hyperdrive>
}

/** The files as the next call of a group sees them: pending writes, then the cache of the flushed drive. */
export class GroupFiles implements FilesView {
  private readonly group: GroupState

  /** @param group the group whose writes are pending */
  constructor (group: GroupState) {
    this.group = group
  }

  async read (path: string): Promise<Uint8Array | null> {
    const g = this.group
    if (path === '/') return null
    const pending = g.pending.get(path)
    const value = pending !== undefined ? pending : await g.cache.entry(path)
    if (!value || !value.blob) return null
    return await g.blob(value.blob)
  }

  async stat (path: string): Promise<FileStat | null> {
    const g = this.group
    if (path === '/') return { type: 'directory', size: 0 }
    const pending = g.pending.get(path)
    const known = statOfEntry(pending !== undefined ? pending : await g.cache.entry(path))
    if (known !== undefined) return known
    if (g.putsBelow.has(path)) return { type: 'directory', size: 0 }
    if (pending !== undefined || g.delsBelow.has(path)) return await new DriveFiles(await g.settled()).stat(path)
    return await g.cache.stat(path)
  }

  async readdir (path: string): Promise<string[]> {
    return await new DriveFiles(await this.group.settled()).readdir(path)
  }
}
