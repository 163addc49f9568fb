/**
 * The fenced internals of Hyperbee and Hyperdrive (see
 * holepunch-internals.ts, the only module that imports this file): block
 * codecs, the Hyperbee batch under a drive batch, node caches, checkouts,
 * loaded blobs.
 */

import { createRequire } from 'node:module'
import type Hypercore from 'hypercore'
import type Hyperdrive from 'hyperdrive'
import safetyCatch from 'safety-catch'
import { VmsError } from '../../errors.js'
import { localRequire, moved } from './fence.js'

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
    const req = createRequire(localRequire.resolve('hyperdrive'))
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
