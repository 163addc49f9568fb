/**
 * Hypercore's Merkle tree hashes (hypercore-crypto's leaf, parent and tree
 * hashes), worked out from appended blocks: the
 * roots after each block (as Hypercore's tree keeps them: flat-tree index,
 * byte size, BLAKE2b hash) and the tree hash of a list of roots. Lets the
 * host name the tree hash of every length a group of appends passes
 * through without reading the tree back from storage.
 */

import crypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import { coreRoots } from './holepunch-internals.js'

/** A Merkle tree node as Hypercore keeps it: flat-tree index, byte size, hash; `span`: leaves below it. */
export interface MerkleNode { index: number, size: number, hash: Buffer, span: number }

/** Hypercore's tree hash of a list of roots (what `core.treeHash()` gives). */
export function treeHashOf (roots: readonly MerkleNode[]): Buffer {
  return crypto.tree(roots)
}

/**
 * Adds the block at position `length` to `roots` (modified in place), merging full subtrees.
 * @param onNode gets every node made: the leaf, then each parent (the tree nodes Hypercore stores for the block)
 */
export function addLeaf (roots: MerkleNode[], length: number, block: Uint8Array, onNode?: (node: MerkleNode) => void): void {
  const leaf = { index: 2 * length, size: block.byteLength, hash: crypto.data(block), span: 1 }
  roots.push(leaf)
  if (onNode) onNode(leaf)
  while (roots.length >= 2 && roots[roots.length - 2]!.span === roots[roots.length - 1]!.span) {
    const b = roots.pop()!
    const a = roots.pop()!
    const parent = { index: (a.index + b.index) / 2, size: a.size + b.size, hash: crypto.parent(a, b), span: a.span * 2 }
    roots.push(parent)
    if (onNode) onNode(parent)
  }
}

/**
 * The tree hash of every length from `start` to `start + blocks.length`,
 * appending `blocks` to `roots` (the roots at `start`, modified in place).
 * @returns tree hash by length
 */
export function treeHashesOf (roots: MerkleNode[], start: number, blocks: readonly Uint8Array[]): Map<number, Buffer> {
  const hashes = new Map<number, Buffer>([[start, treeHashOf(roots)]])
  for (let k = 0; k < blocks.length; k++) {
    addLeaf(roots, start + k, blocks[k]!)
    hashes.set(start + k + 1, treeHashOf(roots))
  }
  return hashes
}

/** The roots Hypercore holds for its current length (internal state; null when not readable). */
export function currentRoots (core: Hypercore): MerkleNode[] | null {
  const roots = coreRoots(core)
  return roots ? roots.map((r) => ({ ...r, span: spanOf(r.index) })) : null
}

/** Leaves under flat-tree node `index`: 2^(trailing one bits). */
function spanOf (index: number): number {
  let span = 1
  while (index & 1) {
    index = Math.floor(index / 2)
    span *= 2
  }
  return span
}
