/**
 * What a node knows about attestations: the latest valid one per
 * (contract, watcher), every verified fault, and the host root statements
 * seen in them, checked for split views (two signed roots of one length with
 * different tree hashes). Latest attestations and faults persist (debounced)
 * so a restarted node keeps them: through an {@link AttestationPersistence}
 * (a node keeps them in its own Corestore, node/node-state.ts; load them
 * with {@link AttestationStore.open}), or in a JSON file (`file`: written to
 * a temporary file, fsynced, renamed; loaded on first use).
 *
 * Memory is bounded: at most `maxContracts` contracts, `maxWatchers` watchers
 * per contract (the first that attest; later ones are ignored while the table
 * is full), for each of them the latest attestation and at most
 * `maxFaultsPerWatcher` faults (the newest), and `maxStatements` remembered
 * root statements per contract.
 *
 * Relevance: once the node names a contract it wants ({@link AttestationStore.want}:
 * a host for what it hosts, an attester for what it follows, a client for
 * what it asked about), the store keeps nothing about any other contract:
 * those attestations are ignored before their signatures are checked, and
 * left out of the file. A store that never names one keeps every contract
 * (within the caps).
 */

import fs from 'node:fs'
import path from 'node:path'
import { EventEmitter } from 'node:events'
import { VERDICT_EQUIVOCATION, VERDICT_OK, type Attestation, type RootStatement, type SignerRecord } from '../../protocol/index.js'
import { attestationId, encodeAttestation, newer, rootOf, verifyAttestation } from './attestation.js'
import { checkEvidence, splitViewEvidence, type SplitViewEvidence } from './evidence.js'
import c from 'compact-encoding'
import { attestation as attestationCodec } from '../../protocol/index.js'
import { formatKey } from '../keys.js'
import { hex } from '../bytes.js'

/**
 * Where a store keeps its attestations: `load` returns the encoded ones kept
 * (each is checked again as it is added), `save` gets every attestation the
 * store keeps now (id hex -> encoded) and writes them atomically.
 */
export interface AttestationPersistence {
  load (): Promise<Uint8Array[]>
  save (kept: Map<string, Uint8Array>): Promise<void>
}

/** Options for {@link AttestationStore}. */
export interface AttestationStoreOptions {
  /** JSON file to persist to (memory only when neither this nor `persistence` is given). */
  file?: string
  /** Persist through this instead (wins over `file`). */
  persistence?: AttestationPersistence
  /** Contracts kept (default 10,000). */
  maxContracts?: number
  /** Watchers kept per contract (default 1,000). */
  maxWatchers?: number
  /** Fault attestations kept per watcher and contract, the newest (default 4). */
  maxFaultsPerWatcher?: number
  /** Root statements kept per contract (default 4,096). */
  maxStatements?: number
}

/** What {@link AttestationStore.add} did. */
export interface AddResult {
  /** False for an invalid attestation (bad signature, forged evidence). */
  valid: boolean
  /** True when it was new and changed what the store holds: forward it. */
  fresh: boolean
  /**
   * True when it was left unchecked and unkept: about a contract this node
   * does not want, or from a watcher past a full table (`valid` is then true:
   * nothing is known against it).
   */
  ignored?: boolean
  /** A split view this attestation revealed, with its evidence. */
  splitView: { evidence: SplitViewEvidence, signer: SignerRecord, statement: RootStatement } | null
}

interface ContractEntry {
  latest: Map<string, Attestation>
  statements: Map<number, RootStatement>
  faults: Map<string, Attestation>
  /** Watcher (hex) -> ids of its kept faults, oldest first (at most maxFaultsPerWatcher). */
  faultsBy: Map<string, string[]>
  /** Lengths whose split view was already reported (each is reported once). */
  splits: Set<number>
}

function newEntry (): ContractEntry {
  return { latest: new Map(), statements: new Map(), faults: new Map(), faultsBy: new Map(), splits: new Set() }
}

/**
 * Events: `attestation` (Attestation) when the latest of a watcher changes,
 * `fault` (Attestation) for every new verified fault, `split-view`
 * (AddResult['splitView']) when two root statements conflict.
 */
export class AttestationStore extends EventEmitter {
  private readonly contracts = new Map<string, ContractEntry>()
  private readonly opts: Required<Omit<AttestationStoreOptions, 'file' | 'persistence'>> & { file: string | null }
  private readonly persistence: AttestationPersistence | null
  private saveTimer: NodeJS.Timeout | null = null
  /** Saves through `persistence`, in order. */
  private saving: Promise<void> = Promise.resolve()
  private saveError: Error | null = null
  private loaded = false
  private closed = false
  /** Contracts (hex) the node wants; null until it names the first. */
  private wanted: Set<string> | null = null

  /** @param opts see {@link AttestationStoreOptions}; does no I/O (see {@link AttestationStore.open}) */
  constructor (opts: AttestationStoreOptions = {}) {
    super()
    this.opts = {
      file: opts.file ?? null,
      maxContracts: opts.maxContracts ?? 10_000,
      maxWatchers: opts.maxWatchers ?? 1000,
      maxFaultsPerWatcher: opts.maxFaultsPerWatcher ?? 4,
      maxStatements: opts.maxStatements ?? 4096
    }
    this.persistence = opts.persistence ?? null
  }

  /**
   * Loads what was kept (every attestation checked again, within the caps).
   * A `file` store also loads itself on first use; a store with
   * `persistence` starts empty until this resolves.
   */
  async open (): Promise<void> {
    if (this.loaded) return
    if (!this.persistence) return this.loadFile()
    this.loaded = true
    for (const bytes of await this.persistence.load()) this.addEncoded(bytes)
  }

  /**
   * Flushes pending changes and waits until they are written; later changes
   * are kept in memory only (the node closes its state next).
   * @throws the last write's error
   */
  async close (): Promise<void> {
    await this.persisted()
    this.closed = true
  }

  /** Flushes pending changes and waits until they are written. @throws the last write's error */
  async persisted (): Promise<void> {
    this.flush()
    await this.saving
    if (this.saveError) throw this.saveError
  }

  /**
   * Names a contract this node wants attestations about (it hosts it,
   * follows it or was asked about it). From the first call on, attestations
   * about contracts never named are ignored, and contracts loaded from the
   * file that were not named leave the file at the next save.
   * @param contract contract key, 32 bytes
   */
  want (contract: Uint8Array): void {
    if (!this.wanted) this.wanted = new Set()
    this.wanted.add(hex(contract))
  }

  /** True when the store keeps attestations about `contract` (always, before any {@link want}). */
  wants (contract: Uint8Array): boolean {
    return this.wanted === null || this.wanted.has(hex(contract))
  }

  /**
   * Checks and stores an attestation. Cheap checks first: an attestation
   * about a contract not wanted, or from a watcher the contract's full table
   * does not hold, is ignored unverified; then the signatures and evidence.
   * @returns whether it was valid, whether it is news, whether it was ignored, and any split view it revealed
   */
  add (a: Attestation): AddResult {
    this.loadFile()
    const cid = hex(a.contract)
    const wid = hex(a.watcher)
    if (this.wanted && !this.wanted.has(cid)) return { valid: true, fresh: false, ignored: true, splitView: null }
    let entry = this.contracts.get(cid)
    if (!entry && this.contracts.size >= this.opts.maxContracts) return { valid: true, fresh: false, ignored: true, splitView: null }
    const prev = entry?.latest.get(wid)
    if (entry && !prev && entry.latest.size >= this.opts.maxWatchers) return { valid: true, fresh: false, ignored: true, splitView: null }
    if (!verifyAttestation(a) || !this.evidenceHolds(a)) return { valid: false, fresh: false, splitView: null }
    if (!entry) {
      entry = newEntry()
      this.contracts.set(cid, entry)
    }
    const splitView = this.checkStatement(entry, rootOf(a), a.signer)
    let fresh = false
    if (a.verdict !== VERDICT_OK && this.keepFault(entry, wid, a)) {
      fresh = true
      this.emit('fault', a)
    }
    if (!prev || newer(a, prev)) {
      entry.latest.set(wid, a)
      fresh = true
      this.emit('attestation', a)
    }
    if (fresh) this.scheduleSave()
    if (splitView) this.emit('split-view', splitView)
    return { valid: true, fresh, splitView }
  }

  /** The dedup id of `a` (attestation.ts `attestationId`: BLAKE2b-256 of its encoding, hex), for gossip. */
  id (a: Attestation): string {
    return attestationId(a)
  }

  /**
   * Records a root statement seen elsewhere (e.g. a receipt or a watcher's
   * own fetch) and checks it against the ones known.
   * @returns the split view it reveals, or null
   */
  addStatement (s: RootStatement, signer: SignerRecord): AddResult['splitView'] {
    this.loadFile()
    const cid = hex(s.contract)
    let entry = this.contracts.get(cid)
    if (!entry) {
      if (this.contracts.size >= this.opts.maxContracts || (this.wanted && !this.wanted.has(cid))) return null
      entry = newEntry()
      this.contracts.set(cid, entry)
    }
    const sv = this.checkStatement(entry, s, signer)
    if (sv) this.emit('split-view', sv)
    return sv
  }

  /** The latest attestation of every watcher of `contract`. */
  latest (contract: Uint8Array): Attestation[] {
    this.loadFile()
    return [...(this.contracts.get(hex(contract))?.latest.values() ?? [])]
  }

  /** Every verified fault attestation about `contract`. */
  faults (contract: Uint8Array): Attestation[] {
    this.loadFile()
    return [...(this.contracts.get(hex(contract))?.faults.values() ?? [])]
  }

  /** Keys (hex) of every contract with attestations. */
  contractIds (): string[] {
    this.loadFile()
    return [...this.contracts.keys()]
  }

  /** Every attestation kept about wanted contracts: all latest ones and all faults (each once). */
  all (): Attestation[] {
    this.loadFile()
    const out = new Set<Attestation>()
    for (const [cid, e] of this.contracts) {
      if (this.wanted && !this.wanted.has(cid)) continue
      for (const a of e.latest.values()) out.add(a)
      for (const a of e.faults.values()) out.add(a)
    }
    return [...out]
  }

  /**
   * What a newly connected peer is sent (catch-up): at most `limit`
   * attestations about wanted contracts, faults first, then the latest ones,
   * each group newest first.
   * @param limit most attestations returned
   */
  recent (limit: number): Attestation[] {
    const byTime = (a: Attestation, b: Attestation): number => b.time - a.time
    const list = this.all()
    const faults = list.filter((a) => a.verdict !== VERDICT_OK).sort(byTime)
    const oks = list.filter((a) => a.verdict === VERDICT_OK).sort(byTime)
    return faults.concat(oks).slice(0, Math.max(0, limit))
  }

  /** Attestations kept (latest and faults, each once), over all contracts. */
  get size (): number {
    this.loadFile()
    const kept = new Set<Attestation>()
    for (const e of this.contracts.values()) {
      for (const a of e.latest.values()) kept.add(a)
      for (const a of e.faults.values()) kept.add(a)
    }
    return kept.size
  }

  /** Writes pending changes now (and stops the debounce timer). */
  flush (): void {
    this.loadFile()
    if (this.saveTimer) clearTimeout(this.saveTimer)
    this.saveTimer = null
    this.save()
  }

  /** Keeps a fault of watcher `wid`, dropping its oldest past the cap. @returns false when already kept */
  private keepFault (entry: ContractEntry, wid: string, a: Attestation): boolean {
    const id = attestationId(a)
    if (entry.faults.has(id)) return false
    entry.faults.set(id, a)
    let ids = entry.faultsBy.get(wid)
    if (!ids) entry.faultsBy.set(wid, (ids = []))
    ids.push(id)
    while (ids.length > this.opts.maxFaultsPerWatcher) entry.faults.delete(ids.shift() as string)
    return true
  }

  private evidenceHolds (a: Attestation): boolean {
    if (a.verdict !== VERDICT_EQUIVOCATION) return true
    if (!a.fault) return false
    try {
      const ev = JSON.parse(a.fault.evidence) as SplitViewEvidence
      const check = checkEvidence(ev)
      return check.valid && ev.contract === formatKey(a.contract)
    } catch {
      return false
    }
  }

  private checkStatement (entry: ContractEntry, s: RootStatement, signer: SignerRecord): AddResult['splitView'] {
    const known = entry.statements.get(s.length)
    if (known) {
      if (Buffer.from(known.treeHash).equals(s.treeHash) || entry.splits.has(s.length)) return null
      const evidence = splitViewEvidence(known, s, signer)
      if (!evidence) return null
      entry.splits.add(s.length)
      return { evidence, signer, statement: s }
    }
    entry.statements.set(s.length, s)
    if (entry.statements.size > this.opts.maxStatements) {
      const oldest = Math.min(...entry.statements.keys())
      entry.statements.delete(oldest)
    }
    return null
  }

  private scheduleSave (): void {
    if ((!this.opts.file && !this.persistence) || this.saveTimer || this.closed) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null
      this.save()
    }, 200)
    this.saveTimer.unref()
  }

  private save (): void {
    const file = this.opts.file
    const persistence = this.persistence
    if (!file && !persistence) return
    // contracts loaded that the node no longer wants go now
    if (this.wanted) for (const cid of [...this.contracts.keys()]) if (!this.wanted.has(cid)) this.contracts.delete(cid)
    if (persistence) {
      if (this.closed) return
      const kept = new Map<string, Uint8Array>()
      for (const a of this.all()) kept.set(attestationId(a), encodeAttestation(a))
      this.saving = this.saving.then(async () => await persistence.save(kept)).catch((err: Error) => { this.saveError = err })
      return
    }
    const list = this.all().map((a) => Buffer.from(encodeAttestation(a)).toString('hex'))
    writeFileAtomic(file as string, JSON.stringify({ attestations: list }) + '\n')
  }

  /** Loads the JSON `file` once (an unreadable file, or entry, is skipped: it is rewritten at the next save). */
  private loadFile (): void {
    if (this.loaded) return
    this.loaded = true
    const file = this.opts.file
    if (!file || this.persistence) return
    for (const bytes of readAttestationsFile(file)) this.addEncoded(bytes)
  }

  /** Adds an attestation read back from storage (checked like any other); one that does not decode is left out. */
  addEncoded (bytes: Uint8Array): void {
    let a: Attestation
    try {
      a = c.decode(attestationCodec, bytes)
    } catch {
      return // written by an older layout: not kept
    }
    this.add(a)
  }
}

/**
 * The encoded attestations of a store's JSON file (`{ attestations: [hex...] }`),
 * empty when the file is missing or not such JSON. Used to migrate a node's
 * old `attestations.json` into its Corestore.
 */
export function readAttestationsFile (file: string): Uint8Array[] {
  let json: { attestations?: unknown }
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as { attestations?: unknown }
  } catch {
    return []
  }
  const list = Array.isArray(json.attestations) ? json.attestations : []
  return list.filter((h): h is string => typeof h === 'string').map((h) => Buffer.from(h, 'hex'))
}

/** Writes `text` to `file` atomically: a temporary file, fsynced, renamed over it. */
function writeFileAtomic (file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = file + '.tmp'
  const fd = fs.openSync(tmp, 'w')
  try {
    fs.writeSync(fd, text)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
}
