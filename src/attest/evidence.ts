/**
 * Split-view evidence: two root statements of one contract for the same log
 * length with different tree hashes, both signed by the contract's log
 * signer. Same fork id: **equivocation** (the host showed two logs at once);
 * different fork ids: **fork** (the host rewrote history). Either way, the two
 * signatures alone prove it, offline — the idea of Certificate Transparency's
 * gossip (RFC 6962 §5; Chuat et al., "Efficient gossip protocols for
 * verifying the consistency of certificate logs", 2015).
 */

import { parseKey } from '../keys.js'
import type { RootStatement, SignerRecord } from '../../protocol/index.js'
import { statementFromJSON, statementToJSON, type StatementJSON } from '../watch/verdict.js'
import { verifyRoot } from './signer.js'

/** The JSON evidence of a split view. */
export interface SplitViewEvidence {
  type: 'equivocation' | 'fork'
  contract: string
  signer: { version: number, publicKey: string, namespace: string }
  statements: [StatementJSON, StatementJSON]
}

/** What {@link checkEvidence} concludes. */
export interface EvidenceCheck {
  valid: boolean
  /** `equivocation` or `fork` when valid. */
  kind: string | null
  /** Why it is (in)valid, for people. */
  reason: string
}

function hex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/**
 * Builds the evidence of two conflicting statements, or null when they do
 * not conflict (other contract or length, same tree hash, or a bad signature).
 */
export function splitViewEvidence (a: RootStatement, b: RootStatement, signer: SignerRecord): SplitViewEvidence | null {
  const ev: SplitViewEvidence = {
    type: a.fork === b.fork ? 'equivocation' : 'fork',
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
    const kind = a.fork === b.fork ? 'equivocation' : 'fork'
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
