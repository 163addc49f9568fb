/**
 * Fork detection from the host's signed root statements. Hypercore keeps
 * only the latest tree signature, so a watcher keeps the (length, fork, tree
 * hash) statements the host signed for it, verified with the genesis
 * `signer`. Two of them prove a split view offline, with nothing but the
 * signer key (src/attest/evidence.ts: `equivocation` or `fork`).
 */

import b4a from 'b4a'
import type { HeadStatement, RootStatement } from '../../protocol/index.js'
import { forkProof, type SplitView } from '../attest/evidence.js'
import { verifyRoot } from '../attest/signer.js'
import { statementFromJSON, statementToJSON, type StatementJSON } from '../attest/statement.js'
import { hex } from '../bytes.js'
import type { FaultDraft } from './audit.js'
import safetyCatch from 'safety-catch'

/** Most statements kept per contract (the first of each fork is always kept). */
const MAX_KEPT = 64

/** What {@link RootBook.add} found. */
export type AddResult =
  | { status: 'invalid', reason: string }
  | { status: 'kept' }
  | { status: 'conflict', with: RootStatement, kind: SplitView }

/** The root statements a watcher keeps for one contract. */
export class RootBook {
  private readonly contract: Uint8Array
  private readonly signer: Uint8Array
  private readonly kept: RootStatement[] = []

  /**
   * @param contract contract key
   * @param signer the genesis `signer` key
   * @param saved statements from the watcher's storage (re-verified)
   */
  constructor (contract: Uint8Array, signer: Uint8Array, saved: StatementJSON[] = []) {
    this.contract = contract
    this.signer = signer
    for (const j of saved) {
      try {
        const s = statementFromJSON(j)
        if (this.valid(s) === null) this.kept.push(s)
      } catch {
        // a stored statement that does not parse (a damaged state file) is dropped
      }
    }
  }

  /** Statements kept, oldest first. */
  get statements (): readonly RootStatement[] {
    return this.kept
  }

  /** The statement with the highest fork, then the highest length. */
  latest (): RootStatement | null {
    let best: RootStatement | null = null
    for (const s of this.kept) {
      if (!best || s.fork > best.fork || (s.fork === best.fork && s.length > best.length)) best = s
    }
    return best
  }

  /** The kept statement of fork `fork` at exactly `length`, if any. */
  at (length: number, fork: number): RootStatement | null {
    for (let i = this.kept.length - 1; i >= 0; i--) {
      const s = this.kept[i]!
      if (s.length === length && s.fork === fork) return s
    }
    return null
  }

  /**
   * Verifies a statement and compares it with every kept one.
   * A conflicting statement is not kept (the fault carries it).
   */
  add (s: RootStatement): AddResult {
    const reason = this.valid(s)
    if (reason !== null) return { status: 'invalid', reason }
    for (const k of this.kept) {
      const kind = forkProof(k, s)
      if (kind !== null) return { status: 'conflict', with: k, kind }
    }
    if (this.kept.some((k) => k.length === s.length && k.fork === s.fork)) return { status: 'kept' }
    this.kept.push(s)
    this.trim()
    return { status: 'kept' }
  }

  /** JSON of the kept statements, for the watcher's storage. */
  toJSON (): StatementJSON[] {
    return this.kept.map(statementToJSON)
  }

  private valid (s: RootStatement): string | null {
    if (!b4a.equals(s.contract, this.contract)) return 'statement names another contract'
    if (!verifyRoot(s, this.signer)) return 'statement signature does not verify with the genesis signer'
    return null
  }

  /**
   * Past MAX_KEPT, thins the statements out: keeps the first and the newest
   * of each fork, and drops the one whose removal leaves the smallest gap
   * in length between its neighbours of the same fork. So the kept ones stay
   * spread over the whole log: a watcher judging a backlog far behind the
   * host still finds, just ahead of it, a root to attest at (attester.ts),
   * which dropping the oldest would not leave it.
   */
  private trim (): void {
    while (this.kept.length > MAX_KEPT) {
      let drop: RootStatement | null = null
      let gap = Infinity
      const forks = new Set(this.kept.map((s) => s.fork))
      for (const fork of forks) {
        const list = this.kept.filter((s) => s.fork === fork).sort((a, b) => a.length - b.length)
        for (let j = 1; j < list.length - 1; j++) {
          const g = list[j + 1]!.length - list[j - 1]!.length
          if (g < gap) { gap = g; drop = list[j]! }
        }
      }
      if (drop === null) return
      this.kept.splice(this.kept.indexOf(drop), 1)
    }
  }
}

/** A fork fault before the watcher adds cause and evidence records. */
export interface ForkFault {
  draft: FaultDraft
  /** First block whose history is in doubt. */
  index: number
  statements: StatementJSON[]
}

/** Two kept statements that conflict (see {@link forkProof}), oldest fork first. */
export function conflictFault (x: RootStatement, y: RootStatement, kind: SplitView): ForkFault {
  const [a, b] = x.fork <= y.fork ? [x, y] : [y, x]
  return {
    draft: {
      kind: 'fork',
      message: kind === 'equivocation'
        ? `the host signed two roots for length ${a.length} with different tree hashes`
        : `the host signed roots under fork ${a.fork} and fork ${b.fork}: it truncated its call log`,
      expected: { treeHash: hex(a.treeHash), fork: a.fork, length: a.length },
      observed: { treeHash: hex(b.treeHash), fork: b.fork, length: b.length }
    },
    index: Math.min(a.length, b.length),
    statements: [statementToJSON(a), statementToJSON(b)]
  }
}

/**
 * The replicated log was truncated to `to` under fork `fork`: the statement
 * kept from before (`before`) and the host's statement after (`after`).
 */
export function truncationFault (to: number, fork: number, before: RootStatement | null, after: RootStatement | null, judged: number): ForkFault {
  const statements = [before, after].filter((s): s is RootStatement => s !== null).map(statementToJSON)
  return {
    draft: {
      kind: 'fork',
      message: `the host truncated its call log to ${to} blocks and rewrote it (fork ${fork})${statements.length < 2 ? '; no earlier signed root was kept to prove it' : ''}`,
      expected: { fork: before ? before.fork : null, length: before ? before.length : judged },
      observed: { fork, truncatedTo: to }
    },
    index: Math.max(0, Math.min(to, judged)),
    statements
  }
}

/** The host signed a root whose tree hash is not the replicated log's at that length. */
export function mismatchFault (s: RootStatement, local: Uint8Array): ForkFault {
  return {
    draft: {
      kind: 'fork',
      message: `the host signed a root for length ${s.length} that is not the log it serves`,
      expected: { treeHash: hex(local) },
      observed: { treeHash: hex(s.treeHash) }
    },
    index: s.length - 1,
    statements: [statementToJSON(s)]
  }
}

/** Asks a peer for its signed root now. */
export type RootSource = (timeout: number) => Promise<RootStatement>

/** A peer that announces the contract, as far as roots go. */
export interface RootPeer {
  /** Asks for the signed root of the log as the peer has it now. */
  root: RootSource
  /** Asks for the signed head pair (log root + files head), when the peer serves `head`. */
  head?: (timeout: number) => Promise<HeadStatement>
  /** Drops and penalises the peer: it answered a statement the contract's signer did not sign. */
  drop?: () => void
  /** A replica handing over the host's statements (net/replica.ts), not the host: it never makes the contract `proven`. */
  replica?: boolean
}

/** One peer's answer to a round of root requests. */
export interface RootAnswer {
  statement: RootStatement
  /** Drops the peer that gave it (see {@link RootPeer.drop}) and forgets it as a source. */
  drop: () => void
  /** Marks the peer that gave it as proven (its root verified). */
  prove: () => void
}

/** One peer's answer to a round of head requests. */
export interface HeadAnswer {
  head: HeadStatement
  /** Drops the peer that gave it. */
  drop: () => void
}

/**
 * The peers a watcher can ask for root statements. A round asks every peer
 * at once (a round in flight is shared) and returns every answer, checked by
 * nobody yet: the caller verifies each against the contract's signer, keeps
 * the longest valid one, and drops the peers that sent forged ones. No peer
 * is trusted for being first.
 */
export class RootSources {
  /** When a peer last answered, ms since the epoch. */
  lastAt = 0
  private readonly sources = new Set<RootPeer>()
  private readonly provenPeers = new WeakSet<RootPeer>()
  private busy: Promise<RootAnswer[]> | null = null

  /** Whether a peer still known gave a root the contract's signer signed. */
  get proven (): boolean {
    for (const p of this.sources) if (!p.replica && this.provenPeers.has(p)) return true
    return false
  }

  /** Number of peers known. */
  get size (): number {
    return this.sources.size
  }

  /** The peers known, in the order they were added. */
  get peers (): RootPeer[] {
    return [...this.sources]
  }

  /** @returns a function that removes `source` */
  add (source: RootSource | RootPeer): () => void {
    const peer: RootPeer = typeof source === 'function' ? { root: source } : source
    this.sources.add(peer)
    return () => { this.sources.delete(peer) }
  }

  /** Every peer's answer to one round (peers that failed or timed out give none). */
  fetchAll (timeout: number): Promise<RootAnswer[]> {
    if (!this.busy) {
      this.busy = this.ask(timeout).finally(() => { this.busy = null })
    }
    return this.busy
  }

  /** Every answer of the peers that serve `head` to one round of head requests (see {@link gather}). */
  async fetchHeads (timeout: number): Promise<HeadAnswer[]> {
    const peers = [...this.sources].filter((p) => typeof p.head === 'function')
    return await gather(peers, async (peer) => ({ head: await peer.head!(timeout), drop: () => this.drop(peer) }), ROUND_GRACE_MS)
  }

  /** Forgets `peer` and calls its `drop`. */
  drop (peer: RootPeer): void {
    this.sources.delete(peer)
    try {
      if (peer.drop) peer.drop()
    } catch (err) {
      safetyCatch(err)
    }
  }

  private async ask (timeout: number): Promise<RootAnswer[]> {
    return await gather([...this.sources], async (peer) => {
      const statement = await peer.root(timeout)
      this.lastAt = Date.now()
      return { statement, drop: () => this.drop(peer), prove: () => { this.provenPeers.add(peer) } }
    }, ROUND_GRACE_MS)
  }
}

/** How long a round waits for the other peers once one answered (ms): a peer that never answers cannot stall it. */
const ROUND_GRACE_MS = 1000

/**
 * Asks every peer at once; resolves with the answers when all answered or
 * failed, or `grace` ms after the first answer, whichever comes first.
 */
function gather<P, A> (peers: P[], ask: (peer: P) => Promise<A>, grace: number): Promise<A[]> {
  return new Promise((resolve) => {
    const out: A[] = []
    let left = peers.length
    let timer: NodeJS.Timeout | null = null
    let settled = false
    const done = (): void => {
      if (settled) return
      settled = true
      if (timer) clearTimeout(timer)
      resolve(out.slice())
    }
    if (left === 0) return done()
    for (const peer of peers) {
      ask(peer).then((a) => {
        if (settled) return
        out.push(a)
        if (!timer) timer = setTimeout(done, grace)
      }, () => {
        // a peer's answer that fails, malformed included, is left out: no error of a peer may stop the round
      }).finally(() => { if (--left === 0) done() })
    }
  })
}
