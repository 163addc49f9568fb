// Calls in flight at the host (src/host/calls-in-flight.ts): a group asks
// several calls of its sandbox before the first is done. Each must still
// read what the calls before it wrote, in the sandbox process a host runs
// too, and a call that ends the sandbox (a limit) must not let the calls
// asked after it count: they run again after the rebuild, and a watcher
// replaying the log agrees.

import test from 'brittle'
import { createSandbox } from '../src/runtime/sandbox.js'
import { SandboxProcessPool } from '../src/runtime/sandbox-process.js'
import type { SandboxFactory } from '../src/runtime/types.js'
import { factoryWithCall, localHost, localWatcher } from './local-helpers.js'
import type { T } from './helpers.js'

const SRC = `
const fs = System.files
let n = 0
exports.increment = async () => {
  n++
  let i = 0
  try { i = await fs.readFile('/counter', 'json') } catch (e) { if (e.code !== 'ENOENT') throw e }
  await fs.writeFile('/counter', i + 1)
  return [i + 1, n]
}
exports.spin = () => { n++; for (;;) {} }
exports.work = async (loops) => { for (let i = 0; i < loops; i++) {} await fs.writeFile('/work', String(loops)) }
`

/**
 * `base`, counting how many calls were asked and not yet done at most.
 * @param lateMs each outcome reaches the host this much later (ms), while the sandbox goes on with the next call
 */
function counting (base: SandboxFactory, lateMs = 0): { factory: SandboxFactory, most: () => number } {
  let now = 0
  let most = 0
  const factory = factoryWithCall(base, async (sb, ctx) => {
    most = Math.max(most, ++now)
    try {
      const out = await sb.call(ctx)
      if (lateMs > 0) await new Promise((resolve) => setTimeout(resolve, lateMs))
      return out
    } finally {
      now--
    }
  })
  return { factory, most: () => most }
}

function processFactory (t: T): SandboxFactory {
  const pool = new SandboxProcessPool({ processes: 1 })
  t.teardown(async () => await pool.close())
  return pool.create
}

for (const where of ['in process', 'in a sandbox process']) {
  test(`calls in flight (${where}): each reads the counter the call before it wrote, in log order, even when the host takes each outcome late; a watcher agrees`, async (t) => {
    // the next call runs in the sandbox before the host has taken the last one's writes: its reads must wait for them
    const { factory, most } = counting(where === 'in process' ? createSandbox : processFactory(t), 3)
    const h = await localHost(t, SRC, { factory })
    const res = await Promise.all(Array.from({ length: 120 }, async () => await h.call('increment')))
    t.ok(most() > 1, `calls were asked before the one before them was done (${most()} at most)`)
    const byIndex = res.map((r) => ({ index: r.index, value: JSON.parse(r.outcome.result!) as [number, number] })).sort((a, b) => a.index - b.index)
    t.alike(byIndex.map((r) => r.value[0]), Array.from({ length: 120 }, (_, i) => i + 1), 'the counter file goes up by one a call, in log order')
    t.alike(byIndex.map((r) => r.value[1]), Array.from({ length: 120 }, (_, i) => i + 1), 'and so does the memory counter')

    const { watcher } = await localWatcher(t, h.store)
    const v = await (await watcher.watch(h.host.key)).until(h.host.log.length, 60_000)
    t.is(v.verdict, 'ok', v.fault?.message)
  })

  test(`calls in flight (${where}): a call that hits its time limit mid-group; the calls asked after it run again after the rebuild, none fails`, async (t) => {
    const { factory } = counting(where === 'in process' ? createSandbox : processFactory(t))
    const h = await localHost(t, SRC, { factory, limits: { timeoutMs: 200 } })
    const calls = Array.from({ length: 30 }, async (_, i) => await h.call(i === 10 ? 'spin' : 'increment'))
    const res = await Promise.all(calls)
    t.is(res[10]!.outcome.limit, 'timeout', 'the spinning call is a limit hit')
    const incs = res.filter((_, i) => i !== 10).map((r) => ({ index: r.index, ok: r.outcome.ok, value: r.outcome.ok ? JSON.parse(r.outcome.result!) as [number, number] : null }))
    t.ok(incs.every((r) => r.ok), 'every other call succeeded')
    const sorted = incs.sort((a, b) => a.index - b.index)
    t.alike(sorted.map((r) => r.value![0]), Array.from({ length: 29 }, (_, i) => i + 1), 'the counter file has every increment once, in log order')
    const before = sorted.filter((r) => r.index < res[10]!.index).map((r) => r.value![1])
    const after = sorted.filter((r) => r.index > res[10]!.index).map((r) => r.value![1])
    t.alike(before, Array.from({ length: before.length }, (_, i) => i + 1), 'memory before the limit: one increment a call')
    // the rebuild replays the log, which skips the limit record: memory holds the logged increments only
    t.alike(after, Array.from({ length: after.length }, (_, i) => before.length + i + 1), 'memory after the rebuild: the calls asked in flight behind the limit left no trace')

    const { watcher } = await localWatcher(t, h.store)
    const v = await (await watcher.watch(h.host.key)).until(h.host.log.length, 60_000)
    t.is(v.verdict, 'ok', v.fault?.message)
  })
}

test('calls in flight behind a storage write slower than a call may run: every call is answered, the counter has each logged increment once, a watcher agrees', async (t) => {
  const h = await localHost(t, SRC, { limits: { timeoutMs: 300 } })
  await h.call('increment')
  // the next group's storage write takes longer than a call may run
  const log = h.host.log
  const append = log.appendCalls.bind(log)
  let slow = true
  log.appendCalls = async (...args: Parameters<typeof append>) => {
    if (slow) {
      slow = false
      await new Promise((resolve) => setTimeout(resolve, 800))
    }
    return await append(...args)
  }
  // a group of one call that runs a while, so that the next calls queue behind it and form the next group at once
  const first = h.call('work', 30_000_000)
  const rest = await Promise.all(Array.from({ length: 6 }, async () => await h.call('increment')))
  t.is((await first).outcome.ok, true)
  t.ok(h.host.stats.batches >= 3, `the calls behind it were a group of their own (${h.host.stats.batches} groups)`)
  t.ok(rest.every((r) => r.outcome.ok || r.outcome.limit === 'timeout'), 'each call behind the slow write succeeded or is a time limit hit (a host statement)')
  const counted = rest.filter((r) => r.outcome.ok).sort((a, b) => a.index - b.index).map((r) => (JSON.parse(r.outcome.result!) as number[])[0])
  t.alike(counted, Array.from({ length: counted.length }, (_, i) => i + 2), `the counter has each logged increment once, in log order (${counted.length} of 6 ok)`)

  const { watcher } = await localWatcher(t, h.store)
  const v = await (await watcher.watch(h.host.key)).until(h.host.log.length, 60_000)
  t.is(v.verdict, 'ok', v.fault?.message)
})
