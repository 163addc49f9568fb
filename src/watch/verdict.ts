/**
 * What a watcher concludes about a contract, in plain JSON: a {@link Verdict}
 * per contract and log length (`ok`, or `fault` with the first diverging
 * call), and for a fault the {@link Evidence} a third party needs to re-check
 * it offline (the genesis and the log blocks involved, raw, with hypercore
 * proofs when available; the host's signed root statements; the expected and
 * observed values). Byte strings are hex; keys in `contract` are z-base32.
 */

import b4a from 'b4a'
import type Hypercore from 'hypercore'
import { hex } from '../bytes.js'
import { formatKey } from '../keys.js'
import type { ReplayJSON } from '../replay/outcome.js'
import type { HeadJSON, LastBlockProof } from '../attest/head-evidence.js'
import type { StatementJSON } from '../attest/statement.js'
import safetyCatch from 'safety-catch'

/**
 * Kinds of divergence:
 * - `malformed`: a log block that does not decode or breaks the record rules;
 * - `signature`: a call whose caller signature does not verify, that names
 *   another contract, or whose nonce is not above the caller's previous one;
 * - `genesis`: block 0 is not the contract claimed (source hash, signer, or
 *   the source/hash the user expected);
 * - `files`: the drive changed outside the log, or its version/content/hash
 *   after a call is not what the replay wrote;
 * - `result` / `error`: the replayed outcome differs from the recorded one;
 * - `fork`: the host truncated and rewrote its log (fork id went up, or two
 *   signed roots disagree).
 */
export type FaultKind = 'malformed' | 'signature' | 'genesis' | 'files' | 'result' | 'error' | 'fork'

/**
 * Who is to blame: `host` (the log or drive says something a correct host
 * never writes), `nondeterministic` (two replays of the same call on this
 * runtime disagree: the contract's fault, not the host's), `unknown`.
 */
/**
 * Who a fault is blamed on: the host; nobody (the replay itself is not
 * deterministic, or could not judge: `unknown`); or `expectation`: the log
 * runs another contract than the one this watcher was told to expect
 * (`--source`, `--source-hash`). The host runs what its genesis names, so an
 * expectation fault is reported to the user and never attested.
 */
export type FaultCause = 'host' | 'nondeterministic' | 'unknown' | 'expectation'

/** One log block in evidence: its raw bytes and, when available, a hypercore proof. */
export interface EvidenceRecord {
  index: number
  /** The block as stored in the log (hex). */
  block: string
  /** A hypercore proof of the block up to a signed length (hex buffers), or null. */
  proof: unknown
}

/** What a third party needs to re-check a fault offline. */
export interface Evidence {
  contract: string
  /** Block 0 (hex): source, signer, files key, limits. */
  genesis: string | null
  records: EvidenceRecord[]
  expected: Record<string, unknown>
  observed: Record<string, unknown>
  /** Host-signed root statements involved (for forks: the two that conflict). */
  statements: StatementJSON[]
  replays: ReplayJSON[]
  /** Files behind the log: the host's signed head pair (protocol/head.ts). */
  head?: HeadJSON
  /** Inclusion of the log's last block at `head.length` under the head's log tree hash. */
  inclusion?: LastBlockProof
}

/** The first divergence found in a log. */
export interface Fault {
  kind: FaultKind
  /** Log block index of the first diverging record (0 for the genesis). */
  index: number
  cause: FaultCause
  message: string
  evidence: Evidence
}

/** A watcher's verdict on one contract. */
export interface Verdict {
  /** Contract key, z-base32. */
  contract: string
  verdict: 'ok' | 'fault'
  /** `ok`: blocks judged (genesis included); `fault`: blocks judged before the fault. */
  length: number
  /** Hypercore fork id of the log judged. */
  fork: number
  /** Log tree hash at `length` (hex), when known. */
  treeHash: string | null
  /** Files drive version and tree hash after the last judged call (hex). */
  filesVersion: number
  filesHash: string | null
  /** The watcher's runtime fingerprint (vms-node, isolated-vm, V8, Node versions). */
  runtime: string
  /** The runtime the host wrote in its genesis. */
  hostRuntime: string | null
  /** Whether the contract uses host oracles (then it is trusted, not trustless); null before the genesis. */
  oracles?: boolean | null
  /** The host's signed root statement at `length`, when the watcher got one. */
  statement: StatementJSON | null
  /** When the verdict was reached, ms since the epoch. */
  time: number
  fault: Fault | null
}

/** An empty evidence object for `contract`. */
export function emptyEvidence (contract: Uint8Array, genesis: Uint8Array | null): Evidence {
  return {
    contract: formatKey(contract),
    genesis: genesis ? hex(genesis) : null,
    records: [],
    expected: {},
    observed: {},
    statements: [],
    replays: []
  }
}

/** One line of text for a verdict, for people. */
export function describeVerdict (v: Verdict): string {
  if (v.verdict === 'ok') return `ok ${v.contract} up to length ${v.length}`
  const f = v.fault
  if (!f) return `fault ${v.contract}`
  return `FAULT ${v.contract} at block ${f.index}: ${f.kind} (${f.cause}): ${f.message}`
}

/**
 * A log block for evidence: its raw bytes and a hypercore proof of it up to
 * the replica's signed length (null when the replica cannot make one).
 */
export async function blockEvidence (core: Hypercore, index: number): Promise<EvidenceRecord> {
  const raw = await core.get(index, { wait: false }).catch(() => null)
  let proof: unknown = null
  try {
    const p = await core.proof({ block: { index, nodes: 0 }, upgrade: { start: 0, length: core.length } })
    if (p.block) delete p.block.value // the same bytes as `block`
    proof = toJSONable(p)
  } catch (err) {
    safetyCatch(err) // no proof: the replica cannot make one (evidence without it)
  }
  return { index, block: raw ? hex(raw) : '', proof }
}

/** Buffers to hex, recursively. */
function toJSONable (x: unknown): unknown {
  if (x === null || x === undefined) return null
  if (b4a.isBuffer(x) || x instanceof Uint8Array) return hex(x as Uint8Array)
  if (Array.isArray(x)) return x.map(toJSONable)
  if (typeof x === 'object') {
    const o: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) o[k] = toJSONable(v)
    return o
  }
  return x
}
