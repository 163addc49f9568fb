/**
 * The terminal UI's model: a plain snapshot store of what a node knows
 * (itself, its peers, its contracts, the verdicts it heard, an event log).
 * Adapters (host-adapter.ts, later a watcher adapter) write into it; the Ink
 * components only read {@link NodeState.snapshot}. No Ink or React here.
 *
 * Writes are cheap (they mark the store dirty and notify subscribers); the
 * immutable snapshot is rebuilt lazily on the next read, so a burst of
 * thousands of calls costs one rebuild per UI frame.
 */

/** What a peer is to this node, when known. */
export type PeerRole = 'host' | 'watcher' | 'client' | 'unknown'

/** What this node does with a contract. */
export type ContractRole = 'host' | 'watched'

/** The three conclusions a verdict panel shows. */
export type VerdictKind = 'ok' | 'fault' | 'equivocation'

/** This node. */
export interface NodeView {
  /** Node (swarm noise) key, z-base32; '' until known. */
  key: string
  role: 'host' | 'watcher' | 'client'
  /** Operator or watcher identity, z-base32, when there is one. */
  identity?: string
  /** Storage folder. */
  storage: string
  /** DHT bootstrap text (`host:port,...`), or '' for the public DHT. */
  bootstrap: string
  /** When the node started, ms since the epoch. */
  startedAt: number
  /** True once quitting began (the UI says so while storage flushes). */
  closing?: boolean
}

/** One connected peer. */
export interface PeerView {
  /** Remote noise key, z-base32. */
  key: string
  role: PeerRole
  /** Connected since, ms since the epoch. */
  since: number
  /** Bytes received / sent on the connection, when the transport tells. */
  bytesIn?: number
  bytesOut?: number
  /** Smoothed round trip time, ms, when the transport tells. */
  rtt?: number
  /** Attestations received from this peer. */
  attestations: number
}

/** One logged call, as the detail view shows it. */
export interface CallView {
  /** Block index in the call log. */
  index: number
  method: string
  /** Caller id, z-base32. */
  caller: string
  /** Recorded call time, ms since the epoch. */
  at: number
  ok: boolean
  /** Result JSON text (shortened), when ok. */
  result: string | null
  /** `CODE: message` (shortened), when not ok. */
  error: string | null
}

/** Calls of one caller on a contract. */
export interface CallerView {
  caller: string
  calls: number
  lastAt: number
  lastMethod: string
}

/** One contract this node hosts or watches. */
export interface ContractView {
  /** Contract key, z-base32. */
  key: string
  name: string
  role: ContractRole
  /** Call log length (genesis included). */
  length: number
  /** Files drive version. */
  filesVersion: number
  /** Calls per second over the recent window. */
  callsPerSec: number
  /** Log length judged so far: by this watcher, or (for a host) the best ok attestation heard. */
  audited?: number
  /** The host's log length as a watcher last saw it (watched contracts). */
  hostLength?: number
  /** Files drive key, z-base32. */
  files?: string
  /** Who deployed it (genesis `deployer`, z-base32): the operator, or whoever deployed it onto this node. */
  deployer?: string
  methods?: string[]
  oracles?: boolean
  /** Most recent calls, newest first. */
  lastCalls: CallView[]
  /** Callers, most recent first. */
  callers: CallerView[]
  /** Rehosting: replicas holding the whole log (hosted contracts). */
  replicas?: number
  /** Rehosting: peers this watcher served blocks to, and bytes uploaded (watched contracts it serves). */
  servedPeers?: number
  uploadedBytes?: number
  /** Rehosting: whether a peer proved to be the host (watched contracts), and the newest host-signed root's length kept. */
  hostOnline?: boolean
  stateLength?: number
}

/** A watcher's latest statement about a contract (an attestation, or an equivocation proof). */
export interface VerdictView {
  /** Contract key, z-base32. */
  contract: string
  /** Watcher key, z-base32. */
  watcher: string
  /** Log length the verdict covers. */
  length: number
  verdict: VerdictKind
  /** Index of the first diverging call (fault, equivocation). */
  firstBadCall?: number
  /** Kind of divergence (result, error, files, signature, fork, ...). */
  kind?: string
  /** One line on what diverged. */
  message?: string
  /** When it was signed or heard, ms since the epoch. */
  at: number
}

/** Levels of event log lines (they pick the colour). */
export type EventLevel = 'info' | 'call' | 'peer' | 'verdict' | 'warn' | 'error'

/** One event log line. */
export interface EventLine {
  /** Sequence number (React key). */
  id: number
  at: number
  level: EventLevel
  text: string
}

/** An immutable picture of the store. */
export interface NodeSnapshot {
  node: NodeView
  /** Oldest connection first. */
  peers: PeerView[]
  /** In the order they appeared. */
  contracts: ContractView[]
  /** Per contract then watcher, in the order first heard. */
  verdicts: VerdictView[]
  /** Oldest first, at most {@link NodeStateOptions.maxEvents}. */
  events: EventLine[]
  /** Bumped on every write. */
  version: number
}

/** Options for {@link NodeState}. */
export interface NodeStateOptions {
  /** Event log lines kept (default 500). */
  maxEvents?: number
  /** Calls kept per contract for the detail view (default 50). */
  maxCalls?: number
  /** Callers kept per contract (default 50). */
  maxCallers?: number
  /** Clock, ms since the epoch (tests fix it). */
  now?: () => number
}

/** The snapshot store. */
export class NodeState {
  private node: NodeView
  private readonly peers = new Map<string, PeerView>()
  private readonly contracts = new Map<string, ContractView>()
  private readonly verdicts = new Map<string, VerdictView>()
  private events: EventLine[] = []
  private readonly listeners = new Set<() => void>()
  private version = 0
  private eventSeq = 0
  private cached: NodeSnapshot | null = null
  private readonly maxEvents: number
  private readonly maxCalls: number
  private readonly maxCallers: number
  /** The store's clock. */
  readonly now: () => number

  /**
   * @param node initial node fields (role, storage, ...), merged over defaults
   * @param opts see {@link NodeStateOptions}
   */
  constructor (node: Partial<NodeView> = {}, opts: NodeStateOptions = {}) {
    this.now = opts.now ?? Date.now
    this.maxEvents = opts.maxEvents ?? 500
    this.maxCalls = opts.maxCalls ?? 50
    this.maxCallers = opts.maxCallers ?? 50
    this.node = { key: '', role: 'host', storage: '', bootstrap: '', startedAt: this.now(), ...node }
  }

  /** The current picture; the same object until the next write. */
  get snapshot (): NodeSnapshot {
    if (this.cached === null) {
      this.cached = {
        node: this.node,
        peers: [...this.peers.values()],
        contracts: [...this.contracts.values()],
        verdicts: [...this.verdicts.values()],
        events: this.events.slice(),
        version: this.version
      }
    }
    return this.cached
  }

  /**
   * Calls `fn` after every write (synchronously; throttle in the reader).
   * @returns a function that unsubscribes
   */
  subscribe (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  /** Merges fields into the node view. */
  setNode (patch: Partial<NodeView>): void {
    this.node = { ...this.node, ...patch }
    this.changed()
  }

  /** Adds a peer or merges fields into it (`role` defaults to unknown). */
  upsertPeer (key: string, patch: Partial<Omit<PeerView, 'key'>> = {}): void {
    const old = this.peers.get(key)
    this.peers.set(key, { key, role: 'unknown', since: this.now(), attestations: 0, ...old, ...patch })
    this.changed()
  }

  /** Forgets a peer (it disconnected). */
  removePeer (key: string): void {
    if (this.peers.delete(key)) this.changed()
  }

  /** Counts one attestation received from `peer` (ignored when not connected). */
  countAttestation (peer: string): void {
    const p = this.peers.get(peer)
    if (!p) return
    this.peers.set(peer, { ...p, attestations: p.attestations + 1 })
    this.changed()
  }

  /** Adds a contract or merges fields into it. */
  upsertContract (key: string, patch: Partial<Omit<ContractView, 'key'>> = {}): void {
    const old = this.contracts.get(key)
    this.contracts.set(key, {
      key,
      name: '',
      role: 'host',
      length: 0,
      filesVersion: 0,
      callsPerSec: 0,
      lastCalls: [],
      callers: [],
      ...old,
      ...patch
    })
    this.changed()
  }

  /** The contract view of `key`, if any. */
  contract (key: string): ContractView | undefined {
    return this.contracts.get(key)
  }

  /**
   * Records a logged call on a known contract: last calls (kept newest
   * first, whatever order they arrive in; a call already there is
   * ignored), callers, log length.
   */
  recordCall (contract: string, call: CallView): void {
    const c = this.contracts.get(contract)
    if (!c || c.lastCalls.some((x) => x.index === call.index)) return
    const at = c.lastCalls.findIndex((x) => x.index < call.index)
    const lastCalls = at === -1 ? [...c.lastCalls, call] : [...c.lastCalls.slice(0, at), call, ...c.lastCalls.slice(at)]
    const prev = c.callers.find((x) => x.caller === call.caller)
    const newer = !prev || call.at >= prev.lastAt
    const me: CallerView = {
      caller: call.caller,
      calls: (prev?.calls ?? 0) + 1,
      lastAt: newer ? call.at : prev.lastAt,
      lastMethod: newer ? call.method : prev.lastMethod
    }
    const callers = [me, ...c.callers.filter((x) => x !== prev)].sort((a, b) => b.lastAt - a.lastAt).slice(0, this.maxCallers)
    this.contracts.set(contract, { ...c, lastCalls: lastCalls.slice(0, this.maxCalls), callers, length: Math.max(c.length, call.index + 1) })
    this.changed()
  }

  /**
   * Stores a watcher's latest verdict on a contract (replacing its previous
   * one). For a hosted contract an `ok` raises "audited up to".
   */
  setVerdict (v: VerdictView): void {
    this.verdicts.set(v.contract + '/' + v.watcher, v)
    const c = this.contracts.get(v.contract)
    if (c && c.role === 'host' && v.verdict === 'ok' && v.length > (c.audited ?? 0)) {
      this.contracts.set(v.contract, { ...c, audited: v.length })
    }
    this.changed()
  }

  /** Appends an event log line (multi-line text becomes several lines). */
  log (level: EventLevel, text: string): void {
    const at = this.now()
    for (const line of text.split(/\r?\n/)) {
      if (line.trim() === '') continue
      this.events.push({ id: ++this.eventSeq, at, level, text: line })
    }
    if (this.events.length > this.maxEvents) this.events = this.events.slice(-this.maxEvents)
    this.changed()
  }

  private changed (): void {
    this.version++
    this.cached = null
    for (const fn of this.listeners) {
      try {
        fn()
      } catch {}
    }
  }
}
