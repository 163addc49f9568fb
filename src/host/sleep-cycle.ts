/**
 * How an idle contract sleeps and wakes (ContractHost.sleep, contract-host.ts).
 * With an open pool (host-node.ts) a contract nothing uses may be closed:
 * its sandbox and its log and files sessions (sleep-state.ts says what it
 * keeps). The next request reopens them, once however many ask, and a
 * request keeps it awake until it settles. A contract opened lazily (past
 * the pool's bound) replays its log at its first request instead of at open.
 * While asleep its log cannot grow, so the root signed as it went to sleep
 * answers `root` requests without a wake.
 */

import type { RootStatement } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import type { ContractLog } from '../log/contract-log.js'
import type { Sandbox } from '../runtime/types.js'
import type { RequestCost } from './request-check.js'
import type { PoolMember, SandboxPool } from './sandbox-pool.js'
import { releaseClosedLog, unpooledFields } from './sleep-state.js'
import safetyCatch from 'safety-catch'

/** What a {@link SleepCycle} works with (its host's parts). */
export interface SleepContext {
  /** The pool of open contracts; without one the contract never sleeps. */
  openPool: SandboxPool | undefined
  /** True while the host is closing (no wake then). */
  closing: () => boolean
  /** True when the host is open and not closing and no call is queued, running or committing. */
  idle: () => boolean
  /** Lets go of what uses the open sessions (sandbox, committer, prover, group commit) and hands over what to close. */
  detach: () => { log: ContractLog, sandbox: Sandbox | null }
  /** A new session of the contract's log, not yet open. */
  newLog: () => ContractLog
  /** Takes a woken log into use. */
  attach: (log: ContractLog) => void
  /** Opens the host when it is not open yet (its `ready()`). */
  ready: () => Promise<void>
  /** The replay a lazy open skipped: sandbox, nonces, methods. */
  replay: () => Promise<void>
}

/** The sleep and wake of one contract (see the module doc). */
export class SleepCycle {
  private readonly ctx: SleepContext
  /** Set while closed for idleness: resolves once the sessions are closed. */
  private asleep: Promise<void> | null = null
  private waking: Promise<void> | null = null
  /** Opened lazily: nothing was replayed yet (nonces, methods, sandbox), the first request does it. */
  private unreplayed = false
  private replayRun: Promise<void> | null = null
  /** Requests running (they keep the contract awake). */
  private inUse = 0
  private slept = { length: 0, fork: 0 }
  /** The root statement signed as the contract went to sleep. */
  private sleptRoot: RootStatement | null = null
  /** The contract as a member of the open pool (its eviction is {@link SleepCycle.sleep}). */
  private readonly member: PoolMember = { evict: () => this.sleep() }

  /** @param ctx see {@link SleepContext} */
  constructor (ctx: SleepContext) {
    this.ctx = ctx
  }

  /** True while closed for idleness. */
  get sleeping (): boolean {
    return this.asleep !== null
  }

  /** The log's length (blocks) and fork as it went to sleep; null while awake. */
  get at (): { length: number, fork: number } | null {
    return this.asleep ? this.slept : null
  }

  /** True while the lazy open's replay runs. */
  get replaying (): boolean {
    return this.replayRun !== null
  }

  /** Marks the open as lazy: the first request replays the log ({@link SleepCycle.use}). */
  deferReplay (): void {
    this.unreplayed = true
  }

  /**
   * The root signed as the contract went to sleep, when it answers a `root`
   * request for `length` (0: the current length) without a wake.
   * @returns null when awake, waking, or `length` is another
   */
  rootAsleep (length: number): RootStatement | null {
    const slept = this.sleptRoot
    return this.asleep && !this.waking && slept && (length === 0 || length === slept.length) ? slept : null
  }

  /** Counts the contract as used in the open pool (its least recently used sleeps first). */
  used (): void {
    this.ctx.openPool?.use(this.member)
  }

  /**
   * Closes the contract while nothing uses it: its sandbox and its log and
   * files sessions. Nothing is lost: it sleeps only when the host's
   * `idle()` says so and no request runs.
   * @returns false when busy, closing or already asleep (kept)
   */
  sleep (): boolean {
    if (this.asleep || this.waking || this.inUse > 0 || !this.ctx.idle()) return false
    const { log, sandbox } = this.ctx.detach()
    const slept = this.slept = { length: log.length, fork: log.core.fork }
    this.asleep = (async () => {
      // nothing appends while asleep: the root at this length answers `root` requests (watchers poll them) without a wake
      const root = await log.signRoot(slept.length).catch(() => null)
      if (root) this.sleptRoot = unpooledFields(root)
      if (sandbox) await sandbox.close().catch(safetyCatch)
      await log.close()
      releaseClosedLog(log)
    })()
    this.asleep.catch(safetyCatch)
    return true
  }

  /**
   * Runs `fn` with the contract open (woken when asleep) and kept awake
   * until it settles; first the replay a lazy open skipped (at most once per
   * open: what an eager open would have done), its time added to
   * `cost.ms` (a call's: charged to the peer when its call is rejected).
   * @throws VmsError CLOSED when the host closes before the wake, or what the log's open throws
   */
  async use<T> (fn: () => Promise<T>, cost: RequestCost = { ms: 0 }): Promise<T> {
    this.inUse++
    try {
      await this.ctx.ready()
      while (this.asleep || this.waking) await this.wake()
      if (this.unreplayed) {
        const t0 = performance.now()
        await this.replayFirst()
        cost.ms += performance.now() - t0
      }
      this.used()
      return await fn()
    } finally {
      this.inUse--
    }
  }

  /** Waits out a wake in progress (the host's close; its failure is the request's). */
  async woken (): Promise<void> {
    await this.waking?.catch(safetyCatch)
  }

  /** Leaves the open pool and waits until a sleep has closed the sessions (the host's close). */
  async release (): Promise<void> {
    this.ctx.openPool?.release(this.member)
    await this.asleep?.catch(safetyCatch)
  }

  /** Reopens a sleeping contract (once, however many ask). */
  private async wake (): Promise<void> {
    if (!this.waking) {
      if (this.ctx.closing()) throw VmsError.CLOSED('host is closing')
      this.waking = (async () => {
        await this.asleep?.catch(safetyCatch)
        const log = this.ctx.newLog()
        try {
          await log.ready()
        } catch (err) {
          await log.close().catch(safetyCatch)
          throw err
        }
        this.ctx.attach(log)
        this.asleep = null
        this.sleptRoot = null
      })().finally(() => { this.waking = null })
    }
    await this.waking
  }

  /** The replay a lazy open skipped (sandbox, nonces, methods), once. */
  private async replayFirst (): Promise<void> {
    if (!this.replayRun) {
      this.replayRun = this.ctx.replay().then(() => { this.unreplayed = false }).finally(() => { this.replayRun = null })
    }
    await this.replayRun
  }
}
