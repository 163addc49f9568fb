/**
 * Reading many stored blocks of a Hypercore in one storage read batch
 * instead of one `core.get` (one RocksDB read batch) each: the watcher's
 * judge reads the record, drive and blob blocks of many calls ahead this
 * way (watch/judge-ahead.ts), and so does every replay of a log
 * (replay/replay-ahead.ts).
 *
 * The batch is Hypercore's storage read (holepunch-internals.ts,
 * `readStoredBlocks`). When that is not there (another Hypercore) or the
 * core is encrypted, it falls back to `core.get(i, { wait: false })` per
 * block: slower, same bytes.
 */

import type Hypercore from 'hypercore'
import { readStoredBlocks } from './holepunch-internals.js'

/**
 * The stored blocks at `indexes`, read without waiting for peers.
 * @param core an opened core
 * @param indexes block indexes (any order, below the core's length)
 * @returns the blocks in the order of `indexes`, null for one not stored here
 */
export async function readLocalBlocks (core: Hypercore, indexes: readonly number[]): Promise<Array<Buffer | null>> {
  if (indexes.length === 0) return []
  try {
    const batch = readStoredBlocks(core, indexes)
    if (batch) return await batch
  } catch {
    // a session closing under the batch: read them one by one (each says why it failed)
  }
  return await Promise.all(indexes.map((i) => core.get(i, { wait: false }).catch(() => null) as Promise<Buffer | null>))
}
