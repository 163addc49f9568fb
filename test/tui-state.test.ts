// The UI's snapshot store on its own: cached snapshots, subscriptions, calls
// kept newest first whatever order they arrive in, callers, verdicts raising
// "audited up to", and a bounded event log.

import test from 'brittle'
import { NodeState } from '../tui/state.js'
import { KEYS, T0 } from './tui-fixtures.js'

function call (index: number, caller: string, at: number) {
  return { index, method: 'm' + index, caller, at, ok: true, result: String(index), error: null }
}

test('tui state: one snapshot per version; subscribers hear every write until they leave', (t) => {
  const s = new NodeState({ role: 'watcher' }, { now: () => T0 })
  const a = s.snapshot
  t.is(s.snapshot, a, 'same object while nothing changed')
  t.is(a.node.role, 'watcher')
  t.is(a.node.startedAt, T0)
  let heard = 0
  const off = s.subscribe(() => { heard++ })
  s.upsertPeer(KEYS.watcher)
  s.countAttestation(KEYS.watcher)
  s.countAttestation('not connected')
  t.is(heard, 2)
  t.not(s.snapshot, a, 'a new snapshot after a write')
  t.is(s.snapshot.peers[0].attestations, 1)
  t.is(s.snapshot.peers[0].role, 'unknown')
  off()
  s.removePeer(KEYS.watcher)
  t.is(heard, 2, 'no calls after unsubscribing')
  t.is(s.snapshot.peers.length, 0)
})

test('tui state: calls newest first in any arrival order, no duplicates, callers by last call', (t) => {
  const s = new NodeState({}, { now: () => T0, maxCalls: 3 })
  s.recordCall(KEYS.contract, call(1, KEYS.bob, T0))
  t.is(s.snapshot.contracts.length, 0, 'calls of an unknown contract are ignored')
  s.upsertContract(KEYS.contract, { name: 'c' })
  s.recordCall(KEYS.contract, call(5, KEYS.bob, T0 + 5))
  s.recordCall(KEYS.contract, call(3, KEYS.operator, T0 + 3))
  s.recordCall(KEYS.contract, call(4, KEYS.bob, T0 + 4))
  s.recordCall(KEYS.contract, call(4, KEYS.bob, T0 + 4))
  s.recordCall(KEYS.contract, call(1, KEYS.operator, T0 + 1))
  const c = s.contract(KEYS.contract)!
  t.alike(c.lastCalls.map((x) => x.index), [5, 4, 3], 'newest first, capped at maxCalls')
  t.is(c.length, 6)
  t.alike(c.callers.map((x) => [x.caller, x.calls, x.lastMethod]), [[KEYS.bob, 2, 'm5'], [KEYS.operator, 2, 'm3']])
})

test('tui state: ok verdicts raise "audited up to" of a hosted contract; the latest per watcher is kept', (t) => {
  const s = new NodeState({}, { now: () => T0 })
  s.upsertContract(KEYS.contract, { role: 'host', length: 10 })
  s.upsertContract(KEYS.files, { role: 'watched', audited: 3 })
  s.setVerdict({ contract: KEYS.contract, watcher: KEYS.watcher, length: 6, verdict: 'ok', at: T0 })
  s.setVerdict({ contract: KEYS.contract, watcher: KEYS.evil, length: 8, verdict: 'fault', firstBadCall: 7, at: T0 })
  s.setVerdict({ contract: KEYS.files, watcher: KEYS.watcher, length: 9, verdict: 'ok', at: T0 })
  t.is(s.contract(KEYS.contract)!.audited, 6, 'a fault does not count as audited')
  t.is(s.contract(KEYS.files)!.audited, 3, 'a watched contract keeps its own audit point')
  s.setVerdict({ contract: KEYS.contract, watcher: KEYS.watcher, length: 9, verdict: 'ok', at: T0 + 1 })
  t.is(s.snapshot.verdicts.length, 3, 'one verdict per contract and watcher')
  t.is(s.snapshot.verdicts[0].length, 9)
  t.is(s.contract(KEYS.contract)!.audited, 9)
})

test('tui state: event log splits lines, skips blanks, keeps the newest maxEvents', (t) => {
  const s = new NodeState({}, { now: () => T0, maxEvents: 3 })
  s.log('info', 'one\ntwo\r\n\nthree')
  s.log('warn', 'four')
  const ev = s.snapshot.events
  t.alike(ev.map((e) => e.text), ['two', 'three', 'four'])
  t.is(ev[2].level, 'warn')
  t.ok(ev[0].id < ev[1].id && ev[1].id < ev[2].id, 'ids keep increasing')
})
