/**
 * The fenced internals of Hypercore (see holepunch-internals.ts, the only
 * module that imports this file): core state, tree and block storage reads,
 * storage atoms, the replicator, replication peers, closed sessions.
 */

import { createRequire } from 'node:module'
import type Hypercore from 'hypercore'
import flat from 'flat-tree'
import { VmsError } from '../../errors.js'
import { localRequire, moved } from './fence.js'

/** A tree node as Hypercore stores it: flat-tree index, byte size, hash. */
export interface StoredTreeNode { index: number, size: number, hash: Buffer }

interface CoreState {
  length?: number
  roots?: StoredTreeNode[]
  storage?: { read (): TreeReader, createAtom?: () => StorageAtom }
}

/** A Hypercore storage atom: what sessions opened with it change reaches storage in one write at {@link StorageAtom.flush}. */
export interface StorageAtom { flush (): Promise<void> }
interface TreeReader { getTreeNode (index: number): Promise<StoredTreeNode | null>, getBlock?: (index: number) => Promise<Buffer | null>, tryFlush (): void }

function stateOf (core: Hypercore): CoreState | null {
  const state = (core as unknown as { state?: CoreState | null }).state
  return state && typeof state === 'object' ? state : null
}

/**
 * The Merkle roots Hypercore holds for its current length.
 * @returns index, byte size, hash of each root; null when not readable (or not for `core.length`)
 */
export function coreRoots (core: Hypercore): StoredTreeNode[] | null {
  const state = stateOf(core)
  if (!state || !Array.isArray(state.roots) || state.length !== core.length) return null
  return state.roots.map((r) => ({ index: r.index, size: r.size, hash: r.hash }))
}

/**
 * Reads stored tree nodes in one storage batch.
 * @param indexes flat-tree indexes
 * @returns the nodes in order (null for one not stored); null when the core has no readable tree storage
 */
export function readTreeNodes (core: Hypercore, indexes: number[]): Promise<Array<StoredTreeNode | null>> | null {
  return readBatch(core, indexes, (rx) => (i) => rx.getTreeNode(i))
}

/**
 * One storage read batch of `core`: `reader` picks the read of the batch,
 * which is done for each index, then the batch is flushed once.
 * @returns null when the core has no readable storage or `reader` gives none
 */
function readBatch<T> (core: Hypercore, indexes: readonly number[], reader: (rx: TreeReader) => ((index: number) => Promise<T>) | null): Promise<T[]> | null {
  const storage = stateOf(core)?.storage
  if (!storage || typeof storage.read !== 'function') return null
  const rx = storage.read()
  const read = reader(rx)
  if (!read) return null
  const reads = indexes.map((i) => read(i))
  rx.tryFlush()
  return Promise.all(reads)
}

/** Whether `core` is encrypted (its stored bytes are not its blocks). */
function encrypted (core: Hypercore): boolean {
  return Boolean((core as unknown as { encryption?: unknown }).encryption)
}

/**
 * Reads stored blocks in one storage read batch (one RocksDB read for all,
 * not one `core.get` each). Only for an unencrypted core: the bytes are
 * what storage holds.
 * @param indexes block indexes (any order, below the core's length)
 * @returns the blocks in order (null for one not stored); null when the
 *   core is encrypted or has no readable block storage (read them with `core.get`)
 */
export function readStoredBlocks (core: Hypercore, indexes: readonly number[]): Promise<Array<Buffer | null>> | null {
  if (encrypted(core)) return null
  return readBatch(core, indexes, (rx) => typeof rx.getBlock === 'function' ? rx.getBlock.bind(rx) : null)
}

/**
 * A new storage atom of the store `core` lives in (Hypercore's
 * `core.state.storage.createAtom()`); open sessions with
 * `core.session({ atom })` of any core of that store.
 * @returns null when the field is not there
 */
export function createAtom (core: Hypercore): StorageAtom | null {
  const storage = stateOf(core)?.storage
  return storage && typeof storage.createAtom === 'function' ? storage.createAtom() : null
}

/** Tree levels {@link batchMissingNodes} reads per storage batch. */
const MISSING_NODES_BATCH = 8

type MissingNodes = (session: { storage: { read (): { hasTreeNode (index: number): Promise<boolean>, tryFlush (): void } } }, index: number, length: number) => Promise<number>
let missingNodesBatched = false

/**
 * Makes Hypercore's `MerkleTree.missingNodes` (hypercore/lib/merkle-tree.js,
 * called for every block request a downloading peer sends, to say how many
 * proof nodes it needs) read the tree levels it walks
 * {@link MISSING_NODES_BATCH} at a time in one storage read batch, instead
 * of one read batch per level (as a comment in its source proposes). The
 * answer is the same: the number of nodes from `index` up that are not
 * stored, stopping at the first that is or at the node spanning `length`.
 * A watcher behind a loaded host made about 9,000 such read batches a
 * second, most of all its storage reads. For the whole process, once.
 * @returns false when the function is not where it was (Hypercore's own is kept)
 */
export function batchMissingNodes (): boolean {
  if (missingNodesBatched) return true
  let tree: { missingNodes?: MissingNodes } | null = null
  try {
    tree = (createRequire(localRequire.resolve('hypercore'))('./lib/merkle-tree.js') as { MerkleTree?: { missingNodes?: MissingNodes } }).MerkleTree ?? null
  } catch {
    return false
  }
  if (!tree || typeof tree.missingNodes !== 'function' || tree.missingNodes.length !== 3) return false
  tree.missingNodes = missingNodesInBatches
  missingNodesBatched = true
  return true
}

/** `MerkleTree.missingNodes` of Hypercore 11.37.1, with its storage reads in batches (see {@link batchMissingNodes}). */
export async function missingNodesInBatches (session: Parameters<MissingNodes>[0], index: number, length: number): Promise<number> {
  const head = 2 * length
  const ite = flat.iterator(index)
  // the index is not in the current tree: how many nodes are missing is not known
  if (ite.index + ite.factor / 2 - 1 >= head) return 0
  let cnt = 0
  for (;;) {
    const level: number[] = []
    while (level.length < MISSING_NODES_BATCH && !ite.contains(head)) {
      level.push(ite.index)
      ite.parent()
    }
    if (level.length === 0) return cnt
    const rx = session.storage.read()
    const has = level.map((i) => rx.hasTreeNode(i))
    rx.tryFlush()
    for (const stored of await Promise.all(has)) {
      if (stored) return cnt
      if (++cnt >= 1024) throw VmsError.INTERNAL(`bad arguments to missingNodes index=${index} at length=${length}`)
    }
  }
}

/** Lets the replication of `core` keep 256..512 block requests in flight per peer instead of 16..512 (no-op when it cannot). */
export function widenRequests (core: Hypercore): void {
  const r = (core as unknown as { replicator?: { setInflightRange?: (min: number, max: number) => void } }).replicator
  if (r && typeof r.setInflightRange === 'function') r.setInflightRange(256, 512)
}

/**
 * Checks the Hypercore internals on an opened core with at least one block.
 * @throws VmsError INTERNAL naming the field and the installed version when one moved
 */
export async function checkCore (core: Hypercore): Promise<void> {
  const state = stateOf(core)
  if (!state) throw moved('hypercore', 'core.state')
  if (!Array.isArray(state.roots) || typeof state.length !== 'number') throw moved('hypercore', 'core.state.roots / core.state.length')
  if (!coreRoots(core)) throw moved('hypercore', 'core.state.length (not the core length)')
  const reading = readTreeNodes(core, [0])
  if (!reading) throw moved('hypercore', 'core.state.storage.read()')
  const [node] = await reading
  if (!node || typeof node.index !== 'number' || typeof node.size !== 'number' || !Buffer.isBuffer(node.hash)) throw moved('hypercore', 'the tree node shape of getTreeNode()')
  const r = (core as unknown as { replicator?: { setInflightRange?: unknown } }).replicator
  if (!r || typeof r.setInflightRange !== 'function') throw moved('hypercore', 'core.replicator.setInflightRange()')
  const atom = createAtom(core)
  if (!atom || typeof atom.flush !== 'function') throw moved('hypercore', 'core.state.storage.createAtom()')
  if (!encrypted(core)) {
    const blocks = readStoredBlocks(core, core.length > 0 ? [0] : [])
    if (!blocks) throw moved('hypercore', 'core.state.storage.read().getBlock()')
    const [first] = await blocks
    if (core.length > 0 && (await core.has(0)) && !(first && first.equals(await core.get(0) as Buffer))) throw moved('hypercore', 'the block getBlock() reads')
  }
}

/** A replication peer of a core, as far as it is read: how long a contiguous copy the remote holds, blocks. */
export interface ReplicationPeer { remoteContiguousLength: number }

/** The replication peers of `core` whose `remoteContiguousLength` reads as a number (none when the field moved). */
export function replicationPeers (core: Hypercore): ReplicationPeer[] {
  const peers: unknown[] = Array.isArray(core.peers) ? core.peers : []
  return peers.filter((p): p is ReplicationPeer => !!p && typeof (p as { remoteContiguousLength?: unknown }).remoteContiguousLength === 'number')
}

/**
 * Checks `remoteContiguousLength` on every replication peer of `core`
 * (call it while the core replicates with at least one peer).
 * @throws VmsError INTERNAL naming the field and the installed version when it moved
 */
export function checkPeers (core: Hypercore): void {
  if (core.peers.length === 0 || replicationPeers(core).length !== core.peers.length) throw moved('hypercore', 'core.peers[].remoteContiguousLength')
}

/**
 * Drops a closed Hypercore session's references to its core and session
 * state (bitfield pages, tree, replicator), which a closed session keeps;
 * its public getters then answer as before its open (length 0, null keys,
 * no peers).
 * @returns false when the session is not closed or the fields moved (nothing done)
 */
export function releaseClosedSession (session: Hypercore): boolean {
  const s = session as unknown as { closed?: boolean, core?: unknown, state?: unknown }
  if (s.closed !== true || !('core' in s) || !('state' in s)) return false
  s.core = null
  s.state = null
  return true
}
