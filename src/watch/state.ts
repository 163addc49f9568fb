/**
 * A watcher's own record of how far it judged each contract, kept in its
 * storage folder (`<storage>/watch/<contract hex>.json`) so that a restart
 * resumes judging where it stopped. Written atomically (temporary file, then
 * rename). The contract's in-memory state is not stored: it is rebuilt by
 * re-executing the judged calls (warm-up) before judging new ones.
 */

import fs from 'node:fs'
import path from 'node:path'
import type { StatementJSON } from '../attest/statement.js'
import type { Verdict } from './verdict.js'

/** Layout version of the state file. */
const STATE_VERSION = 1

/** What is stored per contract. */
export interface WatchState {
  version: number
  /** Contract key, hex. */
  contract: string
  /** Blocks judged: the next block to judge (1 once the genesis passed). */
  audited: number
  /** Fork id of the log when `audited` was reached. */
  fork: number
  /** Log tree hash at `audited` (hex), to notice a rewritten history on restart. */
  treeHash: string | null
  /** Files version and hash after the last judged call. */
  filesVersion: number
  filesHash: string | null
  /** The last verdict reached (a fault is final). */
  verdict: Verdict | null
  /** Host root statements kept (see fork.ts). */
  statements: StatementJSON[]
  /** Calls judged over all runs. */
  judgedTotal: number
}

/** A fresh state for `contractHex`. */
export function initialState (contractHex: string): WatchState {
  return {
    version: STATE_VERSION,
    contract: contractHex,
    audited: 0,
    fork: 0,
    treeHash: null,
    filesVersion: 0,
    filesHash: null,
    verdict: null,
    statements: [],
    judgedTotal: 0
  }
}

/** The state file of one contract; a null folder keeps state in memory only. */
export class StateFile {
  readonly file: string | null

  /**
   * @param dir folder of the state files (created on first save), or null
   * @param contractHex contract key, hex
   */
  constructor (dir: string | null, contractHex: string) {
    this.file = dir ? path.join(dir, contractHex + '.json') : null
  }

  /** The stored state, or null when there is none (or it is unreadable). */
  load (): WatchState | null {
    if (!this.file) return null
    let text: string
    try {
      text = fs.readFileSync(this.file, 'utf8')
    } catch {
      return null
    }
    try {
      const s = JSON.parse(text) as WatchState
      if (s.version !== STATE_VERSION || typeof s.audited !== 'number') return null
      return s
    } catch {
      return null
    }
  }

  /** Writes `state` atomically. */
  save (state: WatchState): void {
    if (!this.file) return
    fs.mkdirSync(path.dirname(this.file), { recursive: true })
    const tmp = this.file + '.tmp'
    fs.writeFileSync(tmp, JSON.stringify(state))
    fs.renameSync(tmp, this.file)
  }
}
