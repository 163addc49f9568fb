/**
 * Nesting depth of JSON, measured without recursion: a limit that holds the
 * same on every machine, whatever its stack size or JIT state. Depth counts
 * arrays and objects: a scalar is 0, `[]` and `{}` are 1, `[[1]]` is 2.
 *
 * Kept apart from json.ts so that the request checks (which may run before
 * any parsing, on raw request bytes) can call it alone.
 */

import { VmsError } from './errors.js'

const OPEN_ARRAY = 0x5b // [
const OPEN_OBJECT = 0x7b // {
const CLOSE_ARRAY = 0x5d // ]
const CLOSE_OBJECT = 0x7d // }
const QUOTE = 0x22 // "
const BACKSLASH = 0x5c // \

/**
 * Deepest nesting of arrays and objects in a JSON text, by one scan of its
 * code units (brackets inside strings do not count). Stops early once the
 * depth passes `stopAbove`. Meant for valid JSON; on other text it returns a
 * number all the same (the parse that follows rejects the text).
 * @param text JSON text (a string, or its UTF-8 bytes: the structural characters are ASCII)
 * @param stopAbove stop scanning once the depth is above this (default: scan it all)
 * @returns the depth (at most `stopAbove + 1` when it stopped early)
 */
export function jsonTextDepth (text: string | Uint8Array, stopAbove = Infinity): number {
  const bytes = typeof text !== 'string'
  const n = text.length
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < n; i++) {
    const ch = bytes ? (text as Uint8Array)[i]! : (text as string).charCodeAt(i)
    if (inString) {
      if (ch === BACKSLASH) i++
      else if (ch === QUOTE) inString = false
    } else if (ch === QUOTE) {
      inString = true
    } else if (ch === OPEN_ARRAY || ch === OPEN_OBJECT) {
      if (++depth > max) {
        max = depth
        if (max > stopAbove) return max
      }
    } else if (ch === CLOSE_ARRAY || ch === CLOSE_OBJECT) {
      depth--
    }
  }
  return max
}

/**
 * Throws unless a JSON text is nested at most `maxDepth` deep.
 * @param text JSON text or its UTF-8 bytes
 * @param maxDepth the limit (genesis `limits.maxDepth`)
 * @param what names the value in the message, e.g. `the arguments`
 * @throws VmsError TOO_DEEP
 */
export function checkJsonDepth (text: string | Uint8Array, maxDepth: number, what: string): void {
  if (jsonTextDepth(text, maxDepth) > maxDepth) throw VmsError.TOO_DEEP(`${what} ${what.endsWith('s') ? 'are' : 'is'} nested deeper than ${maxDepth}`)
}
