/**
 * Every touch of a private field of a Holepunch module, in one place. The
 * rest of the code calls these functions and never casts its way into
 * Hypercore, Hyperbee or Hyperdrive itself.
 *
 * What is touched, and by whom:
 * - Hypercore `core.state.roots` / `core.state.length`: the Merkle roots of
 *   the current length ({@link coreRoots}; log/merkle.ts, host group commit).
 * - Hypercore `core.state.storage.read().getTreeNode()`: stored tree nodes
 *   ({@link readTreeNodes}; log/block-proof.ts, attest/head-evidence.ts).
 * - Hypercore `core.state.storage.read().getBlock()`: stored blocks, many in
 *   one read batch ({@link readStoredBlocks}; log/local-blocks.ts, read
 *   ahead by the watcher's judge and by every replay).
 * - Hypercore `core.replicator.setInflightRange()`: more block requests in
 *   flight per peer ({@link widenRequests}; watch/judge.ts).
 * - Hypercore `lib/merkle-tree.js` `MerkleTree.missingNodes`, replaced by
 *   the same count with its storage reads batched ({@link batchMissingNodes};
 *   watch/judge.ts, for the whole process).
 * - Hyperdrive `batch.db`, the Hyperbee batch under a drive batch, and that
 *   batch's `_append`, `toBlocks`, `blocks`, `appending`, `length`
 *   ({@link driveBatchBee}, {@link interceptBeeBlocks}; log/bee-eager.ts).
 * - `hyperbee/lib/messages.js`, Hyperbee's block codecs, loaded from the
 *   Hyperbee Hyperdrive itself loads ({@link hyperbeeMessages}).
 * - Hyperbee `bee._nodeCache` of a drive's database (`drive.db`), where
 *   Hyperbee keeps the blocks it read, decoded: the host puts the blocks it
 *   just appended there ({@link cacheBeeNodes}; log/contract-log.ts). The
 *   checkouts a replay reads through are given one cache of their own per
 *   fork instead of one each, so what one version's lookups read serves
 *   every later version's, and a replay reads blocks ahead into it
 *   ({@link shareBeeNodeCache}, {@link putBeeNodes}; replay/checkouts.ts,
 *   replay/replay-ahead.ts).
 * - Hyperbee `bee._sessions` of a drive checkout's database, and its core's
 *   `snapshotted`: a checkout reads through the snapshot it holds instead
 *   of one more per read ({@link readCheckoutInPlace}; replay/checkouts.ts).
 * - Hyperdrive `drive.blobs`, the Hyperblobs a drive has loaded so far (the
 *   public `getBlobs()` is async and loads them; {@link loadedBlobsCore};
 *   host/deploy-service.ts storage quota, checked in {@link checkDrive}).
 * - Hypercore `core.state.storage.createAtom()`: a storage atom, so that
 *   sessions opened with it (`core.session({ atom })`, public) of several
 *   cores of one store reach storage in one write on `atom.flush()`
 *   ({@link createAtom}; log/atomic-append.ts, the host's group commit).
 *   Hypercore's README shows it this way.
 * - Hypercore replication peers' `remoteContiguousLength` (`core.peers` is
 *   public, the shape of its peers is not; {@link replicationPeers};
 *   tui/host-adapter.ts replica count, attest/quorum.ts a replica still fetching an announced length; checked in {@link checkPeers}).
 * - A closed Hypercore session's `core` and `state`, set to null so a
 *   sleeping contract's closed log keeps no core memory alive
 *   ({@link releaseClosedSession}; host/sleep-state.ts).
 *
 * Each access is feature-checked: {@link checkCore} and
 * {@link checkDriveBatch} throw VmsError INTERNAL naming the field and the
 * installed module version when a field moved; the helpers used on hot
 * paths return null instead, and their callers fall back (slower, same
 * results). test/holepunch-internals.test.ts runs the checks on real
 * objects, so an upgrade that moves a field fails that test loudly instead
 * of silently taking the slow path.
 *
 * The hypercore pin: package.json pins hypercore to exactly 11.37.1, in
 * `dependencies` and in `overrides` (so Corestore and Hyperdrive load that
 * same copy: one class, one set of internals). The fields above are what
 * the pin protects; they were checked against 11.37.1 ({@link TESTED}). To
 * upgrade, change both entries together and run the test above.
 */

import { createRequire } from 'node:module'
import type Hypercore from 'hypercore'
import type Hyperdrive from 'hyperdrive'
import flat, { type FlatIterator } from 'flat-tree'
import safetyCatch from 'safety-catch'
import { VmsError } from '../errors.js'

/** The versions whose internals this module was written against. */
export const TESTED = { hypercore: '11.37.1', hyperbee: '2.27.3' }

const require = createRequire(import.meta.url)

/** A tree node as Hypercore stores it: flat-tree index, byte size, hash. */
export interface StoredTreeNode { index: number, size: number, hash: Buffer }

/** The installed version of `name` (resolved from `from`, default here), or 'unknown'. */
function versionOf (name: string, from?: string): string {
  try {
    const req = from ? createRequire(require.resolve(from)) : require
    const main = req.resolve(name)
    const at = main.lastIndexOf('/node_modules/' + name + '/')
    const pkg = main.slice(0, at + '/node_modules/'.length + name.length) + '/package.json'
    return String((req(pkg) as { version?: string }).version ?? 'unknown')
  } catch {
    // unknown is only used in messages: a missing package.json must not hide the real error
    return 'unknown'
  }
}

function moved (module: string, what: string, from?: string): Error {
  return VmsError.INTERNAL(`${module} ${versionOf(module, from)} moved ${what} (vms-node was written against ${module} ${TESTED[module as keyof typeof TESTED] ?? '?'}; see src/log/holepunch-internals.ts)`)
}

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
 * of one read batch per level (the batching its own TODO suggests). The
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
    tree = (createRequire(require.resolve('hypercore'))('./lib/merkle-tree.js') as { MerkleTree?: { missingNodes?: MissingNodes } }).MerkleTree ?? null
  } catch {
    return false
  }
  if (!tree || typeof tree.missingNodes !== 'function' || tree.missingNodes.length !== 3) return false
  tree.missingNodes = async (session, index, length) => await missingNodesInBatches(flat.iterator, session, index, length)
  missingNodesBatched = true
  return true
}

/** `MerkleTree.missingNodes` of Hypercore 11.37.1, with its storage reads in batches (see {@link batchMissingNodes}). */
export async function missingNodesInBatches (iterator: (index: number) => FlatIterator, session: Parameters<MissingNodes>[0], index: number, length: number): Promise<number> {
  const head = 2 * length
  const ite = iterator(index)
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

/** Hyperbee's block codecs (`hyperbee/lib/messages.js`), as far as bee-eager.ts uses them. */
export interface BeeMessages {
  Node: {
    encode (m: { key: Uint8Array, value: Uint8Array | null, index: Uint8Array }): Uint8Array
    decode (buf: Uint8Array): { key: Uint8Array, value: Uint8Array | null, index: Uint8Array | null }
  }
  YoloIndex: { encode (m: { levels: Array<{ keys: number[], children: number[] }> }): Uint8Array }
}

let messages: BeeMessages | null | undefined

/** Hyperbee's block codecs, from the Hyperbee that Hyperdrive itself loads; null when they cannot be loaded. */
export function hyperbeeMessages (): BeeMessages | null {
  if (messages !== undefined) return messages
  try {
    const req = createRequire(require.resolve('hyperdrive'))
    const m = req('hyperbee/lib/messages.js') as Partial<BeeMessages>
    messages = m && m.Node && m.YoloIndex && typeof m.Node.encode === 'function' && typeof m.YoloIndex.encode === 'function' ? m as BeeMessages : null
  } catch {
    // not loadable: drive groups write call by call (bee-eager.ts)
    messages = null
  }
  return messages
}

/** A tree node of a pending Hyperbee batch block, as far as its index is read. */
export interface PendingTreeNode { keys: Array<{ seq: number }>, children: Array<{ seq: number, offset: number }> }

/** The Hyperbee batch under a Hyperdrive batch (opaque outside this module). */
export interface BeeBatch { readonly length: number }

interface BeeBatchFields {
  length: number
  blocks: Map<number, { pendingIndex: Array<{ value: PendingTreeNode }> }> | null
  appending: Uint8Array[] | null
  _append (root: unknown, seq: number, key: Uint8Array, value: Uint8Array | null): unknown
  toBlocks (): Uint8Array[]
}

function beeFields (bee: BeeBatch): BeeBatchFields | null {
  const b = bee as unknown as Partial<BeeBatchFields>
  return typeof b._append === 'function' && typeof b.toBlocks === 'function' && b.blocks instanceof Map ? b as BeeBatchFields : null
}

/** The Hyperbee batch of a Hyperdrive batch (`batch.db`); null when it is not there. */
export function driveBatchBee (batch: object): BeeBatch | null {
  const db = (batch as { db?: unknown }).db
  return db && typeof db === 'object' && typeof (db as { length?: unknown }).length === 'number' ? db as BeeBatch : null
}

/** The blocks a Hyperbee batch will append (its `toBlocks()`). */
export function beeBatchBlocks (bee: BeeBatch): Uint8Array[] {
  const b = beeFields(bee)
  if (!b) throw moved('hyperbee', 'batch.toBlocks()', 'hyperdrive')
  return b.toBlocks()
}

/**
 * Makes a Hyperbee batch hand each block to `encode` as it is made (with
 * the tree index pending for it) and append exactly the blocks `encode`
 * returned, collected in `raws`.
 * @param onMismatch called (then INTERNAL thrown) when the batch made another number of blocks than were encoded
 * @returns false when the batch is not what this expects (nothing changed)
 */
export function interceptBeeBlocks (bee: BeeBatch, raws: Uint8Array[], encode: (key: Uint8Array, value: Uint8Array | null, index: Array<{ value: PendingTreeNode }>) => Uint8Array, onMismatch: () => void): boolean {
  const b = beeFields(bee)
  if (!b) return false
  const append = b._append
  b._append = function (this: BeeBatchFields, root, seq, key, value) {
    const res = append.call(this, root, seq, key, value)
    const block = this.blocks!.get(seq)
    if (!block || !Array.isArray(block.pendingIndex)) throw moved('hyperbee', 'the pending index of a batch block', 'hyperdrive')
    raws.push(encode(key, value, block.pendingIndex))
    return res
  }
  b.toBlocks = function (this: BeeBatchFields) {
    if (raws.length !== this.length) {
      onMismatch()
      throw VmsError.INTERNAL(`drive batch made ${this.length} blocks but ${raws.length} were encoded`)
    }
    if (!this.appending) this.appending = raws
    return this.appending
  }
  return true
}

/**
 * Checks the Hyperdrive/Hyperbee batch internals on a fresh drive batch.
 * @throws VmsError INTERNAL naming the field and the installed version when one moved
 */
export function checkDriveBatch (batch: object): void {
  if (!hyperbeeMessages()) throw moved('hyperbee', 'lib/messages.js (Node, YoloIndex)', 'hyperdrive')
  const bee = driveBatchBee(batch)
  if (!bee) throw moved('hyperdrive', 'batch.db')
  const b = beeFields(bee)
  if (!b) throw moved('hyperbee', 'batch._append / batch.toBlocks / batch.blocks', 'hyperdrive')
  if (!('appending' in b)) throw moved('hyperbee', 'batch.appending', 'hyperdrive')
}

/** A decoded Hyperbee block, as Hyperbee's node cache holds it. */
export interface BeeNode { key: Uint8Array, value: Uint8Array | null, index: Uint8Array | null, inflated: null }
/** What Hyperbee asks of a node cache it only reads through (a checkout's). */
export interface BeeNodeCache { get (seq: number): BeeNode | null, set (seq: number, node: BeeNode): void }

function beeNodeCache (drive: Hyperdrive): BeeNodeCache | null {
  const db = (drive as unknown as { db?: { _nodeCache?: Partial<BeeNodeCache> | null } | null }).db
  const cache = db && typeof db === 'object' ? db._nodeCache : null
  return cache && typeof cache.set === 'function' && typeof cache.get === 'function' ? cache as BeeNodeCache : null
}

/**
 * Puts database blocks just appended to a drive (at `start`, in order) into
 * its Hyperbee's node cache, decoded as Hyperbee decodes a block it reads,
 * so that the next batch does not read the index nodes it wrote back from
 * storage. Call it only with blocks that are the core's blocks (checked by
 * tree hash) at the core's current fork.
 * @returns false when the cache or the codecs are not there (reads then go to storage)
 */
export function cacheBeeNodes (drive: Hyperdrive, start: number, raws: readonly Uint8Array[]): boolean {
  const cache = beeNodeCache(drive)
  return cache !== null && putBeeNodes(cache, start, raws)
}

/**
 * Gives a checkout of a drive (an older version) `cache` as its Hyperbee's
 * node cache, once that Hyperbee has opened (it makes its own in `_open`).
 * A checkout only reads its cache (`get`, `set`); clearing it on truncate
 * or close is what a live Hyperbee does to its own, so the caller keeps one
 * cache per fork of the drive (replay/checkouts.ts). Sound because an entry
 * is one block of the database core, decoded, and a block at one index and
 * fork is the same in every version.
 * @returns false when the field is not there (the checkout keeps its own cache)
 */
export function shareBeeNodeCache (checkout: Hyperdrive, cache: BeeNodeCache): boolean {
  const db = (checkout as unknown as { db?: { ready?: () => Promise<void>, _nodeCache?: unknown } | null }).db
  if (!db || typeof db.ready !== 'function') return false
  // registered before any read of the checkout: it runs before the reads that waited for the same open
  db.ready().then(() => { if (db._nodeCache !== undefined) db._nodeCache = cache }, safetyCatch)
  return true
}

/**
 * Lets a checkout of a drive read through the snapshot session its
 * Hyperbee already holds (`bee._sessions = false`), instead of opening and
 * closing one more snapshot of it for every `get`, `entry` and directory
 * read. Only when that session is a snapshot (`core.snapshotted`, the case
 * of a checkout at a version the core already has): a snapshot of a
 * snapshot sees the same blocks, so every read gives what it gave before.
 * @returns false when the fields are not there or the checkout's core is no snapshot (reads open their own, as before)
 */
export function readCheckoutInPlace (checkout: Hyperdrive): boolean {
  const db = (checkout as unknown as { db?: { core?: { snapshotted?: unknown } | null, _sessions?: unknown } | null }).db
  if (!db || typeof db !== 'object' || typeof db._sessions !== 'boolean' || db.core?.snapshotted !== true) return false
  db._sessions = false
  return true
}

/**
 * Decodes database blocks of a drive (at `start`, in order) as Hyperbee
 * decodes a block it reads, into `cache`. Only with blocks that are the
 * core's blocks at the fork the cache is for.
 * @returns false when the codecs are not there
 * @throws when a block is no Hyperbee node (the blocks before it are in)
 */
export function putBeeNodes (cache: BeeNodeCache, start: number, raws: readonly Uint8Array[]): boolean {
  const m = hyperbeeMessages()
  if (!m) return false
  for (let k = 0; k < raws.length; k++) {
    const n = m.Node.decode(raws[k]!)
    cache.set(start + k, { key: n.key, value: n.value, index: n.index, inflated: null })
  }
  return true
}

/**
 * The blobs core of a drive, if the drive has loaded its blobs (Hyperdrive
 * `drive.blobs.core`; not loaded: before the first file content was read or
 * written, or when the field moved).
 * @returns the core (its `byteLength`, bytes, is what is read) or null
 */
export function loadedBlobsCore (drive: Hyperdrive): Hypercore | null {
  const blobs = (drive as unknown as { blobs?: { core?: unknown } | null }).blobs
  const core = blobs && typeof blobs === 'object' ? blobs.core : null
  return core && typeof (core as { byteLength?: unknown }).byteLength === 'number' ? core as Hypercore : null
}

/**
 * Checks the Hyperdrive `drive.blobs` field on an opened drive.
 * @throws VmsError INTERNAL naming the field and the installed version when it moved
 */
export async function checkDrive (drive: Hyperdrive): Promise<void> {
  const blobs = await drive.getBlobs()
  if (blobs === null) return // no blobs core yet (an empty replica): nothing loaded to compare
  if (loadedBlobsCore(drive) !== blobs.core) throw moved('hyperdrive', 'drive.blobs (the loaded Hyperblobs)')
  const cache = beeNodeCache(drive)
  if (!cache) throw moved('hyperbee', 'bee._nodeCache (of drive.db)', 'hyperdrive')
  const co = drive.checkout(drive.version)
  try {
    shareBeeNodeCache(co, cache)
    await co.ready()
    await (co as unknown as { db: { ready (): Promise<void> } }).db.ready() // a checkout's drive is ready before its Hyperbee
    if (beeNodeCache(co) !== cache) throw moved('hyperbee', 'bee._nodeCache (set in _open of a checkout)', 'hyperdrive')
    if (!readCheckoutInPlace(co)) throw moved('hyperbee', 'bee._sessions and core.snapshotted (of a checkout)', 'hyperdrive')
  } finally {
    await co.close()
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
