/**
 * How far one contract watch got, and picking it up again: the stored
 * {@link WatchState} (state.ts) of one contract, what a restart does with
 * it, and what each save writes.
 *
 * On a restart a stored fault stays (final); a stored length whose history
 * the replicated log no longer has (another fork, a shorter log, another
 * tree hash) is a truncation to judge; otherwise the judged calls are
 * re-executed without judging (warm-up) and judging goes on from there.
 * A rewritten history is never saved as the one judged.
 */

import type Hypercore from 'hypercore'
import { initialState, type WatchState, type WatchStateStore } from './state.js'
import type { Verdict } from './verdict.js'
import { hex } from '../bytes.js'
import type { StatementJSON } from '../attest/statement.js'

/** Judged blocks between two saves while judging a backlog. */
const SAVE_EVERY = 500

/** What a restart does with the stored state. */
export type Resume =
  /** A fault was stored: it stays (final). */
  | { kind: 'fault', resumedFrom: number, verdict: Verdict & { fault: NonNullable<Verdict['fault']> } }
  /** Nothing past the genesis was judged. */
  | { kind: 'fresh', resumedFrom: 1 }
  /** The log no longer has the judged history: it was truncated to `to` under `fork`. */
  | { kind: 'forked', resumedFrom: number, to: number, fork: number }
  /** Warm up to `resumedFrom`, then judge on. */
  | { kind: 'warm', resumedFrom: number, filesVersion: number, filesHash: Buffer | null }

/** What a save records. */
export interface ProgressNow {
  /** Blocks judged. */
  audited: number
  /** True when the log was truncated under the judged length (its fork and hash are not recorded). */
  forked: boolean
  /** The log's core. */
  core: Hypercore
  /** Files version and hash after the last judged call (null: unchanged). */
  files: { version: number, hash: Uint8Array | null } | null
  /** The fault verdict (null when none). */
  fault: Verdict | null
  /** The kept root statements (null: unchanged). */
  statements: StatementJSON[] | null
}

/** The stored progress of one contract (see the module doc). */
export class WatchProgress {
  private readonly file: WatchStateStore
  private state: WatchState
  private sinceSave = 0

  /**
   * @param file where the state is kept (the node's state bee, a state file, or memory)
   * @param contractHex contract key, hex
   */
  constructor (file: WatchStateStore, contractHex: string) {
    this.file = file
    this.state = initialState(contractHex)
  }

  /** Reads the stored state (a missing or unreadable one is a fresh start). */
  async load (): Promise<void> {
    this.state = (await this.file.load()) ?? this.state
  }

  /** The root statements stored. */
  get statements (): StatementJSON[] {
    return this.state.statements
  }

  /** Counts one judged block. @returns true when a save is due */
  judged (): boolean {
    this.state.judgedTotal++
    return ++this.sinceSave >= SAVE_EVERY
  }

  /** What to do with the stored state, given the replicated log `core`. */
  async resume (core: Hypercore): Promise<Resume> {
    const s = this.state
    if (s.verdict && s.verdict.verdict === 'fault' && s.verdict.fault) {
      return { kind: 'fault', resumedFrom: s.audited, verdict: s.verdict as Verdict & { fault: NonNullable<Verdict['fault']> } }
    }
    if (s.audited <= 1) return { kind: 'fresh', resumedFrom: 1 }
    if (core.fork !== s.fork || core.length < s.audited || (s.treeHash && !(await core.treeHash(s.audited)).equals(Buffer.from(s.treeHash, 'hex')))) {
      return { kind: 'forked', resumedFrom: s.audited, to: Math.min(core.length, s.audited), fork: core.fork }
    }
    return { kind: 'warm', resumedFrom: s.audited, filesVersion: s.filesVersion, filesHash: s.filesHash ? Buffer.from(s.filesHash, 'hex') : null }
  }

  /** Records `now` and writes it. */
  async save (now: ProgressNow): Promise<void> {
    this.sinceSave = 0
    const s = this.state
    const core = now.core
    s.audited = now.audited
    if (!now.forked) {
      // never record a rewritten history as the one judged
      s.fork = core.fork
      if (now.audited > 0 && now.audited <= core.length && core.opened && !core.closed) s.treeHash = hex(await core.treeHash(now.audited))
    }
    if (now.files) {
      s.filesVersion = now.files.version
      s.filesHash = now.files.hash ? hex(now.files.hash) : null
    }
    s.verdict = now.fault
    if (now.statements) s.statements = now.statements
    await this.file.save(s)
  }
}
