/**
 * A watcher's own record of how far it judged each contract, so that a
 * restart resumes judging where it stopped. Kept in the node's state bee
 * (node/node-state.ts) under `watch/<contract hex>` ({@link StateBee}): each
 * save is one atomic batch. {@link StateFile} is the former layout
 * (`<storage>/watch/<contract hex>.json`), read once to migrate and still
 * usable on its own. The contract's in-memory state is not stored: it is
 * rebuilt by re-executing the judged calls (warm-up) before judging new ones.
 */

import fs from 'node:fs'
import path from 'node:path'
import type { StatementJSON } from '../attest/statement.js'
import type { Verdict } from './verdict.js'

/** The key/value store {@link StateBee} writes to (a node's state bee, node/node-state.ts). */
export interface StateKV {
  get (key: string): Promise<Uint8Array | null>
  /** Puts (and deletes) in one atomic batch. */
  write (puts: Iterable<[string, Uint8Array]>, dels?: Iterable<string>): Promise<void>
}

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

/** Where one contract's {@link WatchState} is kept. */
export interface WatchStateStore {
  /** The stored state, or null when there is none (or it is unreadable). */
  load (): Promise<WatchState | null> | WatchState | null
  /** Writes `state` atomically. */
  save (state: WatchState): Promise<void> | void
}

/** A state of the current layout, or null. */
function parseState (text: string): WatchState | null {
  try {
    const s = JSON.parse(text) as WatchState
    if (s.version !== STATE_VERSION || typeof s.audited !== 'number') return null
    return s
  } catch {
    return null
  }
}

/**
 * One contract's state in the node's state bee, at `watch/<contract hex>`.
 * With `legacyDir`, a state file there is read when the bee has none (and
 * removed once the bee holds the state).
 */
export class StateBee implements WatchStateStore {
  private readonly state: StateKV
  private readonly key: string
  private readonly legacy: StateFile | null
  private migrated = false

  /**
   * @param state the node's state bee
   * @param contractHex contract key, hex
   * @param legacyDir folder of the former state files, or null
   */
  constructor (state: StateKV, contractHex: string, legacyDir: string | null = null) {
    this.state = state
    this.key = 'watch/' + contractHex
    this.legacy = legacyDir ? new StateFile(legacyDir, contractHex) : null
  }

  async load (): Promise<WatchState | null> {
    const value = await this.state.get(this.key)
    if (value) return parseState(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'))
    return this.legacy ? this.legacy.load() : null
  }

  async save (s: WatchState): Promise<void> {
    await this.state.write([[this.key, Buffer.from(JSON.stringify(s))]])
    if (this.legacy && this.legacy.file && !this.migrated) {
      this.migrated = true
      fs.rmSync(this.legacy.file, { force: true })
    }
  }
}

/** The state file of one contract; a null folder keeps state in memory only. */
export class StateFile implements WatchStateStore {
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
    return parseState(text)
  }

  /** Writes `state` atomically (temporary file, fsynced, renamed). */
  save (state: WatchState): void {
    if (!this.file) return
    fs.mkdirSync(path.dirname(this.file), { recursive: true })
    const tmp = this.file + '.tmp'
    const fd = fs.openSync(tmp, 'w')
    try {
      fs.writeSync(fd, JSON.stringify(state))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, this.file)
  }
}
