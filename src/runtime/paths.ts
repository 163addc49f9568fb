/**
 * Path handling for `System.files`: every path a contract gives is confined
 * to the contract's own drive. Paths are posix-style; `..` is resolved
 * against the drive root, so nothing can climb out of it.
 */

import { LIMITS_EXTENSION_DEFAULTS } from '../../protocol/limits.js'
import { VmsError } from '../errors.js'

/** Default longest path accepted, in UTF-8 bytes (genesis `limits.maxPathBytes`). */
export const DEFAULT_MAX_PATH_BYTES = LIMITS_EXTENSION_DEFAULTS.maxPathBytes

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * True when `text` is valid Unicode: no lone (unpaired) UTF-16 surrogate.
 * What `String.prototype.isWellFormed` answers (ES2024), by an explicit check
 * so that it does not depend on the V8 at hand.
 */
export function isWellFormed (text: string): boolean {
  return !LONE_SURROGATE.test(text)
}

/**
 * Normalises a contract-supplied path to the form {@link FilesView} expects:
 * absolute, `/`-separated, no `.`/`..` segments, no empty segments, no
 * trailing slash; the root is `/`. Relative paths are taken from the root.
 * `../../etc/passwd` becomes `/etc/passwd` (inside the drive).
 *
 * Paths are never rewritten: one that is not valid Unicode (a lone
 * surrogate, which a drive would store as U+FFFD and so merge with another
 * name) is refused.
 *
 * @param path anything the contract passed
 * @param maxPathBytes longest path accepted, UTF-8 bytes of `path` as given
 * @returns the normalised absolute path
 * @throws VmsError EINVAL when `path` is not a string, is longer than
 *   `maxPathBytes`, contains a NUL byte or a lone surrogate
 */
export function normalisePath (path: unknown, maxPathBytes = DEFAULT_MAX_PATH_BYTES): string {
  if (typeof path !== 'string') throw VmsError.EINVAL(`path must be a string, got ${path === null ? 'null' : typeof path}`)
  // a UTF-16 unit is at least one UTF-8 byte: the length alone rejects most long paths without encoding them
  if (path.length > maxPathBytes || Buffer.byteLength(path) > maxPathBytes) throw VmsError.EINVAL(`path longer than ${maxPathBytes} bytes`)
  if (path.includes('\0')) throw VmsError.EINVAL('path contains a NUL byte')
  if (!isWellFormed(path)) throw VmsError.EINVAL('path is not valid Unicode (a lone surrogate)')
  const out: string[] = []
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') out.pop()
    else out.push(seg)
  }
  return '/' + out.join('/')
}

/**
 * The parent directory of a normalised path; the root's parent is the root.
 * @param path a normalised path (see {@link normalisePath})
 */
export function parentOf (path: string): string {
  const i = path.lastIndexOf('/')
  return i <= 0 ? '/' : path.slice(0, i)
}

/**
 * `dir` + `/` + `name` for a normalised directory path and a child name.
 * @param dir a normalised directory path
 * @param name one path segment
 */
export function joinPath (dir: string, name: string): string {
  return dir === '/' ? '/' + name : dir + '/' + name
}

/**
 * The prefix every path strictly below `dir` starts with (`/` for the root).
 * @param dir a normalised directory path
 */
export function childPrefix (dir: string): string {
  return dir === '/' ? '/' : dir + '/'
}
