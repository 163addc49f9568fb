/**
 * `vms-node check <evidence.json>`: verifies fault evidence offline, with no
 * network. Accepts split-view evidence (two conflicting signed root
 * statements: equivocation or fork), or an attestation in JSON whose fault
 * carries such evidence.
 */

import fs from 'node:fs'
import { checkEvidence, type EvidenceCheck } from '../attest/evidence.js'
import { VmsError } from '../errors.js'
import type { Output } from './output.js'

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
  const result = checkEvidence(evidence)
  if (out.json) out.object({ valid: result.valid, kind: result.kind, reason: result.reason })
  else out.line(`${result.valid ? 'VALID' : 'INVALID'}: ${result.reason}`)
  return result
}
