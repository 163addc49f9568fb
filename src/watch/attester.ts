/**
 * Turns a watcher's verdicts into signed attestations and gossips them.
 *
 * An attestation must carry a host-signed root for exactly the length it
 * attests, so an ok attestation is made at the longest root statement the
 * watcher holds that its judged length covers. Attestations are batched: one
 * when the attested length advanced by `everyCalls` since the last one, or
 * `everyMs` after a change; a fault is attested at once, except one of
 * cause `unknown` (a replay this machine could not run) or `expectation`
 * (the user's expectation, not the host's record). Every root statement
 * the watcher receives also goes into the attestation store, which detects
 * split views (see store.ts); any node that sees one signs an equivocation
 * attestation with the two statements as evidence ({@link reportSplitViews}).
 */

import { VERDICT_EQUIVOCATION, VERDICT_FAULT, VERDICT_OK, type Attestation, type RootStatement, type SignerRecord } from '../../protocol/index.js'
import type { KeyPair } from '../crypto.js'
import { canonicalize } from '../json.js'
import type { AttestationGossip } from '../attest/gossip.js'
import type { ContractWatch } from './contract-watch.js'
import type { Verdict } from './verdict.js'
import { signAttestation } from '../attest/attestation.js'
import { signerOf } from '../attest/signer.js'
import type { AttestationStore } from '../attest/store.js'
import safetyCatch from 'safety-catch'

/** Options for {@link Attester}. */
export interface AttesterOptions {
  /** Attest when the attested length advanced by this many blocks (default 100). */
  everyCalls?: number
  /** ...or this many ms after the verdict changed (default 1,000). */
  everyMs?: number
  /** Largest evidence kept in a fault attestation, bytes of JSON (default 128 KiB); larger evidence is summarised. */
  maxEvidenceBytes?: number
}

interface Followed {
  cw: ContractWatch
  /** Known once the replica has the log's manifest (after the first replication). */
  signer: SignerRecord | null
  attested: number
  /** Statements already handed to the store (the watch thins its kept ones out, so no index would do). */
  fed: WeakSet<RootStatement>
  timer: NodeJS.Timeout | null
  faulted: boolean
}

/** Signs and gossips the verdicts of followed contracts. */
export class Attester {
  private readonly gossip: AttestationGossip
  private readonly identity: KeyPair
  private readonly opts: Required<AttesterOptions>
  private readonly followed = new Set<Followed>()

  /**
   * @param gossip where attestations go (its store checks them)
   * @param identity the watcher's key pair (signs attestations)
   */
  constructor (gossip: AttestationGossip, identity: KeyPair, opts: AttesterOptions = {}) {
    this.gossip = gossip
    this.identity = identity
    this.opts = { everyCalls: opts.everyCalls ?? 100, everyMs: opts.everyMs ?? 1000, maxEvidenceBytes: opts.maxEvidenceBytes ?? 128 * 1024 }
  }

  /**
   * Attests the verdicts of one followed contract from now on.
   * @returns a function that stops
   */
  follow (cw: ContractWatch): () => void {
    this.gossip.store.want(cw.key) // a followed contract is one this node keeps attestations about
    const f: Followed = { cw, signer: signerOf(cw.log.core), attested: 0, fed: new WeakSet(), timer: null, faulted: false }
    this.followed.add(f)
    const onverdict = (v: Verdict): void => this.onverdict(f, v)
    const onfault = (v: Verdict): void => { this.attestFault(f, v).catch(safetyCatch) }
    cw.on('verdict', onverdict)
    cw.on('fault', onfault)
    return () => {
      cw.off('verdict', onverdict)
      cw.off('fault', onfault)
      if (f.timer) clearTimeout(f.timer)
      this.followed.delete(f)
    }
  }

  /** Stops following everything. */
  close (): void {
    for (const f of this.followed) if (f.timer) clearTimeout(f.timer)
    this.followed.clear()
  }

  private onverdict (f: Followed, v: Verdict): void {
    if (!f.signer) f.signer = signerOf(f.cw.log.core)
    if (!f.signer) return
    this.feedStatements(f)
    if (v.verdict !== 'ok' || f.faulted) return
    const s = this.coveredStatement(f, v)
    if (!s || s.length <= f.attested) return
    if (s.length - f.attested >= this.opts.everyCalls || f.attested === 0) {
      this.attestOk(f).catch(safetyCatch)
      return
    }
    if (!f.timer) {
      f.timer = setTimeout(() => {
        f.timer = null
        this.attestOk(f).catch(safetyCatch)
      }, this.opts.everyMs)
      f.timer.unref()
    }
  }

  /** Hands every new root statement of the watcher to the store (split-view check). */
  private feedStatements (f: Followed): void {
    if (!f.signer) return
    for (const s of f.cw.statements) {
      if (f.fed.has(s)) continue
      f.fed.add(s)
      this.gossip.store.addStatement(s, f.signer)
    }
  }

  /** The longest host statement of the judged fork that the judged length covers. */
  private coveredStatement (f: Followed, v: Verdict): RootStatement | null {
    let best: RootStatement | null = null
    for (const s of f.cw.statements) {
      if (s.fork === v.fork && s.length <= v.length && (!best || s.length > best.length)) best = s
    }
    return best
  }

  private async attestOk (f: Followed): Promise<void> {
    const v = f.cw.verdict
    if (!v || v.verdict !== 'ok' || f.faulted) return
    const s = this.coveredStatement(f, v)
    if (!s || s.length <= f.attested) return
    const before = f.attested
    f.attested = s.length
    let files: { version: number, hash: Uint8Array }
    try {
      files = await this.filesAt(f, s.length)
    } catch (err) {
      f.attested = before // the next verdict tries again
      // unfollowed or closed while the block was read (the watch closes its log): nothing left to attest
      if (!this.followed.has(f) || f.cw.log.core.closing !== null) return
      throw err
    }
    if (!this.followed.has(f)) return
    this.gossip.publish(this.sign(f, s, VERDICT_OK, files, null, v))
  }

  private async attestFault (f: Followed, v: Verdict): Promise<void> {
    if (!f.signer) f.signer = signerOf(f.cw.log.core)
    if (f.faulted || !v.fault || !f.signer) return
    f.faulted = true
    // the watcher's own expectation, or a replay its own machine could not run: neither says anything about the host
    if (v.fault.cause === 'expectation' || v.fault.cause === 'unknown') return
    this.feedStatements(f)
    const list = f.cw.statements
    const s = list.length > 0 ? list.reduce((a, b) => (b.length > a.length ? b : a)) : null
    if (!s) {
      // found before any root: the watcher keeps asking its peers for one; attest when it comes
      f.faulted = false
      f.cw.once('statement', () => { this.attestFault(f, v).catch(safetyCatch) })
      return
    }
    const fault = v.fault
    let evidence = canonicalize(fault.evidence) ?? '{}'
    if (evidence.length > this.opts.maxEvidenceBytes) {
      const { records, replays, ...rest } = fault.evidence
      evidence = canonicalize({ ...rest, truncated: true, records: records.map((r) => ({ index: r.index })), replays: replays.length }) ?? '{}'
    }
    const record = { kind: fault.kind, index: fault.index, cause: fault.cause, message: fault.message, evidence }
    this.gossip.publish(this.sign(f, s, VERDICT_FAULT, { version: 0, hash: Buffer.alloc(32) }, record, v))
  }

  /** Files version and hash after block `length - 1` of the replica. */
  private async filesAt (f: Followed, length: number): Promise<{ version: number, hash: Uint8Array }> {
    const b = await f.cw.log.block(length - 1)
    if (b.type === 'genesis') return { version: b.genesis.filesVersion, hash: Buffer.alloc(32) }
    return { version: b.call.filesAfter, hash: b.call.filesHash }
  }

  private sign (f: Followed, s: RootStatement, verdict: number, files: { version: number, hash: Uint8Array }, fault: Attestation['fault'], v: Verdict): Attestation {
    return signAttestation({
      contract: f.cw.key,
      signer: f.signer as SignerRecord,
      length: s.length,
      fork: s.fork,
      treeHash: s.treeHash,
      hostSignature: s.signature,
      filesVersion: files.version,
      filesHash: files.hash,
      verdict,
      trusted: !!f.cw.genesis?.oracles,
      fault,
      runtime: v.runtime,
      time: Date.now()
    }, this.identity)
  }
}

/**
 * Makes `identity` sign and gossip an equivocation (or fork) attestation
 * whenever `store` detects two conflicting host statements.
 * @returns a function that stops
 */
export function reportSplitViews (store: AttestationStore, gossip: AttestationGossip, identity: KeyPair, runtime: string): () => void {
  const onsplit = (sv: NonNullable<ReturnType<AttestationStore['addStatement']>>): void => {
    const s = sv.statement
    const evidence = canonicalize(sv.evidence) ?? '{}'
    const a = signAttestation({
      contract: s.contract,
      signer: sv.signer,
      length: s.length,
      fork: s.fork,
      treeHash: s.treeHash,
      hostSignature: s.signature,
      filesVersion: 0,
      filesHash: Buffer.alloc(32),
      verdict: VERDICT_EQUIVOCATION,
      trusted: false,
      fault: { kind: sv.evidence.type, index: s.length, cause: 'host', message: sv.evidence.type === 'equivocation' ? `the host signed two different logs of length ${s.length}` : `the host rewrote its log at length ${s.length}`, evidence },
      runtime,
      time: Date.now()
    }, identity)
    gossip.publish(a)
  }
  store.on('split-view', onsplit)
  return () => { store.off('split-view', onsplit) }
}
