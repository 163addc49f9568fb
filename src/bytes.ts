/**
 * Byte strings as text, for JSON evidence, map keys and messages.
 */

/** Lower-case hex of `b` (a view of its bytes, not a copy of the whole buffer). */
export function hex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}
