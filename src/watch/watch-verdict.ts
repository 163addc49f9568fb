/**
 * What a contract watch (contract-watch.ts) says: its verdict at the judged
 * length and the fault it builds from a judge's draft. Both read the watch's
 * state and change nothing.
 */

import type Hypercore from 'hypercore'
import type { GenesisRecord } from '../../protocol/index.js'
import { formatKey } from '../keys.js'
import { hex } from '../bytes.js'
import { statementToJSON } from '../attest/statement.js'
import type { FaultDraft } from './audit.js'
import type { RootBook } from './fork.js'
import { blockEvidence, emptyEvidence, type Evidence, type Fault, type FaultCause, type Verdict } from './verdict.js'

/** The state a verdict is made of. */
export interface VerdictState {
  key: Uint8Array
  core: Hypercore
  /** Blocks judged (genesis included). */
  audited: number
  fault: Fault | null
  /** Kept host-signed roots (null before the genesis). */
  book: RootBook | null
  /** The files version and hash after the last passed call (null before the genesis passed). */
  judge: { filesAfter: number, filesHash: Uint8Array | null } | null
  genesis: GenesisRecord | null
  /** Our runtime fingerprint. */
  runtime: string
}

/**
 * The verdict as it stands: length judged (up to the fault), the log's tree
 * hash there, the files version and hash, and the kept root statement of
 * that length when its tree hash matches.
 */
export async function verdictNow (s: VerdictState): Promise<Verdict> {
  const core = s.core
  const length = s.fault ? Math.min(s.audited, s.fault.index) : s.audited
  let treeHash: string | null = null
  if (!s.fault && core.opened && !core.closed && length > 0 && length <= core.length) {
    treeHash = hex(await core.treeHash(length))
  }
  const stmt = s.book ? s.book.at(length, core.fork) : null
  return {
    contract: formatKey(s.key),
    verdict: s.fault ? 'fault' : 'ok',
    length,
    fork: core.fork,
    treeHash,
    filesVersion: s.judge ? s.judge.filesAfter : (s.genesis ? s.genesis.filesVersion : 0),
    filesHash: s.judge && s.judge.filesHash ? hex(s.judge.filesHash) : null,
    runtime: s.runtime,
    hostRuntime: s.genesis ? s.genesis.runtime : null,
    oracles: s.genesis ? s.genesis.oracles : null,
    statement: stmt && treeHash && hex(stmt.treeHash) === treeHash ? statementToJSON(stmt) : null,
    time: Date.now(),
    fault: s.fault
  }
}

/**
 * A fault from a judge's draft, with its evidence: the genesis block, what
 * was expected and observed, the named log blocks (with proofs), and `extra`.
 * @param genesisRaw block 0 as stored (null when it was not readable)
 * @param blocks log block indexes to include
 */
export async function buildFault (key: Uint8Array, core: Hypercore, genesisRaw: Uint8Array | null, d: FaultDraft, index: number, cause: FaultCause, blocks: number[], extra: Partial<Evidence> = {}): Promise<Fault> {
  const evidence = emptyEvidence(key, genesisRaw)
  evidence.expected = d.expected
  evidence.observed = d.observed
  for (const b of blocks) evidence.records.push(await blockEvidence(core, b))
  Object.assign(evidence, extra)
  return { kind: d.kind, index, cause, message: d.message, evidence }
}
