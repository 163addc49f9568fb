// A host that logs a call naming a files version it never serves: a
// following watcher cannot judge the call, and says so with STALLED
// warnings instead of looking idle; the verdict stays at the calls before.

import test from 'brittle'
import Corestore from 'corestore'
import { NonceClock, signCall } from '../src/caller.js'
import { ContractHost } from '../src/host/contract-host.js'
import { canonicalArgs } from '../src/json.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { Watcher } from '../src/watch/watcher.js'
import type { VmsError } from '../src/errors.js'
import { identity, tmpdir } from './helpers.js'

const COUNTER = `
let n = 0
exports.add = async (x) => { n += x; await System.files.writeFile('/sum', String(n)); return n }
`

test('stall: a record naming files the host never serves gets STALLED warnings while following', async (t) => {
  const hostStore = new Corestore(tmpdir(t))
  const host = new ContractHost({ store: hostStore.namespace('contract/c'), name: 'c', source: COUNTER, identity: identity(), sandboxFactory: createSandbox, runtime: runtimeFingerprint() })
  t.teardown(async () => { await host.close(); await hostStore.close() })
  await host.ready()
  const caller = identity()
  const clock = new NonceClock()
  await host.call(signCall(caller, host.key, clock.next(), 'add', canonicalArgs([1])))
  await host.call(signCall(caller, host.key, clock.next(), 'add', canonicalArgs([2])))
  const last = await host.log.call(host.log.length - 1)
  // a third record whose files version is three blocks past anything the drive holds
  const req = signCall(caller, host.key, clock.next(), 'add', canonicalArgs([3]))
  await host.log.appendCalls([{ ...last, request: req, filesBefore: last.filesAfter, filesAfter: last.filesAfter + 3, outcome: { ok: true, result: '6', error: null, limit: null } }])

  const store = new Corestore(tmpdir(t))
  const a = hostStore.replicate(true) as NodeJS.ReadWriteStream & { destroy (): void }
  const b = store.replicate(false) as NodeJS.ReadWriteStream & { destroy (): void }
  a.pipe(b).pipe(a)
  const watcher = new Watcher({ store, stateDir: null, stallMs: 300 })
  t.teardown(async () => { await watcher.close(); a.destroy(); b.destroy(); await store.close() })
  const cw = await watcher.watch(host.key, { rootSource: async () => await host.root() })
  const warnings: VmsError[] = []
  cw.on('warning', (err: VmsError) => warnings.push(err))
  const v = await cw.until(3, 20_000)
  t.is(v.verdict, 'ok')
  t.is(v.length, 3, 'the calls before the unserved one are judged ok')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const stalled = warnings.filter((w) => w.code === 'STALLED')
  t.ok(stalled.length >= 2, `${stalled.length} STALLED warnings, repeated while it waits`)
  t.ok(/^STALLED: block 3: waited [\d.]+ s for blocks no peer served/.test(stalled[0]?.message ?? ''), stalled[0]?.message)
  t.is(cw.verdict?.length, 3, 'the unserved call is not judged')
  t.is(cw.verdict?.verdict, 'ok', 'and not called a fault: the blocks may still come')
})
