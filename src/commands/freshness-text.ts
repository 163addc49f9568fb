/**
 * Wording of freshness (rehosting): whether the host is online,
 * how many replicas serve, and how old the state is, from the newest
 * host-signed root known and its last call's recorded time.
 */

import type { Freshness } from '../client-replicas.js'

/**
 * E.g. `host offline; 2 replicas serve the state as of call 4 (host last seen 3 min ago)`.
 * @param f see client-replicas.ts Freshness
 * @param now ms since the epoch
 */
export function describeFreshness (f: Freshness, now = Date.now()): string {
  const asOf = `as of call ${Math.max(0, f.length - 1)}${f.time !== null ? ` (host last seen ${ago(now - f.time)})` : ''}`
  if (f.hostOnline) return `host online; state ${asOf}${f.replicas > 0 ? `; ${f.replicas} ${f.replicas === 1 ? 'replica' : 'replicas'} connected` : ''}`
  return `host offline; ${f.replicas} ${f.replicas === 1 ? 'replica serves' : 'replicas serve'} the state ${asOf}`
}

/** `12 s ago`, `3 min ago`, `2 h ago`, `4 d ago` for a duration in ms. */
export function ago (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

/** The JSON fields `info` adds for freshness. */
export function freshnessJSON (f: Freshness): { host: 'online' | 'offline', replicas: number, stateLength: number, stateTime: number | null } {
  return { host: f.hostOnline ? 'online' : 'offline', replicas: f.replicas, stateLength: f.length, stateTime: f.time }
}
