/**
 * Key text formats: keys are printed z-base32 (52 chars, hypercore-id-encoding)
 * and accepted as z-base32 or 64 hex characters.
 */

import id from 'hypercore-id-encoding'
import { VmsError } from './errors.js'

/**
 * Parses a key given as z-base32 or hex.
 * @returns the 32-byte key
 * @throws VmsError BAD_KEY
 */
export function parseKey (text: string | Uint8Array): Buffer {
  try {
    return id.decode(typeof text === 'string' ? text.trim() : text)
  } catch {
    throw VmsError.BAD_KEY(`not a key: ${typeof text === 'string' ? JSON.stringify(text.slice(0, 80)) : 'bytes'}`)
  }
}

/** z-base32 text of a 32-byte key. */
export function formatKey (key: Uint8Array): string {
  return id.encode(Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength))
}
