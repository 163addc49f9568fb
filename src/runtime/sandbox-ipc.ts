/**
 * The messages between a sandbox process (sandbox-child.ts) and its
 * supervisor (sandbox-process.ts), sent over the Node IPC channel with
 * `serialization: 'advanced'` (structured clone: Uint8Array stays bytes).
 * Ids: `sb` names a sandbox in the child, `call` a call in progress, `req`
 * a create or a files read.
 */

import type { ErrorRecord } from '../../protocol/index.js'
import type { CallContext, CallOutcome, FileStat, SandboxOptions } from './types.js'

/** A call context without its files view (reads go back to the supervisor). */
export type WireContext = Omit<CallContext, 'files' | 'statHints'>

/**
 * The files reads a child asks its supervisor for (the view of the call `call`).
 * A `stat` that finds a file or nothing is answered with the stats of the
 * path's ancestors too, up to the first that exists (`ancestors`, always
 * present in a `stat` answer, empty for a directory): what a
 * write asks next, saved a round trip each.
 */
export type ReadOp = 'read' | 'stat' | 'readdir'

/** Stats of paths of a call's files view, sent with the call (`CallContext.statHints` and their ancestors, as a `stat` answer gives them). */
export type PresetStats = Array<[string, FileStat | null]>

/** Supervisor -> child. */
export type ToChild =
  | { t: 'create', req: number, sb: number, source: string, opts: SandboxOptions }
  | { t: 'call', sb: number, call: number, ctx: WireContext, stats?: PresetStats }
  | { t: 'close', sb: number }
  | { t: 'read', req: number, ok: true, value: Uint8Array | FileStat | string[] | null, ancestors?: Array<[string, FileStat | null]> }
  | { t: 'read', req: number, ok: false, message: string }

/** Child -> supervisor. */
export type FromChild =
  | { t: 'created', req: number, methods: string[] }
  | { t: 'created', req: number, error: ErrorRecord }
  | { t: 'done', call: number, usable: boolean, outcome: CallOutcome }
  | { t: 'done', call: number, usable: boolean, error: ErrorRecord }
  | { t: 'read', req: number, call: number, op: ReadOp, path: string }
