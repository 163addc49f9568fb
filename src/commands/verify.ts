/**
 * `vms-node verify <key>`: a one-shot audit of a contract's whole call log as
 * the host has it now. Finds the host, asks for its signed root, replicates
 * the log and files up to that length, replays and judges every call.
 * Exit code: 0 ok, 1 fault, 2 could not audit (no host within --timeout,
 * blocks stopped coming).
 */

import type { GenesisRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { formatKey, parseKey } from '../keys.js'
import type { NetOptions } from '../net/swarm.js'
import type { SandboxFactory } from '../runtime/types.js'
import { Watcher } from '../watch/watcher.js'
import { describeVerdict, type Verdict } from '../watch/verdict.js'
import type { Output } from './output.js'
import { isSourceMismatch, mismatchLines, readExpectedSource, type ExpectedSource } from './source-mismatch.js'

/** Options of `verify` and `watch`. */
export interface AuditCommandOptions extends NetOptions {
  /** Watcher storage (replicated cores + watch state); default: a temporary folder. */
  storage?: string
  /** ms to find a host and for each block to arrive (default 10,000). */
  timeout?: number
  /** Contract source file the log must run (`--source`). */
  source?: string
  /** BLAKE2b-256 hex of the source the log must run (`--source-hash`). */
  sourceHash?: string
  /** Sandbox factory (tests inject a runtime; default isolated-vm). */
  sandboxFactory?: SandboxFactory
}

/** Exit codes of `verify`. */
export const VERIFY_OK = 0
export const VERIFY_FAULT = 1
export const VERIFY_UNAUDITED = 2

/** What {@link auditOnce} found. */
export interface VerifyReport {
  code: number
  verdict: Verdict | null
  /** Why the log could not be audited (code 2). */
  error: VmsError | null
  judged: number
  seconds: number
  /**
   * What the audit flagged without proving: `HEAD_UNPROVEN` (the drive is
   * ahead of the log and no peer signed a head pair), `FORGED_ROOT` (a peer
   * answered a statement the contract's signer did not sign; it was dropped).
   */
  warnings: Array<{ code: string, message: string }>
  /** The genesis the audit read (null: none, or it did not decode). */
  genesis: GenesisRecord | null
  /** The contract `--source` / `--source-hash` named (null: neither given). */
  expected: ExpectedSource | null
}

/**
 * Audits a contract once, without printing.
 * @throws VmsError BAD_KEY, BAD_ARGUMENT (usage errors; network failures give code 2)
 */
export async function auditOnce (key: string, opts: AuditCommandOptions): Promise<VerifyReport> {
  const expected = readExpectedSource(opts)
  const timeout = opts.timeout ?? 10_000
  const watcher = new Watcher({ ...opts, timeout })
  const start = performance.now()
  try {
    const contract = await watcher.watch(key, { expected: expected ? { sourceHash: expected.sourceHash } : {}, oneShot: true })
    const warnings: VerifyReport['warnings'] = []
    contract.on('warning', (err: VmsError) => {
      if ((err.code === 'HEAD_UNPROVEN' || err.code === 'FORGED_ROOT') && warnings.length < 20) warnings.push({ code: err.code, message: err.message })
    })
    try {
      const verdict = await contract.auditOnce(timeout)
      return {
        code: verdict.verdict === 'ok' ? VERIFY_OK : VERIFY_FAULT,
        verdict,
        error: null,
        judged: contract.stats.judged,
        seconds: (performance.now() - start) / 1000,
        warnings,
        genesis: contract.genesis,
        expected
      }
    } catch (err) {
      const e = VmsError.from(err)
      if (e.code === 'BAD_KEY' || e.code === 'BAD_ARGUMENT') throw e
      return { code: VERIFY_UNAUDITED, verdict: null, error: e, judged: contract.stats.judged, seconds: (performance.now() - start) / 1000, warnings, genesis: contract.genesis, expected }
    }
  } finally {
    await watcher.close()
  }
}

/**
 * Runs `verify` and prints the verdict (with `--json`:
 * `{"contract":...,"verdict":"ok"|"fault","length":N,"fault":{...}}`; when
 * nothing could be audited `verdict` is null and `error` says why).
 * @returns the exit code: 0 ok, 1 fault, 2 could not audit (never throws)
 */
export async function runVerify (key: string, opts: AuditCommandOptions, out: Output): Promise<number> {
  let r: VerifyReport
  try {
    r = await auditOnce(key, opts)
  } catch (err) {
    // bad key, unreadable --source: nothing was audited
    r = { code: VERIFY_UNAUDITED, verdict: null, error: VmsError.from(err), judged: 0, seconds: 0, warnings: [], genesis: null, expected: null }
  }
  const v = r.verdict
  if (out.json) {
    out.object({
      contract: v ? v.contract : displayKey(key),
      verdict: v ? v.verdict : null,
      length: v ? v.length : null,
      fault: v ? v.fault : null,
      fork: v ? v.fork : null,
      treeHash: v ? v.treeHash : null,
      statement: v ? v.statement : null,
      runtime: v ? v.runtime : null,
      hostRuntime: v ? v.hostRuntime : null,
      judged: r.judged,
      seconds: round(r.seconds),
      error: r.error ? r.error.toInfo() : null,
      warnings: r.warnings
    })
  } else if (v && isSourceMismatch(v, r.genesis, r.expected)) {
    for (const line of mismatchLines(v, r.genesis, r.expected!)) out.line(line)
  } else if (v) {
    out.line(describeVerdict(v))
    out.line(`judged ${r.judged} calls in ${round(r.seconds)} s${r.seconds > 0 ? ` (${Math.round(r.judged / r.seconds)} calls/s)` : ''}; runtime ${v.runtime}`)
    if (v.fault) out.line(JSON.stringify(v.fault, null, 2))
  }
  if (!out.json) for (const w of r.warnings) out.note('warning: ' + w.message)
  if (r.error) out.note(`vms-node: could not audit: ${r.error.message}`)
  return r.code
}

function displayKey (key: string): string {
  try {
    return formatKey(parseKey(key))
  } catch {
    return key
  }
}

function round (x: number): number {
  return Math.round(x * 1000) / 1000
}
