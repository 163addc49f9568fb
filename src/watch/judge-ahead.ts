/**
 * Speed-ups of the watcher's judge that never change a verdict:
 *
 * - {@link BlocksAhead}: reads the call log blocks that are already local a
 *   little ahead of the judge and starts their caller signature checks in
 *   worker threads, so that by the time a block is judged its signature is
 *   known (a block whose check failed, or was not started, is checked on
 *   the spot as before); and the host's drive and blob blocks those records
 *   name ({@link HostFilesAhead}). Reads go in storage batches (one RocksDB
 *   read batch for many blocks, local-blocks.ts), not one per block; the
 *   bytes are the same a `core.get` gives, and a block that is not there
 *   yet is read the usual way when judged;
 * - {@link DriveHashes}: the tree hash of the files drive at each version,
 *   worked out from the drive's blocks as they are judged (Merkle roots
 *   updated block by block) instead of read back from storage per call.
 *   It only confirms: a record whose `filesHash` differs is checked against
 *   the drive's own tree hash.
 */

import type Hypercore from 'hypercore'
import b4a from 'b4a'
import { callSignable, type CallRecord } from '../../protocol/index.js'
import { decodeCall } from '../log/contract-log.js'
import { writtenPaths } from '../log/bee-eager.js'
import { blobOfBlock } from '../log/drive-group.js'
import type { BlobId } from '../log/drive-files.js'
import { addLeaf, treeHashOf, type MerkleNode } from '../log/merkle.js'
import type { SignatureVerifier } from '../sig/verify-pool.js'
import { readLocalBlocks } from '../log/local-blocks.js'

/** A block read ahead and its signature check. */
export interface Ahead {
  /** The block's bytes (null when it was not there after all). */
  block: Promise<Uint8Array | null>
  /** Whether its caller signature verified (false for anything but a valid call record). */
  ok: Promise<boolean>
  /** The host's drive and blob blocks the record names, as far as they were stored here (null: not read ahead). */
  files: Promise<HostFilesAhead | null> | null
}

/** Records read per storage batch at most. */
const CHUNK = 128
/** Records whose drive and blob blocks are read in one batch. */
const FILES_CHUNK = 64
/** Most drive blocks, and most blob bytes, read ahead in one batch. */
const FILES_MAX_BLOCKS = 4096
const FILES_MAX_BYTES = 4 * 1024 * 1024

/**
 * Blocks of the host's drive (database and blobs) read ahead for a run of
 * calls, in two storage batches. Only what was stored here at the time:
 * anything else is null and read the usual way. Stale after the drive is
 * truncated ({@link BlocksAhead.clear} drops it).
 */
export class HostFilesAhead {
  private readonly blocks: Map<number, Buffer>
  private readonly blobBlocks: Map<number, Buffer>

  /** @param blocks drive blocks by index; @param blobBlocks blob core blocks by index */
  constructor (blocks: Map<number, Buffer>, blobBlocks: Map<number, Buffer>) {
    this.blocks = blocks
    this.blobBlocks = blobBlocks
  }

  /** The paths the record says its call wrote, as far as its drive blocks were read ahead (the replay's `statHints`). */
  written (rec: CallRecord): string[] {
    return writtenPaths(rec, (i) => this.blocks.get(i))
  }

  /** Drive block `index`, when read ahead. */
  block (index: number): Buffer | null {
    return this.blocks.get(index) ?? null
  }

  /** The content of blob `id` (its blocks concatenated, as Hyperblobs' `get` gives it), when every block was read ahead. */
  blob (id: BlobId): Buffer | null {
    if (id.blockLength === 1) return this.blobBlocks.get(id.blockOffset) ?? null
    const parts: Buffer[] = []
    for (let k = 0; k < id.blockLength; k++) {
      const b = this.blobBlocks.get(id.blockOffset + k)
      if (!b) return null
      parts.push(b)
    }
    return b4a.concat(parts) as Buffer
  }
}

/** The host's drive, for reading its blocks ahead. */
export interface DriveAhead {
  /** The drive's database core. */
  core: Hypercore
  /** Its blobs core, once known. */
  blobs: () => Hypercore | null
  /**
   * Told of the database blocks read ahead (by index, null where not
   * stored here) and the core's fork when the read began: checkouts.ts
   * puts them in the node cache its checkouts share.
   */
  read?: (fork: number, indexes: readonly number[], raws: ReadonlyArray<Buffer | null>) => void
}

/**
 * Log blocks read ahead of the judge (in storage batches of up to
 * {@link CHUNK}), with their signature checks under way, and the host's
 * drive and blob blocks those records name (batches of {@link FILES_CHUNK}
 * records, read closer to when they are judged).
 */
export class BlocksAhead {
  private readonly core: Hypercore
  private readonly verifier: SignatureVerifier
  private readonly depth: number
  private readonly drive: DriveAhead | null
  private readonly ahead = new Map<number, Ahead & { rec: Promise<CallRecord | null> }>()
  private next = 1
  private filesNext = 1
  /** Bumped by {@link clear}: a files batch of an older generation is dropped. */
  private gen = 0

  /**
   * @param core the call log
   * @param verifier where signatures are checked (a worker pool)
   * @param depth blocks kept ahead (default 256)
   * @param drive the host's drive, to read its blocks ahead too (optional)
   */
  constructor (core: Hypercore, verifier: SignatureVerifier, depth = 256, drive: DriveAhead | null = null) {
    this.core = core
    this.verifier = verifier
    this.depth = depth
    this.drive = drive
  }

  /**
   * Takes what was read ahead for block `i`, and reads further ahead among
   * the blocks already local.
   * @returns null when block `i` was not read ahead
   */
  take (i: number): Ahead | null {
    const a = this.ahead.get(i) ?? null
    this.ahead.delete(i)
    for (const k of this.ahead.keys()) if (k < i) this.ahead.delete(k)
    if (this.next < i + 1) this.next = i + 1
    if (this.filesNext < i + 1) this.filesNext = i + 1
    const end = Math.min(i + 1 + this.depth, this.core.contiguousLength)
    if (this.next < end && this.next - (i + 1) < this.depth / 2) this.readChunk(this.next, Math.min(end, this.next + CHUNK))
    if (this.drive && this.filesNext < this.next && this.filesNext - (i + 1) < FILES_CHUNK / 2) {
      this.readFiles(this.filesNext, Math.min(this.next, this.filesNext + FILES_CHUNK))
    }
    return a
  }

  /** Bumped by every {@link clear}: what was taken before another generation is stale. */
  get generation (): number {
    return this.gen
  }

  /** Block `j` and its decoded call record, when read ahead (without taking it). */
  peek (j: number): { block: Promise<Uint8Array | null>, rec: Promise<CallRecord | null>, files: Promise<HostFilesAhead | null> | null } | null {
    return this.ahead.get(j) ?? null
  }

  /** Forgets everything (the log or the drive was truncated). */
  clear (): void {
    this.ahead.clear()
    this.next = 1
    this.filesNext = 1
    this.gen++
  }

  private readChunk (from: number, to: number): void {
    const indexes: number[] = []
    for (let j = from; j < to; j++) indexes.push(j)
    this.next = to
    const blocks = readLocalBlocks(this.core, indexes).catch(() => indexes.map(() => null))
    for (let k = 0; k < indexes.length; k++) {
      const j = indexes[k]!
      const block = blocks.then((all) => all[k] ?? null)
      const rec = block.then((buf) => buf ? decodeCall(buf, j) : null).catch(() => null)
      const ok = rec.then((r) => r ? this.verifier.verify(callSignable(r.request), r.request.signature, r.request.caller) : false).catch(() => false)
      this.ahead.set(j, { block, ok, rec, files: null })
    }
  }

  /** Reads the drive blocks of records [from, to) and the blob blocks they name, in one batch each. */
  private readFiles (from: number, to: number): void {
    this.filesNext = to
    const gen = this.gen
    const entries: Array<Ahead & { rec: Promise<CallRecord | null> }> = []
    for (let j = from; j < to; j++) {
      const a = this.ahead.get(j)
      if (a) entries.push(a)
    }
    if (entries.length === 0) return
    const files = Promise.all(entries.map((a) => a.rec)).then(async (recs) => {
      const got = await this.filesOf(recs)
      return gen === this.gen ? got : null
    }).catch(() => null)
    for (const a of entries) a.files = files
  }

  private async filesOf (recs: Array<CallRecord | null>): Promise<HostFilesAhead | null> {
    const drive = this.drive!
    const want: number[] = []
    for (const r of recs) {
      if (!r) continue
      for (let v = r.filesBefore; v < r.filesAfter && want.length < FILES_MAX_BLOCKS; v++) want.push(v)
    }
    if (want.length === 0) return null
    const fork = drive.core.fork
    const got = await readLocalBlocks(drive.core, want)
    if (drive.read) drive.read(fork, want, got)
    const blocks = new Map<number, Buffer>()
    for (let k = 0; k < want.length; k++) if (got[k]) blocks.set(want[k]!, got[k]!)
    const blobBlocks = new Map<number, Buffer>()
    const blobs = drive.blobs()
    if (blobs) {
      // blobs of consecutive calls are consecutive: read from the first one named to the end of the last one
      let first: BlobId | null = null
      let last: BlobId | null = null
      for (let k = 0; k < got.length && !first; k++) if (got[k]) first = blobOfBlock(got[k]!)
      for (let k = got.length - 1; k >= 0 && !last; k--) if (got[k]) last = blobOfBlock(got[k]!)
      if (first && last) {
        const start = first.blockOffset
        const end = last.blockOffset + last.blockLength
        const bytes = last.byteOffset + last.byteLength - first.byteOffset
        if (end > start && end - start <= FILES_MAX_BLOCKS && bytes <= FILES_MAX_BYTES) {
          const idx: number[] = []
          for (let b = start; b < end; b++) idx.push(b)
          const bb = await readLocalBlocks(blobs, idx)
          for (let k = 0; k < idx.length; k++) if (bb[k]) blobBlocks.set(idx[k]!, bb[k]!)
        }
      }
    }
    return new HostFilesAhead(blocks, blobBlocks)
  }
}

/** Tree hashes of a drive's database core, worked out block by block. */
export class DriveHashes {
  private readonly core: Hypercore
  private roots: MerkleNode[] = []
  private length = 0

  /** @param core the drive's database core */
  constructor (core: Hypercore) {
    this.core = core
  }

  /**
   * The tree hash at `version` (reads the blocks since the last call; going
   * back starts over from block 0).
   * @param opts how long to wait for a block
   */
  async at (version: number, opts: { wait?: boolean, timeout?: number } = {}): Promise<Buffer> {
    if (version < this.length) this.reset()
    while (this.length < version) {
      const block = await this.core.get(this.length, opts)
      if (!block) throw new Error(`drive block ${this.length} is not available`)
      addLeaf(this.roots, this.length, block)
      this.length++
    }
    return treeHashOf(this.roots)
  }

  /**
   * Adds blocks already in hand (checked equal to the drive's) when they
   * are the next ones; otherwise they are read when needed.
   * @param version the drive length they start at
   */
  push (version: number, blocks: readonly Uint8Array[]): void {
    if (version !== this.length) return
    for (const b of blocks) addLeaf(this.roots, this.length++, b)
  }

  /** Starts over (the drive was truncated). */
  reset (): void {
    this.roots = []
    this.length = 0
  }
}
