/**
 * Auditing the files drive's head: drive blocks that no call record covers.
 *
 * A call record names the drive versions it read and left; between calls
 * nothing may touch the drive. A replay judges each record, but files
 * written behind the log after the last call are named by no record, so
 * replay alone never sees them, while every stock Hyperdrive reader does.
 * The watcher asks the host for its signed head pair (protocol/head.ts: the
 * log root and the drive length at one point, signed only between group
 * commits) and compares the drive length with what the log's last record at
 * that root leaves. Not equal: a `files` fault, with the one signed pair and
 * that record (with its inclusion proof under the signed log tree hash) as
 * offline evidence (src/attest/head-evidence.ts, `vms-node check`).
 *
 * A head for a longer log than judged waits until the watcher has judged
 * that far (an honest host answered after a group landed). A host that
 * signs no head while the replicated drive is ahead of the log is flagged
 * (`HEAD_UNPROVEN` warning), not proven: that is also what a host that is
 * down mid-group looks like.
 */

import b4a from 'b4a'
import type { GenesisRecord, HeadStatement, SignerRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { headToJSON, lastBlockProof, verifyHead } from '../attest/head-evidence.js'
import { signerOf } from '../attest/signer.js'
import type { ContractLog } from '../log/contract-log.js'
import { changedPaths, type FaultDraft } from './audit.js'
import type { HeadAnswer, RootSources } from './fork.js'
import type { Evidence } from './verdict.js'

/** What {@link judgeHead} concludes about one verified head. */
export type HeadVerdict =
  | { status: 'ok' }
  | { status: 'later' }
  | { status: 'skip', reason: string }
  | { status: 'fault', draft: FaultDraft, index: number, blocks: number[], extra: Partial<Evidence> }

/**
 * The contract's signer record, from the replica's manifest (hypercore
 * checks the manifest hashes to the key), when it names `genesisSigner`.
 */
export function contractSigner (log: ContractLog, genesisSigner: Uint8Array): SignerRecord | null {
  const s = signerOf(log.core)
  return s && b4a.equals(s.publicKey, genesisSigner) ? s : null
}

/**
 * Splits a round of head answers into verified heads and forged ones.
 * @returns `valid` heads (signed by `signer` for `contract`), `forged` answers (drop their peers)
 */
export function sortHeads (answers: HeadAnswer[], contract: Uint8Array, signer: SignerRecord): { valid: HeadStatement[], forged: HeadAnswer[] } {
  const valid: HeadStatement[] = []
  const forged: HeadAnswer[] = []
  for (const a of answers) {
    if (verifyHead(a.head, contract, signer)) valid.push(a.head)
    else forged.push(a)
  }
  return { valid, forged }
}

/**
 * Judges a verified head against the replica.
 * @param audited blocks judged so far (a head past them is judged later)
 * @param timeout ms to wait for a block (0: forever)
 */
export async function judgeHead (log: ContractLog, h: HeadStatement, audited: number, timeout: number): Promise<HeadVerdict> {
  const core = log.core
  if (h.length < 1) return { status: 'skip', reason: 'a head of an empty log' }
  if (h.fork !== core.fork) return { status: 'skip', reason: `a head of fork ${h.fork}, the replica is at fork ${core.fork}` }
  if (h.length > audited || h.length > core.length) return { status: 'later' }
  if (!b4a.equals(await core.treeHash(h.length), h.treeHash)) return { status: 'skip', reason: `the head's log tree hash at ${h.length} is not the replica's` }
  const drive = log.drive
  if (drive && drive.core.length >= h.filesLength && h.filesLength > 0 && (await drive.core.has(h.filesLength - 1))) {
    // the drive the host signed must be the drive it serves (hypercore verified the replica's blocks)
    if (!b4a.equals(await drive.core.treeHash(h.filesLength), h.filesTreeHash)) return { status: 'skip', reason: `the head's files tree hash at ${h.filesLength} is not the replicated drive's` }
  }
  const last = await log.block(h.length - 1, timeout ? { wait: true, timeout } : { wait: true })
  const covered = last.type === 'genesis' ? last.genesis.filesVersion : last.call.filesAfter
  if (h.filesLength === covered) return { status: 'ok' }
  let changes: unknown = null
  if (drive && h.filesLength > covered) {
    try {
      await drive.core.get(h.filesLength - 1, { wait: true, timeout: timeout || 5000 })
      changes = await changedPaths(drive, covered, h.filesLength)
    } catch {
      // a diff of the host's drive: whatever its blocks make it throw, the fault stands without the list
    }
  }
  const ahead = h.filesLength > covered
  return {
    status: 'fault',
    index: h.length,
    blocks: [h.length - 1],
    draft: {
      kind: 'files',
      message: ahead
        ? `the host signed its files drive at version ${h.filesLength} beside its log at length ${h.length}, whose last record leaves version ${covered}: ${h.filesLength - covered} drive blocks no call record covers`
        : `the host signed its files drive at version ${h.filesLength} beside its log at length ${h.length}, whose last record leaves version ${covered}: the drive lost logged writes`,
      expected: { filesLength: covered },
      observed: { filesLength: h.filesLength, unloggedChanges: changes }
    },
    extra: { head: headToJSON(h), inclusion: await lastBlockProof(core, h.length) }
  }
}

/** What {@link HeadWatch} needs of the contract watch it serves. */
export interface HeadWatchHost {
  key: Uint8Array
  log: ContractLog
  roots: RootSources
  genesis (): GenesisRecord | null
  /** Blocks judged so far. */
  audited (): number
  /** Files version the judged log leaves (null before the first call can be judged). */
  filesAfter (): number | null
  /** False once faulted or closing. */
  active (): boolean
  /** Following appends (not a one-shot audit). */
  following (): boolean
  fail (f: Extract<HeadVerdict, { status: 'fault' }>): Promise<void>
  /** Drops a peer that answered a forged head. */
  forged (drop: () => void, reason: string): void
  warn (err: unknown): void
}

/** Asks peers for head pairs when the replicated drive says so, and judges them (see the module doc). */
export class HeadWatch {
  /** Heads judged consistent with the log. */
  checks = 0
  private readonly host: HeadWatchHost
  private readonly timeout: number
  private readonly requestTimeout: number
  private busy = false
  private asked = { key: '', at: 0 }
  private pending: HeadStatement | null = null

  /**
   * @param timeout ms to wait for a block (0: forever)
   * @param requestTimeout ms a peer has to answer `head`
   */
  constructor (host: HeadWatchHost, timeout: number, requestTimeout: number) {
    this.host = host
    this.timeout = timeout
    this.requestTimeout = requestTimeout
  }

  /**
   * While following: when the replicated drive is not at the version the
   * judged log leaves, asks every peer for its signed head. The same (log,
   * drive) lengths are asked again only after 10 s.
   */
  maybe (): void {
    const h = this.host
    const drive = h.log.drive
    const after = h.filesAfter()
    if (!drive || after === null || this.busy || !h.active() || !h.following()) return
    if (h.audited() < h.log.core.length || drive.core.length === after || h.roots.size === 0) return
    const key = `${h.log.core.length}:${drive.core.length}`
    if (key === this.asked.key && Date.now() - this.asked.at < 10_000) return
    this.asked = { key, at: Date.now() }
    this.busy = true
    this.round(this.requestTimeout).catch((err) => h.warn(err)).finally(() => { this.busy = false })
  }

  /** One round of head requests: forged heads drop their peers, valid ones are judged (or kept for later). */
  async round (timeout: number): Promise<void> {
    const h = this.host
    const g = h.genesis()
    if (!g || !h.active()) return
    const signer = contractSigner(h.log, g.signer)
    if (!signer) return
    const { valid, forged } = sortHeads(await h.roots.fetchHeads(timeout), h.key, signer)
    for (const a of forged) h.forged(a.drop, 'head statement not signed by the contract\'s signer')
    for (const head of valid) await this.judge(head)
    const drive = h.log.drive
    const after = h.filesAfter()
    if (valid.length === 0 && drive && after !== null && drive.core.length !== after && h.audited() >= h.log.core.length && h.active()) {
      h.warn(VmsError.HEAD_UNPROVEN(`the replicated files drive is at version ${drive.core.length}, the log's last record leaves ${after}, and no peer signed a head pair`))
    }
  }

  /** Judges a head kept for later, once the log is judged that far. */
  async checkPending (): Promise<void> {
    const head = this.pending
    if (!head || this.host.audited() < head.length) return
    this.pending = null
    await this.judge(head)
  }

  private async judge (head: HeadStatement): Promise<void> {
    const h = this.host
    if (!h.active()) return
    const r = await judgeHead(h.log, head, h.audited(), this.timeout)
    if (r.status === 'ok') this.checks++
    else if (r.status === 'later') this.keep(head)
    else if (r.status === 'skip') h.warn(VmsError.BAD_RECORD(`ignored a head statement: ${r.reason}`))
    else await h.fail(r)
  }

  /** Keeps the longest head judged too early, for {@link checkPending}. */
  private keep (head: HeadStatement): void {
    if (!this.pending || head.length > this.pending.length) this.pending = head
  }
}
