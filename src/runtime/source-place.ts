/**
 * Where a compile error is in the contract file. The contract is compiled
 * wrapped, `WRAPPER_HEAD + source + WRAPPER_TAIL` (bootstrap.ts), and V8
 * (through isolated-vm, which appends ` [file:line:column]` to the message)
 * reports places in the wrapped script: on line 1 the column counts the
 * head too, and a place past the source is in the tail, which the parser
 * only reaches when the source ends inside an open brace, bracket,
 * parenthesis, string or template. Only the message is mapped: the script
 * compiled (and every stack trace a contract can read) is unchanged.
 */

import { WRAPPER_HEAD } from './bootstrap.js'

/** Line terminators as ECMAScript counts lines. */
export const LINE_BREAKS = /\r\n|[\n\r\u2028\u2029]/

/**
 * @param message the compile error's message, e.g. `Unexpected token '*' [a.js:1:70]`
 * @param source the contract source (without the wrapper)
 * @param filename the file name it was compiled under
 * @returns the message with its place in `source` (line and column from 1); an
 *   unexpected token of the tail becomes `Unexpected end of input` at the end of
 *   the file, as Node says for the same file; unchanged when it names no place
 */
export function placeInSource (message: string, source: string, filename: string): string {
  const mark = ` [${filename}:`
  const at = message.lastIndexOf(mark)
  const m = at === -1 ? null : /^(\d+):(\d+)\]$/.exec(message.slice(at + mark.length))
  if (!m) return message
  let text = message.slice(0, at)
  let line = Number(m[1])
  let column = Number(m[2])
  if (line === 1) column = Math.max(1, column - WRAPPER_HEAD.length)
  const lines = source.split(LINE_BREAKS)
  const end = lines[lines.length - 1]!.length + 1
  if (line > lines.length || (line === lines.length && column > end)) {
    if (/^Unexpected token\b/.test(text)) text = 'Unexpected end of input' // the wrapper's token, not the contract's
    line = lines.length
    column = end
  }
  return `${text} [${filename}:${line}:${column}]`
}
