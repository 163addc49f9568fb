/**
 * While the terminal UI is up, nothing else may write to the terminal: the
 * console methods and direct writes to stderr are routed into the event log
 * instead, and put back when the UI closes.
 */

import { format } from 'node:util'
import type { EventLevel, NodeState } from './state.js'

type Write = typeof process.stderr.write

/**
 * Routes `console.*` and `process.stderr.write` into `state`'s event log.
 * @returns a function that restores them (idempotent)
 */
export function captureLogs (state: NodeState): () => void {
  const names = ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const
  const saved = names.map((n) => console[n])
  const level = (n: typeof names[number]): EventLevel => n === 'error' || n === 'trace' ? 'error' : n === 'warn' ? 'warn' : 'info'
  for (const n of names) {
    console[n] = (...args: unknown[]) => state.log(level(n), format(...args))
  }
  const write: Write = process.stderr.write
  let partial = ''
  process.stderr.write = function (chunk: unknown, ...rest: unknown[]): boolean {
    const text = partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString())
    const lines = text.split('\n')
    partial = lines.pop() ?? ''
    if (lines.length > 0) state.log('warn', lines.join('\n'))
    const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined
    if (cb) queueMicrotask(cb)
    return true
  } as Write
  let restored = false
  return () => {
    if (restored) return
    restored = true
    names.forEach((n, i) => { console[n] = saved[i] })
    process.stderr.write = write
    if (partial) state.log('warn', partial)
  }
}
