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

import type Hyperdrive from 'hyperdrive'
import type { CallRecord } from '../../protocol/index.js'
import { formatKey } from '../keys.js'
import { DriveFiles } from '../log/drive-files.js'
import type { ContractLog } from '../log/contract-log.js'
import type { CallContext, CallOutcome, Sandbox } from '../runtime/types.js'

/**
 * Checkouts of a drive by version, keeping the last one open: consecutive
 * read-only calls share one checkout.
 */
export class DriveCheckouts {
  private readonly drive: Hyperdrive
  private version = -1
  private current: Hyperdrive | null = null

  /** @param drive the live drive to check out */
  constructor (drive: Hyperdrive) {
    this.drive = drive
  }

  /** A read-only view of the drive at `version` (a db core length). */
  async at (version: number): Promise<DriveFiles> {
    if (this.current === null || this.version !== version) {
      await this.close()
      this.current = this.drive.checkout(version)
      this.version = version
    }
    return new DriveFiles(this.current)
  }

  /** Closes the open checkout. */
  async close (): Promise<void> {
    const cur = this.current
    this.current = null
    this.version = -1
    if (cur) await cur.close()
  }
}

/** The sandbox context that replays `rec`, reading files from `files`. */
export function replayContext (rec: CallRecord, files: CallContext['files']): CallContext {
  return {
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

/** True when a replayed outcome says what the record says (result or error code). */
export function sameOutcome (rec: CallRecord, out: CallOutcome): boolean {
  if (rec.outcome.ok !== out.ok) return false
  if (out.ok) return (rec.outcome.result ?? null) === (out.resultJson ?? null)
  return rec.outcome.error?.code === out.error?.code && rec.outcome.error?.message === out.error?.message
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

/**
 * Replays blocks `[from, to)` of `log` in `sandbox` to rebuild its state.
 * @param onRecord called with every record (e.g. to rebuild the nonce table)
 * @returns counts, and the indexes whose replay differed from the record
 */
export async function replayRange (sandbox: Sandbox, log: ContractLog, from: number, to: number, onRecord?: (rec: CallRecord, index: number) => void): Promise<ReplayStats> {
  const stats: ReplayStats = { replayed: 0, skipped: 0, mismatches: [] }
  const drive = await log.openFiles()
  const checkouts = new DriveCheckouts(drive)
  try {
    for (let i = Math.max(1, from); i < to; i++) {
      const rec = await log.call(i)
      if (onRecord) onRecord(rec, i)
      if (isLimitRecord(rec)) {
        stats.skipped++
        continue
      }
      const out = await sandbox.call(replayContext(rec, await checkouts.at(rec.filesBefore)))
      stats.replayed++
      if (!sameOutcome(rec, out)) stats.mismatches.push(i)
    }
  } finally {
    await checkouts.close()
  }
  return stats
}
