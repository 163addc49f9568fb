/**
 * Fixed data for the terminal UI tests: a clock, keys, and a NodeState with
 * two peers, a hosted contract with calls, an ok and a fault verdict, and
 * some event lines.
 */

import { NodeState } from '../tui/state.js'

/** The fixed "now" of the fixtures. */
export const T0 = Date.UTC(2024, 0, 2, 3, 4, 5)

/** z-base32 keys (52 characters). */
export const KEYS = {
  node: 'q7ynh1kkz3x5fe8crgzpkbbfy4e7b1tzdiu4n3f9a4ahhqq5sxho',
  operator: 'yry6ab12kxbo9jzw7xpjk3m3aqy1tmfcxjgdw8sfb5a9qmnyfgso',
  watcher: 'fmxbz7ke1ab7o5f8rp3tj3ujfzc5ghcf7kydhjxd6mrynkfjxyzo',
  evil: 'c9ijoh8bq3kkn8fbw1jwhfgu7xq3m5tbspcn3wrfpj5iy5yfh9ho',
  contract: '8ab3kx7aq1tiw65ryzqf9bu7wgnofrqjdu64b6oddyb4qr1pgcny',
  files: 'pu5k8ghzcn9d7ss3rnhqszc1u7kej4rtnqonnzj1pq6pgxj3jj9o',
  bob: 'bobbx7aq1tiw65ryzqf9bu7wgnofrqjdu64b6oddyb4qr1pgcnyy'
}

/** A NodeState filled with the fixtures, its clock fixed at {@link T0}. */
export function fixtureState (): NodeState {
  const s = new NodeState({ role: 'host', storage: '/srv/vms/host', bootstrap: '127.0.0.1:49737', startedAt: T0 - 3_723_000 }, { now: () => T0 })
  s.setNode({ key: KEYS.node, identity: KEYS.operator })
  s.upsertPeer(KEYS.watcher, { role: 'watcher', since: T0 - 62_000, bytesIn: 12_345, bytesOut: 4100, rtt: 1.4, attestations: 3 })
  s.upsertPeer(KEYS.evil, { since: T0 - 5000 })
  s.upsertContract(KEYS.contract, { name: 'rsvp', role: 'host', length: 5, filesVersion: 7, callsPerSec: 0.4, files: KEYS.files, methods: ['RSVP', 'init'], oracles: false })
  s.recordCall(KEYS.contract, { index: 1, method: 'init', caller: KEYS.operator, at: T0 - 9000, ok: true, result: null, error: null })
  s.recordCall(KEYS.contract, { index: 2, method: 'RSVP', caller: KEYS.bob, at: T0 - 8000, ok: true, result: '{"going":false}', error: null })
  s.recordCall(KEYS.contract, { index: 3, method: 'RSVP', caller: KEYS.bob, at: T0 - 7000, ok: false, result: null, error: 'CONTRACT_ERROR: not invited' })
  s.recordCall(KEYS.contract, { index: 4, method: 'RSVP', caller: KEYS.operator, at: T0 - 2000, ok: true, result: '3', error: null })
  s.setVerdict({ contract: KEYS.contract, watcher: KEYS.watcher, length: 4, verdict: 'ok', at: T0 - 4000 })
  s.setVerdict({ contract: KEYS.contract, watcher: KEYS.evil, length: 5, verdict: 'fault', firstBadCall: 4, kind: 'result', message: 'replay returned 2, host recorded 3', at: T0 - 1000 })
  for (let i = 0; i < 30; i++) s.log(i % 2 ? 'call' : 'peer', `event number ${i}`)
  return s
}

/** `text` without ANSI escapes. */
export function plain (text: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (text ?? '').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
}

/** Resolves after `ms`. */
export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
