/**
 * What a node knows about attestations: the latest valid one per
 * (contract, watcher), every verified fault, and the host root statements
 * seen in them, checked for split views (two signed roots of one length with
 * different tree hashes). Latest attestations and faults persist in a JSON
 * file (written atomically, debounced) so a restarted node keeps them.
 *
 * Memory is bounded: at most `maxContracts` contracts, `maxWatchers` watchers
 * per contract and `maxStatements` remembered root statements per contract.
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

/** Options for {@link AttestationStore}. */
export interface AttestationStoreOptions {
  /** JSON file to persist to; memory only when omitted. */
  file?: string
  maxContracts?: number
  maxWatchers?: number
  maxStatements?: number
}

/** What {@link AttestationStore.add} did. */
export interface AddResult {
  /** False for an invalid attestation (bad signature, forged evidence). */
  valid: boolean
  /** True when it was new and changed what the store holds: forward it. */
  fresh: boolean
  /** A split view this attestation revealed, with its evidence. */
  splitView: { evidence: SplitViewEvidence, signer: SignerRecord, statement: RootStatement } | null
}

interface ContractEntry {
  latest: Map<string, Attestation>
  statements: Map<number, RootStatement>
  faults: Map<string, Attestation>
  /** Lengths whose split view was already reported (each is reported once). */
  splits: Set<number>
}

/**
 * Events: `attestation` (Attestation) when the latest of a watcher changes,
 * `fault` (Attestation) for every new verified fault, `split-view`
 * (AddResult['splitView']) when two root statements conflict.
 */
export class AttestationStore extends EventEmitter {
  private readonly contracts = new Map<string, ContractEntry>()
  private readonly opts: Required<Omit<AttestationStoreOptions, 'file'>> & { file: string | null }
  private saveTimer: NodeJS.Timeout | null = null

  /** @param opts see {@link AttestationStoreOptions}; loads `file` when it exists */
  constructor (opts: AttestationStoreOptions = {}) {
    super()
    this.opts = { file: opts.file ?? null, maxContracts: opts.maxContracts ?? 10_000, maxWatchers: opts.maxWatchers ?? 1000, maxStatements: opts.maxStatements ?? 4096 }
    this.load()
  }

  /**
   * Checks and stores an attestation.
   * @returns whether it was valid, whether it is news, and any split view it revealed
   */
  add (a: Attestation): AddResult {
    if (!verifyAttestation(a) || !this.evidenceHolds(a)) return { valid: false, fresh: false, splitView: null }
    const cid = hex(a.contract)
    let entry = this.contracts.get(cid)
    if (!entry) {
      if (this.contracts.size >= this.opts.maxContracts) return { valid: true, fresh: false, splitView: null }
      entry = { latest: new Map(), statements: new Map(), faults: new Map(), splits: new Set() }
      this.contracts.set(cid, entry)
    }
    const splitView = this.checkStatement(entry, rootOf(a), a.signer)
    let fresh = false
    if (a.verdict !== VERDICT_OK) {
      const id = attestationId(a)
      if (!entry.faults.has(id)) {
        entry.faults.set(id, a)
        fresh = true
        this.emit('fault', a)
      }
    }
    const wid = hex(a.watcher)
    const prev = entry.latest.get(wid)
    if ((!prev || newer(a, prev)) && (prev || entry.latest.size < this.opts.maxWatchers)) {
      entry.latest.set(wid, a)
      fresh = true
      this.emit('attestation', a)
    }
    if (fresh) this.scheduleSave()
    if (splitView) this.emit('split-view', splitView)
    return { valid: true, fresh, splitView }
  }

  /**
   * Records a root statement seen elsewhere (e.g. a receipt or a watcher's
   * own fetch) and checks it against the ones known.
   * @returns the split view it reveals, or null
   */
  addStatement (s: RootStatement, signer: SignerRecord): AddResult['splitView'] {
    const cid = hex(s.contract)
    let entry = this.contracts.get(cid)
    if (!entry) {
      if (this.contracts.size >= this.opts.maxContracts) return null
      entry = { latest: new Map(), statements: new Map(), faults: new Map(), splits: new Set() }
      this.contracts.set(cid, entry)
    }
    const sv = this.checkStatement(entry, s, signer)
    if (sv) this.emit('split-view', sv)
    return sv
  }

  /** The latest attestation of every watcher of `contract`. */
  latest (contract: Uint8Array): Attestation[] {
    return [...(this.contracts.get(hex(contract))?.latest.values() ?? [])]
  }

  /** Every verified fault attestation about `contract`. */
  faults (contract: Uint8Array): Attestation[] {
    return [...(this.contracts.get(hex(contract))?.faults.values() ?? [])]
  }

  /** Keys (hex) of every contract with attestations. */
  contractIds (): string[] {
    return [...this.contracts.keys()]
  }

  /** Every attestation worth sending a new peer: all latest ones and all faults. */
  all (): Attestation[] {
    const out: Attestation[] = []
    for (const e of this.contracts.values()) out.push(...e.latest.values(), ...e.faults.values())
    return out
  }

  /** Writes pending changes now (and stops the debounce timer). */
  flush (): void {
    if (this.saveTimer) clearTimeout(this.saveTimer)
    this.saveTimer = null
    this.save()
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
    if (!this.opts.file || this.saveTimer) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null
      this.save()
    }, 200)
    this.saveTimer.unref()
  }

  private save (): void {
    const file = this.opts.file
    if (!file) return
    const list = this.all().map((a) => Buffer.from(encodeAttestation(a)).toString('hex'))
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const tmp = file + '.tmp'
    fs.writeFileSync(tmp, JSON.stringify({ attestations: list }) + '\n')
    fs.renameSync(tmp, file)
  }

  private load (): void {
    const file = this.opts.file
    if (!file || !fs.existsSync(file)) return
    try {
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { attestations?: string[] }
      for (const h of json.attestations ?? []) {
        try {
          this.add(c.decode(attestationCodec, Buffer.from(h, 'hex')))
        } catch {}
      }
    } catch {}
  }
}

function hex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}
