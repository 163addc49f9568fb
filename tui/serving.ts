/**
 * Rehosting counters in the TUI: what a watcher serves of a
 * contract (peers that downloaded from it, bytes uploaded) and how many
 * replicas hold a host's log.
 */

import type { ContractView } from './state.js'
import { bytes, duration } from './format.js'
import type { ReplicationPeer } from '../src/log/holepunch-internals.js'

/**
 * Replicas holding the whole log: replication peers whose contiguous copy
 * reaches `length` (clients that fetched a few blocks do not count).
 */
export function fullReplicas (peers: readonly ReplicationPeer[], length: number): number {
  return peers.filter((p) => length > 0 && p.remoteContiguousLength >= length).length
}

/**
 * ` · serving 3 peers, 1.2 MB up` (watched), ` · 2 replicas` (hosted), and
 * for a watched contract whose host is offline ` · host offline: state as of
 * call N, host last seen 0:03:12 ago` (N from the newest host-signed root
 * kept, the time recorded in the newest call shown); '' when unknown.
 * @param now ms since the epoch
 */
export function servingText (c: ContractView, now = Date.now()): string {
  const parts: string[] = []
  if (c.hostOnline === false && c.stateLength !== undefined) {
    const last = c.lastCalls[0]
    parts.push(`host offline: state as of call ${Math.max(0, c.stateLength - 1)}${last ? `, host last seen ${duration(now - last.at)} ago` : ''}`)
  }
  if (c.replicas !== undefined) parts.push(`${c.replicas} ${c.replicas === 1 ? 'replica' : 'replicas'}`)
  if (c.servedPeers !== undefined) parts.push(`serving ${c.servedPeers} ${c.servedPeers === 1 ? 'peer' : 'peers'}, ${bytes(c.uploadedBytes ?? 0)} up`)
  return parts.length > 0 ? ' · ' + parts.join(' · ') : ''
}
