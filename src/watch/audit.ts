/**
 * The per-call judge: pure checks of a call record against the log rules,
 * and comparisons of a replay with the record (src/replay/outcome.ts) and
 * with the replicated files drive. Each check returns null (fine) or a {@link FaultDraft} naming the
 * kind of divergence with the expected and observed values; the caller
 * (contract-watch.ts) adds the block index, the cause and the evidence.
 *
 * Files rule: a call that returned applied its writes (FileOp list) to the
 * drive in order, one drive database block per op that changes the database
 * (a delete of a missing path and a re-put of an identical entry append
 * nothing), so `filesAfter - filesBefore` lies within the bounds the ops
 * allow; at `filesAfter` every touched path holds what the replay left there
 * (file content, directory entry, or nothing); no other path differs between
 * `filesBefore` and `filesAfter`; and `filesHash` is the tree hash of the
 * drive database core at `filesAfter`.
 */

import b4a from 'b4a'
import type Hyperdrive from 'hyperdrive'
import type { HyperdriveEntry } from 'hyperdrive'
import type { CallRecord, GenesisRecord } from '../../protocol/index.js'
import { verifyCall } from '../caller.js'
import { hash } from '../crypto.js'
import { isDirEntry } from '../log/drive-files.js'
import type { NonceTable } from '../replay/nonces.js'
import type { CallOutcome, FileOp } from '../runtime/types.js'
import { hex } from '../bytes.js'
import { compareOutcome as outcomeDiff, opToJSON } from '../replay/outcome.js'
import type { FaultKind } from './verdict.js'
import safetyCatch from 'safety-catch'

/** A divergence before the watcher adds index, cause and evidence. */
export interface FaultDraft {
  kind: FaultKind
  message: string
  /** Set when only the watcher's expectation failed (the log is sound in itself): cause `expectation`. */
  expectation?: true
  expected: Record<string, unknown>
  observed: Record<string, unknown>
}

function draft (kind: FaultKind, message: string, expected: Record<string, unknown> = {}, observed: Record<string, unknown> = {}): FaultDraft {
  return { kind, message, expected, observed }
}

/** What the user expects the contract to be (`--source`, `--source-hash`). */
export interface ExpectedContract {
  /** BLAKE2b-256 of the expected source. */
  sourceHash?: Uint8Array | null
}

/**
 * Checks block 0: the source hash, the signer (must be the log's own signing
 * key, so root statements bind to the log), and what the user expected.
 * @param manifestSigner public key of the log's manifest signer, when known
 */
export function checkGenesis (g: GenesisRecord, manifestSigner: Uint8Array | null, expected: ExpectedContract = {}): FaultDraft | null {
  const actual = hash(Buffer.from(g.source))
  if (!b4a.equals(actual, g.sourceHash)) {
    return draft('genesis', 'the genesis source hash is not the BLAKE2b-256 of its source', { sourceHash: hex(actual) }, { sourceHash: hex(g.sourceHash) })
  }
  if (manifestSigner && !b4a.equals(manifestSigner, g.signer)) {
    return draft('genesis', 'the genesis signer is not the key that signs the call log', { signer: hex(manifestSigner) }, { signer: hex(g.signer) })
  }
  if (expected.sourceHash && !b4a.equals(expected.sourceHash, g.sourceHash)) {
    return { ...draft('genesis', 'the log runs another contract than the one expected', { sourceHash: hex(expected.sourceHash) }, { sourceHash: hex(g.sourceHash) }), expectation: true }
  }
  return null
}

/** What {@link checkRecord} needs besides the record. */
export interface RecordEnv {
  contract: Uint8Array
  genesis: GenesisRecord
  nonces: NonceTable
  /** `filesAfter` of the previous record (the genesis `filesVersion` before the first call). */
  prevFilesAfter: number
  /** The caller signature was already found valid (e.g. checked ahead in worker threads). */
  signatureVerified?: boolean
}

/**
 * The log rules of one call record, before any replay: caller signature,
 * contract key, nonce order, oracle use, files versions, limit records.
 */
export function checkRecord (rec: CallRecord, env: RecordEnv): FaultDraft | null {
  const req = rec.request
  if (!b4a.equals(req.contract, env.contract)) {
    return draft('signature', 'the call request was signed for another contract', { contract: hex(env.contract) }, { contract: hex(req.contract) })
  }
  if (env.signatureVerified !== true && !verifyCall(req)) {
    return draft('signature', 'the caller signature does not verify', {}, { caller: hex(req.caller), signature: hex(req.signature) })
  }
  const last = env.nonces.get(req.caller)
  if (req.nonce <= last) {
    return draft('signature', `nonce ${req.nonce} is not above the caller's previous nonce ${last} in the log (replayed request)`, { nonceAbove: last }, { nonce: req.nonce, caller: hex(req.caller) })
  }
  if (!env.genesis.oracles && rec.oracles.length > 0) {
    return draft('malformed', 'the record holds oracle outputs but the genesis turns oracles off', { oracles: [] }, { oracles: rec.oracles })
  }
  const o = rec.outcome
  if (o.ok && o.error !== null) return draft('malformed', 'the outcome is both ok and an error', {}, { outcome: o })
  if (!o.ok && o.error === null) return draft('malformed', 'a failed outcome without an error', {}, { outcome: o })
  if (rec.filesBefore !== env.prevFilesAfter) {
    return draft('files', `the call read drive version ${rec.filesBefore} but the previous call left version ${env.prevFilesAfter}: the drive changed outside the log`, { filesBefore: env.prevFilesAfter }, { filesBefore: rec.filesBefore })
  }
  if (rec.filesAfter < rec.filesBefore) {
    return draft('malformed', 'filesAfter is below filesBefore', { filesAfterAtLeast: rec.filesBefore }, { filesAfter: rec.filesAfter })
  }
  if (o.limit !== null) {
    if (o.limit !== 'timeout' && o.limit !== 'memory' && o.limit !== 'record') return draft('malformed', `unknown limit "${o.limit}"`, { limit: ['timeout', 'memory', 'record'] }, { limit: o.limit })
    if (o.ok) return draft('malformed', 'a call ended by a limit is recorded as ok', {}, { outcome: o })
    if (rec.filesAfter !== rec.filesBefore) {
      return draft('files', 'a call ended by a limit changed the drive', { filesAfter: rec.filesBefore }, { filesAfter: rec.filesAfter })
    }
  }
  return null
}

/** Compares a replayed outcome with the record (replay/outcome.ts), as a {@link FaultDraft}. */
export const compareOutcome: (rec: CallRecord, out: CallOutcome) => FaultDraft | null = outcomeDiff

/** What is at a path, as far as database block counting and the final check go. */
type Slot =
  | { t: 'absent' }
  | { t: 'file', data: Uint8Array | null, size: number }
  | { t: 'dir' }
  | { t: 'other' }

function slotOf (entry: HyperdriveEntry | null): Slot {
  if (!entry) return { t: 'absent' }
  if (entry.value.blob) return { t: 'file', data: null, size: entry.value.blob.byteLength }
  if (isDirEntry(entry)) return { t: 'dir' }
  return { t: 'other' }
}

/** Options for {@link checkFiles}. */
export interface FilesCheckOptions {
  /** ms to wait for a blob to replicate. */
  timeout?: number
}

/**
 * Checks a replay's writes against the drive between the record's
 * `filesBefore` and `filesAfter` and the record's `filesHash`.
 * @param before the drive at `rec.filesBefore`
 * @param after the drive at `rec.filesAfter`
 * @param treeHash tree hash of the drive db core at `rec.filesAfter`
 */
export async function checkFiles (rec: CallRecord, writes: readonly FileOp[], before: Hyperdrive, after: Hyperdrive, treeHash: Uint8Array, opts: FilesCheckOptions = {}): Promise<FaultDraft | null> {
  const moved = rec.filesAfter - rec.filesBefore
  const slots = new Map<string, Slot>()
  const current = async (path: string): Promise<Slot> => {
    const s = slots.get(path)
    if (s) return s
    const from = slotOf(await before.entry(path))
    slots.set(path, from)
    return from
  }
  let min = 0
  let max = 0
  for (const w of writes) {
    const prev = await current(w.path)
    switch (w.op) {
      case 'put':
        // an empty blob re-put over an empty file may give an identical entry: no block
        if (w.data.byteLength === 0 && prev.t === 'file' && prev.size === 0) max++
        else { min++; max++ }
        slots.set(w.path, { t: 'file', data: w.data, size: w.data.byteLength })
        break
      case 'mkdir':
        if (prev.t === 'dir') max++
        else { min++; max++ }
        slots.set(w.path, { t: 'dir' })
        break
      case 'del':
      case 'rmdir':
        if (prev.t !== 'absent') { min++; max++ }
        slots.set(w.path, { t: 'absent' })
        break
    }
  }
  const ops = writes.map(opToJSON)
  if (moved < min || moved > max) {
    return draft('files', `the drive moved ${moved} versions during the call; the replayed writes allow ${min === max ? min : `${min}..${max}`}`, { filesAfter: min === max ? rec.filesBefore + min : [rec.filesBefore + min, rec.filesBefore + max], writes: ops }, { filesAfter: rec.filesAfter })
  }
  const touched = new Set<string>()
  for (const w of writes) touched.add(w.path)
  for (const path of touched) {
    const want = slots.get(path)!
    const entry = await after.entry(path)
    const got = slotOf(entry)
    if (want.t === 'file') {
      const data = got.t === 'file' ? await after.get(entry!, { wait: true, timeout: opts.timeout }) : null
      if (data === null || !b4a.equals(data, want.data!)) {
        return draft('files', `after the call ${path} does not hold what the replay wrote`, { path, content: hex(want.data!) }, { path, content: data ? hex(data) : null, entry: got.t })
      }
    } else if (want.t !== got.t) {
      return draft('files', `after the call ${path} is ${got.t === 'absent' ? 'missing' : `a ${got.t}`}, the replay left ${want.t === 'absent' ? 'nothing' : `a ${want.t}`}`, { path, entry: want.t }, { path, entry: got.t })
    }
  }
  if (moved > 0) {
    for await (const d of after.diff(rec.filesBefore)) {
      const key = (d.left ?? d.right)?.key
      if (key !== undefined && !touched.has(key)) {
        return draft('files', `the call changed ${key}, which the replay never wrote`, { touched: [...touched] }, { path: key, seq: (d.left ?? d.right)?.seq ?? null })
      }
    }
  }
  if (!b4a.equals(treeHash, rec.filesHash)) {
    return draft('files', `filesHash is not the drive's tree hash at version ${rec.filesAfter}`, { filesHash: hex(treeHash) }, { filesHash: hex(rec.filesHash) })
  }
  return null
}

/**
 * Paths that changed in a drive between two versions (what an edit outside
 * the log touched), at most `limit` of them.
 */
export async function changedPaths (drive: Hyperdrive, from: number, to: number, limit = 20): Promise<Array<{ path: string, seq: number | null, deleted: boolean }>> {
  const out: Array<{ path: string, seq: number | null, deleted: boolean }> = []
  if (to <= from) return out
  const co = drive.checkout(to)
  try {
    for await (const d of co.diff(from)) {
      const e = d.left ?? d.right
      if (!e) continue
      out.push({ path: e.key, seq: d.left ? d.left.seq : null, deleted: d.left === null })
      if (out.length >= limit) break
    }
  } finally {
    await co.close().catch(safetyCatch)
  }
  return out
}
