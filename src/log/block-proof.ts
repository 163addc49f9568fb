/**
 * Inclusion proofs of one call log block under a tree hash, in Hypercore's
 * own Merkle tree (flat-tree layout: leaf of block i at index 2i, parents at
 * odd indexes; hypercore-crypto's `data`, `parent` and `tree` hashes, which
 * commit to every node's byte size too). The host reads the nodes from its
 * core's tree storage; anyone checks the proof with hashing alone.
 *
 * Proof of block i at length L: the block, the sibling of each node on the
 * path from leaf 2i up to the full root of L that spans it, and all full
 * roots of L. The check rebuilds the path, requires it to end at one of the
 * roots, and requires `crypto.tree(roots)` to be the signed tree hash.
 */

import crypto from 'hypercore-crypto'
import b4a from 'b4a'
import flat from 'flat-tree'
import type Hypercore from 'hypercore'
import type { BlockProof, TreeNodeRecord } from '../../protocol/index.js'
import { BoundedMap } from '../bounded-map.js'
import { VmsError } from '../errors.js'
import { readTreeNodes } from './holepunch-internals.js'
import { addLeaf, currentRoots, treeHashOf } from './merkle.js'

/** Bytes of recently appended blocks a {@link BlockProver} keeps for the proofs of their replies. */
const RECENT_BLOCK_BYTES = 8 * 1024 * 1024

/** Flat-tree full roots of a tree of `length` leaves (flat-tree's `fullRoots(2 * length)`). */
export function fullRoots (length: number): number[] {
  return flat.fullRoots(2 * length)
}

/**
 * Proof of block `index` in `core`'s tree at `length` (host side: the core
 * holds the block and the tree nodes). Uncached; see {@link BlockProver}.
 * @param core the call log (the host's writable core, or any core holding the nodes)
 * @param index block index, < length
 * @param length tree length the proof is for (blocks)
 * @returns the proof ({@link BlockProof})
 * @throws VmsError BAD_ARGUMENT when index >= length or length > core.length;
 *   INTERNAL when a tree node is missing from storage
 */
export async function proveBlock (core: Hypercore, index: number, length: number): Promise<BlockProof> {
  return await new BlockProver(core, 0).prove(index, length)
}

/**
 * Makes block proofs for one core, keeping the tree nodes it read (a node
 * of a complete subtree never changes until the core truncates, which
 * empties the cache). A group of replies under one root shares its roots
 * and upper nodes, so each proof reads only the few nodes near its leaf.
 */
export class BlockProver {
  private readonly core: Hypercore
  private readonly max: number
  private readonly nodes: BoundedMap<number, TreeNodeRecord>
  /** Blocks appended lately (index -> bytes), oldest first, at most {@link RECENT_BLOCK_BYTES}. */
  private readonly recent = new Map<number, Uint8Array>()
  private recentBytes = 0
  private fork: number

  /**
   * @param core the call log
   * @param maxNodes tree nodes kept (default 65,536, about 6 MiB; 0: none)
   */
  constructor (core: Hypercore, maxNodes = 65_536) {
    this.core = core
    this.max = maxNodes
    this.nodes = new BoundedMap(maxNodes)
    this.fork = core.fork
  }

  /**
   * Learns the blocks about to be appended at the core's current length,
   * so that proofs of them read nothing from storage: their tree nodes are
   * worked out from the core's roots in memory (merkle.ts) and the blocks
   * kept for a while. Call it right before the append; {@link appended}
   * keeps what it learnt once the core's own tree hash agrees.
   * @returns a token for {@link appended}; null when the roots are not readable (proofs then read storage)
   */
  learn (blocks: readonly Uint8Array[]): { length: number, fork: number, nodes: TreeNodeRecord[], blocks: readonly Uint8Array[], hash: Buffer } | null {
    if (this.max === 0) return null
    const core = this.core
    const roots = currentRoots(core)
    if (!roots) return null
    const nodes: TreeNodeRecord[] = []
    const start = core.length
    for (let k = 0; k < blocks.length; k++) addLeaf(roots, start + k, blocks[k]!, (n) => nodes.push({ index: n.index, size: n.size, hash: n.hash }))
    return { length: start, fork: core.fork, nodes, blocks, hash: treeHashOf(roots) }
  }

  /**
   * After the append of what {@link learn} saw: keeps its tree nodes and
   * blocks when the core is at the expected length and tree hash (checked
   * against the roots Hypercore holds in memory), else keeps nothing.
   */
  appended (learnt: ReturnType<BlockProver['learn']>): void {
    const core = this.core
    if (!learnt || core.fork !== learnt.fork || core.length !== learnt.length + learnt.blocks.length) return
    if (core.fork !== this.fork) return
    const roots = currentRoots(core)
    if (!roots || !treeHashOf(roots).equals(learnt.hash)) return
    for (const n of learnt.nodes) this.nodes.set(n.index, n)
    for (let k = 0; k < learnt.blocks.length; k++) {
      const b = learnt.blocks[k]!
      this.recent.set(learnt.length + k, b)
      this.recentBytes += b.byteLength
    }
    for (const [i, b] of this.recent) {
      if (this.recentBytes <= RECENT_BLOCK_BYTES) break
      this.recent.delete(i)
      this.recentBytes -= b.byteLength
    }
  }

  /**
   * Proof of block `index` at `length`, as {@link proveBlock}.
   * @throws VmsError BAD_ARGUMENT, INTERNAL (see proveBlock)
   */
  async prove (index: number, length: number): Promise<BlockProof> {
    const core = this.core
    if (!(index >= 0 && index < length && length <= core.length)) throw VmsError.BAD_ARGUMENT(`cannot prove block ${index} at length ${length} of a log of ${core.length}`)
    if (core.fork !== this.fork) {
      this.nodes.clear()
      this.recent.clear()
      this.recentBytes = 0
      this.fork = core.fork
    }
    const rootIndexes = fullRoots(length)
    const leaf = 2 * index
    const top = rootIndexes.find((r) => { const [a, b] = flat.spans(r); return a <= leaf && leaf <= b })
    if (top === undefined) throw VmsError.INTERNAL(`no root of length ${length} spans block ${index}`)
    const uncleIndexes: number[] = []
    for (let i = leaf; i !== top; i = flat.parent(i)) uncleIndexes.push(flat.sibling(i))
    const wanted = [...uncleIndexes, ...rootIndexes]
    const known = this.recent.get(index)
    const [got, block] = await Promise.all([this.read(wanted), known ?? core.get(index, { wait: false })])
    if (!block) throw VmsError.INTERNAL(`block ${index} is not stored`)
    if (core.fork !== this.fork) throw VmsError.INTERNAL('the log was truncated while proving')
    return { index, block, uncles: got.slice(0, uncleIndexes.length), roots: got.slice(uncleIndexes.length) }
  }

  private async read (indexes: number[]): Promise<TreeNodeRecord[]> {
    const out: Array<TreeNodeRecord | null> = indexes.map((i) => this.nodes.get(i) ?? null)
    const missing = indexes.filter((_, k) => out[k] === null)
    if (missing.length > 0) {
      const reading = readTreeNodes(this.core, missing)
      if (!reading) throw VmsError.INTERNAL('the log has no readable tree storage (see holepunch-internals.ts)')
      const found = await reading
      let m = 0
      for (let k = 0; k < out.length; k++) {
        if (out[k] !== null) continue
        const n = found[m++]
        if (!n) throw VmsError.INTERNAL(`tree node ${indexes[k]} is not stored`)
        const node = { index: n.index, size: n.size, hash: n.hash }
        out[k] = node
        if (this.max > 0) {
          this.nodes.set(node.index, node)
        }
      }
    }
    return out as TreeNodeRecord[]
  }
}

/**
 * Checks a block proof against a tree hash.
 * @param proof the proof
 * @param length the tree length the tree hash is for (blocks)
 * @param treeHash the tree hash, 32 bytes (from a signed root)
 * @returns true when the block is block `proof.index` of that tree
 */
export function verifyBlockProof (proof: BlockProof, length: number, treeHash: Uint8Array): boolean {
  try {
    // flat-tree indexes stay exact integers (2 * length < 2^53) for any log this side of 2^40 blocks
    if (!(Number.isSafeInteger(length) && length <= 2 ** 40 && Number.isSafeInteger(proof.index) && proof.index >= 0 && proof.index < length)) return false
    const expected = fullRoots(length)
    if (proof.roots.length !== expected.length || proof.roots.some((r, k) => r.index !== expected[k])) return false
    let node = { index: 2 * proof.index, size: proof.block.byteLength, hash: crypto.data(proof.block) as Uint8Array }
    for (const u of proof.uncles) {
      if (u.index !== flat.sibling(node.index)) return false
      const [l, r] = u.index < node.index ? [u, node] : [node, u]
      node = { index: flat.parent(node.index), size: l.size + r.size, hash: crypto.parent(l, r) as Uint8Array }
    }
    const root = proof.roots.find((r) => r.index === node.index)
    if (!root || root.size !== node.size || !b4a.equals(root.hash, node.hash)) return false
    return b4a.equals(crypto.tree(proof.roots), treeHash)
  } catch {
    // an untrusted proof: whatever it makes the hashing throw, it does not verify
    return false
  }
}
