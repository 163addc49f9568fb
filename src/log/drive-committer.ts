/**
 * The committer of a host's files drive (drive-group.ts has the groups it
 * begins): what lasts from one group commit to the next. The files cache,
 * the Merkle roots and last tree hash of the drive's database core, and the
 * write that lands a sealed group (until it settles, later groups and cache
 * misses wait before they read the drive).
 */

import type Hyperdrive from 'hyperdrive'
import { noop } from '../noop.js'
import { DriveGroup, type ForeignBlobs, type GroupCommitter } from './drive-group.js'
import { FilesCache } from './files-cache.js'
import { currentRoots, type MerkleNode } from './merkle.js'

/** Options of {@link DriveCommitter}. */
export interface DriveCommitterOptions {
  /**
   * For a copy of another drive's database (a watcher's mirror of a host's
   * drive): blobs are the other drive's; new blob ids are numbered from
   * `base()`, contents are read from there, and staged content is never
   * appended anywhere.
   */
  foreignBlobs?: ForeignBlobs
  /**
   * Groups end with {@link DriveGroup.seal} instead of a flush: their
   * blocks reach the drive in the caller's write (the host's one storage
   * write per group, atomic-append.ts), announced with
   * {@link DriveCommitter.land}. Default false. Not with `foreignBlobs`.
   */
  atomic?: boolean
}

/**
 * The drive of one host, committed group by group. Keeps the Merkle roots
 * of the drive's database core between groups, and the last tree hash.
 */
export class DriveCommitter implements GroupCommitter {
  readonly drive: Hyperdrive
  /** See {@link DriveCommitterOptions.foreignBlobs}. */
  readonly foreign: ForeignBlobs | null
  /** What recent calls read, valid for the drive as flushed. */
  readonly cache: FilesCache
  /** Groups flushed; those that wrote call by call (fallback); those whose tree hashes were read from storage. */
  readonly stats = { groups: 0, perCall: 0, slowHashes: 0 }
  /** See {@link DriveCommitterOptions.atomic}. */
  readonly atomic: boolean
  private roots: { length: number, roots: MerkleNode[] } | null = null
  private last: { version: number, hash: Buffer } | null = null
  private landing: Promise<void> | null = null
  /** Drive version after the last sealed group, until the write that lands it settles (for its groups). */
  sealedEnd: number | null = null

  /**
   * @param drive the host's writable files drive
   * @param opts see {@link DriveCommitterOptions}
   */
  constructor (drive: Hyperdrive, opts: DriveCommitterOptions = {}) {
    this.drive = drive
    this.foreign = opts.foreignBlobs ?? null
    this.atomic = !!opts.atomic && !this.foreign
    this.cache = new FilesCache(drive, {}, this.foreign ? this.foreign.blobs : null)
  }

  /**
   * Announces the write that lands a sealed group in the drive: until it
   * settles, later groups and cache misses wait before reading the drive
   * (the cache already answers for what the sealed group wrote).
   * @param write settles once the blocks are in the drive, or will never be (then reset the committer)
   */
  land (write: Promise<unknown>): void {
    const landing = write.then(noop, noop)
    this.landing = landing
    this.cache.waitFor(landing)
    landing.then(() => {
      if (this.landing !== landing) return
      this.landing = null
      this.sealedEnd = null
    }, noop)
  }

  /** Drive version the next group starts from: after the last sealed group (landing or not), else the drive's. */
  get version (): number {
    return this.sealedEnd ?? this.drive.version
  }

  /** Settles once the last write given to {@link land} did (at once when none is pending). */
  async landed (): Promise<void> {
    if (this.landing) await this.landing
  }

  /**
   * Starts a group; nothing touches the drive before its flush (or, when
   * writing call by call, before its first write).
   * @param beforeWrite awaited once, right before the group first writes to the drive
   */
  begin (beforeWrite?: () => Promise<void>): DriveGroup {
    return new DriveGroup(this, beforeWrite ?? null)
  }

  /** Tree hash of the drive's database core at `version` (cached for the latest). */
  async hashAt (version: number): Promise<Buffer> {
    if (this.last && this.last.version === version) return this.last.hash
    const hash = await this.drive.core.treeHash(version)
    if (version === this.drive.core.length) this.last = { version, hash }
    return hash
  }

  /** Forgets cached roots and hashes (after the drive was truncated). */
  reset (): void {
    this.roots = null
    this.last = null
    this.sealedEnd = null
    this.cache.clear()
  }

  /** Roots at the current length, when known without reading storage (for its groups). */
  startRoots (): MerkleNode[] | null {
    const length = this.drive.core.length
    if (this.roots && this.roots.length === length) return this.roots.roots.slice()
    return currentRoots(this.drive.core)
  }

  /** Remembers the roots and hash at `length` (for its groups; kept while the drive is that long). */
  remember (length: number, roots: MerkleNode[] | null, hash: Buffer): void {
    this.roots = roots ? { length, roots } : null
    this.last = { version: length, hash }
  }
}
