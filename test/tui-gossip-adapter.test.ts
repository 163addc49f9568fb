// The gossip adapter with a stand-in gossip channel: attestations heard
// become verdicts (latest per watcher, late old ones ignored), count for
// the sending peer, raise "audited up to", and faults get an event line.

import test from 'brittle'
import { EventEmitter } from 'node:events'
import { VERDICT_EQUIVOCATION, VERDICT_FAULT, VERDICT_OK, type Attestation } from '../protocol/index.js'
import { parseKey } from '../src/keys.js'
import { NodeState } from '../tui/state.js'
import { attachGossip } from '../tui/gossip-adapter.js'
import { T0 } from './tui-fixtures.js'

const CONTRACT = 'yry6ab1yhkbo9jzw7xpjk3m3aqy1tmfcxjgdw8sfb5a9qmnyfgso'
const WATCHER = 'fmxbz7ke1ab7o5f8rp3tj3ujfzc5ghcf7kydhjxd6mrynkfjxyzo'
const PEER = 'c9ijoh8bq3kkn8fbw1jwhfgu7xq3m5tbspcn3wrfpj5iy5yfh9ho'

function attestation (patch: Partial<Attestation>): Attestation {
  return { contract: parseKey(CONTRACT), watcher: parseKey(WATCHER), length: 5, verdict: VERDICT_OK, time: T0, fault: null, ...patch } as Attestation
}

test('tui gossip adapter: attestations become verdicts, count for the sender, faults are logged', (t) => {
  const gossip = new EventEmitter()
  const state = new NodeState({}, { now: () => T0 })
  state.upsertContract(CONTRACT, { role: 'host', length: 9 })
  state.upsertPeer(PEER)
  const detach = attachGossip(gossip, state)
  t.teardown(detach)

  gossip.emit('attestation', attestation({ length: 5 }), parseKey(PEER))
  let s = state.snapshot
  t.alike(s.verdicts.map((v) => [v.contract, v.watcher, v.length, v.verdict]), [[CONTRACT, WATCHER, 5, 'ok']])
  t.is(s.peers[0].attestations, 1, 'counted for the peer that sent it')
  t.is(state.contract(CONTRACT)!.audited, 5, 'audited up to the ok length')
  t.ok(s.events.some((e) => e.level === 'verdict' && e.text.includes('attests ok')))

  gossip.emit('attestation', attestation({ length: 3, time: T0 - 1000 }), parseKey(PEER))
  t.is(state.snapshot.verdicts[0].length, 5, 'an older attestation forwarded late is ignored')

  const fault = { kind: 'result', index: 7, cause: 'host', message: 'replay returned 2', evidence: '{}' }
  gossip.emit('attestation', attestation({ length: 7, verdict: VERDICT_FAULT, fault, time: T0 + 1 }), parseKey(PEER))
  s = state.snapshot
  t.alike([s.verdicts[0].verdict, s.verdicts[0].firstBadCall, s.verdicts[0].kind], ['fault', 7, 'result'])
  t.is(state.contract(CONTRACT)!.audited, 5, 'a fault does not raise audited')
  t.ok(s.events.some((e) => e.level === 'error' && e.text.includes('FAULT') && e.text.includes('#7 result: replay returned 2')))

  gossip.emit('attestation', attestation({ length: 7, verdict: VERDICT_EQUIVOCATION, fault: { ...fault, kind: 'equivocation' }, time: T0 + 2 }), parseKey(PEER))
  t.is(state.snapshot.verdicts[0].verdict, 'equivocation')
  t.is(state.snapshot.peers[0].attestations, 3)

  detach()
  gossip.emit('attestation', attestation({ length: 9, time: T0 + 3 }), parseKey(PEER))
  t.is(state.snapshot.verdicts[0].length, 7, 'nothing heard after detach')
})

test('tui gossip adapter: verdicts the store kept from an earlier run show at once after a restart', (t) => {
  const stored = [attestation({ length: 4, time: T0 - 2000 }), attestation({ length: 6, time: T0 - 1000 })]
  const gossip = Object.assign(new EventEmitter(), { store: { all: () => stored } })
  const state = new NodeState({}, { now: () => T0 })
  state.upsertContract(CONTRACT, { role: 'host', length: 9 })
  const detach = attachGossip(gossip, state)
  t.teardown(detach)
  t.alike(state.snapshot.verdicts.map((v) => [v.watcher, v.length, v.verdict]), [[WATCHER, 6, 'ok']], 'the latest kept verdict of the watcher')
  t.is(state.contract(CONTRACT)!.audited, 6, 'audited up to it')
})
