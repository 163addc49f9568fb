/**
 * Freshness: noticing that the host a watcher replicates from serves a stale
 * log. A host (or a copy of its storage that stopped appending) can show one
 * watcher an old prefix of its log while others see it grow. Everything that
 * watcher replays is genuine, so replay finds no fault; what gives the stale
 * copy away is gossip: an attestation carries the host's own signature over a
 * root (contract, length, fork, tree hash), so a verified attestation of a
 * greater length under the same fork proves that the host signed a longer
 * log than the one this watcher can get.
 *
 * The monitor follows the attestation store. When a verified root of the
 * watched contract's fork is longer than the local replica, it waits
 * `graceMs` (replication may simply be in flight), asks the connected peers
 * for an update, and if the replica still cannot reach that length it emits
 * `stale` with both sides: the longer signed root from gossip and the
 * latest root the host signed for this watcher. If the replica does reach
 * it, the tree hashes must agree, otherwise it reports `diverged`.
 *
 * Staleness is an observation, not an offline proof: root statements carry
 * no time, so a host can always claim the watcher asked an old copy. It tells
 * the operator of the watcher (and its users) not to trust its verdicts as
 * current, and to find another path to the host.
 */

import { EventEmitter } from 'node:events'
import type { Attestation, RootStatement } from '../../protocol/index.js'
import { rootOf } from '../attest/attestation.js'
import type { AttestationStore } from '../attest/store.js'
import { formatKey } from '../keys.js'
import { sleep } from '../timeout.js'
import type { ContractWatch } from './contract-watch.js'
import { hex } from '../bytes.js'
import { statementToJSON, type StatementJSON } from '../attest/statement.js'
import safetyCatch from 'safety-catch'

/** Options for {@link FreshnessMonitor}. */
export interface FreshnessOptions {
  /** ms a replica may lag behind a gossiped root before it is called stale (default 5,000). */
  graceMs?: number
  /** ms to wait for peers to answer the update request (default 5,000). */
  updateTimeout?: number
}

/** What the monitor reports. */
export interface StaleReport {
  /** `stale`: the replica cannot reach a length the host signed; `diverged`: it reached it with another tree hash. */
  kind: 'stale' | 'diverged'
  /** Contract key, z-base32. */
  contract: string
  fork: number
  /** Length of the log this watcher replicates. */
  servedLength: number
  /** The latest root the host signed for this watcher, if any. */
  served: StatementJSON | null
  /** The longer root, host-signed, learnt from gossip. */
  known: StatementJSON
  /** Watcher (hex) whose attestation carried `known`. */
  via: string
  /** Whether a host answered this watcher's root requests. */
  connected: boolean
  /** When it was noticed, ms since the epoch. */
  time: number
}

interface Entry {
  cw: ContractWatch
  /** Longest verified root of the replica's fork from gossip, and who carried it. */
  known: { root: RootStatement, via: Uint8Array } | null
  timer: NodeJS.Timeout | null
  /** Length already reported (each known length is reported once). */
  reported: number
  /** Known length the replica was checked to agree with (no need to check it again). */
  confirmed: number
  checking: boolean
}

/**
 * Watches followed contracts for stale or diverging replicas.
 * Events: `stale` (StaleReport) — both kinds; `fresh` (contract z-base32) when
 * a contract reported stale has caught up.
 */
export class FreshnessMonitor extends EventEmitter {
  private readonly store: AttestationStore
  private readonly opts: Required<FreshnessOptions>
  private readonly entries = new Map<string, Entry>()
  private readonly onattestation = (a: Attestation): void => this.consider(a)
  private closed = false
  /** Reports that are current, by contract key (hex). */
  readonly stale = new Map<string, StaleReport>()

  /**
   * @param store the attestation store gossip fills (attestations in it are verified)
   * @param opts see {@link FreshnessOptions}
   */
  constructor (store: AttestationStore, opts: FreshnessOptions = {}) {
    super()
    this.store = store
    this.opts = { graceMs: opts.graceMs ?? 5000, updateTimeout: opts.updateTimeout ?? 5000 }
    store.on('attestation', this.onattestation)
    store.on('fault', this.onattestation)
  }

  /**
   * Starts checking one followed contract (already-known attestations included).
   * @returns a function that stops
   */
  follow (cw: ContractWatch): () => void {
    const id = cw.key.toString('hex')
    const entry: Entry = { cw, known: null, timer: null, reported: 0, confirmed: 0, checking: false }
    this.entries.set(id, entry)
    const onappend = (): void => this.recheck(entry)
    cw.log.core.on('append', onappend)
    for (const a of [...this.store.latest(cw.key), ...this.store.faults(cw.key)]) this.consider(a)
    return () => {
      cw.log.core.off('append', onappend)
      if (entry.timer) clearTimeout(entry.timer)
      if (this.entries.get(id) === entry) this.entries.delete(id)
    }
  }

  /** Stops everything. */
  close (): void {
    this.closed = true
    this.store.off('attestation', this.onattestation)
    this.store.off('fault', this.onattestation)
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer)
    this.entries.clear()
  }

  private consider (a: Attestation): void {
    const entry = this.entries.get(hex(a.contract))
    if (!entry || this.closed) return
    const core = entry.cw.log.core
    if (!core.opened || a.fork !== core.fork) return
    if (entry.known && entry.known.root.length >= a.length) return
    entry.known = { root: rootOf(a), via: a.watcher }
    this.recheck(entry)
  }

  /** Schedules a check when the replica is behind the longest known root. */
  private recheck (entry: Entry): void {
    const known = entry.known
    if (!known || this.closed) return
    const core = entry.cw.log.core
    if (core.length >= known.root.length) {
      if (!entry.checking && entry.confirmed < known.root.length) void this.compare(entry)
      return
    }
    if (entry.timer || entry.reported >= known.root.length) return
    entry.timer = setTimeout(() => {
      entry.timer = null
      void this.check(entry)
    }, this.opts.graceMs)
    entry.timer.unref()
  }

  /** After the grace period: ask peers for an update; still behind -> stale. */
  private async check (entry: Entry): Promise<void> {
    const known = entry.known
    const core = entry.cw.log.core
    if (!known || this.closed || entry.cw.closing) return
    try {
      await Promise.race([core.update({ wait: true }), sleep(this.opts.updateTimeout)])
    } catch (err) {
      safetyCatch(err) // the replica closed: checked next
    }
    if (this.closed || entry.cw.closing || entry.known !== known) return
    if (core.fork !== known.root.fork) return // the replica forked: the watcher's fork detection takes over
    if (core.length >= known.root.length) {
      await this.compare(entry)
      return
    }
    if (entry.reported >= known.root.length) return
    entry.reported = known.root.length
    this.report(entry, 'stale')
  }

  /** The replica reached the known length: its tree hash there must be the signed one. */
  private async compare (entry: Entry): Promise<void> {
    const known = entry.known
    const core = entry.cw.log.core
    if (!known || core.length < known.root.length || core.fork !== known.root.fork) return
    entry.checking = true
    try {
      // treeHash downloads the block before the length when missing: bounded, so one lost block cannot wedge the monitor
      const local = await Promise.race([core.treeHash(known.root.length), sleep(this.opts.updateTimeout).then(() => null)])
      if (this.closed || local === null) return
      if (!Buffer.from(local).equals(Buffer.from(known.root.treeHash))) {
        if (entry.reported < known.root.length) {
          entry.reported = known.root.length
          this.report(entry, 'diverged')
        }
        return
      }
      entry.confirmed = known.root.length
      const id = hex(entry.cw.key)
      if (this.stale.delete(id)) this.emit('fresh', formatKey(entry.cw.key))
    } catch (err) {
      safetyCatch(err)
      // the replica closed or the block could not be read: the next append or attestation retries
    } finally {
      entry.checking = false
    }
  }

  private report (entry: Entry, kind: StaleReport['kind']): void {
    const known = entry.known!
    const core = entry.cw.log.core
    const served = entry.cw.statements.filter((s) => s.fork === core.fork).reduce<RootStatement | null>((best, s) => (!best || s.length > best.length ? s : best), null)
    const r: StaleReport = {
      kind,
      contract: formatKey(entry.cw.key),
      fork: core.fork,
      servedLength: core.length,
      served: served ? statementToJSON(served) : null,
      known: statementToJSON(known.root),
      via: hex(known.via),
      connected: entry.cw.connected,
      time: Date.now()
    }
    this.stale.set(hex(entry.cw.key), r)
    this.emit('stale', r)
  }
}
