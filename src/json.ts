/**
 * Canonical JSON (RFC 8785, JSON Canonicalization Scheme) via the
 * `canonicalize` package: what is hashed or signed is always canonical.
 */

import { createRequire } from 'node:module'
import { VmsError } from './errors.js'

/**
 * RFC 8785 canonical JSON of `value`, or undefined for a value JSON cannot
 * hold. Throws (TypeError) on cycles and BigInt. The `canonicalize` package
 * is CommonJS (`module.exports = fn`) while its typings describe an ES default
 * export, hence the require.
 */
export const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string | undefined

/**
 * Canonical JSON text of a JSON value.
 * @throws VmsError BAD_ARGUMENTS when the value is not JSON (undefined, function, BigInt, cycle)
 */
export function canonicalJson (value: unknown): string {
  let text: string | undefined
  try {
    text = canonicalize(value)
  } catch (err) {
    throw VmsError.BAD_ARGUMENTS(`not a JSON value: ${(err as Error).message}`)
  }
  if (text === undefined) throw VmsError.BAD_ARGUMENTS('not a JSON value')
  return text
}

/**
 * Canonical JSON of a call's argument list. Trailing `undefined`s are dropped
 * (a missing optional argument) and inner `undefined`s become null, as
 * JSON.stringify does.
 * @throws VmsError BAD_ARGUMENTS
 */
export function canonicalArgs (args: readonly unknown[]): string {
  const list = [...args]
  while (list.length > 0 && list[list.length - 1] === undefined) list.pop()
  return canonicalJson(JSON.parse(JSON.stringify(list)))
}

/**
 * Parses and re-canonicalises a JSON argument list received from a peer.
 * @returns the canonical text (equal to the input when the peer was honest)
 * @throws VmsError BAD_ARGUMENTS when it is not a JSON array
 */
export function checkArgsJson (text: string): string {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw VmsError.BAD_ARGUMENTS('arguments are not JSON')
  }
  if (!Array.isArray(value)) throw VmsError.BAD_ARGUMENTS('arguments must be a JSON array')
  return canonicalJson(value)
}

/** UTF-8 byte length of a string. */
export function byteLength (text: string): number {
  return Buffer.byteLength(text, 'utf8')
}
