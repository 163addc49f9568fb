/**
 * Speed-ups of the watcher's judge that never change a verdict:
 *
 * - {@link BlocksAhead}: reads the call log blocks that are already local a
 *   little ahead of the judge and starts their caller signature checks in
 *   worker threads, so that by the time a block is judged its signature is
 *   known (a block whose check failed, or was not started, is checked on
 *   the spot as before);
 * - {@link DriveHashes}: the tree hash of the files drive at each version,
 *   worked out from the drive's blocks as they are judged (Merkle roots
 *   updated block by block) instead of read back from storage per call.
 *   It only confirms: a record whose `filesHash` differs is checked against
 *   the drive's own tree hash.
 */

import type Hypercore from 'hypercore'
import { callSignable } from '../../protocol/index.js'
import { decodeBlock } from '../log/contract-log.js'
import { addLeaf, treeHashOf, type MerkleNode } from '../log/merkle.js'
import type { SignatureVerifier } from '../sig/verify-pool.js'

/** A block read ahead and its signature check. */
export interface Ahead {
  /** The block's bytes (null when it was not there after all). */
  block: Promise<Uint8Array | null>
  /** Whether its caller signature verified (false for anything but a valid call record). */
  ok: Promise<boolean>
}

/** Log blocks read ahead of the judge, with their signature checks under way. */
export class BlocksAhead {
  private readonly core: Hypercore
  private readonly verifier: SignatureVerifier
  private readonly depth: number
  private readonly ahead = new Map<number, Ahead>()
  private next = 1

  /**
   * @param core the call log
   * @param verifier where signatures are checked (a worker pool)
   * @param depth blocks kept ahead (default 256)
   */
  constructor (core: Hypercore, verifier: SignatureVerifier, depth = 256) {
    this.core = core
    this.verifier = verifier
    this.depth = depth
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
    const end = Math.min(i + 1 + this.depth, this.core.contiguousLength)
    for (; this.next < end; this.next++) this.ahead.set(this.next, this.read(this.next))
    return a
  }

  /** Forgets everything (the log was truncated). */
  clear (): void {
    this.ahead.clear()
    this.next = 1
  }

  private read (j: number): Ahead {
    const block = this.core.get(j, { wait: false }).catch(() => null)
    const ok = block.then((buf) => {
      if (!buf) return false
      const b = decodeBlock(buf, j)
      if (b.type !== 'call') return false
      const req = b.call.request
      return this.verifier.verify(callSignable(req), req.signature, req.caller)
    }).catch(() => false)
    return { block, ok }
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
