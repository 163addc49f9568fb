// A host that logs a call naming a files version it never serves: a
// following watcher cannot judge the call, and says so with STALLED
// warnings instead of looking idle; the verdict stays at the calls before.

import test from 'brittle'
import { signCall } from '../src/caller.js'
import { canonicalArgs } from '../src/json.js'
import type { VmsError } from '../src/errors.js'
import { localHost, localWatcher } from './local-helpers.js'

const COUNTER = `
let n = 0
exports.add = async (x) => { n += x; await System.files.writeFile('/sum', String(n)); return n }
`

test('stall: a record naming files the host never serves gets STALLED warnings while following', async (t) => {
  const { host, store: hostStore, caller, clock, call } = await localHost(t, COUNTER)
  await call('add', 1)
  await call('add', 2)
  const last = await host.log.call(host.log.length - 1)
  // a third record whose files version is three blocks past anything the drive holds
  const req = signCall(caller, host.key, clock.next(), 'add', canonicalArgs([3]))
  await host.log.appendCalls([{ ...last, request: req, filesBefore: last.filesAfter, filesAfter: last.filesAfter + 3, outcome: { ok: true, result: '6', error: null, limit: null } }])

  const { watcher } = await localWatcher(t, hostStore, { watcher: { stallMs: 300 } })
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
