/**
 * Group commit of the files drive: the writes of many calls go to the drive
 * in one blobs append and one database append, while every version a call
 * record names stays a valid checkout.
 *
 * A stock Hyperbee batch writes a complete tree index only in its last
 * block (the blocks before it keep just the nodes that no later block
 * rewrote), so a checkout in the middle of a batch cannot be read. Here the
 * batch encodes each block as it is made, with the full index a single put
 * would have written, so the appended blocks are exactly those of one put
 * after another, and every length in between is a readable version. Blob
 * contents are staged in memory and appended to the blobs core in one go,
 * alongside the database blocks. The tree hash of every version of the group
 * is computed from the appended blocks (Merkle roots updated block by
 * block) and checked once against the core's own tree hash.
 *
 * When the Hyperbee internals this relies on are not what they should be,
 * the group falls back to one drive batch per call (slower, same records).
 *
 * This file holds one group ({@link DriveGroup}); the committer that keeps
 * what lasts from group to group is in drive-committer.ts.
 */

import type Hyperdrive from 'hyperdrive'
import { DIR_METADATA } from '../../protocol/index.js'
import type { FileOp, FilesView } from '../runtime/types.js'
import { applyWrites, type BlobId } from './drive-files.js'
import { GroupFiles, ancestors, type EntryValue, type FilesCache } from './files-cache.js'
import { currentRoots, treeHashOf, treeHashesOf, type MerkleNode } from './merkle.js'
import { groupsAppendOnce, makeEager } from './bee-eager.js'
import { beeBatchBlocks, driveBatchBee } from './holepunch-internals.js'
import { VmsError } from '../errors.js'
import safetyCatch from 'safety-catch'

export { blobOfBlock, groupsAppendOnce } from './bee-eager.js'

/** The parts of a Hyperblobs this module uses. */
export interface Blobs {
  core: { length: number, byteLength: number, append (blocks: Uint8Array[]): Promise<unknown> }
  blockSize: number
  get (id: BlobId): Promise<Buffer | null>
}

/** Blobs of another drive (see `DriveCommitterOptions.foreignBlobs`, drive-committer.ts). */
export interface ForeignBlobs {
  /** The other drive's blobs (read by id; `blockSize` splits new content). */
  blobs: Blobs
  /** Where the next blob starts in them: blocks and bytes. */
  base: () => { length: number, byteLength: number }
}

/**
 * A group's drive blocks, made but not written ({@link DriveGroup.seal}):
 * what the caller appends, to the blobs core and to the drive's database
 * core, in one storage write.
 */
export interface SealedFiles {
  /** Blob blocks, in order, for the blobs core at length `blobsAt`. */
  blobs: Uint8Array[]
  /** Blobs core length the blob ids were numbered from. */
  blobsAt: number
  /** Database blocks, in order, for the database core at length `dbAt`. */
  db: Uint8Array[]
  /** Database core length before the group. */
  dbAt: number
  /** Tree hash of the database core after the group (check it before writing). */
  hash: Buffer
}

/** A new blob a call wrote: its id and content. */
export interface StagedBlob {
  id: BlobId
  data: Uint8Array
}

/**
 * What a {@link DriveGroup} needs of the committer it belongs to
 * (drive-committer.ts): the drive, the files cache, where the group starts,
 * and the roots and hashes kept between groups.
 */
export interface GroupCommitter {
  readonly drive: Hyperdrive
  /** Blobs of another drive, for a mirror (see drive-committer.ts). */
  readonly foreign: ForeignBlobs | null
  /** What recent calls read, valid for the drive as flushed. */
  readonly cache: FilesCache
  /** Groups end with {@link DriveGroup.seal} instead of a flush. */
  readonly atomic: boolean
  /** Counters: groups, groups written call by call, tree hashes read from storage. */
  readonly stats: { groups: number, perCall: number, slowHashes: number }
  /** Drive version after the last sealed group, until the write that lands it settles. */
  sealedEnd: number | null
  /** Drive version the next group starts from. */
  readonly version: number
  /** Settles once the write that lands the last sealed group did. */
  landed (): Promise<void>
  /** Tree hash of the drive's database core at `version`. */
  hashAt (version: number): Promise<Buffer>
  /** Roots at the drive's current length, when known without reading storage. */
  startRoots (): MerkleNode[] | null
  /** Remembers the roots and hash at `length`. */
  remember (length: number, roots: MerkleNode[] | null, hash: Buffer): void
}

/**
 * The files side of one group commit: apply each call's writes, read the
 * files as the next call must see them (`view`), then `flush` and ask the
 * tree hash of any version the group passed through.
 */
export class DriveGroup {
  /** Drive version before the group. */
  readonly startVersion: number
  /** What the next call reads: the drive with every write applied so far. */
  readonly view: FilesView
  private readonly committer: GroupCommitter
  private readonly drive: Hyperdrive
  private batch: Hyperdrive | null = null
  private blobs: Blobs | null = null
  private eager = groupsAppendOnce()
  private staged: Uint8Array[] = []
  private stagedBytes = 0
  private blobBase = 0
  private blobBaseBytes = 0
  private hashes: Map<number, Buffer> | null = null
  /** Database blocks encoded so far, in order. */
  private readonly raws: Uint8Array[] = []
  /** Final entry of every path written and not yet flushed (null: deleted). */
  private readonly pending = new Map<string, EntryValue | null>()
  /** Paths with a pending put or mkdir below them (so they are directories). */
  private readonly putsBelow = new Set<string>()
  /** Paths with a pending delete below them (whether they remain directories takes a listing). */
  private readonly delsBelow = new Set<string>()

  private beforeWrite: (() => Promise<void>) | null
  /** Database work of {@link applySoon}, in call order. */
  private puts: Promise<void> = Promise.resolve()
  private putError: unknown = null
  /** Version after each call given to {@link applySoon} (-1 until its writes are in the batch). */
  private readonly ends: number[] = []

  /** Use DriveCommitter.begin (drive-committer.ts). */
  constructor (committer: GroupCommitter, beforeWrite: (() => Promise<void>) | null) {
    this.committer = committer
    this.beforeWrite = beforeWrite
    this.drive = committer.drive
    this.startVersion = committer.version
    // what the view reads of this group: its pending writes, read-only, and its blobs
    this.view = new GroupFiles({
      pending: this.pending,
      putsBelow: this.putsBelow,
      delsBelow: this.delsBelow,
      cache: committer.cache,
      blob: (id) => this.blob(id),
      settled: () => this.settled()
    })
  }

  /** Drive version with every write applied so far. */
  get version (): number {
    return this.batch ? this.batch.version : this.committer.version
  }

  /** The drive (or batch) reads go to now. */
  private current (): Hyperdrive {
    return this.batch ?? this.drive
  }

  /** The batch (or drive), once the database work queued so far is done. */
  private async settled (): Promise<Hyperdrive> {
    await this.puts
    if (!this.batch) await this.committer.landed()
    return this.current()
  }

  /** Content of a blob, staged or appended. */
  private async blob (id: BlobId): Promise<Uint8Array | null> {
    if (this.blobs && id.blockOffset >= this.blobBase && this.staged.length > 0) {
      const from = id.blockOffset - this.blobBase
      const parts = this.staged.slice(from, from + id.blockLength)
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
    }
    return await this.committer.cache.blob(id)
  }

  /**
   * Applies one call's writes, in order, and waits for the database work.
   * @param queued called once the writes are queued: from then on {@link view} shows them
   * @returns the database blocks and the blobs they made (none when writing call by call)
   */
  async apply (writes: readonly FileOp[], queued?: () => void): Promise<{ blocks: Uint8Array[], blobs: StagedBlob[] }> {
    await this.puts
    const from = this.raws.length
    const { blobs } = await this.queue(writes)
    if (queued) queued()
    await this.puts
    if (this.putError !== null) throw this.putError
    return { blocks: this.raws.slice(from), blobs }
  }

  /**
   * Applies one call's writes without waiting for the database work, which
   * runs while the next call executes: what the next call reads includes
   * them at once. The call's files versions are known after {@link flush}
   * ({@link versionsOf}).
   * @returns the call's number in the group
   */
  async applySoon (writes: readonly FileOp[]): Promise<number> {
    return (await this.queue(writes)).k
  }

  private async queue (writes: readonly FileOp[]): Promise<{ k: number, blobs: StagedBlob[] }> {
    const k = this.ends.length
    const blobs: StagedBlob[] = []
    this.ends.push(-1)
    if (writes.length > 0 && this.eager && !this.batch) await this.open()
    if (writes.length > 0 && !this.eager) {
      await this.puts
      await this.perCall(writes)
      this.ends[k] = this.version
      return { k, blobs }
    }
    const ops: Array<{ w: FileOp, blob: BlobId | null }> = []
    for (const w of writes) {
      let value: EntryValue | null = null
      if (w.op === 'put') {
        value = { executable: false, linkname: null, blob: this.stage(w.data), metadata: null }
        blobs.push({ id: value.blob!, data: w.data })
      } else if (w.op === 'mkdir') {
        value = { executable: false, linkname: null, blob: null, metadata: DIR_METADATA }
      }
      ops.push({ w, blob: value ? value.blob : null })
      this.pending.set(w.path, value)
      for (const a of ancestors(w.path)) (value ? this.putsBelow : this.delsBelow).add(a)
    }
    this.puts = this.puts.then(async () => {
      if (this.putError === null && ops.length > 0) {
        const batch = this.batch!
        try {
          for (const { w, blob } of ops) {
            if (w.op === 'put') await batch.putEntry(w.path, { blob })
            else if (w.op === 'mkdir') await batch.putEntry(w.path, { metadata: DIR_METADATA })
            else await batch.del(w.path)
          }
        } catch (err) {
          this.putError = err
        }
      }
      this.ends[k] = this.version
    })
    return { k, blobs }
  }

  /** Fallback: one drive batch per call, every version a complete index. */
  private async perCall (writes: readonly FileOp[]): Promise<void> {
    await this.touch()
    const b = this.drive.batch()
    try {
      await applyWrites(b, writes)
      await b.flush()
    } catch (err) {
      await b.close().catch(safetyCatch)
      throw err
    } finally {
      this.committer.cache.clear()
    }
  }

  /** Files versions before and after call `k` of {@link applySoon} (after {@link flush}). */
  versionsOf (k: number): { before: number, after: number } {
    return { before: k === 0 ? this.startVersion : this.ends[k - 1]!, after: this.ends[k]! }
  }

  /** Appends the staged blobs, then the database blocks, and works out the tree hashes. */
  async flush (): Promise<void> {
    await this.puts
    if (this.putError !== null) throw this.putError
    const batch = this.batch
    if (!batch) {
      if (!this.eager && this.drive.version !== this.startVersion) this.committer.stats.perCall++
      return
    }
    this.committer.stats.groups++
    const core = this.drive.core
    const start = core.length
    const roots = this.committer.startRoots()
    try {
      await this.touch()
      const bee = driveBatchBee(batch)
      if (!bee) throw VmsError.INTERNAL('drive batch internals changed (see holepunch-internals.ts)')
      const raws = bee.length > 0 ? beeBatchBlocks(bee).slice() : []
      // blobs and database blocks go to two cores at once: the pending marker covers both until the records are logged
      const blobs = this.staged.length > 0 && !this.committer.foreign ? this.blobs!.core.append(this.staged) : null
      await Promise.all([blobs, batch.flush()])
      this.staged = []
      this.batch = null
      this.committer.cache.applied(this.pending)
      this.pending.clear()
      this.putsBelow.clear()
      this.delsBelow.clear()
      await this.computeHashes(start, raws, roots)
    } catch (err) {
      await this.discard()
      throw err
    }
  }

  /**
   * Ends the group without writing (atomic committers): the database
   * blocks and blobs are made, the tree hash of every version the group
   * passes through is worked out from the roots in memory, the cache takes
   * the group's writes, and the caller appends the blocks (and announces
   * it with `DriveCommitter.land`). Versions and hashes are then
   * known as after a flush.
   * @returns the blocks to write; null when the group wrote nothing
   * @throws VmsError INTERNAL when the committer is not atomic or the roots are not readable (nothing changed)
   */
  async seal (): Promise<SealedFiles | null> {
    await this.puts
    if (this.putError !== null) throw this.putError
    if (!this.committer.atomic) throw VmsError.INTERNAL('seal() is for atomic drive committers')
    const batch = this.batch
    if (!batch) return null
    const bee = driveBatchBee(batch)
    if (!bee) throw VmsError.INTERNAL('drive batch internals changed (see holepunch-internals.ts)')
    const db = bee.length > 0 ? beeBatchBlocks(bee).slice() : []
    const dbAt = this.drive.core.length
    const roots = this.committer.startRoots()
    // the group before this one did not land (its error goes to its own callers): this one built on what never was
    if (dbAt !== this.startVersion) throw VmsError.INTERNAL(`the drive is at version ${dbAt}, the group began at ${this.startVersion}`)
    if (!roots) throw VmsError.INTERNAL('the drive\'s tree roots are not readable (see holepunch-internals.ts)')
    const hashes = treeHashesOf(roots, dbAt, db)
    const hash = hashes.get(dbAt + db.length)!
    const sealed: SealedFiles = { blobs: this.staged, blobsAt: this.blobBase, db, dbAt, hash }
    this.committer.stats.groups++
    this.hashes = hashes
    this.committer.remember(dbAt + db.length, roots, hash)
    this.committer.sealedEnd = dbAt + db.length
    this.committer.cache.applied(this.pending)
    this.staged = []
    this.batch = null
    this.pending.clear()
    this.putsBelow.clear()
    this.delsBelow.clear()
    await batch.close().catch(safetyCatch)
    return sealed
  }

  /** Tree hash of the drive at `version` (a version this group passed through, or the current one). */
  async hashAt (version: number): Promise<Buffer> {
    return this.hashes?.get(version) ?? await this.committer.hashAt(version)
  }

  /** Drops whatever was not flushed (the caller truncates the drive back if needed). */
  async discard (): Promise<void> {
    await this.puts.catch(safetyCatch) // its error was given to the call that queued it
    const b = this.batch
    this.batch = null
    this.staged = []
    this.pending.clear()
    this.putsBelow.clear()
    this.delsBelow.clear()
    if (b) await b.close().catch(safetyCatch)
  }

  private async touch (): Promise<void> {
    const f = this.beforeWrite
    this.beforeWrite = null
    if (f) await f()
  }

  private async open (): Promise<void> {
    // a sealed group before this one must be in the drive first: this batch and the blob ids build on it
    await this.committer.landed()
    const foreign = this.committer.foreign
    if (foreign) {
      this.blobs = foreign.blobs
      const base = foreign.base()
      this.blobBase = base.length
      this.blobBaseBytes = base.byteLength
    } else {
      const blobs = await this.drive.getBlobs()
      if (blobs === null) throw VmsError.CLOSED('files drive closed before its blobs opened')
      this.blobs = blobs
      this.blobBase = this.blobs.core.length
      this.blobBaseBytes = this.blobs.core.byteLength
    }
    const batch = this.drive.batch()
    if (!makeEager(driveBatchBee(batch), this.raws)) {
      await batch.close().catch(safetyCatch)
      this.eager = false
      return
    }
    this.batch = batch
  }

  /** Stages blob content as Hyperblobs would write it; returns its id. */
  private stage (data: Uint8Array): BlobId {
    const size = this.blobs!.blockSize
    // the same object (and key order: entries are JSON) as a Hyperblobs write stream gives
    const id = { blockOffset: this.blobBase + this.staged.length, byteOffset: this.blobBaseBytes + this.stagedBytes, blockLength: 0, byteLength: 0 }
    for (let off = 0; off < data.byteLength; off += size) {
      const blk = data.subarray(off, off + size)
      this.staged.push(blk)
      id.blockLength++
      id.byteLength += blk.byteLength
      this.stagedBytes += blk.byteLength
    }
    return id
  }

  private async computeHashes (start: number, raws: Uint8Array[], roots: MerkleNode[] | null): Promise<void> {
    const core = this.drive.core
    const end = core.length
    if (roots && end === start + raws.length) {
      const hashes = treeHashesOf(roots, start, raws)
      // checked against the roots the core itself keeps in memory (or reads back)
      const live = currentRoots(core)
      const check = live ? treeHashOf(live) : await core.treeHash(end)
      if (check.equals(hashes.get(end)!)) {
        this.hashes = hashes
        this.committer.remember(end, roots, check)
        return
      }
    }
    // slow path: ask the core for each version
    this.committer.stats.slowHashes++
    const hashes = new Map<number, Buffer>()
    for (let v = start; v <= end; v++) hashes.set(v, await core.treeHash(v))
    this.hashes = hashes
    this.committer.remember(end, null, hashes.get(end)!)
  }
}
