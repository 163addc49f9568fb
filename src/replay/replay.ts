/**
 * Replay of logged calls in a sandbox: each call runs with its recorded
 * caller, time, seed and oracle outputs, reading the files drive at the
 * version the record says the call read. Used by the host to rebuild a
 * contract's in-memory state (on start, and after a limit disposed the
 * isolate); the watcher compares what a replay gives with what was recorded.
 *
 * Rule shared by host and watchers: a call whose record says a host limit
 * ended it (`outcome.limit`) is not replayed: its effects were discarded and
 * the isolate was rebuilt from the calls before it.
 */

import type { CallRecord } from '../../protocol/index.js'
import { formatKey } from '../keys.js'
import { DriveFiles } from '../log/drive-files.js'
import type { ContractLog } from '../log/contract-log.js'
import type { CallContext, CallOutcome, Sandbox } from '../runtime/types.js'
import { Checkouts } from './checkouts.js'
import { compareOutcome } from './outcome.js'
import { ReplayAhead } from './replay-ahead.js'

/**
 * The sandbox context that replays `rec`, reading files from `files`.
 * @param statHints paths the call is expected to stat (those its record wrote; see CallContext)
 */
export function replayContext (rec: CallRecord, files: CallContext['files'], statHints?: readonly string[]): CallContext {
  return {
    ...(statHints && statHints.length > 0 ? { statHints } : {}),
    method: rec.request.method,
    argsJson: rec.request.args,
    callerId: formatKey(rec.request.caller),
    timestamp: rec.timestamp,
    seed: rec.seed,
    files,
    oracle: { mode: 'replay', outputs: rec.oracles }
  }
}

/** True when the record says a host limit ended the call (it is skipped on replay). */
export function isLimitRecord (rec: CallRecord): boolean {
  return rec.outcome.limit !== null
}

/** Progress of {@link replayRange}. */
export interface ReplayStats {
  /** Calls executed in the sandbox. */
  replayed: number
  /** Calls skipped because a limit ended them on the host. */
  skipped: number
  /** Replays whose outcome differed from the record (nondeterminism or a lying host). */
  mismatches: number[]
}

/** Calls a replay from the log keeps in flight in its sandbox at most (it sends the next ones while one runs). */
export const REPLAY_DEPTH = 16

/**
 * Replays blocks `[from, to)` of `log` in `sandbox` to rebuild its state.
 * Records and drive blocks are read ahead in storage batches
 * (replay-ahead.ts), and up to {@link REPLAY_DEPTH} calls are asked of the
 * sandbox before the first of them is done: the sandbox runs them in order,
 * one at a time, each reading the drive at its own `filesBefore` (a
 * checkout, which no other call changes), so what each call reads and does
 * is what it would be one call at a time; a sandbox process just never
 * waits a round trip between them.
 * @param onRecord called with every record (e.g. to rebuild the nonce table)
 * @returns counts, and the indexes whose replay differed from the record
 * @throws what the sandbox's `call` throws (CLOSED once a call disposed it,
 *   INTERNAL on a failed files read), BAD_RECORD for a block that is no call record
 */
export async function replayRange (sandbox: Sandbox, log: ContractLog, from: number, to: number, onRecord?: (rec: CallRecord, index: number) => void): Promise<ReplayStats> {
  const stats: ReplayStats = { replayed: 0, skipped: 0, mismatches: [] }
  const drive = await log.openFiles()
  // a checkout stays open while a call that reads it is in flight
  const checkouts = new Checkouts(drive, REPLAY_DEPTH + 2)
  const ahead = new ReplayAhead(log, checkouts, Math.max(1, from), to)
  const inFlight: Array<{ index: number, rec: CallRecord, out: Promise<CallOutcome> }> = []
  const settle = async (): Promise<void> => {
    const { index, rec, out } = inFlight.shift()!
    const o = await out
    stats.replayed++
    if (compareOutcome(rec, o) !== null) stats.mismatches.push(index)
  }
  try {
    for (let i = Math.max(1, from); i < to; i++) {
      const rec = await ahead.record(i)
      if (onRecord) onRecord(rec, i)
      if (isLimitRecord(rec)) {
        stats.skipped++
        continue
      }
      const out = sandbox.call(replayContext(rec, new DriveFiles(checkouts.at(rec.filesBefore)), ahead.written(rec)))
      out.catch(noop) // awaited in order below; once one failed, the rest are only waited for
      inFlight.push({ index: i, rec, out })
      if (inFlight.length >= REPLAY_DEPTH) await settle()
    }
    while (inFlight.length > 0) await settle()
  } finally {
    // the calls still in flight read the checkouts: let them end first
    await Promise.allSettled(inFlight.map((c) => c.out))
    await checkouts.close()
  }
  return stats
}

function noop (): void {}
