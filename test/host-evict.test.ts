// Many contracts on one host: a bounded pool of live sandboxes evicts idle
// ones, and the next call rebuilds the sandbox by replaying the log, so
// in-memory contract state survives an eviction.

import test from 'brittle'
import Corestore from 'corestore'
import { NonceClock, signCall } from '../src/caller.js'
import { ContractHost } from '../src/host/contract-host.js'
import { SandboxPool } from '../src/host/sandbox-pool.js'
import { canonicalArgs } from '../src/json.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { example, identity, tmpdir } from './helpers.js'

test('sandbox pool: idle contracts are evicted past the bound and rebuilt by replay on their next call', async (t) => {
  const store = new Corestore(tmpdir(t))
  const pool = new SandboxPool(2)
  const hosts: ContractHost[] = []
  for (const name of ['c0', 'c1', 'c2']) {
    const host = new ContractHost({ store: store.namespace('contract/' + name), name, source: example('counter.js'), identity: identity(), sandboxFactory: createSandbox, runtime: runtimeFingerprint(), pool })
    hosts.push(host)
    await host.ready()
  }
  t.teardown(async () => {
    for (const h of hosts) await h.close()
    await store.close()
  })
  const caller = identity()
  const clock = new NonceClock()
  const increment = async (h: ContractHost) => JSON.parse((await h.call(signCall(caller, h.key, clock.next(), 'increment', canonicalArgs([])))).outcome.result!)

  t.ok(pool.live <= 2, `${pool.live} live sandboxes for 3 contracts`)
  const counts = [0, 0, 0]
  for (let round = 0; round < 4; round++) {
    for (let k = 0; k < 3; k++) counts[k] = await increment(hosts[k]!)
  }
  t.alike(counts, [4, 4, 4], 'every counter kept its in-memory count across evictions')
  t.ok(pool.evictions >= 3, `${pool.evictions} evictions`)
  t.ok(hosts.reduce((a, h) => a + h.stats.evictions, 0) >= 3, 'hosts rebuilt their sandboxes by replay')
  t.ok(pool.live <= 2)
})
