/**
 * Judging the calls of one log in order, with the state that takes: the
 * replay sandbox, the nonce table, the files version the previous call left,
 * and checkouts of the replicated drive. `judge(i)` either passes call `i`
 * (and moves that state) or returns the divergence, classified:
 *
 * decode -> log rules (signature, nonce, files versions, limit records) ->
 * replay at `filesBefore` -> outcome -> files -> files hash. A limit record
 * is checked but not replayed, and the sandbox is rebuilt from the calls
 * before the next one, as the host does. When a replay diverges, the call is
 * replayed once more in a fresh sandbox rebuilt to that point: two different
 * replays mean the contract is nondeterministic; two equal ones, that the
 * host's record is wrong (judge-classify.ts). A replay that failed for a
 * reason of this machine (its own deadline or memory, its sandbox process
 * ending, a stack overflow) is first replayed again, in a sandbox rebuilt
 * from the log with more room, so that one loaded or unlucky machine does not
 * turn a hiccup into a verdict.
 *
 * Files are judged against the mirror (mirror.ts) when it can, and the
 * next calls are replayed while this one is judged (judge-speculate.ts);
 * blocks are read ahead in batches (judge-ahead.ts).
 */

import type Hyperdrive from 'hyperdrive'
import type Hypercore from 'hypercore'
import type { CallRecord, GenesisRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import type { ContractLog } from '../log/contract-log.js'
import { decodeBlock } from '../log/contract-log.js'
import { DriveFiles } from '../log/drive-files.js'
import { batchMissingNodes, widenRequests } from '../log/holepunch-internals.js'
import { NonceTable } from '../replay/nonces.js'
import { isLimitRecord, replayContext, replayRange } from '../replay/replay.js'
import type { CallOutcome, Limits, Sandbox, SandboxFactory } from '../runtime/types.js'
import { changedPaths, checkFiles, checkRecord, compareOutcome, type FaultDraft } from './audit.js'
import { Checkouts } from '../replay/checkouts.js'
import { classifyDivergence, OWN_MACHINE_RETRIES, ownMachine, retryLimits, type Divergence } from './judge-classify.js'
import { sharedVerifyPool, type SignatureVerifier } from '../sig/verify-pool.js'
import { BlocksAhead, DriveHashes } from './judge-ahead.js'
import { FilesMirror } from './mirror.js'
import { SPECULATION_DEPTH, SpeculativeReplays } from './judge-speculate.js'
import safetyCatch from 'safety-catch'

/** Counters of one {@link CallJudge} (this run). */
export interface JudgeCounts {
  /** Call records judged this run (limit records included: they are checked, not replayed). */
  judged: number
  /** Calls re-executed without judging to rebuild state after a restart. */
  warmup: number
  /** Replays done to judge calls. */
  replayed: number
  /** Replays done to rebuild the sandbox (after limits) or to re-check a divergence. */
  rebuildReplays: number
  /** Sandbox rebuilds. */
  rebuilds: number
  /** Limit records seen (not replayed). */
  skipped: number
  /** Calls whose files the local mirror confirmed block for block (the rest took the full check). */
  mirrored?: number
  /** Replays started while a call before was still being judged, and used (judge-speculate.ts). */
  replayedAhead?: number
}

/** Counters of one contract watch (this run): its judge's, and where judging resumed. */
export interface WatchStats extends JudgeCounts {
  /** Block judging resumed from (1 on a fresh start). */
  resumedFrom: number
}

export type { Divergence } from './judge-classify.js'

/** Limits of a watcher's replays: results and writes as on the host, more time and memory. */
export function replayLimits (l: Limits): Limits {
  return { ...l, timeoutMs: Math.max(l.timeoutMs * 5, l.timeoutMs + 5000), memoryMb: l.memoryMb * 2 }
}

/** Options of {@link CallJudge}. */
export interface CallJudgeOptions {
  key: Uint8Array
  log: ContractLog
  genesis: GenesisRecord
  drive: Hyperdrive
  sandboxFactory: SandboxFactory
  /** ms to wait for a block (0: forever). */
  timeout: number
  warn: (err: unknown) => void
  /** Checks caller signatures ahead of judging (default: the process's worker pool). */
  verifier?: SignatureVerifier
}

/** Judges the calls of one log, in order. */
export class CallJudge {
  /** `filesAfter` of the last passed call (the genesis version before any). */
  filesAfter: number
  /** `filesHash` of the last passed call. */
  filesHash: Uint8Array | null = null
  /** What judging took so far (read by the watch; only the judge moves it). */
  readonly counts: JudgeCounts = { judged: 0, warmup: 0, replayed: 0, rebuildReplays: 0, rebuilds: 0, skipped: 0 }
  private readonly opts: CallJudgeOptions
  private readonly nonces = new NonceTable()
  private readonly checkouts: Checkouts
  private readonly hashes = new Map<number, Buffer>()
  private sandbox: Sandbox | null = null
  private needsRebuild = false
  private readonly ahead: BlocksAhead
  private readonly driveHashes: DriveHashes
  private mirror: FilesMirror | null = null
  private readonly next = new SpeculativeReplays()
  /** The sandbox ran a call since the last one passed (a failed judging then rebuilds it). */
  private ranUnjudged = false
  /** Failures to open or sync the mirror; past a few, judging goes without it. */
  private mirrorErrors = 0
  /** Retries a replay failing for a reason of this machine took so far: new sandboxes get that much more room (judge-classify.ts). */
  private room = 0

  /** @param opts see {@link CallJudgeOptions} */
  constructor (opts: CallJudgeOptions) {
    this.opts = opts
    this.filesAfter = opts.genesis.filesVersion
    // the calls replayed ahead each read their own checkout, and a call is checked at two
    this.checkouts = new Checkouts(opts.drive, SPECULATION_DEPTH + 3)
    let blobsCore: Hypercore | null = null
    this.ahead = new BlocksAhead(opts.log.core, opts.verifier ?? sharedVerifyPool(), 256, {
      core: opts.drive.core,
      blobs: () => blobsCore,
      read: (fork, indexes, raws) => this.checkouts.cacheStored(fork, indexes, raws)
    })
    this.driveHashes = new DriveHashes(opts.drive.core)
    // a host undoing an interrupted batch truncates its drive: drop views of the old history
    opts.drive.core.on('truncate', () => this.forget())
    opts.log.core.on('truncate', () => this.ahead.clear())
    // small blocks: ask peers for many at a time, as Hyperbee does for its own core, and each request's proof size in fewer reads
    batchMissingNodes()
    widenRequests(opts.log.core)
    widenRequests(opts.drive.core)
    opts.drive.getBlobs().then((b) => {
      if (b === null) return
      widenRequests(b.core)
      blobsCore = b.core
    }, safetyCatch)
  }

  /**
   * Resumes after blocks [1, upTo) were judged in an earlier run: re-executes
   * them without judging (warm-up) to rebuild the contract's memory and nonces.
   */
  async warmup (upTo: number, filesAfter: number, filesHash: Uint8Array | null): Promise<void> {
    this.filesAfter = filesAfter
    this.filesHash = filesHash
    const sb = await this.newSandbox()
    const st = await replayRange(sb, this.opts.log, 1, upTo, (rec) => this.nonces.observe(rec.request.caller, rec.request.nonce))
    this.sandbox = sb
    this.counts.warmup += st.replayed
    this.needsRebuild = !sb.usable
    if (st.mismatches.length > 0) this.opts.warn(VmsError.INTERNAL(`warm-up replays of calls ${st.mismatches.slice(0, 5).join(', ')} differed from the log: the contract is nondeterministic`))
  }

  /**
   * Judges block `i`. State moves only when it passes, so a call whose
   * judging failed for lack of data can be judged again.
   * @returns null when it passed, else the divergence
   * @throws on missing data (REQUEST_TIMEOUT, closed sessions)
   */
  async judge (i: number): Promise<Divergence | null> {
    try {
      const d = await this.judgeCall(i)
      if (d) this.dropAhead()
      return d
    } catch (err) {
      // the sandbox ran the call (or the next one) without it passing: replaying it again there would apply it twice
      if (this.ranUnjudged) this.needsRebuild = true
      this.forget()
      throw err
    }
  }

  private async judgeCall (i: number): Promise<Divergence | null> {
    const log = this.opts.log
    const stats = this.counts
    const gen = this.ahead.generation
    const pre = this.ahead.take(i)
    const raw = (pre ? await pre.block : null) ?? await log.core.get(i, this.waitOpts())
    if (!raw) throw VmsError.BAD_RECORD(`block ${i} is not available`)
    let rec: CallRecord
    try {
      const b = decodeBlock(raw, i)
      if (b.type !== 'call') throw VmsError.BAD_RECORD(`block ${i} is not a call record`)
      rec = b.call
    } catch (err) {
      return { draft: { kind: 'malformed', message: (err as Error).message, expected: {}, observed: {} }, cause: 'host', blocks: [i], extra: {} }
    }
    const signatureVerified = pre !== null && await pre.ok
    const d = checkRecord(rec, { contract: this.opts.key, genesis: this.opts.genesis, nonces: this.nonces, prevFilesAfter: this.filesAfter, signatureVerified })
    if (d) {
      if (d.kind === 'files' && rec.filesBefore > this.filesAfter) d.observed.unloggedChanges = await this.unlogged(this.filesAfter, rec.filesBefore)
      return { draft: d, cause: 'host', blocks: i > 1 ? [i - 1, i] : [i], extra: {} }
    }
    if (isLimitRecord(rec)) {
      stats.skipped++
      this.dropAhead()
      this.needsRebuild = true
      this.pass(rec)
      return null
    }
    // the replay started while calls before it were judged (judge-speculate.ts), if it still stands
    let out = await this.takeAhead(i, raw)
    // (an outcome taken is this call's replay, whatever the sandbox went through after it)
    if (!out && (this.needsRebuild || !this.sandbox || !this.sandbox.usable)) {
      this.dropAhead()
      await this.rebuild(i)
    }
    const drive = this.opts.drive
    if (rec.filesAfter > 0 && (drive.core.length < rec.filesAfter || !(await drive.core.has(rec.filesAfter - 1)))) {
      await drive.core.get(rec.filesAfter - 1, this.waitOpts())
    }
    const sandbox = this.sandbox!
    const mirror = await this.mirrorAt(rec.filesBefore)
    let files = pre && pre.files ? await pre.files : null
    if (gen !== this.ahead.generation) files = null // the drive or log was truncated meanwhile: read them again
    const theirs = mirror ? mirror.hostBlocks(rec, files) : null // read while the replay runs
    this.ranUnjudged = true
    const replay = async (sb: Sandbox): Promise<CallOutcome> => await sb.call(replayContext(rec, mirror ? mirror.view() : new DriveFiles(this.checkouts.at(rec.filesBefore)), files?.written(rec)))
    if (!out) out = await replay(sandbox)
    stats.replayed++
    // the replays started after a call that does not pass ran on a state that is not the log's
    if (compareOutcome(rec, out) !== null) this.dropAhead()
    // this machine's deadline, memory or sandbox process is no verdict: replay again in a fresh sandbox with more room
    for (let attempt = 1; attempt <= OWN_MACHINE_RETRIES && ownMachine(out) && compareOutcome(rec, out) !== null; attempt++) {
      this.opts.warn(VmsError.INTERNAL(`the replay of call ${i} failed for a reason of this machine (${out.error?.message ?? out.limit}): replaying it again in a fresh sandbox (attempt ${attempt} of ${OWN_MACHINE_RETRIES})`))
      this.dropAhead()
      this.room = attempt
      await this.rebuild(i)
      out = await replay(this.sandbox!)
      stats.replayed++
    }
    if (out.limit || !this.sandbox!.usable) this.needsRebuild = true
    let diverged = compareOutcome(rec, out)
    if (!diverged) {
      // the next calls run in the sandbox while this one's files are checked
      await this.speculate(i, rec)
      // fast: the host's blocks are exactly those the replayed writes make
      let blocks: Uint8Array[] | null = null
      if (mirror && theirs) blocks = await mirror.stage(rec, out.writes, theirs, files).confirmed
      if (blocks) this.driveHashes.push(rec.filesBefore, blocks)
      const hash = await this.treeHashFor(rec)
      if (blocks && hash.equals(rec.filesHash)) {
        stats.mirrored = (stats.mirrored ?? 0) + 1
        this.pass(rec)
        return null
      }
      const before = this.checkouts.at(rec.filesBefore)
      const after = this.checkouts.at(rec.filesAfter)
      diverged = await checkFiles(rec, out.writes, before, after, hash, { timeout: this.opts.timeout || undefined })
    }
    if (diverged) return await this.classify(diverged, i, rec, out)
    this.pass(rec)
    return null
  }

  /** Disposes the sandbox and closes checkouts. */
  async close (): Promise<void> {
    const m = this.mirror
    this.mirror = null
    this.mirrorErrors = Infinity
    if (m) await m.close().catch(safetyCatch)
    await this.checkouts.close()
    if (this.sandbox) await this.sandbox.close()
    this.sandbox = null
  }

  /** Drops cached checkouts and tree hashes (after a drive truncation or a failed read). */
  private forget (): void {
    this.dropAhead()
    this.hashes.clear()
    this.ahead.clear()
    this.driveHashes.reset()
    if (this.mirror) {
      this.mirror.dirty = true
      this.mirror.suspect = true
    }
    this.checkouts.close().catch(safetyCatch)
  }

  /** The outcome of the replay of block `i` started ahead, when it still stands (else all started are dropped). */
  private async takeAhead (i: number, raw: Uint8Array): Promise<CallOutcome | null> {
    if (this.next.size === 0) return null
    const out = await this.next.take(i, raw)
    if (!out) this.needsRebuild = true
    else {
      this.ranUnjudged = true
      this.counts.replayedAhead = (this.counts.replayedAhead ?? 0) + 1
    }
    return out
  }

  /** Drops the replays started ahead: the sandbox ran calls not judged, so it is rebuilt before the next replay. */
  private dropAhead (): void {
    if (this.next.drop()) this.needsRebuild = true
  }

  /**
   * Starts replaying the blocks after `i` (whose outcome matched `rec`)
   * that are read ahead and whose drive blocks are all here, each reading
   * the host's drive at its `filesBefore`, up to the depth of
   * judge-speculate.ts.
   */
  private async speculate (i: number, rec: CallRecord): Promise<void> {
    const gen = this.ahead.generation
    const sandbox = this.sandbox
    for (let j = this.next.nextIndex(i); j !== null; j = this.next.nextIndex(i)) {
      if (this.needsRebuild || !sandbox || sandbox !== this.sandbox || !sandbox.usable) return
      const a = this.ahead.peek(j)
      if (!a) return
      const [raw, nrec, files] = await Promise.all([a.block, a.rec, a.files])
      if (!raw || !nrec || gen !== this.ahead.generation) return
      const prev = this.next.previous(rec)
      // a replay ahead reads only what is here: its record's drive blocks were replicated
      if (this.opts.drive.core.contiguousLength < nrec.filesAfter) return
      const view = new DriveFiles(this.checkouts.at(nrec.filesBefore))
      if (!this.next.start(j, raw, nrec, prev, sandbox, view, files?.written(nrec))) return
    }
  }

  private pass (rec: CallRecord): void {
    this.ranUnjudged = false
    this.nonces.observe(rec.request.caller, rec.request.nonce)
    this.counts.judged++
    this.filesAfter = rec.filesAfter
    this.filesHash = rec.filesHash
  }

  /** Replays call `i` once more in a fresh sandbox to tell nondeterminism from a lying host (judge-classify.ts). */
  private async classify (d: FaultDraft, i: number, rec: CallRecord, first: CallOutcome): Promise<Divergence> {
    return await classifyDivergence(d, i, rec, first, {
      newSandbox: () => this.newSandbox(),
      log: this.opts.log,
      files: (version) => new DriveFiles(this.checkouts.at(version)),
      counts: this.counts,
      warn: this.opts.warn
    })
  }

  /** A new sandbox holding the state after blocks [1, upTo) (a rebuild unless it is the first one). */
  private async rebuild (upTo: number): Promise<void> {
    const first = this.sandbox === null && !this.needsRebuild
    if (this.sandbox) await this.sandbox.close()
    this.sandbox = null
    const sb = await this.newSandbox()
    const st = await replayRange(sb, this.opts.log, 1, upTo)
    this.sandbox = sb
    if (!first) this.counts.rebuilds++
    this.counts.rebuildReplays += st.replayed
    this.needsRebuild = !sb.usable
  }

  private async newSandbox (): Promise<Sandbox> {
    const g = this.opts.genesis
    return await this.opts.sandboxFactory(g.source, { limits: retryLimits(replayLimits(g.limits), this.room), filename: g.name + '.js' })
  }

  /** The files mirror brought to `version`, or null to judge without it (mirror.ts). */
  private async mirrorAt (version: number): Promise<FilesMirror | null> {
    if (this.mirrorErrors >= 3) return null
    try {
      if (!this.mirror) {
        this.mirror = await FilesMirror.open(this.opts.log.store, Buffer.from(this.opts.key).toString('hex'), this.opts.drive, version, this.waitOpts())
        if (!this.mirror) this.mirrorErrors = Infinity
      } else if (this.mirror.dirty || this.mirror.version !== version) {
        await this.mirror.sync(version)
      }
      return this.mirror
    } catch (err) {
      if (++this.mirrorErrors >= 3) this.opts.warn(err)
      if (this.mirror) this.mirror.dirty = true
      return null
    }
  }

  /**
   * The drive's tree hash at `rec.filesAfter`: worked out from the drive
   * blocks when that confirms the record, else read from the drive's tree.
   */
  private async treeHashFor (rec: CallRecord): Promise<Buffer> {
    try {
      const fast = await this.driveHashes.at(rec.filesAfter, this.waitOpts())
      if (fast.equals(rec.filesHash)) return fast
    } catch {
      // the fast path works from the host's drive blocks: whatever they make it throw, read the tree instead
    }
    return await this.filesTreeHash(rec.filesAfter)
  }

  private async filesTreeHash (version: number): Promise<Buffer> {
    let h = this.hashes.get(version)
    if (!h) {
      h = await this.opts.drive.core.treeHash(version)
      if (this.hashes.size > 8) this.hashes.clear()
      this.hashes.set(version, h)
    }
    return h
  }

  /** Paths an edit outside the log changed between two drive versions (best effort). */
  private async unlogged (from: number, to: number): Promise<unknown> {
    try {
      await this.opts.drive.core.get(to - 1, { wait: true, timeout: this.opts.timeout || 5000 })
      return await changedPaths(this.opts.drive, from, to)
    } catch {
      // a diff of the host's drive: whatever its blocks make it throw, the fault stands without the list
      return null
    }
  }

  private waitOpts (): { wait: boolean, timeout?: number } {
    return this.opts.timeout ? { wait: true, timeout: this.opts.timeout } : { wait: true }
  }
}
