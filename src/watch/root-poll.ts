/**
 * Root polling for one contract watch: asks every peer of the contract for
 * its signed root statement, checks each answer against the contract's
 * signer (fork.ts {@link RootBook}), and compares the kept statements with
 * the replicated log.
 *
 * A forged answer drops its peer (evidence against that peer, never the
 * host). Two valid statements that conflict are a fork fault; a kept
 * statement whose tree hash the replicated log does not have at that length
 * is a mismatch fault. While following, a round is asked at most every
 * `interval` ms, and none while the newest kept statement already covers
 * the log; after a fault found before any root was kept, rounds go on until
 * one is, so the fault can be attested (an attestation carries a
 * host-signed root).
 */

import type Hypercore from 'hypercore'
import type { RootStatement } from '../../protocol/index.js'
import { RootSources, conflictFault, mismatchFault, type ForkFault, type RootAnswer, type RootBook } from './fork.js'

/** What {@link RootPoll} needs of the contract watch it serves. */
export interface RootPollHost {
  /** The log's core. */
  core: Hypercore
  /** Blocks judged so far. */
  audited (): number
  /** True once a fault was found (final). */
  faulted (): boolean
  /** Following (started, not closing). */
  following (): boolean
  /** Closing: stop every loop. */
  closing (): boolean
  /** Records a fault built from a fork.ts fault. */
  fail (f: ForkFault, blocks: number[]): Promise<void>
  /** A statement the contract's signer signed was kept. */
  kept (s: RootStatement): void
  /** After a round that kept at least one statement. */
  settled (): Promise<void>
  /** Drops a peer that answered a forged root. */
  forged (drop: () => void, reason: string): void
  warn (err: unknown): void
}

/** Asks peers for roots, keeps the valid ones, and checks them against the log (see the module doc). */
export class RootPoll {
  /** The peers asked. */
  readonly sources = new RootSources()
  /** Kept statements (null until the genesis names the signer). */
  book: RootBook | null = null
  private readonly host: RootPollHost
  private readonly interval: number
  private readonly requestTimeout: number
  private readonly checked = new WeakSet<RootStatement>()
  private timer: NodeJS.Timeout | null = null

  /**
   * @param interval ms between rounds while following
   * @param requestTimeout ms a peer has to answer
   */
  constructor (host: RootPollHost, interval: number, requestTimeout: number) {
    this.host = host
    this.interval = interval
    this.requestTimeout = requestTimeout
  }

  /** The newest kept statement (null when none). */
  latest (): RootStatement | null {
    return this.book ? this.book.latest() : null
  }

  /** One round: asks every peer, keeps what is valid. @param timeout ms (default the request timeout) */
  async round (timeout = this.requestTimeout): Promise<RootStatement | null> {
    return await this.keepValid(await this.sources.fetchAll(timeout))
  }

  /**
   * Checks one round of answers against the contract's signer: a forged one
   * drops its peer, two valid ones that conflict are a fork fault, valid
   * ones are kept.
   * @returns the longest valid root, or null when none proved itself
   */
  async keepValid (answers: RootAnswer[]): Promise<RootStatement | null> {
    const h = this.host
    const book = this.book
    if (!book) return null
    let best: RootStatement | null = null
    for (const a of answers) {
      const s = a.statement
      const r = book.add(s)
      if (r.status === 'invalid') { h.forged(a.drop, r.reason); continue }
      if (r.status === 'conflict') {
        if (h.faulted()) continue
        await h.fail(conflictFault(r.with, s, r.kind), [])
        return null
      }
      a.prove()
      h.kept(s)
      if (!best || s.length > best.length) best = s
    }
    if (best) await h.settled()
    return best
  }

  /**
   * The statements around a truncation: the newest kept before it, and the
   * longest one the peers give now (or, when one conflicts with a kept one,
   * that pair). Forged answers drop their peers.
   */
  async aroundTruncation (): Promise<{ before: RootStatement | null, after: RootStatement | null }> {
    const book = this.book
    let before = book ? book.latest() : null
    let after: RootStatement | null = null
    if (!book) return { before, after }
    for (const a of await this.sources.fetchAll(this.requestTimeout)) {
      const r = book.add(a.statement)
      if (r.status === 'invalid') { this.host.forged(a.drop, r.reason); continue }
      if (!after || a.statement.length > after.length) after = a.statement
      if (r.status === 'conflict') { before = r.with; after = a.statement; break }
    }
    return { before, after }
  }

  /** Compares kept statements of our fork with the replicated log's tree hash (a mismatch is a fault). */
  async checkPending (): Promise<void> {
    const h = this.host
    const book = this.book
    const core = h.core
    if (!book || h.faulted()) return
    for (const s of book.statements) {
      if (this.checked.has(s) || s.fork !== core.fork || s.length > core.length || s.length > h.audited() || s.length === 0) continue
      const local = await core.treeHash(s.length)
      this.checked.add(s)
      if (!local.equals(s.treeHash)) {
        const ff = mismatchFault(s, local)
        await h.fail(ff, [ff.index])
        return
      }
    }
  }

  /**
   * Asks for a round after `delay` ms (default: `interval` after the last
   * one), unless one is already due, no peer is known, or the newest kept
   * statement already covers the log.
   */
  schedule (delay?: number): void {
    const h = this.host
    if (this.timer || h.faulted() || !h.following() || this.sources.size === 0) return
    const wait = delay ?? Math.max(0, this.sources.lastAt + this.interval - Date.now())
    this.timer = setTimeout(() => {
      this.timer = null
      const latest = this.latest()
      if (latest && latest.length === h.core.length && latest.fork === h.core.fork) return
      this.round().catch((err) => h.warn(err))
    }, wait)
  }

  /** After a fault found before any root was kept: rounds every `interval` ms until one is kept (following only). */
  async afterFault (): Promise<void> {
    const h = this.host
    while (!h.closing() && this.book && this.book.statements.length === 0) {
      if (this.sources.size > 0) await this.round().catch((err) => h.warn(err))
      if (!this.book || this.book.statements.length > 0 || h.closing()) return
      await new Promise((resolve) => setTimeout(resolve, this.interval))
    }
  }

  /** Cancels the scheduled round. */
  stop (): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }
}
