/**
 * Hyperbee batches that keep a complete tree index in every block. A stock
 * Hyperbee batch writes the full index only in its last block (the blocks
 * before it keep just the nodes no later block rewrote), so a checkout in
 * the middle of a batch cannot be read. {@link makeEager} makes a batch
 * encode each block as it is made, with the index a single put would have
 * written: the appended blocks are then exactly those of one put after
 * another. This reaches into Hyperbee's batch internals (through
 * holepunch-internals.ts; checked by test/holepunch-internals.test.ts); when they are not what
 * they should be, {@link groupsAppendOnce} turns false and drive groups
 * write call by call instead.
 */

import type { CallRecord } from '../../protocol/index.js'
import { MAX_STAT_HINTS } from '../runtime/types.js'
import type { BlobId } from './drive-files.js'
import { hyperbeeMessages, interceptBeeBlocks, type BeeBatch, type PendingTreeNode } from './holepunch-internals.js'

export type { BeeBatch } from './holepunch-internals.js'

const messages = hyperbeeMessages()
/** False once the eager encoding failed: groups then flush call by call. */
let eagerWorks = messages !== null

/** Whether groups can keep every version a checkout with one database append (else they write call by call). */
export function groupsAppendOnce (): boolean {
  return eagerWorks
}

/**
 * The blob an entry block of a drive's database points at.
 * @returns the blob id; null for a block of another kind (delete, directory, header) or one that does not decode
 */
export function blobOfBlock (raw: Uint8Array): BlobId | null {
  try {
    const node = messages!.Node.decode(raw)
    if (!node.value) return null
    const entry = JSON.parse(Buffer.from(node.value).toString()) as { blob?: BlobId | null }
    const b = entry && entry.blob
    return b && typeof b.blockOffset === 'number' && typeof b.byteOffset === 'number' && typeof b.blockLength === 'number' && typeof b.byteLength === 'number' ? b : null
  } catch {
    // a block of the host's drive: one that does not decode has no blob
    return null
  }
}

/**
 * The path an entry or delete block of a drive's database is about: its
 * Hyperbee key, Hyperdrive's `files` sub-encoding (`files`, a NUL byte,
 * then the path as UTF-8) taken off.
 * @returns the path; null for a header block or one that does not decode
 */
export function pathOfBlock (raw: Uint8Array): string | null {
  try {
    const key = messages!.Node.decode(raw).key
    const at = key ? key.indexOf(0) : -1
    return at >= 0 ? Buffer.from(key.subarray(at + 1)).toString() : null
  } catch {
    // a block of the host's drive: one that does not decode is about no path
    return null
  }
}

/**
 * The paths a call record says its call wrote: those its drive database
 * blocks `[filesBefore, filesAfter)` are about, each once, at most
 * {@link MAX_STAT_HINTS} (a replay's `statHints`).
 * @param block the drive block at an index, when it is at hand (else it is left out)
 */
export function writtenPaths (rec: Pick<CallRecord, 'filesBefore' | 'filesAfter'>, block: (index: number) => Uint8Array | null | undefined): string[] {
  const out = new Set<string>()
  for (let i = rec.filesBefore; i < rec.filesAfter && out.size < MAX_STAT_HINTS && i - rec.filesBefore < 4 * MAX_STAT_HINTS; i++) {
    const raw = block(i)
    const p = raw ? pathOfBlock(raw) : null
    if (p !== null) out.add(p)
  }
  return [...out]
}

/** Encodes the full tree index of one block, as an unbatched put would. */
function deflate (index: Array<{ value: PendingTreeNode }>): Uint8Array {
  const levels = index.map((l) => {
    const children: number[] = []
    for (const ch of l.value.children) children.push(ch.seq, ch.offset)
    return { keys: l.value.keys.map((k) => k.seq), children }
  })
  return messages!.YoloIndex.encode({ levels })
}

/**
 * Makes a Hyperbee batch keep a complete index in every block.
 * @param raws receives each block as it is encoded
 * @returns false when it cannot
 */
export function makeEager (bee: BeeBatch | null, raws: Uint8Array[]): boolean {
  const enc = messages ? messages.Node : null
  const ok = enc !== null && bee !== null && interceptBeeBlocks(bee, raws, (key, value, index) => enc.encode({ key, value, index: deflate(index) }), () => { eagerWorks = false })
  if (!ok) eagerWorks = false
  return ok
}
