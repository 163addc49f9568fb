// The host adapter on a real in-process HostNode over a local testnet: the
// UI state follows peers (with transport counters), contracts (length,
// files version, calls/s), calls (last calls, callers, event lines).

import test from 'brittle'
import { VmsClient } from '../src/client.js'
import { formatKey } from '../src/keys.js'
import { NodeState } from '../tui/state.js'
import { RateWindow, attachHost } from '../tui/host-adapter.js'
import { Watcher } from '../src/watch/watcher.js'
import { example, hostNode, identity, testnet, tmpdir } from './helpers.js'
import { sleep } from './tui-fixtures.js'

async function until (what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what)
    await sleep(20)
  }
}

test('tui rate window: calls per second over a sliding window', (t) => {
  const w = new RateWindow(10_000)
  for (let i = 0; i < 20; i++) w.add(1000 + i * 100)
  t.is(w.rate(5000), 2, '20 calls in a 10 s window')
  t.is(w.rate(11_950), 1, 'the older half slid out')
  t.is(w.rate(30_000), 0)
})

test('tui host adapter: peers, contracts and calls of a running host', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const state = new NodeState({ storage: '/somewhere' })
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pcounter' })
  const detach = attachHost(node, state, { bootstrap: 'testnet', refreshMs: 100 })
  t.teardown(detach)
  const key = formatKey(host.key)

  let s = state.snapshot
  t.is(s.node.role, 'host')
  t.is(s.node.key, formatKey(node.swarm!.keyPair.publicKey), 'node key is the swarm key')
  t.is(s.node.identity, node.identity.id)
  t.is(s.node.storage, '/somewhere')
  t.is(s.contracts.length, 1, 'a contract deployed before attaching is listed')
  t.is(s.contracts[0].key, key)
  t.is(s.contracts[0].name, 'pcounter')
  t.alike(s.contracts[0].methods, ['increment'])
  t.ok(s.events.some((e) => e.text.includes('hosting pcounter ' + key)))

  const later = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const rsvp = formatKey(later.key)
  t.ok(state.contract(rsvp), 'a contract deployed later is listed')
  await until('the init call read back', () => (state.contract(rsvp)?.lastCalls.length ?? 0) > 0)
  t.alike(state.contract(rsvp)!.lastCalls.map((x) => [x.index, x.method, x.caller]), [[1, 'init', node.identity.id]], 'calls logged before attaching are read back')

  const caller = identity()
  const client = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: caller, timeout: 15_000 })
  t.is(await client.increment(), 1)
  t.is(await client.increment(), 2)
  t.is(await client.increment(), 3)

  await until('a peer with byte counters', () => state.snapshot.peers.some((p) => (p.bytesIn ?? 0) > 0 && (p.bytesOut ?? 0) > 0))
  await until('calls/s', () => (state.contract(key)?.callsPerSec ?? 0) > 0)
  await until('the files version', () => state.contract(key)?.filesVersion === host.log.drive!.version)
  s = state.snapshot
  t.is(s.peers.length, 1, 'one peer connected')
  await until('the peer\'s role', () => state.snapshot.peers[0]?.role === 'client')
  const watcher = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 100 })
  t.teardown(() => watcher.close())
  await watcher.watch(host.key)
  await until('a watcher peer', () => state.snapshot.peers.some((p) => p.role === 'watcher'))
  await watcher.close()
  t.ok(s.events.some((e) => e.level === 'peer' && e.text.includes(s.peers[0].key.slice(0, 8) + ' connected')))
  const c = state.contract(key)!
  t.is(c.length, host.log.length, 'log length')
  t.is(c.filesVersion, host.log.drive!.version, 'files version')
  t.alike(c.lastCalls.map((x) => [x.index, x.method, x.result]), [[3, 'increment', '3'], [2, 'increment', '2'], [1, 'increment', '1']])
  t.alike(c.callers.map((x) => [x.caller, x.calls]), [[formatKey(caller.publicKey), 3]])
  t.ok(s.events.some((e) => e.level === 'call' && e.text === `#3 increment by ${formatKey(caller.publicKey).slice(0, 8)} → ok 3`), 'call line in the event log')

  await client.close()
  await until('the peer gone', () => state.snapshot.peers.length === 0)
  t.ok(state.snapshot.events.some((e) => e.text.endsWith(' disconnected')))

  detach()
  const version = state.snapshot.version
  await sleep(300)
  t.is(state.snapshot.version, version, 'nothing is written after detach')
})

test('tui host adapter: calls the host rejects (unknown method, hostile name) show in the events, sanitised', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const state = new NodeState({ storage: '/somewhere' })
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pcounter' })
  const detach = attachHost(node, state, { bootstrap: 'testnet', refreshMs: 100 })
  t.teardown(detach)
  const caller = identity()
  const client = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: caller, timeout: 15_000 })
  t.teardown(() => client.close())
  await t.exception(client.call('nope'), /UNKNOWN_METHOD/)
  await t.exception(client.call('\u001b[2Jwipe'), /UNKNOWN_METHOD/)
  const who = formatKey(caller.publicKey).slice(0, 8)
  await until('the rejected calls in the events', () => state.snapshot.events.filter((e) => e.text.startsWith('rejected ')).length === 2)
  const lines = state.snapshot.events.filter((e) => e.text.startsWith('rejected ')).map((e) => e.text)
  t.ok(lines.includes(`rejected nope by ${who}: UNKNOWN_METHOD`), lines.join(' | '))
  t.absent(lines.some((l) => l.includes('\u001b')), 'no terminal escape from a hostile method name')
  t.is(host.stats.rejected, 2)
})
