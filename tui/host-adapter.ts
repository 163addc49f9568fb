/**
 * Feeds a {@link NodeState} from a running HostNode: its peers (with byte
 * counters and RTT read from the connection's transport stream when it has
 * them), its contracts (log length, files version, calls/s over a sliding
 * window, last calls and callers) and an event log line for each peer,
 * contract, call and warning. Read-only: it never calls into the node
 * beyond reading fields and listening to events.
 */

import type { SwarmConnection } from 'hyperswarm'
import type { HostNode, PeerInfo } from '../src/host/host-node.js'
import type { ContractHost } from '../src/host/contract-host.js'
import type { CallRecord } from '../protocol/index.js'
import { formatKey } from '../src/keys.js'
import { cut, oneLine, shortKey } from './format.js'
import type { CallView, NodeState } from './state.js'
import { fullReplicas } from './serving.js'
import { replicationPeers } from '../src/log/holepunch-internals.js'

/** Options for {@link attachHost}. */
export interface HostAdapterOptions {
  /** Storage folder to show. */
  storage?: string
  /** DHT bootstrap text to show ('' for the public DHT). */
  bootstrap?: string
  /** How often peers' counters and contracts' rates refresh, ms (default 1000). */
  refreshMs?: number
  /** Width of the calls/s window, ms (default 10,000). */
  windowMs?: number
  /** Log a line per call in the event log (default true). */
  logCalls?: boolean
  /** Calls read back from each log at attach for the detail view (default 50). */
  backfill?: number
}

/**
 * Bytes in/out and RTT of a connection, read from its transport stream when
 * it has them (a UDX stream does); fields it lacks are left out.
 */
export function rawCounters (conn: SwarmConnection | undefined): { bytesIn?: number, bytesOut?: number, rtt?: number } {
  const raw = conn?.rawStream ?? null
  if (!raw) return {}
  const num = (x: unknown): number | undefined => typeof x === 'number' && Number.isFinite(x) ? x : undefined
  const out: { bytesIn?: number, bytesOut?: number, rtt?: number } = {}
  const bytesIn = num(raw.bytesReceived)
  const bytesOut = num(raw.bytesTransmitted)
  const rtt = num(raw.rtt)
  if (bytesIn !== undefined) out.bytesIn = bytesIn
  if (bytesOut !== undefined) out.bytesOut = bytesOut
  if (rtt !== undefined) out.rtt = rtt
  return out
}

/** Counts events in a sliding time window. */
export class RateWindow {
  private readonly times: number[] = []
  private readonly windowMs: number

  /** @param windowMs width of the window, ms */
  constructor (windowMs: number) {
    this.windowMs = windowMs
  }

  /** Counts one event at `at`. */
  add (at: number): void {
    this.times.push(at)
    if (this.times.length > 100_000) this.times.splice(0, this.times.length - 100_000)
  }

  /** Events per second over the window ending at `now`. */
  rate (now: number): number {
    const from = now - this.windowMs
    let drop = 0
    while (drop < this.times.length && this.times[drop] <= from) drop++
    if (drop > 0) this.times.splice(0, drop)
    return this.times.length / (this.windowMs / 1000)
  }
}

/** The event-log text of a call. */
export function callLine (index: number, call: CallView): string {
  const result = call.ok ? (call.result === null ? 'ok' : `ok ${call.result}`) : (call.error ?? 'error')
  return `#${index} ${call.method} by ${shortKey(call.caller)} → ${result}`
}

/** A call record as the UI shows it. */
export function callView (index: number, record: CallRecord): CallView {
  const o = record.outcome
  return {
    index,
    method: record.request.method,
    caller: formatKey(record.request.caller),
    at: record.timestamp,
    ok: o.ok,
    result: o.ok ? (o.result === null ? null : oneLine(o.result)) : null,
    error: o.ok ? null : oneLine(o.error ? `${o.error.code}: ${o.error.message.replace(/^[A-Z_]+: /, '')}` : 'error')
  }
}

/**
 * Subscribes `state` to `node`: peers, contracts (those already there and
 * those deployed later), calls and warnings.
 * @returns a function that detaches every listener and timer
 */
export function attachHost (node: HostNode, state: NodeState, opts: HostAdapterOptions = {}): () => void {
  const windowMs = opts.windowMs ?? 10_000
  const logCalls = opts.logCalls !== false
  const rates = new Map<string, RateWindow>()
  const offs: Array<() => void> = []
  let detached = false

  state.setNode({
    role: 'host',
    key: node.swarm ? formatKey(node.swarm.keyPair.publicKey) : '',
    identity: node.identity.id,
    ...(opts.storage !== undefined ? { storage: opts.storage } : {}),
    ...(opts.bootstrap !== undefined ? { bootstrap: opts.bootstrap } : {})
  })

  const connections = (): Map<string, SwarmConnection> => {
    const byKey = new Map<string, SwarmConnection>()
    for (const conn of node.swarm?.connections ?? []) byKey.set(formatKey(conn.remotePublicKey), conn)
    return byKey
  }

  const onconnection = (info: PeerInfo): void => {
    const key = formatKey(info.publicKey)
    state.upsertPeer(key, { since: info.since, ...rawCounters(connections().get(key)) })
    state.log('peer', `peer ${shortKey(key)} connected`)
  }
  const ondisconnection = (info: PeerInfo): void => {
    const key = formatKey(info.publicKey)
    state.removePeer(key)
    state.log('peer', `peer ${shortKey(key)} disconnected`)
  }

  const watchContract = (host: ContractHost): void => {
    const key = formatKey(host.key)
    if (rates.has(key)) return
    const rate = new RateWindow(windowMs)
    rates.set(key, rate)
    let info: ReturnType<ContractHost['info']> | null = null
    try {
      info = host.info()
    } catch {}
    state.upsertContract(key, {
      name: host.name,
      role: 'host',
      length: host.log.length,
      filesVersion: host.log.drive?.version ?? 0,
      ...(info ? { files: formatKey(info.files), methods: info.methods, oracles: info.oracles, deployer: formatKey(host.genesis.deployer) } : {})
    })
    state.log('info', `hosting ${host.name} ${key}${info ? ` deployed by ${formatKey(host.genesis.deployer).slice(0, 8)}` : ''}`)
    const rec = host.log.recovery
    if (rec?.undoneBlocks) state.log('warn', `${host.name}: undid ${rec.undoneBlocks} unlogged drive blocks from an interrupted batch`)
    if (rec?.unloggedEdit) state.log('warn', `${host.name}: the files drive was changed outside the call log; watchers will flag it`)
    if (host.stats.replayedAtOpen) state.log('info', `${host.name}: replayed ${host.stats.replayedAtOpen} calls to rebuild state`)

    const oncall = ({ index, record }: { index: number, record: CallRecord }): void => {
      rate.add(state.now())
      state.upsertContract(key, { length: host.log.length, filesVersion: host.log.drive?.version ?? record.filesAfter })
      const call = callView(index, record)
      state.recordCall(key, call)
      if (logCalls) state.log(call.ok ? 'call' : 'warn', callLine(index, call))
    }
    const onwarning = (err: Error): void => state.log('warn', `${host.name}: ${err.message}`)
    // refused before the log (bad signature, reused nonce, unknown method...): the claimed caller, never logged
    const onrejected = ({ method, caller, error }: { method: string, caller: Uint8Array, error: { code: string } }): void => {
      // eslint-disable-next-line no-control-regex -- control characters in a claimed method name are what it strips
      state.log('warn', `rejected ${cut(oneLine(method.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')), 24)} by ${formatKey(caller).slice(0, 8)}: ${error.code}`)
    }
    host.on('call', oncall)
    host.on('warning', onwarning)
    host.on('rejected', onrejected)
    offs.push(() => {
      host.off('call', oncall)
      host.off('warning', onwarning)
      host.off('rejected', onrejected)
    })
    void backfill(host, key)
  }

  // the calls logged before the UI attached (at deploy, in earlier runs), for the detail view
  const backfill = async (host: ContractHost, key: string): Promise<void> => {
    const end = host.log.length
    for (let i = end - 1; i >= Math.max(1, end - (opts.backfill ?? 50)) && !detached; i--) {
      try {
        state.recordCall(key, callView(i, await host.log.call(i)))
      } catch {
        return // closing, or a block that does not decode: the UI shows what it has
      }
    }
  }

  const oncontract = (host: ContractHost): void => watchContract(host)

  const refresh = (): void => {
    const conns = connections()
    for (const [hex, info] of node.peers) {
      const key = formatKey(Buffer.from(hex, 'hex'))
      state.upsertPeer(key, { since: info.since, ...(info.role ? { role: info.role } : {}), ...rawCounters(conns.get(key)) })
    }
    const now = state.now()
    for (const host of node.contracts.values()) {
      const key = formatKey(host.key)
      const rate = rates.get(key)
      state.upsertContract(key, {
        length: host.length,
        filesVersion: host.log.drive?.version ?? 0,
        callsPerSec: rate ? rate.rate(now) : 0,
        replicas: fullReplicas(replicationPeers(host.log.core), host.log.length) // rehosting
      })
    }
  }

  for (const info of node.peers.values()) onconnection(info)
  for (const host of node.contracts.values()) watchContract(host)
  node.on('connection', onconnection)
  node.on('disconnection', ondisconnection)
  node.on('contract', oncontract)
  const timer = setInterval(refresh, opts.refreshMs ?? 1000)
  timer.unref()

  return () => {
    if (detached) return
    detached = true
    clearInterval(timer)
    node.off('connection', onconnection)
    node.off('disconnection', ondisconnection)
    node.off('contract', oncontract)
    for (const off of offs.splice(0)) off()
  }
}
