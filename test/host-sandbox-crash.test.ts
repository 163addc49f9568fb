// Contract code cannot take a node down: a fatal V8 out-of-memory error in a
// contract ends only a supervised sandbox process, on a host (a real host
// process serving several contracts) and on a watcher replaying it. See
// docs/threat-model.md.

import test from 'brittle'
import { createSandbox } from '../src/runtime/sandbox.js'
import { SandboxProcessPool } from '../src/runtime/sandbox-process.js'
import fs from 'node:fs'
import path from 'node:path'
import { bootstrapArg, example, testnet, tmpdir } from './helpers.js'
import { cliJson, connect, runScript, until } from './fault-helpers.js'
import { factoryWithCall, localHost, localWatcher } from './local-helpers.js'
import { nextFault } from './fault-helpers.js'

const BOMBER = `
let n = 0
let kept = ''
exports.bomb = () => { Array(1e9).fill(0); return 'survived' }
exports.keep = () => { kept = 'x'.repeat(500 * 1024 * 1024); return kept.charCodeAt(0) }
exports.inc = () => ++n + kept.length
`

/** A host process with the default (supervised) sandboxes, serving several contracts. */
const HOST = `
const { HostNode } = await import(dist + '/src/host/host-node.js')
const { runtimeFingerprint } = await import(dist + '/src/runtime/sandbox.js')
const { formatKey } = await import(dist + '/src/keys.js')
const node = new HostNode({ storage: args.storage, runtime: runtimeFingerprint(), bootstrap: args.bootstrap })
const keys = {}
for (const c of args.contracts) keys[c.name] = formatKey((await node.deploy(c.source, { name: c.name, limits: c.limits })).key)
out({ event: 'ready', keys, pid: process.pid })
`

test('host process: Array(1e9).fill(0) fails MEMORY_LIMIT, the host process stays up, another contract keeps serving, the bombed contract serves its next call; a kept 500 MiB string is rejected too', async (t) => {
  const net = await testnet(t)
  const proc = runScript(t, HOST, {
    storage: tmpdir(t),
    bootstrap: net.bootstrap,
    contracts: [
      { name: 'bomber', source: BOMBER, limits: { memoryMb: 64, timeoutMs: 20_000 } },
      { name: 'counter', source: example('counter.js') }
    ]
  })
  const ready = await proc.event('ready', 60_000)
  const keys = ready.keys as Record<string, string>
  const bomber = await connect(t, net, keys.bomber!, { timeout: 30_000 })
  const counter = await connect(t, net, keys.counter!, { timeout: 30_000 })
  const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { code: string }) => e.code)

  t.is(await bomber.inc(), 1)
  t.is(await counter.increment(), 1)
  for (let round = 1; round <= 2; round++) {
    const started = Date.now()
    t.is(await codeOf(bomber.bomb()), 'MEMORY_LIMIT', `round ${round}: the bomb fails MEMORY_LIMIT (${Date.now() - started} ms)`)
    t.is(proc.child.exitCode, null, `round ${round}: the host process is still running`)
    t.is(await counter.increment(), round + 1, `round ${round}: the other contract keeps serving, state intact`)
    t.is(await bomber.inc(), round + 1, `round ${round}: the bombed contract serves its next call, state rebuilt from its log`)
  }
  t.is(await codeOf(bomber.keep()), 'MEMORY_LIMIT', 'a 500 MiB string kept as state: rejected')
  t.is(await bomber.inc(), 4, 'the next call works: the string is not part of the state')
  t.is(await bomber.inc(), 5, 'and the one after (no rebuild replays it)')
  t.is(proc.child.exitCode, null)
})

test('watcher: a replay that kills its sandbox process (a host recorded success for a memory bomb) is "could not judge" (cause unknown), never a host fault; the watcher keeps running', async (t) => {
  // the host's runtime claims the bomb returned: the log says ok, a replay dies
  const claims = factoryWithCall(createSandbox, async (sb, ctx) => ctx.method === 'bomb' ? { ok: true, resultJson: '"survived"', writes: [], oracles: [], durationMs: 0 } : await sb.call(ctx))
  const h = await localHost(t, BOMBER, { factory: claims, limits: { memoryMb: 64, timeoutMs: 20_000 } })
  await h.call('inc')
  await h.call('bomb')
  await h.call('inc')
  const { watcher } = await localWatcher(t, h.store) // default sandboxes: supervised processes
  const cw = await watcher.watch(h.host.key)
  // the bomb's replay ends a sandbox process four times (the replay, two retries with more room, the
  // classification's fresh one): about 13 s each on Node 26 here, so 60 s was the whole margin
  const v = await nextFault(cw, 100_000)
  t.is(v.fault?.index, 2, 'the bomb call')
  t.is(v.fault?.cause, 'unknown', `the watcher cannot judge a replay its own machine could not run: ${v.fault?.message}`)
  t.is(v.fault?.evidence.replays[0]?.error?.code, 'MEMORY_LIMIT')
  t.is(watcher.gossip.store.faults(h.host.key).length, 0, 'could not judge: nothing attested against the host')
  t.ok(watcher.opened && !watcher.closing, 'the watcher (this process) is still running')
})

test('attack: a watcher whose sandbox process is killed while it replays an honest call (its own machine failing, not the host) replays the call again and judges ok; it neither reports nor attests a fault', async (t) => {
  // a call that runs long enough on any machine to be killed in the middle of its replay
  const SLOW = `
let n = 0
exports.inc = () => ++n
exports.slow = () => { let x = 0; for (let i = 0; i < 2e8; i++) x = (x + i) % 1000003; return [++n, x] }
`
  const h = await localHost(t, SLOW, { limits: { timeoutMs: 20_000 } })
  await h.call('inc')
  await h.call('slow')
  await h.call('inc')
  const pool = new SandboxProcessPool({ processes: 1 })
  t.teardown(() => pool.close())
  let killed = 0
  // the watcher's machine: the first replay of `slow` has its sandbox process killed (SIGKILL) 100 ms in
  const killing = factoryWithCall(pool.create, async (sb, ctx) => {
    const out = sb.call(ctx)
    if (ctx.method === 'slow' && killed++ === 0) setTimeout(() => { for (const pid of pool.pids) process.kill(pid, 'SIGKILL') }, 100)
    return await out
  })
  const { watcher } = await localWatcher(t, h.store, { factory: killing })
  const cw = await watcher.watch(h.host.key)
  const warnings: string[] = []
  cw.on('warning', (err: Error) => warnings.push(err.message))
  const faults: unknown[] = []
  cw.on('fault', (v) => faults.push(v))
  const v = await cw.until(h.host.log.length, 60_000)
  t.is(v.verdict, 'ok', v.fault?.message)
  t.is(pool.exits.length, 1, 'the sandbox process was killed once, mid-replay')
  t.ok(killed >= 2, 'the call was replayed again')
  t.ok(warnings.some((m) => /call 2 failed for a reason of this machine/.test(m)), `a warning names the retry: ${warnings.join(' | ')}`)
  t.is(faults.length, 0, 'no fault')
  t.is(watcher.gossip.store.faults(h.host.key).length, 0, 'nothing attested against the host')
})

test('host: a contract whose sandbox shared the crashed process is rebuilt in a new one before its next call (no CLOSED for its callers)', async (t) => {
  const pool = new SandboxProcessPool({ processes: 1 })
  t.teardown(() => pool.close())
  const bomber = await localHost(t, BOMBER, { factory: pool.create, limits: { memoryMb: 64, timeoutMs: 20_000 } })
  const counter = await localHost(t, example('counter.js'), { factory: pool.create })
  t.is((await counter.call('increment')).outcome.result, '1')
  t.is((await bomber.call('bomb')).outcome.error?.code, 'MEMORY_LIMIT')
  t.is(pool.exits.length, 1, 'the one sandbox process ended')
  const next = await counter.call('increment').then((r) => r.outcome.result, (e: Error) => e.message)
  t.is(next, '2', 'the neighbour serves its next call, state rebuilt from its log')
  t.is((await bomber.call('inc')).outcome.result, '1')
})

test('vms-node host: a memory bomb ends a sandbox process, not the host: MEMORY_LIMIT, a warning on stderr, the next call served', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const file = path.join(dir, 'bomber.js')
  fs.writeFileSync(file, BOMBER)
  const host = cliJson(t, ['host', file, '--storage', path.join(dir, 'host'), '--bootstrap', bootstrapArg(net), '--json', '--memory-mb', '64', '--timeout-ms', '20000'])
  const ready = await host.event('ready', 60_000)
  const client = await connect(t, net, ready.contract as string, { timeout: 30_000 })
  t.is(await client.inc(), 1)
  t.is(await client.bomb().then(() => 'ok', (e: { code: string }) => e.code), 'MEMORY_LIMIT')
  t.ok(await until(() => /sandbox process \d+ ended by SIGABRT \(V8 out of memory\)/.test(host.stderr()), 10_000), host.stderr())
  t.is(await client.inc(), 2, 'the next call is served, state rebuilt from the log')
  t.is(host.child.exitCode, null, 'the host process is still running')
})
