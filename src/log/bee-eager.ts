/**
 * Hyperbee batches that keep a complete tree index in every block. A stock
 * Hyperbee batch writes the full index only in its last block (the blocks
 * before it keep just the nodes no later block rewrote), so a checkout in
 * the middle of a batch cannot be read. {@link makeEager} makes a batch
 * encode each block as it is made, with the index a single put would have
 * written: the appended blocks are then exactly those of one put after
 * another. This reaches into Hyperbee's batch internals (pinned by the
 * lockfile, checked by test/drive-group.test.ts); when they are not what
 * they should be, {@link groupsAppendOnce} turns false and drive groups
 * write call by call instead.
 */

import { createRequire } from 'node:module'
import { VmsError } from '../errors.js'
import type { BlobId } from './drive-files.js'

/** Hyperbee's block codecs, resolved from the Hyperbee that Hyperdrive itself loads. */
interface BeeMessages {
  Node: {
    encode (m: { key: Uint8Array, value: Uint8Array | null, index: Uint8Array }): Uint8Array
    decode (buf: Uint8Array): { key: Uint8Array, value: Uint8Array | null }
  }
  YoloIndex: { encode (m: { levels: Array<{ keys: number[], children: number[] }> }): Uint8Array }
}

/** The parts of a Hyperbee batch (and its tree nodes) this module touches. */
interface TreeNodeLike { keys: Array<{ seq: number }>, children: Array<{ seq: number, offset: number }> }
/** A Hyperbee batch, as far as {@link makeEager} touches it. */
export interface BeeBatch {
  length: number
  blocks: Map<number, { pendingIndex: Array<{ value: TreeNodeLike }> }> | null
  appending: Uint8Array[] | null
  _append (root: unknown, seq: number, key: Uint8Array, value: Uint8Array | null): unknown
  toBlocks (): Uint8Array[]
}

let messages: BeeMessages | null = null
try {
  const req = createRequire(createRequire(import.meta.url).resolve('hyperdrive'))
  messages = req('hyperbee/lib/messages.js') as BeeMessages
} catch {
  messages = null
}
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
    return null
  }
}

/** Encodes the full tree index of one block, as an unbatched put would. */
function deflate (index: Array<{ value: TreeNodeLike }>): Uint8Array {
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
export function makeEager (bee: BeeBatch, raws: Uint8Array[]): boolean {
  if (!messages || typeof bee._append !== 'function' || typeof bee.toBlocks !== 'function' || !(bee.blocks instanceof Map)) {
    eagerWorks = false
    return false
  }
  const append = bee._append
  const enc = messages.Node
  bee._append = function (this: BeeBatch, root, seq, key, value) {
    const res = append.call(this, root, seq, key, value)
    const block = this.blocks!.get(seq)
    if (!block || !Array.isArray(block.pendingIndex)) throw VmsError.INTERNAL('drive batch internals changed')
    raws.push(enc.encode({ key, value, index: deflate(block.pendingIndex) }))
    return res
  }
  bee.toBlocks = function (this: BeeBatch) {
    if (raws.length !== this.length) {
      eagerWorks = false
      throw VmsError.INTERNAL(`drive batch made ${this.length} blocks but ${raws.length} were encoded`)
    }
    if (!this.appending) this.appending = raws
    return this.appending
  }
  return true
}
