/**
 * Canonical JSON (RFC 8785, JSON Canonicalization Scheme) via the
 * `canonicalize` package: what is hashed or signed is always canonical.
 *
 * `canonicalize` recurses, so its stack use grows with nesting and the point
 * where it overflows depends on the machine and its JIT state. Every input
 * from a peer or a contract is therefore depth-checked first, by iterative
 * code (json-depth.ts), against the contract's `limits.maxDepth`; within that
 * limit canonicalisation never comes near the stack limit.
 */

import { createRequire } from 'node:module'
import { LIMITS_EXTENSION_DEFAULTS } from '../protocol/limits.js'
import { VmsError } from './errors.js'
import { checkJsonDepth } from './json-depth.js'

/** The default nesting limit of arguments and results (genesis `limits.maxDepth`). */
export const DEFAULT_MAX_DEPTH = LIMITS_EXTENSION_DEFAULTS.maxDepth

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
 * Canonical JSON of a call's argument list, as a caller sends it. Trailing
 * `undefined`s are dropped (a missing optional argument) and inner
 * `undefined`s become null, as JSON.stringify does. The list itself counts
 * one level of depth.
 * @param maxDepth the contract's `limits.maxDepth` (default {@link DEFAULT_MAX_DEPTH})
 * @throws VmsError BAD_ARGUMENTS (not JSON), TOO_DEEP (nested deeper than `maxDepth`)
 */
export function canonicalArgs (args: readonly unknown[], maxDepth = DEFAULT_MAX_DEPTH): string {
  const list = [...args]
  while (list.length > 0 && list[list.length - 1] === undefined) list.pop()
  let text: string
  try {
    text = JSON.stringify(list)
  } catch (err) {
    // JSON.stringify recurses: a value too deep for this stack is too deep for any limit
    if (err instanceof RangeError) throw VmsError.TOO_DEEP(`the arguments are nested deeper than ${maxDepth}`)
    throw VmsError.BAD_ARGUMENTS(`not a JSON value: ${(err as Error).message}`)
  }
  checkJsonDepth(text, maxDepth, 'the arguments')
  return canonicalJson(JSON.parse(text))
}

/**
 * Canonical JSON of a JSON text that a contract produced (a result), depth
 * checked first.
 * @param maxDepth the contract's `limits.maxDepth`
 * @returns the canonical text, or undefined when it does not canonicalise
 * @throws VmsError TOO_DEEP
 */
export function canonicalResult (text: string, maxDepth: number): string | undefined {
  checkJsonDepth(text, maxDepth, 'the result')
  try {
    return canonicalize(JSON.parse(text))
  } catch {
    return undefined
  }
}

/**
 * Parses and re-canonicalises a JSON argument list received from a peer.
 * The depth check (iterative) comes before any parse.
 * @param maxDepth the contract's `limits.maxDepth` (default {@link DEFAULT_MAX_DEPTH})
 * @returns the canonical text (equal to the input when the peer was honest)
 * @throws VmsError TOO_DEEP, BAD_ARGUMENTS when it is not a JSON array
 */
export function checkArgsJson (text: string, maxDepth = DEFAULT_MAX_DEPTH): string {
  checkJsonDepth(text, maxDepth, 'the arguments')
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
