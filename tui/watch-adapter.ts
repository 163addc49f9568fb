/**
 * Feeds a {@link NodeState} from a running Watcher: its peers (swarm
 * connections, with transport counters), the contracts it follows (host log
 * length, blocks judged, lag, files version, calls/s of the host's log, the
 * last judged calls) and its own verdicts. Read-only, like host-adapter.ts.
 */

import type { SwarmConnection } from 'hyperswarm'
import type { Watcher } from '../src/watch/watcher.js'
import type { ContractWatch } from '../src/watch/contract-watch.js'
import type { StatementJSON } from '../src/attest/statement.js'
import type { Verdict } from '../src/watch/verdict.js'
import { formatKey } from '../src/keys.js'
import { RateWindow, callView, rawCounters } from './host-adapter.js'
import { shortKey } from './format.js'
import type { NodeState, VerdictView } from './state.js'

/** Options for {@link attachWatcher}. */
export interface WatchAdapterOptions {
  /** DHT bootstrap text to show ('' for the public DHT). */
  bootstrap?: string
  /** How often counters and rates refresh, ms (default 1000). */
  refreshMs?: number
  /** Width of the calls/s window, ms (default 10,000). */
  windowMs?: number
  /** Judged calls read back per contract for the detail view (default 50). */
  backfill?: number
  /** Least time between two "ok up to" lines of a contract in the event log, ms (default 10,000). */
  verdictLineMs?: number
}

/** Whether fork evidence is an equivocation: two signed roots, same fork and length, different trees. */
function isEquivocation (statements: StatementJSON[], message: string): boolean {
  const [a, b] = statements
  if (a && b) return a.fork === b.fork && a.length === b.length && a.treeHash !== b.treeHash
  return /equivocat/i.test(message)
}

/**
 * A watcher's verdict as the verdicts panel shows it. A fork fault proven by
 * two signed roots for the same length with different trees is shown as
 * `equivocation`.
 * @param v the verdict
 * @param watcher the watcher's key, z-base32
 */
export function verdictView (v: Verdict, watcher: string): VerdictView {
  const f = v.fault
  const view: VerdictView = { contract: v.contract, watcher, length: v.length, verdict: v.verdict, at: v.time }
  if (f) {
    view.verdict = f.kind === 'fork' && isEquivocation(f.evidence.statements, f.message) ? 'equivocation' : 'fault'
    view.firstBadCall = f.index
    view.kind = f.kind
    view.message = f.message
  }
  return view
}

/**
 * Subscribes `state` to `watcher`: connections, followed contracts (those
 * there already and those added later) and their verdicts.
 * @returns a function that detaches every listener and timer
 */
export function attachWatcher (watcher: Watcher, state: NodeState, opts: WatchAdapterOptions = {}): () => void {
  const windowMs = opts.windowMs ?? 10_000
  const offs: Array<() => void> = []
  const tracked = new Map<string, { cw: ContractWatch, rate: RateWindow, seen: number, read: number }>()
  let detached = false
  const me = watcher.swarm ? formatKey(watcher.swarm.keyPair.publicKey) : 'self'

  state.setNode({
    role: 'watcher',
    key: watcher.swarm ? me : '',
    storage: watcher.storage,
    ...(opts.bootstrap !== undefined ? { bootstrap: opts.bootstrap } : {})
  })

  const onconnection = (conn: SwarmConnection): void => {
    const key = formatKey(conn.remotePublicKey)
    state.upsertPeer(key, { since: state.now(), ...rawCounters(conn) })
    state.log('peer', `peer ${shortKey(key)} connected`)
    conn.once('close', () => {
      if (detached) return
      state.removePeer(key)
      state.log('peer', `peer ${shortKey(key)} disconnected`)
    })
  }

  // judged calls (local blocks) for the detail view, newest `backfill` at most
  const readCalls = async (key: string): Promise<void> => {
    const t = tracked.get(key)
    if (!t) return
    const upto = t.cw.length
    const from = Math.max(t.read, 1, upto - (opts.backfill ?? 50))
    t.read = Math.max(t.read, upto)
    for (let i = from; i < upto && !detached; i++) {
      try {
        state.recordCall(key, callView(i, await t.cw.log.call(i, { wait: false })))
      } catch {
        return
      }
    }
  }

  const update = (key: string): void => {
    const t = tracked.get(key)
    if (!t) return
    const { cw } = t
    const hostLength = cw.log.core.length
    if (hostLength > t.seen) {
      // the first length learnt is history, not traffic
      if (t.seen > 0) for (let i = t.seen; i < hostLength; i++) t.rate.add(state.now())
      t.seen = hostLength
    }
    state.upsertContract(key, {
      role: 'watched',
      name: cw.genesis?.name ?? '',
      length: hostLength,
      hostLength,
      audited: cw.length,
      filesVersion: cw.verdict?.filesVersion ?? 0,
      callsPerSec: t.rate.rate(state.now()),
      ...(cw.genesis ? { files: formatKey(cw.genesis.files), oracles: cw.genesis.oracles } : {}),
      ...served(cw.key.toString('hex')),
      hostOnline: cw.proven,
      ...(cw.statements.length > 0 ? { stateLength: Math.max(...cw.statements.map((s) => s.length)) } : {})
    })
  }

  // rehosting: what this watcher served of the contract (serve.ts)
  const served = (hex: string): { servedPeers?: number, uploadedBytes?: number } => {
    const st = watcher.serving?.get(hex)?.stats
    return st ? { servedPeers: st.peersServed, uploadedBytes: st.bytesUploaded } : {}
  }

  const follow = (cw: ContractWatch): void => {
    const key = formatKey(cw.key)
    if (tracked.has(key)) return
    tracked.set(key, { cw, rate: new RateWindow(windowMs), seen: cw.log.core.length, read: 0 })
    update(key)
    state.log('info', `watching ${key}`)
    let lastLine = -Infinity
    const onverdict = (v: Verdict): void => {
      state.setVerdict(verdictView(v, me))
      // an ok line now and then (not one per judged batch)
      if (v.verdict === 'ok' && state.now() - lastLine >= (opts.verdictLineMs ?? 10_000)) {
        lastLine = state.now()
        state.log('verdict', `ok ${shortKey(key)} up to length ${v.length}`)
      }
      update(key)
      void readCalls(key)
    }
    const onfault = (v: Verdict): void => {
      onverdict(v)
      const f = v.fault
      state.log('error', f ? `FAULT ${shortKey(key)} at #${f.index}: ${f.kind} (${f.cause}): ${f.message}` : `FAULT ${shortKey(key)}`)
    }
    const onwarning = (err: Error): void => state.log('warn', `${shortKey(key)}: ${err.message}`)
    const onappend = (): void => update(key)
    cw.on('verdict', onverdict)
    cw.on('fault', onfault)
    cw.on('warning', onwarning)
    cw.log.core.on('append', onappend)
    offs.push(() => {
      cw.off('verdict', onverdict)
      cw.off('fault', onfault)
      cw.off('warning', onwarning)
      cw.log.core.off('append', onappend)
    })
    if (cw.verdict) onverdict(cw.verdict)
  }

  const oncontract = (cw: ContractWatch): void => follow(cw)
  const onhost = ({ publicKey }: { publicKey: Buffer }): void => {
    const key = formatKey(publicKey)
    if (state.snapshot.peers.some((p) => p.key === key)) state.upsertPeer(key, { role: 'host' })
  }
  const refresh = (): void => {
    for (const conn of watcher.swarm?.connections ?? []) {
      const key = formatKey(conn.remotePublicKey)
      if (state.snapshot.peers.some((p) => p.key === key)) state.upsertPeer(key, rawCounters(conn))
    }
    for (const key of tracked.keys()) update(key)
  }

  for (const conn of watcher.swarm?.connections ?? []) onconnection(conn)
  for (const cw of watcher.contracts.values()) follow(cw)
  watcher.swarm?.on('connection', onconnection)
  watcher.on('contract', oncontract)
  watcher.on('host', onhost)
  const timer = setInterval(refresh, opts.refreshMs ?? 1000)
  timer.unref()

  return () => {
    if (detached) return
    detached = true
    clearInterval(timer)
    watcher.swarm?.off('connection', onconnection)
    watcher.off('contract', oncontract)
    watcher.off('host', onhost)
    for (const off of offs.splice(0)) off()
  }
}
