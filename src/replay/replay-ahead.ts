/**
 * Reading a call log ahead of its replay: the records of the next calls in
 * one storage read batch, and the files drive's database blocks those calls
 * wrote in another, put into the node cache every checkout of the drive a
 * replay reads through shares (checkouts.ts). A replay then waits
 * on storage about once per {@link CHUNK} calls instead of several times per
 * call. The next chunk is read while this one replays.
 *
 * It never changes what a replay reads: a record or block not stored here is
 * read the usual way when needed (`log.call`, Hyperbee's own reads), and the
 * cache only ever holds blocks of the drive as stored, at its current fork.
 * Used by {@link replayRange} (host restart, the watcher's warm-up and
 * rebuilds, a divergence's second replay).
 */

import safetyCatch from 'safety-catch'
import type { CallRecord } from '../../protocol/index.js'
import { writtenPaths } from '../log/bee-eager.js'
import { decodeCall, type ContractLog } from '../log/contract-log.js'
import { readLocalBlocks } from '../log/local-blocks.js'
import type { Checkouts } from './checkouts.js'

/** Records read per storage batch. */
const CHUNK = 64
/** Most drive database blocks read ahead for one chunk. */
const MAX_DRIVE_BLOCKS = 4096

interface Chunk {
  start: number
  /** The decoded records of the chunk, null where a block was not stored here or did not decode. */
  recs: Promise<Array<CallRecord | null>>
}

/** The records of blocks `[from, to)` of a log, read ahead in chunks. */
export class ReplayAhead {
  private readonly log: ContractLog
  private readonly checkouts: Checkouts | null
  private readonly from: number
  private readonly to: number
  private readonly chunks = new Map<number, Chunk>()
  /** Drive database blocks read ahead, by index (those of the chunks still held). */
  private readonly driveBlocks = new Map<number, Buffer>()

  /**
   * @param log the call log being replayed
   * @param checkouts the checkouts of its files drive the replay reads through (the drive's database blocks are read ahead into their node cache), or null
   * @param from first block replayed (>= 1)
   * @param to end of the range (exclusive)
   */
  constructor (log: ContractLog, checkouts: Checkouts | null, from: number, to: number) {
    this.log = log
    this.checkouts = checkouts
    this.from = from
    this.to = to
  }

  /**
   * The call record at block `i` (in `[from, to)`, asked in order).
   * @throws VmsError BAD_RECORD when the block is not a call record
   */
  async record (i: number): Promise<CallRecord> {
    const start = this.from + Math.floor((i - this.from) / CHUNK) * CHUNK
    const chunk = this.chunk(start)
    if (start + CHUNK < this.to) this.chunk(start + CHUNK) // the next one, while this one replays
    for (const s of this.chunks.keys()) if (s < start) this.chunks.delete(s)
    const rec = (await chunk.recs)[i - start] ?? null
    return rec ?? await this.log.call(i)
  }

  /**
   * The paths the record says its call wrote (its drive blocks
   * `[filesBefore, filesAfter)`, as far as they were read ahead): the
   * call's `statHints`. Hints only: what the call reads is the drive.
   * Asked in log order (it forgets the blocks before `rec.filesBefore`).
   */
  written (rec: CallRecord): string[] {
    // blocks are read in ascending order: those before this call's are no longer needed
    for (const k of this.driveBlocks.keys()) {
      if (k >= rec.filesBefore) break
      this.driveBlocks.delete(k)
    }
    return writtenPaths(rec, (i) => this.driveBlocks.get(i))
  }

  private chunk (start: number): Chunk {
    let c = this.chunks.get(start)
    if (!c) {
      const end = Math.min(this.to, start + CHUNK)
      c = { start, recs: this.read(start, end) }
      this.chunks.set(start, c)
    }
    return c
  }

  private async read (start: number, end: number): Promise<Array<CallRecord | null>> {
    const indexes: number[] = []
    for (let i = start; i < end; i++) indexes.push(i)
    const raws = await readLocalBlocks(this.log.core, indexes)
    const recs = raws.map((raw, k) => {
      if (!raw) return null
      try {
        return decodeCall(raw, start + k)
      } catch {
        return null // read again by log.call, which says what is wrong with it
      }
    })
    if (this.checkouts) await this.readDrive(this.checkouts, recs).catch(safetyCatch)
    return recs
  }

  /** Puts the drive blocks the calls of a chunk wrote (and the root they start from) into the node cache. */
  private async readDrive (checkouts: Checkouts, recs: Array<CallRecord | null>): Promise<void> {
    let lo = Infinity
    let hi = 0
    for (const r of recs) {
      if (!r) continue
      lo = Math.min(lo, r.filesBefore - 1)
      hi = Math.max(hi, r.filesAfter)
    }
    const core = checkouts.drive.core
    lo = Math.max(0, lo)
    hi = Math.min(hi, core.length, lo + MAX_DRIVE_BLOCKS)
    if (!(hi > lo)) return
    const fork = core.fork
    const indexes: number[] = []
    for (let i = lo; i < hi; i++) indexes.push(i)
    const raws = await readLocalBlocks(core, indexes)
    if (core.fork !== fork) return // truncated while read: these blocks are of the old history
    for (let j = 0; j < raws.length; j++) if (raws[j]) this.driveBlocks.set(lo + j, raws[j]!)
    checkouts.cacheStored(fork, indexes, raws)
  }
}
