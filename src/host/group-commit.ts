/**
 * One group of a host's group commit, in two steps the host overlaps:
 *
 * 1. {@link executeGroup}: run the queued calls in order in the sandbox
 *    (several asked at once, calls-in-flight.ts), each reading the files
 *    as the earlier calls left them, and
 *    seal all their writes as one drive group (drive-group.ts: the blobs
 *    and database blocks of one put after another, so every version a
 *    record names is a valid checkout); the records get their files
 *    versions and tree hashes, worked out in memory;
 * 2. {@link commitGroup}: write the records, the group's database blocks
 *    and its blobs in one storage write (atomic-append.ts: all or nothing
 *    after a crash), sign the new root, and answer every caller.
 *
 * The host starts step 1 of the next group while step 2 of this one runs:
 * the next group reads what this one wrote from the files cache, and waits
 * for this group's write before it reads anything else of the drive or
 * makes its own drive batch (DriveCommitter.land).
 *
 * Where the store makes no storage atoms (or a drive group writes call by
 * call), step 1 flushes the drive itself under the pending marker and step
 * 2 appends the records alone (see contract-log.ts, crash safety).
 */

import c from 'compact-encoding'
import { MAX_RECORD_BYTES, RECORD_VERSION, logBlock } from '../../protocol/index.js'
import type { CallRecord, CallRequest, CallResponse, Outcome } from '../../protocol/index.js'
import { randomBytes } from '../crypto.js'
import { VmsError } from '../errors.js'
import { formatKey } from '../keys.js'
import type { ContractLog } from '../log/contract-log.js'
import type { BlockProver } from '../log/block-proof.js'
import type { DriveGroup, SealedFiles } from '../log/drive-group.js'
import type { CallOutcome, OracleMode, Sandbox } from '../runtime/types.js'
import { noop } from '../noop.js'
import { FilesAfter, HOST_CALL_DEPTH, WritesIn } from './calls-in-flight.js'

/** A queued call and its caller's answer. */
export interface Pending {
  req: CallRequest
  resolve: (res: CallResponse) => void
  reject: (err: Error) => void
}

/** A call that ran, with its record (files hash filled in by the flush). */
export interface Done {
  p: Pending
  rec: CallRecord
}

/** What {@link executeGroup} needs. */
export interface GroupContext {
  sandbox: Sandbox
  group: DriveGroup
  oracle: OracleMode
  /** The call time: ms since the epoch, never going back. */
  clock: () => number
  /** Seal the drive group instead of flushing it: its blocks go with the records in {@link commitGroup}. */
  atomic: boolean
}

const NO_HASH = Buffer.alloc(32)

/** A call asked of the sandbox and not done yet. */
interface Asked {
  p: Pending
  timestamp: number
  seed: Uint8Array
  out: Promise<CallOutcome>
  /** Settles once its writes are in the group (the next call's reads wait for it). */
  writesIn: WritesIn
}

/**
 * Runs `batch` in order until a call hits a limit (the sandbox is then
 * unusable), then flushes the group's writes. Up to {@link HOST_CALL_DEPTH}
 * calls are asked of the sandbox before the first of them is done, each
 * reading the files once the one before it is in the group
 * (calls-in-flight.ts). A call whose record would pass
 * {@link MAX_RECORD_BYTES} is recorded as failed with RECORD_TOO_LARGE and
 * the host limit `record` (no writes, no oracle outputs), and the sandbox is
 * closed so that the host rebuilds it from the log: the rest of the group is
 * untouched.
 * @returns the calls that ran with their records: the first `done.length`
 *   of `batch` (those asked after the call that ended the sandbox did not run)
 * @throws what the sandbox's `call` threw for a call that would have run
 *   (INTERNAL on a failed files read), or the drive group
 */
export async function executeGroup (ctx: GroupContext, batch: Pending[]): Promise<{ done: Done[], sealed: SealedFiles | null }> {
  const { sandbox, group } = ctx
  const done: Done[] = []
  const calls: number[] = []
  const flight: Asked[] = []
  let last: WritesIn | null = null
  const ask = (p: Pending): Asked => {
    const timestamp = ctx.clock()
    const seed = randomBytes(32)
    const files = last ? new FilesAfter(group.view, last.promise) : group.view
    const writesIn = last = new WritesIn()
    const out = sandbox.call({ method: p.req.method, argsJson: p.req.args, callerId: formatKey(p.req.caller), timestamp, seed, files, oracle: ctx.oracle })
    out.catch(noop) // awaited in order below; once the sandbox is ended, the rest are only waited for
    return { p, timestamp, seed, out, writesIn }
  }
  try {
    while (sandbox.usable) {
      while (done.length + flight.length < batch.length && flight.length < HOST_CALL_DEPTH && sandbox.usable) flight.push(ask(batch[done.length + flight.length]!))
      const a = flight[0]
      if (!a) break
      const out = await a.out
      const rec: CallRecord = {
        version: RECORD_VERSION,
        request: a.p.req,
        timestamp: a.timestamp,
        seed: a.seed,
        oracles: out.oracles,
        outcome: toOutcome(out),
        filesBefore: 0,
        filesAfter: 0,
        filesHash: NO_HASH
      }
      let writes = out.ok ? out.writes : []
      if (recordBytes(rec) > MAX_RECORD_BYTES) {
        // this call alone fails, as a host limit: its memory effects go with a rebuild, as after a timeout
        rec.oracles = []
        rec.outcome = { ok: false, result: null, error: VmsError.RECORD_TOO_LARGE(`the call record would pass ${MAX_RECORD_BYTES} bytes`).toInfo(), limit: 'record' }
        writes = []
        await sandbox.close()
      }
      // the drive batch takes the writes while the next call runs; the next call reads them already
      calls.push(await group.applySoon(writes))
      a.writesIn.done()
      flight.shift()
      done.push({ p: a.p, rec })
    }
  } finally {
    // the calls asked after the last one done do not run: their reads end, and they are waited for
    for (const a of flight) a.writesIn.drop()
    await Promise.allSettled(flight.map((a) => a.out))
  }
  let sealed: SealedFiles | null = null
  if (done.length > 0) {
    if (ctx.atomic) sealed = await group.seal()
    else await group.flush()
    for (let k = 0; k < done.length; k++) {
      const rec = done[k]!.rec
      const v = group.versionsOf(calls[k]!)
      rec.filesBefore = v.before
      rec.filesAfter = v.after
      rec.filesHash = await group.hashAt(v.after)
    }
  }
  return { done, sealed }
}

/**
 * Appends the records of a group in one log append, signs the new root and
 * answers the callers in order.
 * @param onCall called for each record once it is durable (the host's `call` event)
 * @param prover learns the records' blocks, for the proofs of the replies
 * @param files the group's sealed drive blocks, written with the records in one storage write
 * @returns the block index of the first record
 */
export async function commitGroup (log: ContractLog, done: Done[], onCall: (index: number, rec: CallRecord) => void, prover: BlockProver | null = null, files: SealedFiles | null = null): Promise<number> {
  const start = await log.appendCalls(done.map((d) => d.rec), prover, files)
  const root = await log.signRoot()
  for (let k = 0; k < done.length; k++) {
    const { p, rec } = done[k]!
    onCall(start + k, rec)
    p.resolve({ outcome: rec.outcome, index: start + k, root })
  }
  return start
}

/** Bytes of `rec` as a log block (its files fields may still grow by a few bytes of varint). */
function recordBytes (rec: CallRecord): number {
  const state = c.state()
  logBlock.preencode(state, { type: 'call', call: rec })
  return state.end
}

/** The recorded form of a sandbox outcome. */
export function toOutcome (out: CallOutcome): Outcome {
  return {
    ok: out.ok,
    result: out.ok && out.resultJson !== undefined ? out.resultJson : null,
    error: out.ok ? null : (out.error ?? { code: 'INTERNAL', message: 'INTERNAL: no error given' }),
    limit: out.limit ?? null
  }
}
