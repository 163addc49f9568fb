/**
 * Telling a lying host from a nondeterministic contract: when a replay
 * diverges from its record, the call is replayed once more in a fresh
 * sandbox rebuilt from the log to that point. Two different replays mean
 * the contract is nondeterministic; two equal ones, that the host's record
 * is wrong; a replay that ended for a reason of this machine (its deadline,
 * memory, stack or sandbox) cannot judge. Used by the judge (judge.ts).
 */

import type { CallRecord } from '../../protocol/index.js'
import type { ContractLog } from '../log/contract-log.js'
import { replayContext, replayRange } from '../replay/replay.js'
import { replayToJSON, sameReplay } from '../replay/outcome.js'
import type { CallOutcome, FilesView, Limits, Sandbox } from '../runtime/types.js'
import type { FaultDraft } from './audit.js'
import type { Evidence, FaultCause } from './verdict.js'

/** A call that did not pass: the divergence, who is to blame, the blocks to put in evidence. */
export interface Divergence {
  draft: FaultDraft
  cause: FaultCause
  blocks: number[]
  extra: Partial<Evidence>
}

/** What {@link classifyDivergence} uses of the judge. */
export interface ClassifyEnv {
  /** A new sandbox of the contract, empty. */
  newSandbox: () => Promise<Sandbox>
  log: ContractLog
  /** The host's files at a drive version, as a replay reads them. */
  files: (version: number) => FilesView
  /** Counts the replays this takes. */
  counts: { rebuildReplays: number }
  warn: (err: unknown) => void
}

/**
 * Classifies the divergence `d` of call `i` (record `rec`), whose first
 * replay gave `first`: replays blocks [1, i) and then `rec` in a fresh sandbox.
 * @returns the divergence with its cause, both replays in `extra.replays`, and the cause in the message
 */
export async function classifyDivergence (d: FaultDraft, i: number, rec: CallRecord, first: CallOutcome, env: ClassifyEnv): Promise<Divergence> {
  let second: CallOutcome | null = null
  let cause: FaultCause = 'unknown'
  try {
    const fresh = await env.newSandbox()
    try {
      const st = await replayRange(fresh, env.log, 1, i)
      env.counts.rebuildReplays += st.replayed + 1
      second = await fresh.call(replayContext(rec, env.files(rec.filesBefore)))
    } finally {
      await fresh.close()
    }
    if (ownMachine(first) || ownMachine(second) || stackOverflow(rec.outcome.error?.message)) cause = 'unknown'
    else if (!sameReplay(first, second)) cause = 'nondeterministic'
    else cause = 'host'
  } catch (err) {
    env.warn(err)
  }
  const replays = [replayToJSON('long-lived', first)]
  if (second) replays.push(replayToJSON('fresh', second))
  const message = cause === 'nondeterministic'
    ? `${d.message}; a second replay in a fresh sandbox gave another outcome: the contract is nondeterministic`
    : cause === 'host'
      ? `${d.message}; a second replay in a fresh sandbox agreed with the first: the host's record is wrong`
      : `${d.message}; the replay failed for a reason of this machine (its deadline, memory, stack or sandbox): could not judge`
  return { draft: { ...d, message }, cause, blocks: [i], extra: { replays } }
}

/**
 * True when a replay ended for a reason of this machine, not of the call: its
 * own deadline or memory (a limit), a failure of the sandbox itself
 * (INTERNAL: isolate disposed, its sandbox process ended, ...), or a stack
 * overflow, whose depth depends on the machine and its JIT state. Such a
 * replay cannot judge the host: the judge replays the call again in a fresh
 * sandbox with more room ({@link OWN_MACHINE_RETRIES}, {@link retryLimits}).
 * @param out a replay's outcome
 */
export function ownMachine (out: CallOutcome): boolean {
  if (out.limit) return true
  if (out.ok || !out.error) return false
  return out.error.code === 'INTERNAL' || stackOverflow(out.error.message)
}

/** Fresh-sandbox replays the judge tries after one that failed for a reason of its machine, before it judges on what it has. */
export const OWN_MACHINE_RETRIES = 2

/**
 * The limits of the `attempt`-th retry (1-based; 0 gives `l` itself) of a
 * replay that failed for a reason of this machine: 4 times the time and
 * twice the memory per attempt. Only the watcher's own room grows: what the host recorded and
 * the contract's deterministic limits (sizes, depth) stay as they are.
 * @param l the replay limits (judge.ts `replayLimits`)
 */
export function retryLimits (l: Limits, attempt: number): Limits {
  return { ...l, timeoutMs: l.timeoutMs * 4 ** attempt, memoryMb: l.memoryMb * 2 ** attempt }
}

/** True for the message of a JavaScript stack overflow (RangeError). */
function stackOverflow (message: string | undefined): boolean {
  return message !== undefined && /Maximum call stack size exceeded/.test(message)
}
