/**
 * The two stages of a host's group commit and what links them
 * (group-commit.ts does the work of each): {@link GroupPipeline.run}
 * executes one group and starts its log commit without waiting for it, so
 * that the next group executes meanwhile; the next group's commit waits
 * for it ({@link GroupPipeline.previous}). A group whose records never
 * reached the log has its drive writes undone before anything else
 * happens ({@link GroupPipeline.settle}), and while a group's drive writes
 * wait for their records the {@link HeadGate} is shut.
 */

import type { CallRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { noop } from '../noop.js'
import type { BlockProver } from '../log/block-proof.js'
import type { ContractLog } from '../log/contract-log.js'
import type { DriveCommitter } from '../log/drive-committer.js'
import type { OracleMode, Sandbox } from '../runtime/types.js'
import { commitGroup, executeGroup, type Pending } from './group-commit.js'
import { HeadGate } from './head-gate.js'
import safetyCatch from 'safety-catch'

/** What a {@link GroupPipeline} works on. */
export interface PipelineContext {
  log: ContractLog
  files: DriveCommitter
  prover: BlockProver
  oracle: OracleMode
  /** The call time: ms since the epoch, never going back. */
  clock: () => number
  /** Each record once it is durable, with its block index. */
  onCall: (index: number, record: CallRecord) => void
  /** Each group once its records are durable. */
  onGroup: () => void
}

/** The commit stage of one host (see the module doc). */
export class GroupPipeline {
  /** Shut while a group's drive writes wait for their records. */
  readonly headGate = new HeadGate()
  private readonly ctx: PipelineContext
  /** The log commit of the last group, running while the next group executes. */
  private committing: Promise<void> | null = null
  /** Files version to truncate back to: a group's writes whose records never reached the log. */
  private undoTo: number | null = null
  /** Log commits started and not settled. */
  private inFlight = 0

  /** @param ctx see {@link PipelineContext} */
  constructor (ctx: PipelineContext) {
    this.ctx = ctx
  }

  /**
   * True when nothing of a group is in flight: no log commit running, no
   * files to undo, no drive write ahead of the log, no head request waiting
   * (the host may then close the contract's sessions, host-node sleep).
   */
  get idle (): boolean {
    return this.inFlight === 0 && this.undoTo === null && !this.headGate.shut && !this.headGate.waiting
  }

  /** Waits for the log commit of the previous group. @throws its failure */
  previous (): Promise<void> {
    const p = this.committing ?? Promise.resolve()
    this.committing = null
    return p
  }

  /** Lets the last group reach the log, or undoes its files when it could not (its callers got its error). */
  async settle (): Promise<void> {
    await this.previous().catch(safetyCatch)
    if (this.undoTo !== null) await this.undoFiles(this.undoTo)
  }

  /**
   * Executes one group (group-commit.ts) and starts its log commit without
   * waiting for it. Stops early after a call that hit a limit.
   * @returns the calls not run
   * @throws when the group (or the one before it) could not be made
   *   durable; nothing of it is then left in the drive, and none of its calls
   *   is acknowledged
   */
  async run (sandbox: Sandbox, batch: Pending[]): Promise<Pending[]> {
    const { log, files } = this.ctx
    let marked = false
    const group = files.begin(async () => {
      // the drive is about to change (a group writing call by call): the previous group's records first, then the marker
      await this.previous()
      await log.beginBatch(group.startVersion)
      marked = true
      this.headGate.set(true)
    })
    let result: Awaited<ReturnType<typeof executeGroup>> | null = null
    try {
      result = await executeGroup({ sandbox, group, oracle: this.ctx.oracle, clock: this.ctx.clock, atomic: files.atomic }, batch)
      await this.previous()
    } catch (err) {
      await group.discard()
      // a sealed group's writes are in the files cache only: reset it with the drive
      if (marked || result?.sealed) await this.undoFiles(group.startVersion)
      throw err
    }
    const { done, sealed } = result
    if (done.length > 0) {
      const logLength = log.length
      // a sealed group's drive blocks land with its records: the drive is ahead of the log only inside that write
      if (sealed) this.headGate.set(true)
      this.inFlight++
      this.committing = commitGroup(log, done, this.ctx.onCall, this.ctx.prover, sealed).then(() => {
        this.inFlight--
        this.ctx.onGroup()
        if (marked || sealed) this.headGate.set(false)
      }, (err) => {
        // never logged: its writes must leave the drive (and the cache) before anything else happens
        if ((marked || sealed) && log.length === logLength) this.undoTo = group.startVersion
        this.inFlight--
        const e = VmsError.from(err)
        for (const d of done) d.p.reject(e)
        throw err
      })
      this.committing.catch(noop)
      if (sealed) files.land(this.committing)
    }
    return batch.slice(done.length)
  }

  /** Takes the drive back to `version` after a group whose records never reached the log. */
  private async undoFiles (version: number): Promise<void> {
    this.undoTo = null
    const { log, files } = this.ctx
    const drive = log.drive
    if (!drive) return
    if (drive.version > version) await drive.truncate(version)
    files.reset()
    await log.clearPending()
    this.headGate.set(false)
  }
}
