/**
 * The cut of recorded error messages: deterministic, so that a replay cuts a
 * message exactly where the host did. The same algorithm runs inside the
 * isolate (bootstrap-system.ts `cutMessage`) before a message is copied out,
 * and here as the host's guard on every error outcome.
 *
 * Rule: lone surrogates become U+FFFD (so the UTF-8 log keeps the message
 * exactly); a message of at most `maxBytes` UTF-8 bytes is kept whole; a
 * longer one keeps its longest prefix of whole code points that fits in
 * `maxBytes - 6` bytes, followed by {@link CUT_MARK}.
 */

/** What ends a cut message (6 bytes). */
export const CUT_MARK = ' [cut]'

const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/**
 * A message cut to `maxBytes` UTF-8 bytes by the rule above.
 * @param message any string
 * @param maxBytes the limit (genesis `limits.maxErrorBytes`, at least 16)
 * @returns the message, well-formed and at most `maxBytes` bytes
 */
export function cutMessage (message: string, maxBytes: number): string {
  const keep = maxBytes - CUT_MARK.length
  let bytes = 0
  let cutAt = 0
  const n = message.length
  for (let i = 0; i < n; i++) {
    const u = message.charCodeAt(i)
    let size = u < 0x80 ? 1 : u < 0x800 ? 2 : 3
    let width = 1
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < n) {
      const v = message.charCodeAt(i + 1)
      if (v >= 0xdc00 && v <= 0xdfff) { size = 4; width = 2 }
    }
    bytes += size
    if (bytes > maxBytes) return message.slice(0, cutAt).replace(LONE_SURROGATES, '\ufffd') + CUT_MARK
    if (bytes <= keep) cutAt = i + width
    i += width - 1
  }
  return message.replace(LONE_SURROGATES, '\ufffd')
}
