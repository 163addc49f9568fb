/**
 * Rehosting counters in the TUI (issue 13): what a watcher serves of a
 * contract (peers that downloaded from it, bytes uploaded) and how many
 * replicas hold a host's log.
 */

import type { ContractView } from './state.js'
import { bytes } from './format.js'

/** Peers (hypercore replication peers of a log) as the host adapter counts replicas. */
export interface ReplicationPeer { remoteContiguousLength: number }

/**
 * Replicas holding the whole log: replication peers whose contiguous copy
 * reaches `length` (clients that fetched a few blocks do not count).
 */
export function fullReplicas (peers: readonly ReplicationPeer[], length: number): number {
  return peers.filter((p) => length > 0 && p.remoteContiguousLength >= length).length
}

/** ` · serving 3 peers, 1.2 MB up` (watched), ` · 2 replicas` (hosted), or '' when unknown. */
export function servingText (c: ContractView): string {
  const parts: string[] = []
  if (c.replicas !== undefined) parts.push(`${c.replicas} ${c.replicas === 1 ? 'replica' : 'replicas'}`)
  if (c.servedPeers !== undefined) parts.push(`serving ${c.servedPeers} ${c.servedPeers === 1 ? 'peer' : 'peers'}, ${bytes(c.uploadedBytes ?? 0)} up`)
  return parts.length > 0 ? ' · ' + parts.join(' · ') : ''
}
