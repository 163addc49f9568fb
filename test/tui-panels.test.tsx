// Each panel of the terminal UI rendered alone with fixed data at 80
// columns: what it shows, and that it takes exactly the lines it was given.

import test from 'brittle'
import { render, cleanup } from 'ink-testing-library'
import type { ReactElement } from 'react'
import { ContractsPanel, EventLogPanel, NodePanel, PeersPanel, VerdictsPanel, divergence, lagText, verdictColor } from '../tui/panels.js'
import { ContractDetail, Help } from '../tui/detail.js'
import { bytes, cut, duration, rate } from '../tui/format.js'
import { KEYS, T0, fixtureState, plain } from './tui-fixtures.js'

function frame (t: { teardown (fn: () => unknown): void }, el: ReactElement): string[] {
  const r = render(el)
  t.teardown(() => { r.unmount(); cleanup() })
  return plain(r.lastFrame()).split('\n')
}

function fits (t: { ok (v: unknown, m?: string): void, is (a: unknown, b: unknown, m?: string): void }, lines: string[], height: number, width = 80): void {
  t.is(lines.length, height, `exactly ${height} lines`)
  t.ok(lines.every((l) => [...l].length <= width), `no line wider than ${width}`)
}

test('tui format: durations, bytes, rates, cuts', (t) => {
  t.is(duration(3_723_000), '1:02:03')
  t.is(duration(90_061_000), '1d 01:01')
  t.is(bytes(undefined), '-')
  t.is(bytes(512), '512B')
  t.is(bytes(12_345), '12k')
  t.is(bytes(4100), '4.1k')
  t.is(rate(0), '0')
  t.is(rate(0.44), '0.4')
  t.is(rate(2500), '2.5k')
  t.is(cut('abcdef', 4), 'abc…')
  t.is(cut('abc', 4), 'abc')
})

test('tui node panel: role, node key, identity, uptime, counts, storage and DHT', (t) => {
  const s = fixtureState().snapshot
  const lines = frame(t, <NodePanel node={s.node} peers={2} contracts={1} width={80} now={T0} />)
  fits(t, lines, 2)
  t.ok(lines[0].includes('HOST'), lines[0])
  t.ok(lines[0].includes('node ' + KEYS.node.slice(0, 8)))
  t.ok(lines[0].includes('id ' + KEYS.operator.slice(0, 8)))
  t.ok(lines[0].includes('up 1:02:03'))
  t.ok(lines[0].includes('2 peers · 1 contract'))
  t.ok(lines[1].includes('storage /srv/vms/host') && lines[1].includes('dht 127.0.0.1:49737'), lines[1])

  const closing = frame(t, <NodePanel node={{ ...s.node, closing: true, bootstrap: '' }} peers={1} contracts={0} width={80} now={T0} />)
  t.ok(closing[0].includes('closing…') && closing[0].includes('1 peer · 0 contracts'), closing[0])
  t.ok(closing[1].includes('dht public DHT'))
})

test('tui peers panel: key, role, connected time, bytes, RTT, attestations; empty and focused states', (t) => {
  const s = fixtureState().snapshot
  const lines = frame(t, <PeersPanel peers={s.peers} width={80} height={5} now={T0} />)
  fits(t, lines, 5)
  t.ok(lines[0].startsWith('── Peers (2)'), lines[0])
  t.alike(lines[1].trim().split(/\s+/), ['PEER', 'ROLE', 'CONNECTED', 'IN', 'OUT', 'RTT', 'ATTEST'])
  const w = lines.find((l) => l.includes(KEYS.watcher.slice(0, 20)))
  t.ok(w, 'watcher row')
  t.alike(w!.trim().split(/\s+/).slice(1), ['watcher', '0:01:02', '12k', '4.1k', '1ms', '3'])
  const e = lines.find((l) => l.includes(KEYS.evil.slice(0, 20)))
  t.alike(e!.trim().split(/\s+/).slice(1), ['-', '0:00:05', '-', '-', '-', '0'], 'unknown counters show -')

  const focused = frame(t, <PeersPanel peers={s.peers} width={80} height={5} now={T0} focused selected={1} />)
  t.ok(focused[0].startsWith('▶'), 'focused title is marked')
  t.ok(focused[3].startsWith('›' + KEYS.evil.slice(0, 8)), 'selected row is marked')

  const none = frame(t, <PeersPanel peers={[]} width={80} height={3} now={T0} />)
  fits(t, none, 3)
  t.ok(none[2].includes('no peers connected yet'))
})

test('tui contracts panel: key, name, role, log length, files version, calls/s, audited, lag', (t) => {
  const s = fixtureState().snapshot
  const lines = frame(t, <ContractsPanel contracts={s.contracts} width={80} height={4} now={T0} focused selected={0} />)
  fits(t, lines, 4)
  t.ok(lines[0].includes('Contracts (1)') && lines[0].includes(KEYS.contract), `the full contract key at 80 columns: ${lines[0]}`)
  const wide = frame(t, <ContractsPanel contracts={s.contracts} width={120} height={4} now={T0} focused selected={0} />)
  t.ok(wide[0].includes(KEYS.contract) && wide[0].includes('enter: detail'), wide[0])
  t.alike(lines[1].trim().split(/\s+/), ['CONTRACT', 'NAME', 'ROLE', 'LOG', 'FILES', 'CALL/S', 'AUDITED', 'LAG'])
  t.ok(lines[2].startsWith('›' + KEYS.contract.slice(0, 20)), lines[2])
  t.alike(lines[2].trim().split(/\s+/).slice(1), ['rsvp', 'host', '5', '7', '0.4', '4', '1'], 'audited 4 (best ok attestation), lag 1')

  const c = s.contracts[0]
  t.is(lagText({ ...c, audited: undefined }), '-', 'no audit yet: no lag shown')
  t.is(lagText({ ...c, role: 'watched', audited: 3, hostLength: 9 }), '6', 'a watcher lags behind the host length')
})

test('tui verdicts panel: ok in green, fault and equivocation in red with the first diverging call', (t) => {
  const s = fixtureState().snapshot
  const verdicts = [...s.verdicts, { contract: KEYS.contract, watcher: KEYS.bob, length: 5, verdict: 'equivocation' as const, firstBadCall: 5, kind: 'fork', at: T0 - 60_000 }]
  const lines = frame(t, <VerdictsPanel verdicts={verdicts} width={80} height={5} now={T0} />)
  fits(t, lines, 5)
  t.ok(lines[0].includes('Verdicts (3)') && lines[0].includes('2 FAULT'), lines[0])
  const ok = lines.find((l) => l.includes(KEYS.watcher.slice(0, 8)))!
  t.alike(ok.trim().split(/\s+/), [KEYS.contract.slice(0, 8), KEYS.watcher.slice(0, 8), '4', 'OK', '0:00:04'])
  const fault = lines.find((l) => l.includes(KEYS.evil.slice(0, 8)))!
  t.ok(fault.includes('FAULT') && fault.includes('#4 result: replay returned 2'), fault)
  const eq = lines.find((l) => l.includes(KEYS.bob.slice(0, 8)))!
  t.ok(eq.includes('EQUIVOCATION') && eq.includes('#5 fork') && eq.includes('0:01:00'), eq)
  t.is(verdictColor(s.verdicts[0]), 'green')
  t.is(verdictColor(s.verdicts[1]), 'red')
  t.is(divergence(s.verdicts[0]), '')

  const none = frame(t, <VerdictsPanel verdicts={[]} width={80} height={3} now={T0} />)
  t.ok(none[2].includes('no attestations heard yet'))
})

test('tui event log: newest lines at the bottom; scrolled back it says how many are newer', (t) => {
  const s = fixtureState().snapshot
  const lines = frame(t, <EventLogPanel events={s.events} width={80} height={6} now={T0} />)
  fits(t, lines, 6)
  t.ok(lines[0].startsWith('── Events'))
  t.ok(lines[5].endsWith('event number 29'), lines[5])
  t.ok(lines[1].endsWith('event number 25'), lines[1])
  t.ok(/^ \d\d:\d\d:\d\d event/.test(lines[1]), 'time stamped')

  const back = frame(t, <EventLogPanel events={s.events} width={80} height={6} now={T0} focused selected={10} />)
  t.ok(back[5].endsWith('event number 19'), back[5])
  t.ok(back[0].includes('↓ 10 newer'), back[0])

  const far = frame(t, <EventLogPanel events={s.events} width={80} height={6} now={T0} focused selected={1000} />)
  t.ok(far[1].endsWith('event number 0'), 'scrolling stops at the oldest line')
})

test('tui contract detail: full keys, last calls with callers and results, callers, verdicts', (t) => {
  const s = fixtureState().snapshot
  const c = s.contracts[0]
  const lines = frame(t, <ContractDetail contract={c} verdicts={s.verdicts} width={80} height={20} now={T0} />)
  fits(t, lines, 20)
  const text = lines.join('\n')
  t.ok(lines[0].includes('Contract rsvp (host)'))
  t.ok(text.includes('key   ' + KEYS.contract), 'full contract key')
  t.ok(text.includes('files ' + KEYS.files), 'full files key')
  t.ok(text.includes('log 5 · files v7 · 0.4 call/s · audited 4 · lag 1 · oracles off'))
  t.ok(text.includes('FAULT #4 result: replay returned 2'), 'a bad verdict is called out on top')
  const calls = lines.slice(lines.findIndex((l) => l.includes('Last calls (4)')) + 2)
  t.ok(calls[0].includes('4') && calls[0].includes(KEYS.operator.slice(0, 8)) && calls[0].includes('ok 3'), 'newest call first: ' + calls[0])
  t.ok(lines.some((l) => l.includes('RSVP') && l.includes(KEYS.bob.slice(0, 8)) && l.includes('CONTRACT_ERROR: not invited')), 'an error result')
  t.ok(lines.some((l) => l.includes('init') && /\bok$/.test(l.trimEnd())), 'a call that returned nothing shows ok')
  const callers = lines.slice(lines.findIndex((l) => l.includes('Callers (2)')))
  t.ok(callers.some((l) => l.includes(KEYS.bob.slice(0, 30)) && /\s2\s+RSVP/.test(l)), 'bob made 2 calls')
  t.ok(text.includes('Verdicts (2)'))
  t.ok(lines.some((l) => l.includes(KEYS.evil.slice(0, 8)) && l.includes('FAULT') && l.includes('#4 result')), 'fault verdict with its first diverging call')
})

test('tui help: lists the keys', (t) => {
  const lines = frame(t, <Help width={80} height={12} />)
  fits(t, lines, 12)
  const text = lines.join('\n')
  for (const k of ['tab', 'enter', 'esc', '?', 'q / ctrl+c']) t.ok(text.includes(k), k)
  t.ok(text.includes('close the node and flush storage'))
})
