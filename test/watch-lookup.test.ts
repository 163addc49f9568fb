// A watcher started before its host: it keeps looking the contract up (with
// back-off) while no host is connected, instead of waiting for hyperswarm's
// 10-minute refresh, and stops looking once closed.

import test from 'brittle'
import { keepLooking } from '../src/net/lookup.js'
import { Watcher } from '../src/watch/watcher.js'
import { example, hostNode, testnet, tmpdir, until } from './helpers.js'

test('lookup: refreshes with back-off while nothing is found, not while found, never after stop', async (t) => {
  const at: number[] = []
  let found = false
  const start = Date.now()
  const stop = keepLooking({ refresh: async () => { at.push(Date.now() - start) } }, () => found, { minMs: 20, maxMs: 80 })
  t.teardown(stop)
  await until(() => at.length >= 4, 5000)
  const gaps = at.slice(1).map((a, i) => a - at[i]!)
  t.ok(gaps[0]! >= 35 && gaps[1]! >= 70, `the wait doubles: gaps ${gaps.join(', ')} ms`)
  found = true
  const n = at.length
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.ok(at.length <= n + 1, 'no lookups while found')
  found = false
  await until(() => at.length >= n + 2, 5000)
  stop()
  const m = at.length
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.is(at.length, m, 'nothing after stop')
})

test('lookup: a watcher started before its host finds it within seconds', async (t) => {
  const net = await testnet(t)
  const hostDir = tmpdir(t)
  const first = await hostNode(t, net, hostDir)
  const key = (await first.deploy(example('rsvp.js'), { name: 'rsvp' })).key
  await first.close()

  const watcher = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 100, lookup: { minMs: 300, maxMs: 1000 } })
  t.teardown(() => watcher.close())
  const cw = await watcher.watch(key)
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.absent(cw.connected, 'no host yet')

  const again = await hostNode(t, net, hostDir)
  const host = await again.deploy(example('rsvp.js'), { name: 'rsvp' })
  t.alike(host.key, key, 'the same contract, hosted again')
  const verdict = await cw.until(2, 20_000)
  t.ok(cw.connected, 'the host was found')
  t.is(verdict.verdict, 'ok')
  t.is(verdict.length, 2, 'genesis and init judged')
})
