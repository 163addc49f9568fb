// The watcher's files mirror (src/watch/mirror.ts): calls whose drive blocks
// are exactly what the replayed writes make are confirmed without checkouts;
// any other layout takes the full check (and still passes when the files
// are right), and a host whose files differ from the replay is still caught.
// The judge replays the next call while the mirror confirms one
// (src/watch/judge-speculate.ts): that replay is used only when the call
// before passed block for block.

import test from 'brittle'
import Corestore from 'corestore'
import { signCall } from '../src/caller.js'
import { canonicalArgs } from '../src/json.js'
import { DriveCommitter } from '../src/log/drive-group.js'
import { applyWrites } from '../src/log/drive-files.js'
import type { FileOp } from '../src/runtime/types.js'
import type { ContractWatch } from '../src/watch/contract-watch.js'
import type { Verdict } from '../src/watch/verdict.js'
import type { T } from './helpers.js'
import { localHost, localWatcher } from './local-helpers.js'
import { ReplayAhead } from '../src/watch/judge-speculate.js'
import { createSandbox } from '../src/runtime/sandbox.js'
import { MemoryFiles } from '../src/runtime/memory-files.js'

const TWO = `
exports.two = async (a, b) => {
  await System.files.writeFile('/a', a)
  await System.files.writeFile('/d/b', b)
  return a + b
}
exports.gone = async () => { await System.files.unlink('/a') }
let n = 0
exports.count = async () => { n++; await System.files.writeFile('/n/' + n, String(n)); return n }
`

async function setup (t: T) {
  const { host, store, caller, clock, call } = await localHost(t, TWO)
  /** Logs a `two(a, b)` call whose drive writes the host makes itself, in the layout `write` chooses. */
  const craft = async (a: string, b: string, write: (ops: FileOp[]) => Promise<void>) => {
    const last = await host.log.call(host.log.length - 1)
    const drive = host.log.drive!
    const filesBefore = drive.version
    await write([{ op: 'put', path: '/a', data: Buffer.from(a) }, { op: 'put', path: '/d/b', data: Buffer.from(b) }])
    const state = await host.log.filesState(drive.version)
    const req = signCall(caller, host.key, clock.next(), 'two', canonicalArgs([a, b]))
    await host.log.appendCalls([{ ...last, request: req, outcome: { ok: true, result: JSON.stringify(a + b), error: null, limit: null }, filesBefore, filesAfter: state.version, filesHash: state.hash }])
  }
  return { host, store, call, craft }
}

async function watch (t: T, hostStore: Corestore, key: Buffer): Promise<ContractWatch> {
  const { watcher } = await localWatcher(t, hostStore)
  return await watcher.watch(key)
}

function settled (cw: ContractWatch, length: number): Promise<Verdict> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no verdict in time')), 30_000)
    const check = (v: Verdict): void => {
      if (v.verdict === 'fault' || v.length >= length) {
        clearTimeout(timer)
        resolve(v)
      }
    }
    cw.on('verdict', check)
    cw.on('fault', check)
  })
}

test('mirror: host groups are confirmed block for block; another valid layout takes the full check and passes', async (t) => {
  const { host, store, call, craft } = await setup(t)
  await Promise.all(Array.from({ length: 40 }, (_, i) => call('two', 'x' + i, 'y'.repeat(i))))
  await call('gone')
  // the layout of one drive batch per call: its first block has no complete index
  await craft('old', 'layout', async (ops) => {
    const b = host.log.drive!.batch()
    await applyWrites(b, ops)
    await b.flush()
  })
  // then the layout groups write, made outside the host
  await craft('group', 'layout', async (ops) => {
    const g = new DriveCommitter(host.log.drive!).begin()
    await g.apply(ops)
    await g.flush()
  })
  const cw = await watch(t, store, host.key)
  const v = await settled(cw, host.log.length)
  t.is(v.verdict, 'ok', v.fault?.message ?? 'ok')
  t.is(v.length, host.log.length)
  t.is(cw.stats.judged, 43)
  t.is(cw.stats.mirrored, 42, 'every call but the one in the other layout was confirmed by the mirror')
})

test('mirror: a host whose files differ from the replay is still caught (files fault)', async (t) => {
  const { host, store, call, craft } = await setup(t)
  await call('two', 'a', 'b')
  const craftedAt = host.log.length
  // the same layout a host makes, but /d/b holds something the call never wrote
  await craft('p', 'q', async (ops) => {
    const g = new DriveCommitter(host.log.drive!).begin()
    await g.apply([ops[0]!, { op: 'put', path: '/d/b', data: Buffer.from('Q') }])
    await g.flush()
  })
  const cw = await watch(t, store, host.key)
  const v = await settled(cw, host.log.length)
  t.is(v.verdict, 'fault')
  t.is(v.fault?.kind, 'files', v.fault?.message)
  t.is(v.fault?.index, craftedAt)
})

test('replay ahead: a call in another layout drops the replay started ahead of the next one; the sandbox is rebuilt and the contract\'s memory stays right', async (t) => {
  const { host, store, call, craft } = await setup(t)
  for (let k = 0; k < 12; k++) await call('count')
  // a valid drive in a layout the mirror does not make: the full check passes it
  await craft('old', 'layout', async (ops) => {
    const b = host.log.drive!.batch()
    await applyWrites(b, ops)
    await b.flush()
  })
  for (let k = 0; k < 12; k++) await call('count')
  const cw = await watch(t, store, host.key)
  const v = await settled(cw, host.log.length)
  t.is(v.verdict, 'ok', v.fault?.message ?? 'ok')
  t.is(v.length, host.log.length)
  t.is(cw.stats.mirrored, cw.stats.judged - 1, 'every call but the one in the other layout was confirmed by the mirror')
  t.ok((cw.stats.replayedAhead ?? 0) > 0, 'calls were replayed ahead')
  t.ok(cw.stats.rebuilds >= 1, 'the sandbox that ran the next call ahead of the full check was rebuilt')
})

test('replay ahead: a host whose files differ at one call is caught at that call, not at the call replayed ahead of it', async (t) => {
  const { host, store, call, craft } = await setup(t)
  for (let k = 0; k < 8; k++) await call('count')
  const craftedAt = host.log.length
  // the layout a host makes, right values for /a, a value the call never wrote at /d/b
  await craft('p', 'q', async (ops) => {
    const g = new DriveCommitter(host.log.drive!).begin()
    await g.apply([ops[0]!, { op: 'put', path: '/d/b', data: Buffer.from('Q') }])
    await g.flush()
  })
  for (let k = 0; k < 8; k++) await call('count')
  const cw = await watch(t, store, host.key)
  const v = await settled(cw, host.log.length)
  t.is(v.verdict, 'fault')
  t.is(v.fault?.kind, 'files', v.fault?.message)
  t.is(v.fault?.index, craftedAt)
  t.is(v.length, craftedAt, 'judged up to the call before it')
  t.ok(v.fault?.evidence.records.some((r) => r.index === craftedAt), 'the evidence holds the diverging record')
})

test('replay ahead (unit): an outcome is handed out only for the same record bytes at the same mirror version; never for a limit record or one that does not follow', async (t) => {
  const { host, call } = await setup(t)
  await call('count')
  await call('count')
  const prev = await host.log.call(1)
  const rec = await host.log.call(2)
  const raw = (await host.log.core.get(2))!
  const other = Buffer.from(raw)
  other[other.length - 1] ^= 1
  const sandbox = await createSandbox(TWO, { limits: host.genesis.limits })
  t.teardown(() => sandbox.close())
  const view = new MemoryFiles()
  const a = new ReplayAhead()
  t.ok(a.start(2, raw, rec, prev, sandbox, view))
  t.is(a.take(2, other, rec.filesBefore), null, 'other bytes: dropped')
  t.is(a.enabled, false, 'and no more speculation')
  const b = new ReplayAhead()
  t.ok(b.start(2, raw, rec, prev, sandbox, view))
  t.is(b.take(2, raw, rec.filesBefore + 1), null, 'the mirror moved: dropped')
  const c = new ReplayAhead()
  t.ok(c.start(2, raw, rec, prev, sandbox, view))
  const out = await c.take(2, raw, rec.filesBefore)
  t.ok(out && out.ok, 'same bytes, same version: used')
  t.is(c.counts.used, 1)
  t.absent(c.start(2, raw, { ...rec, outcome: { ...rec.outcome, ok: false, limit: 'timeout' } }, prev, sandbox, view), 'a limit record is never replayed')
  t.absent(c.start(2, raw, { ...rec, filesBefore: prev.filesAfter + 1 }, prev, sandbox, view), 'nor one that does not follow the call before')
})
