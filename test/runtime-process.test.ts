/**
 * Supervised sandboxes (sandbox-process.ts): the same contract semantics as
 * the in-process runtime, and a fatal out-of-memory error in an isolate ends
 * only its child process. See docs/threat-model.md.
 */

import test from 'brittle'
import { MemoryFiles } from '../src/runtime/memory-files.js'
import { SandboxProcessPool } from '../src/runtime/sandbox-process.js'
import type { Limits } from '../src/runtime/types.js'
import { Harness, LIMITS } from './runtime-helpers.js'
import type { Test } from 'brittle'

const SRC = `
let n = 0
exports.inc = () => ++n
exports.bomb = () => { Array(1e9).fill(0); return 'survived' }
exports.loop = () => { for (;;) {} }
exports.copy = async (from, to) => { const s = await System.files.readFile(from); await System.files.writeFile(to, s + '!'); return (await System.files.readdir('/')).length }
exports.bytes = async () => { await System.files.writeFile('/b', new Uint8Array([1, 2, 3])); return Array.from(await System.files.readFile('/b', 'binary')) }
exports.fail = () => { throw new TypeError('nope') }
`

function pool (t: Test, processes: number): SandboxProcessPool {
  const p = new SandboxProcessPool({ processes })
  t.teardown(() => p.close())
  return p
}

async function load (t: Test, p: SandboxProcessPool, files = new MemoryFiles(), limits: Limits = LIMITS): Promise<Harness> {
  const sb = await p.create(SRC, { limits, filename: 'contract.js' })
  t.teardown(() => sb.close())
  return new Harness(sb, files)
}

test('process sandbox: calls, files reads and writes, contract errors and deadlines behave as in process', async (t) => {
  const p = pool(t, 1)
  const h = await load(t, p, new MemoryFiles({ '/a.txt': 'hello' }))
  t.alike(h.sb.methods, ['bomb', 'bytes', 'copy', 'fail', 'inc', 'loop'])
  t.is(await h.value(t, 'inc'), 1)
  t.is(await h.value(t, 'inc'), 2, 'memory kept between calls')
  t.is(await h.value(t, 'copy', ['/a.txt', '/b.txt']), 2)
  t.is(h.files.text('/b.txt'), 'hello!', 'writes come back as ops')
  t.alike(await h.value(t, 'bytes'), [1, 2, 3], 'bytes cross the process boundary as bytes')
  const e = await h.call('fail')
  t.is(e.error?.code, 'CONTRACT_ERROR')
  t.is(e.error?.message, 'CONTRACT_ERROR: TypeError: nope')
  const missing = await h.call('copy', ['/none', '/c'])
  t.is(missing.error?.code, 'ENOENT')
  const loop = await h.call('loop')
  t.is(loop.limit, 'timeout')
  t.is(loop.error?.code, 'TIMEOUT')
  t.is(h.sb.usable, false)
  await t.exception(h.sb.call(h.ctx('inc')), /CLOSED/)
  await t.exception(p.create('exports.x = (', { limits: LIMITS }), /CONTRACT_LOAD/, 'syntax errors are CONTRACT_LOAD')
  t.is(p.exits.length, 0, 'no child ended')
})

test('process sandbox: Array(1e9).fill(0) (a fatal V8 heap OOM) ends only its child: MEMORY_LIMIT, the other child keeps serving, the crashed child\'s sandboxes are rebuilt in a new one', async (t) => {
  const p = pool(t, 2)
  // a long deadline: on a busy machine or a newer V8 the fatal out-of-memory may take seconds, and must come first
  const bomber = await load(t, p, undefined, { ...LIMITS, timeoutMs: 20_000 }) // child 1
  const far = await load(t, p) // child 2
  const near = await load(t, p) // child 1, next to the bomb
  t.is(await far.value(t, 'inc'), 1)
  t.is(await near.value(t, 'inc'), 1)
  const pids = p.pids
  const started = Date.now()
  const out = await bomber.call('bomb')
  t.comment(`the bomb ended its child in ${Date.now() - started} ms`)
  t.is(out.ok, false)
  t.is(out.error?.code, 'MEMORY_LIMIT', out.error?.message)
  t.is(out.limit, 'memory', 'a limit hit: the host\'s statement, skipped by replays')
  t.alike(out.writes, [])
  t.is(p.exits.length, 1, 'one child ended')
  t.ok(p.exits[0]!.outOfMemory, 'it died of V8\'s fatal heap out-of-memory')
  t.is(bomber.sb.usable, false)
  t.is(near.sb.usable, false, 'its neighbour in the same child must be rebuilt')
  t.is(far.sb.usable, true)
  t.is(await far.value(t, 'inc'), 2, 'the sandbox in the other child kept its state and serves')
  const rebuilt = await load(t, p)
  t.is(await rebuilt.value(t, 'inc'), 1, 'a new sandbox works (in a new child)')
  t.ok(!pids.includes(p.pids.at(-1)!), 'started in a new process')
  t.is(await bomber.sb.call(bomber.ctx('inc')).then(() => 'ran', (e: Error) => e.message.split(':')[0]), 'CLOSED')
})

test('process sandbox: top-level code that kills its child twice fails CONTRACT_LOAD; the pool keeps working', async (t) => {
  const p = pool(t, 1)
  await t.exception(p.create('Array(1e9).fill(0)', { limits: LIMITS }), /CONTRACT_LOAD/)
  t.is(p.exits.length, 2, 'tried in two children')
  const h = await load(t, p)
  t.is(await h.value(t, 'inc'), 1)
})

test('process sandbox: a contract that ended its child is rebuilt in quarantine: a second bomb does not touch the neighbour it shared a child with', async (t) => {
  const p = pool(t, 1)
  const BOMB = 'exports.bomb = () => { Array(1e9).fill(0) }'
  const NEIGHBOUR = 'exports.wait = async () => (await System.files.readFile("/gate")).length'
  const limits = { ...LIMITS, timeoutMs: 20_000 }
  const b1 = await p.create(BOMB, { limits })
  const n1 = await p.create(NEIGHBOUR, { limits })
  t.is((await new Harness(b1, new MemoryFiles()).call('bomb')).limit, 'memory')
  t.is(n1.usable, false, 'the neighbour went with the child')
  t.ok(p.quarantined(BOMB), 'the bomber is a suspect')
  t.absent(p.quarantined(NEIGHBOUR), 'the idle neighbour is not')
  const b2 = new Harness(await p.create(BOMB, { limits }), new MemoryFiles())
  const n2 = new Harness(await p.create(NEIGHBOUR, { limits }), new MemoryFiles())
  t.teardown(async () => { await b2.sb.close(); await n2.sb.close() })
  // the neighbour's call waits on a files read until the bomb has gone off again
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => { open = resolve })
  const view = { read: async () => { await gate; return new Uint8Array(3) }, stat: async () => null, readdir: async () => [] }
  const waiting = n2.sb.call({ ...n2.ctx('wait'), files: view })
  t.is((await b2.call('bomb')).error?.code, 'MEMORY_LIMIT')
  open()
  const out = await waiting
  t.is(out.ok, true, `the neighbour's call in progress is not touched: ${out.error?.message}`)
  t.is(out.resultJson, '3')
  t.is(n2.sb.usable, true)
  t.is(p.exits.length, 2)
})

test('process sandbox: calls asked at once run in order; a queued call\'s deadline counts from its start; behind a bomb, queued calls are CLOSED, not limit hits', async (t) => {
  const p = new SandboxProcessPool({ processes: 1, graceMs: 200 })
  t.teardown(() => p.close())
  const h = await load(t, p)
  // each of the first two waits 1,000 ms on a files read, within its own 1,500 ms deadline;
  // the third starts 2,000 ms after it was sent: past 1,500 + 200 ms if counted from then
  const slow = { read: async () => { await new Promise((resolve) => setTimeout(resolve, 1000)); return new Uint8Array([120]) }, stat: async () => null, readdir: async () => [] }
  const outs = await Promise.allSettled([
    h.sb.call({ ...h.ctx('copy', ['/a', '/b']), files: slow }),
    h.sb.call({ ...h.ctx('copy', ['/a', '/c']), files: slow }),
    h.sb.call(h.ctx('inc')),
    h.sb.call(h.ctx('inc'))
  ])
  const seen = outs.map((o) => o.status === 'rejected' ? (o.reason as Error).message.split(':')[0] : o.value.error?.code ?? o.value.resultJson)
  t.alike(seen, ['1', '1', '1', '2'], 'in order, none ended by a deadline')
  t.is(p.exits.length, 0, 'no child killed')

  const bomber = await load(t, p, undefined, { ...LIMITS, timeoutMs: 20_000 })
  t.is(await bomber.value(t, 'inc'), 1)
  const [bomb, ...queued] = await Promise.allSettled([bomber.sb.call(bomber.ctx('bomb')), bomber.sb.call(bomber.ctx('inc')), bomber.sb.call(bomber.ctx('inc'))])
  t.is(bomb.status === 'fulfilled' && bomb.value.limit, 'memory', 'the running call is the limit hit')
  t.alike(queued.map((q) => q.status === 'rejected' ? (q.reason as Error).message.split(':')[0] : 'ran'), ['CLOSED', 'CLOSED'], 'the calls behind it never ran: CLOSED, as if sent after the crash')
  t.ok(p.quarantined(SRC, 'contract.js'), 'the bomber is a suspect')
})
