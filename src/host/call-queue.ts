/**
 * A host's call queue (contract-host.ts checks the calls, the queue
 * reserves their nonces): calls wait here in arrival order and one drain at a time runs them in
 * groups of up to `maxBatch` through the group commit (group-pipeline.ts).
 * When a group fails, or its calls ran but were never logged, the last
 * group is settled and the sandbox rebuilt from the log before the next
 * group runs, so that memory follows the log again.
 */

import type { CallRequest, CallResponse } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import type { NonceTable } from '../replay/nonces.js'
import type { Sandbox } from '../runtime/types.js'
import type { Pending } from './group-commit.js'
import type { GroupPipeline } from './group-pipeline.js'
import type { HostStats } from './host-options.js'
import type { PoolMember, SandboxPool } from './sandbox-pool.js'

/** What a {@link CallQueue} works with (its host's parts). */
export interface CallQueueContext {
  /** Most calls in one group. */
  maxBatch: number
  /** Most calls waiting. */
  maxQueue: number
  /** The host's counters (evictions, rebuilds). */
  stats: HostStats
  /** The nonces the log holds and the queue reserved, per caller. */
  nonces: NonceTable
  /** Told of a call refused before the queue (its nonce already used). */
  rejected: (req: CallRequest, err: unknown) => void
  /** The sandbox pool the host's sandbox counts in. */
  pool: SandboxPool
  /** The host as a member of `pool` (marked used after each group). */
  member: PoolMember
  /** The sandbox calls run in; null after the pool evicted it. */
  sandbox: () => Sandbox | null
  /** A new sandbox, state rebuilt by replaying the whole log. */
  rebuild: () => Promise<void>
  /** A new group commit (made at the first group after the queue opened or {@link CallQueue.drop}). */
  makePipeline: () => GroupPipeline
  /** Told why the queued calls were rejected when a rebuild failed. */
  warn: (err: VmsError) => void
}

/** The queue and the group commit of one host (see the module doc). */
export class CallQueue {
  private readonly ctx: CallQueueContext
  private readonly queue: Pending[] = []
  private draining: Promise<void> | null = null
  /** The group commit, made at the first group. */
  private current: GroupPipeline | null = null

  /** @param ctx see {@link CallQueueContext} */
  constructor (ctx: CallQueueContext) {
    this.ctx = ctx
  }

  /** True while a drain runs calls. */
  get busy (): boolean {
    return this.draining !== null
  }

  /** The group commit, null before the first group (and after {@link CallQueue.drop}). */
  get pipeline (): GroupPipeline | null {
    return this.current
  }

  /** True when no call is queued, running or committing (the contract may sleep). */
  get idle (): boolean {
    return this.draining === null && this.queue.length === 0 && (this.current === null || this.current.idle)
  }

  /** Checks that one more call fits. @throws VmsError HOST_BUSY when `maxQueue` calls wait */
  checkRoom (): void {
    if (this.queue.length >= this.ctx.maxQueue) throw VmsError.HOST_BUSY(`${this.queue.length} calls queued`)
  }

  /**
   * Reserves the nonce of an admitted call (checked otherwise), queues it
   * and starts a drain when none runs.
   * @returns its response once its record is durable; rejects with the
   *   reason it was not logged (VmsError NONCE_REUSED: refused, never queued)
   */
  enqueue (req: CallRequest): Promise<CallResponse> {
    try {
      this.ctx.nonces.reserve(req.caller, req.nonce)
    } catch (err) {
      this.ctx.rejected(req, err)
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject })
      if (this.draining === null) this.draining = this.drain()
    })
  }

  /** Forgets the group commit (only while {@link CallQueue.idle}: the contract sleeps); the next group makes a new one. */
  drop (): void {
    this.current = null
  }

  /** Waits for the running drain, then rejects every call still queued with `err`. */
  async close (err: VmsError): Promise<void> {
    if (this.draining) await this.draining
    for (const p of this.queue.splice(0)) p.reject(err)
  }

  private pipelineOf (): GroupPipeline {
    return (this.current ??= this.ctx.makePipeline())
  }

  private async drain (): Promise<void> {
    try {
      do {
        await this.drainQueue()
        // calls queued while the last commit finished are this drain's too
        await this.current?.previous().catch(async () => await this.settleAndRebuild())
      } while (this.queue.length > 0)
    } finally {
      this.draining = null
    }
  }

  private async drainQueue (): Promise<void> {
    const { stats, pool } = this.ctx
    while (this.queue.length > 0) {
      if (!this.ctx.sandbox()) {
        // evicted by the pool while idle: rebuild it by replaying the log
        stats.evictions++
        pool.rebuilds++
        if (!(await this.settleAndRebuild())) continue
      }
      const batch = this.queue.splice(0, this.ctx.maxBatch)
      let failed = false
      try {
        const sandbox = this.ctx.sandbox()
        if (!sandbox) throw VmsError.CLOSED('contract is not open')
        const rest = await this.pipelineOf().run(sandbox, batch)
        if (rest.length > 0) this.queue.unshift(...rest)
      } catch (err) {
        failed = true
        const e = VmsError.from(err)
        for (const p of batch) p.reject(e)
      }
      const sandbox = this.ctx.sandbox()
      if (failed || (sandbox && !sandbox.usable)) {
        // after a limit, or calls that ran but were never logged: memory must follow the log again
        stats.rebuilds++
        await this.settleAndRebuild()
      } else {
        pool.use(this.ctx.member)
      }
    }
  }

  /**
   * Lets the last group reach the log (or undoes its files when it could
   * not), then rebuilds the sandbox from the log; when that fails, every
   * queued call is rejected with the reason.
   */
  private async settleAndRebuild (): Promise<boolean> {
    try {
      await this.current?.settle()
      await this.ctx.rebuild()
      return true
    } catch (err) {
      const e = VmsError.from(err)
      for (const p of this.queue.splice(0)) p.reject(e)
      this.ctx.warn(e)
      return false
    }
  }
}
