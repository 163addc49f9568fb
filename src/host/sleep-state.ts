/**
 * What a sleeping contract (ContractHost.sleep, contract-host.ts) keeps, and
 * nothing more.
 *
 * Its closed call log: the object, so `host.log` still reads (length 0, no
 * drive, null keys), without the cores' in-memory state. A closed Hypercore
 * session still references its core (bitfield pages, tree, replicator:
 * ~40 KB of heap and ~40 KB of buffers a contract, measured with 1,000
 * contracts), which would keep every sleeping contract's memory alive; a
 * session whose `core` and `state` are null is the state Hypercore's own
 * getters handle (before its open).
 *
 * Its small buffers (keys, hashes in the genesis and signer records): a
 * buffer decoded from a block or sliced from Node's 8 KiB allocation pool
 * keeps its whole backing store alive (~13 KB a contract measured), so
 * they are copied into backing stores of their own size.
 */

import type { ContractLog } from '../log/contract-log.js'
import { releaseClosedSession } from '../log/holepunch-internals.js'

/** Releases the in-memory state a closed log still references (see the module doc). Call only after `log.close()` resolved. */
export function releaseClosedLog (log: ContractLog): void {
  log.drive = null
  log.genesis = null
  releaseClosedSession(log.core)
}

/**
 * `buf` in a backing store of its own size (itself when it already is).
 * @returns a Buffer of the same bytes
 */
export function unpooled (buf: Uint8Array): Buffer {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.byteLength) return Buffer.from(buf.buffer, 0, buf.byteLength)
  const copy = Buffer.allocUnsafeSlow(buf.byteLength)
  copy.set(buf)
  return copy
}

/**
 * A shallow copy of `record` whose byte fields are {@link unpooled}.
 * @returns the same shape
 */
export function unpooledFields<T extends object> (record: T): T {
  const out = { ...record } as Record<string, unknown>
  for (const [k, v] of Object.entries(out)) if (v instanceof Uint8Array) out[k] = unpooled(v)
  return out as T
}
