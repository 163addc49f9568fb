// The watcher adapter on a real Watcher following an in-process host over a
// local testnet: the contract row (host length, judged, lag), the judged
// calls, and the watcher's own verdict; and how verdicts map to the panel.

import test from 'brittle'
import { VmsClient } from '../src/client.js'
import { formatKey } from '../src/keys.js'
import { Watcher } from '../src/watch/watcher.js'
import type { Verdict } from '../src/watch/verdict.js'
import { NodeState } from '../tui/state.js'
import { attachWatcher, verdictView } from '../tui/watch-adapter.js'
import { example, hostNode, identity, testnet, tmpdir } from './helpers.js'
import { KEYS, T0, sleep } from './tui-fixtures.js'

async function until (what: string, fn: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what)
    await sleep(50)
  }
}

function verdict (patch: Partial<Verdict>): Verdict {
  return { contract: KEYS.contract, verdict: 'ok', length: 7, fork: 0, treeHash: null, filesVersion: 3, filesHash: null, runtime: 'r', hostRuntime: 'r', statement: null, time: T0, fault: null, ...patch }
}

test('tui watch adapter: verdicts map to ok, fault (with the first diverging call) and equivocation', (t) => {
  t.alike(verdictView(verdict({}), KEYS.watcher), { contract: KEYS.contract, watcher: KEYS.watcher, length: 7, verdict: 'ok', at: T0 })
  const evidence = { contract: KEYS.contract, genesis: null, records: [], expected: {}, observed: {}, statements: [], replays: [] }
  const fault = verdictView(verdict({ verdict: 'fault', length: 4, fault: { kind: 'result', index: 4, cause: 'host', message: 'replay returned 2', evidence } }), KEYS.watcher)
  t.is(fault.verdict, 'fault')
  t.is(fault.firstBadCall, 4)
  t.is(fault.kind, 'result')
  const root = (length: number, fork: number, treeHash: string) => ({ contract: KEYS.contract, length, fork, treeHash, signature: '00' })
  const eq = verdictView(verdict({ verdict: 'fault', length: 4, fault: { kind: 'fork', index: 4, cause: 'host', message: 'the host signed two roots for length 5 with different tree hashes', evidence: { ...evidence, statements: [root(5, 0, 'aa'), root(5, 0, 'bb')] } } }), KEYS.watcher)
  t.is(eq.verdict, 'equivocation', 'two signed roots, same length, different trees')
  const trunc = verdictView(verdict({ verdict: 'fault', length: 4, fault: { kind: 'fork', index: 3, cause: 'host', message: 'the host signed roots under fork 0 and fork 1', evidence: { ...evidence, statements: [root(5, 0, 'aa'), root(4, 1, 'bb')] } } }), KEYS.watcher)
  t.is(trunc.verdict, 'fault', 'a truncation is a fault')
})

test('tui watch adapter: a watcher following a host shows the contract judged, its calls and an ok verdict', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  const key = formatKey(host.key)
  const caller = identity()
  const client = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: caller, timeout: 15_000 })
  t.teardown(() => client.close())
  for (let i = 0; i < 3; i++) await client.increment()

  const watcher = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 50 })
  t.teardown(() => watcher.close())
  await watcher.ready()
  const state = new NodeState()
  const detach = attachWatcher(watcher, state, { bootstrap: 'testnet', refreshMs: 100 })
  t.teardown(detach)
  t.is(state.snapshot.node.role, 'watcher')
  t.is(state.snapshot.node.key, formatKey(watcher.swarm!.keyPair.publicKey))

  await watcher.watch(host.key)
  await until('an ok verdict at length 4', () => state.snapshot.verdicts.some((v) => v.verdict === 'ok' && v.length === 4))
  await until('the contract judged to 4', () => state.contract(key)?.audited === 4)
  const c = state.contract(key)!
  t.is(c.role, 'watched')
  t.is(c.name, 'pc')
  t.is(c.hostLength, 4)
  t.is(c.length, 4)
  t.is(state.snapshot.verdicts[0].watcher, state.snapshot.node.key, 'the verdict is this watcher\'s')
  await until('judged calls read back', () => (state.contract(key)?.lastCalls.length ?? 0) === 3)
  t.alike(state.contract(key)!.lastCalls.map((x) => [x.index, x.result, x.caller]), [[3, '3', formatKey(caller.publicKey)], [2, '2', formatKey(caller.publicKey)], [1, '1', formatKey(caller.publicKey)]])
  await until('a peer', () => state.snapshot.peers.length > 0)
  await until('the host peer has its role', () => state.snapshot.peers.some((p) => p.role === 'host'))
  t.ok(state.snapshot.events.some((e) => e.text === 'watching ' + key))
  t.ok(state.snapshot.events.some((e) => e.level === 'verdict' && e.text.startsWith('ok ' + key.slice(0, 8) + ' up to length ')), 'a verdict line in the event log')

  await client.increment()
  await until('the new call judged', () => state.contract(key)?.audited === 5 && state.snapshot.verdicts[0].length === 5)
  t.is(state.contract(key)!.lastCalls[0].index, 4, 'the newest judged call first')
})
