/**
 * The one comparison of outcomes: a replayed call against its record
 * ({@link compareOutcome}: the host's rebuild and the watcher's judge), and
 * two replays of one call against each other ({@link sameReplay}: the
 * watcher's nondeterminism check), with the JSON form replays take in
 * evidence.
 */

import type { CallRecord } from '../../protocol/index.js'
import { hex } from '../bytes.js'
import type { CallOutcome, FileOp } from '../runtime/types.js'

/** How a replayed outcome differs from the record (a watcher's FaultDraft of kind result or error). */
export interface OutcomeDiff {
  kind: 'result' | 'error'
  message: string
  expected: Record<string, unknown>
  observed: Record<string, unknown>
}

function diff (kind: OutcomeDiff['kind'], message: string, expected: Record<string, unknown>, observed: Record<string, unknown>): OutcomeDiff {
  return { kind, message, expected, observed }
}

/** Compares a replayed outcome (result, error, oracle outputs used) with the record. */
export function compareOutcome (rec: CallRecord, out: CallOutcome): OutcomeDiff | null {
  const o = rec.outcome
  const expected = { ok: o.ok, result: o.result, error: o.error }
  const observed = { ok: out.ok, result: out.ok ? (out.resultJson ?? null) : null, error: out.ok ? null : (out.error ?? null), limit: out.limit ?? null }
  if (out.limit) {
    return diff(o.ok ? 'result' : 'error', `the replay hit the ${out.limit} limit where the host recorded ${o.ok ? 'a result' : o.error?.code}`, expected, observed)
  }
  if (o.ok && !out.ok) return diff('result', `the host recorded a result, the replay failed with ${out.error?.code}`, expected, observed)
  if (!o.ok && out.ok) return diff('error', `the host recorded ${o.error?.code}, the replay returned`, expected, observed)
  if (o.ok && (o.result ?? null) !== (out.resultJson ?? null)) return diff('result', 'the replay returned another result', expected, observed)
  if (!o.ok && (o.error?.code !== out.error?.code || o.error?.message !== out.error?.message)) {
    return diff('error', 'the replay failed with another error', expected, observed)
  }
  if (rec.oracles.length !== out.oracles.length || rec.oracles.some((v, i) => v !== out.oracles[i])) {
    return diff('result', `the record holds ${rec.oracles.length} oracle outputs, the replay used ${out.oracles.length}`, { oracles: rec.oracles }, { oracles: out.oracles })
  }
  return null
}

/** A replay of a call, summarised (in a fault's evidence). */
export interface ReplayJSON {
  /** `long-lived` sandbox (the one that followed the log) or `fresh` (rebuilt for the check). */
  sandbox: 'long-lived' | 'fresh'
  ok: boolean
  result: string | null
  error: { code: string, message: string } | null
  limit: string | null
  oracles: string[]
  writes: Array<{ op: string, path: string, data?: string }>
}

/** A replay outcome in JSON form (file contents hex). */
export function replayToJSON (sandbox: ReplayJSON['sandbox'], out: CallOutcome): ReplayJSON {
  return {
    sandbox,
    ok: out.ok,
    result: out.ok ? (out.resultJson ?? null) : null,
    error: out.ok ? null : (out.error ?? null),
    limit: out.limit ?? null,
    oracles: out.oracles,
    writes: out.writes.map(opToJSON)
  }
}

/** A file op in JSON form (content hex). */
export function opToJSON (w: FileOp): { op: string, path: string, data?: string } {
  return w.op === 'put' ? { op: w.op, path: w.path, data: hex(w.data) } : { op: w.op, path: w.path }
}

/** True when two replays of one call did exactly the same (outcome, oracles, writes). */
export function sameReplay (a: CallOutcome, b: CallOutcome): boolean {
  return JSON.stringify(replayToJSON('fresh', a)) === JSON.stringify(replayToJSON('fresh', b))
}
