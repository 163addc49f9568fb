/**
 * Split views, one vocabulary for every proof of them: two root statements
 * of one contract, both signed by the contract's log signer, that no single
 * append-only log can have given.
 * - **equivocation**: same fork id, same length, different tree hashes (the
 *   host showed two logs at once);
 * - **fork**: different fork ids (Hypercore raises the fork id only when a
 *   log is truncated, and a call log is append-only: the host rewrote
 *   history).
 * Either way, the two signatures alone prove it, offline — the idea of
 * Certificate Transparency's gossip (RFC 6962 §5; Chuat et al., "Efficient
 * gossip protocols for verifying the consistency of certificate logs", 2015).
 * A watcher keeps such pairs in its fault evidence ({@link checkForkEvidence});
 * the attestation store gossips {@link SplitViewEvidence}, which also needs
 * the two for the same length.
 */

import b4a from 'b4a'
import { parseKey } from '../keys.js'
import type { RootStatement, SignerRecord } from '../../protocol/index.js'
import { hex } from '../bytes.js'
import { statementFromJSON, statementToJSON, type StatementJSON } from './statement.js'
import { verifyRoot } from './signer.js'

/** The two kinds of split view (see the top of this file). */
export type SplitView = 'equivocation' | 'fork'

/** Which split view two statements of one contract prove, or null when they can both be true. */
export function forkProof (a: RootStatement, b: RootStatement): SplitView | null {
  if (!b4a.equals(a.contract, b.contract)) return null
  if (a.fork !== b.fork) return 'fork'
  if (a.length === b.length && !b4a.equals(a.treeHash, b.treeHash)) return 'equivocation'
  return null
}

/**
 * Checks a watcher's fork evidence offline: both statements are signed by
 * `signer` (the genesis signer key), for `contract`, and they conflict.
 * @returns the split view they prove, or null when the evidence proves nothing
 */
export function checkForkEvidence (a: StatementJSON, b: StatementJSON, signer: Uint8Array, contract: Uint8Array): SplitView | null {
  let sa: RootStatement
  let sb: RootStatement
  try {
    sa = statementFromJSON(a)
    sb = statementFromJSON(b)
  } catch {
    return null
  }
  if (!b4a.equals(sa.contract, contract) || !b4a.equals(sb.contract, contract)) return null
  if (!verifyRoot(sa, signer) || !verifyRoot(sb, signer)) return null
  return forkProof(sa, sb)
}

/** The JSON evidence of a split view at one length, as gossiped. */
export interface SplitViewEvidence {
  type: SplitView
  contract: string
  signer: { version: number, publicKey: string, namespace: string }
  statements: [StatementJSON, StatementJSON]
}

/** What {@link checkEvidence} concludes. */
export interface EvidenceCheck {
  valid: boolean
  /** The split view proven (`equivocation` or `fork`), or `files` for head evidence (head-evidence.ts), when valid. */
  kind: string | null
  /** Why it is (in)valid, for people. */
  reason: string
}

/**
 * Builds the evidence of two conflicting statements, or null when they do
 * not conflict (other contract or length, same tree hash, or a bad signature).
 */
export function splitViewEvidence (a: RootStatement, b: RootStatement, signer: SignerRecord): SplitViewEvidence | null {
  const ev: SplitViewEvidence = {
    type: forkProof(a, b) ?? 'equivocation',
    contract: statementToJSON(a).contract,
    signer: { version: signer.version, publicKey: hex(signer.publicKey), namespace: hex(signer.namespace) },
    statements: [statementToJSON(a), statementToJSON(b)]
  }
  return checkEvidence(ev).valid ? ev : null
}

/**
 * Checks split-view evidence with no network: both statements name the
 * evidence's contract and the same length, their tree hashes differ, the
 * signer record hashes to the contract key, and both signatures verify.
 * Never throws; anything malformed is invalid.
 */
export function checkEvidence (input: unknown): EvidenceCheck {
  const no = (reason: string): EvidenceCheck => ({ valid: false, kind: null, reason })
  try {
    const ev = input as SplitViewEvidence
    if (!ev || (ev.type !== 'equivocation' && ev.type !== 'fork')) return no('not split-view evidence (type must be "equivocation" or "fork")')
    if (!Array.isArray(ev.statements) || ev.statements.length !== 2) return no('evidence needs exactly two statements')
    const contract = parseKey(ev.contract)
    const signer: SignerRecord = { version: Number(ev.signer.version), publicKey: Buffer.from(ev.signer.publicKey, 'hex'), namespace: Buffer.from(ev.signer.namespace, 'hex') }
    const [a, b] = ev.statements.map(statementFromJSON)
    if (!Buffer.from(a.contract).equals(contract) || !Buffer.from(b.contract).equals(contract)) return no('a statement names another contract')
    if (a.length !== b.length) return no('the statements are for different lengths')
    if (Buffer.from(a.treeHash).equals(b.treeHash)) return no('the statements agree (same tree hash): not distinct')
    const kind = forkProof(a, b)
    if (kind === null) return no('the statements name different contracts')
    if (kind !== ev.type) return no(`the statements show a ${kind}, not a ${ev.type}`)
    if (!verifyRoot(a, signer)) return no('the first statement is not signed by the contract\'s log signer')
    if (!verifyRoot(b, signer)) return no('the second statement is not signed by the contract\'s log signer')
    return {
      valid: true,
      kind,
      reason: kind === 'equivocation'
        ? `the host signed two different logs of length ${a.length} (fork ${a.fork})`
        : `the host signed length ${a.length} at fork ${a.fork} and fork ${b.fork} with different tree hashes: history rewritten`
    }
  } catch (err) {
    return no('malformed evidence: ' + (err as Error).message)
  }
}
