/**
 * Path handling for `System.files`: every path a contract gives is confined
 * to the contract's own drive. Paths are posix-style; `..` is resolved
 * against the drive root, so nothing can climb out of it.
 */

import { VmsError } from '../errors.js'

/** Longest path accepted, in UTF-16 code units. */
export const MAX_PATH_LENGTH = 4096

/**
 * Normalises a contract-supplied path to the form {@link FilesView} expects:
 * absolute, `/`-separated, no `.`/`..` segments, no empty segments, no
 * trailing slash; the root is `/`. Relative paths are taken from the root.
 * `../../etc/passwd` becomes `/etc/passwd` (inside the drive).
 *
 * @param path anything the contract passed
 * @returns the normalised absolute path
 * @throws VmsError EINVAL when `path` is not a string, contains a NUL byte,
 *   or is longer than {@link MAX_PATH_LENGTH}
 */
export function normalisePath (path: unknown): string {
  if (typeof path !== 'string') throw VmsError.EINVAL(`path must be a string, got ${path === null ? 'null' : typeof path}`)
  if (path.includes('\0')) throw VmsError.EINVAL('path contains a NUL byte')
  if (path.length > MAX_PATH_LENGTH) throw VmsError.EINVAL(`path longer than ${MAX_PATH_LENGTH} characters`)
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
