/**
 * A log that runs another contract than the one given with `--source` /
 * `--source-hash` (`verify`, `watch`), said as such in plain output: the
 * source the log runs shown as text, with the first line where it differs,
 * instead of the genesis fault's JSON (block 0 as a hex dump, "(host)")
 * that reads as if the host lied. The host runs the contract its genesis
 * names; it is the user's expectation that differs. `--json` keeps the
 * verdict and its evidence unchanged.
 *
 * The source is the host's text, shown to a terminal: control and bidi
 * characters are shown escaped (`\u001b`), so it cannot clear, retitle or
 * reorder the screen; at most {@link SHOWN_LINES} lines of at most
 * {@link SHOWN_WIDTH} characters are shown.
 */

import fs from 'node:fs'
import b4a from 'b4a'
import type { GenesisRecord } from '../../protocol/index.js'
import { hex } from '../bytes.js'
import { hash } from '../crypto.js'
import { VmsError } from '../errors.js'
import { LINE_BREAKS } from '../runtime/source-place.js'
import type { Verdict } from '../watch/verdict.js'

/** Lines of the log's source shown. */
export const SHOWN_LINES = 40
/** Characters of one line shown. */
export const SHOWN_WIDTH = 160

/** The contract the user expects: its hash and, with `--source`, its file and text. */
export interface ExpectedSource {
  /** BLAKE2b-256 of the expected source (32 bytes). */
  sourceHash: Buffer
  /** The `--source` file, as given (absent for `--source-hash`). */
  file?: string
  /** Its text. */
  text?: string
}

/**
 * Reads `--source` / `--source-hash`.
 * @returns what the genesis must match, or null when neither is given
 * @throws VmsError BAD_ARGUMENT (unreadable file, not 64 hex characters)
 */
export function readExpectedSource (opts: { source?: string, sourceHash?: string }): ExpectedSource | null {
  if (opts.source !== undefined) {
    let text: string
    try {
      text = fs.readFileSync(opts.source, 'utf8')
    } catch (err) {
      throw VmsError.BAD_ARGUMENT(`cannot read --source ${opts.source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    return { sourceHash: hash(Buffer.from(text)), file: opts.source, text }
  }
  if (opts.sourceHash !== undefined) {
    if (!/^[0-9a-f]{64}$/i.test(opts.sourceHash)) throw VmsError.BAD_ARGUMENT('--source-hash must be 64 hex characters (BLAKE2b-256)')
    return { sourceHash: Buffer.from(opts.sourceHash, 'hex') }
  }
  return null
}

/**
 * Whether `v` faults only because the log runs another contract than
 * `expected`: a genesis fault whose genesis is sound (its source hashes to
 * its source hash: the host runs what it names) and names another hash.
 * @param genesis the genesis the watch read (null when it did not decode)
 */
export function isSourceMismatch (v: Verdict, genesis: GenesisRecord | null, expected: ExpectedSource | null): genesis is GenesisRecord {
  const f = v.fault
  if (!f || f.kind !== 'genesis' || !genesis || !expected) return false
  if (f.evidence.expected.sourceHash !== hex(expected.sourceHash)) return false // another genesis fault (its signer, its own hash)
  return !b4a.equals(genesis.sourceHash, expected.sourceHash) && b4a.equals(hash(Buffer.from(genesis.source)), genesis.sourceHash)
}

/**
 * The plain-text report of a mismatch ({@link isSourceMismatch}): what the
 * log runs against what was expected, then the log's source, numbered.
 * @returns lines for stdout
 */
export function mismatchLines (v: Verdict, genesis: GenesisRecord, expected: ExpectedSource): string[] {
  const theirs = linesOf(genesis.source)
  const yours = expected.file !== undefined ? `${shown(expected.file)} (--source)` : '--source-hash'
  const out = [
    `MISMATCH ${v.contract}: the log runs another contract than ${yours}; the host runs the one its genesis names (not a fault of the host)`,
    `  the log's: contract "${shown(genesis.name)}", ${count(theirs.length)}, BLAKE2b-256 ${hex(genesis.sourceHash)}`
  ]
  if (expected.text !== undefined) {
    const mine = linesOf(expected.text)
    let i = 0
    while (i < theirs.length && i < mine.length && theirs[i] === mine[i]) i++
    out.push(`  yours:     ${count(mine.length)}, BLAKE2b-256 ${hex(expected.sourceHash)}; they differ from line ${i + 1}`)
  } else {
    out.push(`  yours:     BLAKE2b-256 ${hex(expected.sourceHash)}`)
  }
  out.push('The source the log runs:')
  const width = String(Math.min(theirs.length, SHOWN_LINES)).length
  theirs.slice(0, SHOWN_LINES).forEach((line, i) => out.push(`  ${String(i + 1).padStart(width)}  ${shown(line)}`))
  if (theirs.length > SHOWN_LINES) out.push(`  … ${theirs.length - SHOWN_LINES} more lines`)
  return out
}

function count (lines: number): string {
  return lines === 1 ? '1 line' : `${lines} lines`
}

/** The lines of `text` (a final line break ends the last line, it starts none). */
function linesOf (text: string): string[] {
  const lines = text.split(LINE_BREAKS)
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop()
  return lines
}

/** Control characters (but tab) and the bidi marks, overrides and isolates. */
// eslint-disable-next-line no-control-regex -- control characters are what it escapes
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** `text` safe for a terminal: unsafe characters as `\u` escapes of four hex digits, cut at {@link SHOWN_WIDTH} characters. */
function shown (text: string): string {
  const cut = text.length > SHOWN_WIDTH ? text.slice(0, SHOWN_WIDTH) + '…' : text
  return cut.replace(UNSAFE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}
