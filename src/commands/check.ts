/**
 * `vms-node check <evidence.json>`: verifies fault evidence offline, with no
 * network. Accepts split-view evidence (two conflicting signed root
 * statements: equivocation or fork), a watcher's fork fault evidence (from
 * `verify --json` or an attestation), or an attestation or verdict in JSON
 * whose fault carries such evidence, or files-behind-the-log evidence (the
 * host's signed head pair beside the log's last record, head-evidence.ts).
 * Other faults found by replay (result, files, ...) need the files state to
 * re-check and are not checked offline yet.
 */

import fs from 'node:fs'
import { checkEvidence, type EvidenceCheck } from '../attest/evidence.js'
import { DEFAULT_NAMESPACE, signerMatches } from '../attest/signer.js'
import { checkHeadEvidence } from '../attest/head-evidence.js'
import { VmsError } from '../errors.js'
import { parseKey } from '../keys.js'
import { decodeGenesis } from '../log/contract-log.js'
import { checkForkEvidence } from '../attest/evidence.js'
import type { StatementJSON } from '../attest/statement.js'
import type { Output } from './output.js'

/**
 * Checks a watcher's fork evidence (src/watch/verdict.ts `Evidence` with two
 * root statements and the genesis block): the genesis signer must be the key
 * the contract key was made from, and both statements must be signed by it
 * and conflict (two forks, or two tree hashes for one length).
 */
export function checkWatcherEvidence (ev: { contract?: string, genesis?: string | null, statements?: StatementJSON[] }): EvidenceCheck | null {
  if (!ev || typeof ev.contract !== 'string' || !Array.isArray(ev.statements) || typeof ev.genesis !== 'string') return null
  if (ev.statements.length !== 2) return null
  try {
    const contract = parseKey(ev.contract)
    const genesis = decodeGenesis(Buffer.from(ev.genesis, 'hex'))
    if (!genesis) return { valid: false, kind: null, reason: 'the evidence genesis is not a genesis record' }
    const signer = genesis.signer
    if (!signerMatches(contract, { version: 1, publicKey: signer, namespace: DEFAULT_NAMESPACE })) return { valid: false, kind: null, reason: 'the genesis signer is not the key of this contract' }
    const kind = checkForkEvidence(ev.statements[0], ev.statements[1], signer, contract)
    if (!kind) return { valid: false, kind: null, reason: 'the two statements are not both signed by the contract\'s signer, or do not conflict' }
    return { valid: true, kind, reason: kind === 'fork' ? 'the host signed roots of two forks of its log: history rewritten' : 'the host signed two different logs of one length' }
  } catch (err) {
    return { valid: false, kind: null, reason: 'malformed evidence: ' + (err as Error).message }
  }
}

/**
 * Reads and checks an evidence file.
 * @returns the check (valid, kind, reason); the CLI exits 0 when valid, 1 otherwise
 * @throws VmsError BAD_ARGUMENT when the file is unreadable or not JSON
 */
export function runCheck (file: string, out: Output): EvidenceCheck {
  let json: unknown
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    throw VmsError.BAD_ARGUMENT(`cannot read evidence ${file}: ${(err as Error).message}`)
  }
  const j = json as { fault?: { evidence?: unknown } | null, evidence?: unknown }
  // an attestation or verdict in JSON: its fault's evidence (a string or an object)
  let evidence: unknown = json
  const inner = j.fault?.evidence ?? j.evidence
  if (inner !== undefined) evidence = typeof inner === 'string' ? JSON.parse(inner) : inner
  const e = evidence as { type?: string }
  const result = e && (e.type === 'equivocation' || e.type === 'fork')
    ? checkEvidence(evidence)
    : e && (e as { head?: unknown }).head !== undefined
      ? checkHeadEvidence(evidence as Parameters<typeof checkHeadEvidence>[0])
      : (checkWatcherEvidence(evidence as Parameters<typeof checkWatcherEvidence>[0]) ?? { valid: false, kind: null, reason: 'not evidence this version checks offline: split-view evidence, a watcher fork fault with two signed statements and the genesis block, or a signed head pair with the log\'s last record' })
  if (out.json) out.object({ valid: result.valid, kind: result.kind, reason: result.reason })
  else out.line(`${result.valid ? 'VALID' : 'INVALID'}: ${result.reason}`)
  return result
}
