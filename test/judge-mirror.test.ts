// The watcher's files mirror (src/watch/mirror.ts): calls whose drive blocks
// are exactly what the replayed writes make are confirmed without checkouts;
// any other layout takes the full check (and still passes when the files
// are right), and a host whose files differ from the replay is still caught.
// The judge replays the next calls while it judges one
// (src/watch/judge-speculate.ts), each reading the host's drive at its own
// `filesBefore`: such a replay is used only when every call before it passed.

import test from 'brittle'
import Corestore from 'corestore'
import { signCall } from '../src/caller.js'
import { canonicalArgs } from '../src/json.js'
import { DriveCommitter } from '../src/log/drive-committer.js'
import { applyWrites } from '../src/log/drive-files.js'
import type { FileOp } from '../src/runtime/types.js'
import type { ContractWatch } from '../src/watch/contract-watch.js'
import type { Verdict } from '../src/watch/verdict.js'
import type { T } from './helpers.js'
import { localHost, localWatcher } from './local-helpers.js'
import { SPECULATION_DEPTH, SpeculativeReplays } from '../src/watch/judge-speculate.js'
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
exports.get = async (path) => await System.files.readFile(path)
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
  /** Logs `two('p', 'q')` in the layout a host makes, with a value the call never wrote at /d/b. @returns its index */
  const lie = async (): Promise<number> => {
    const at = host.log.length
    await craft('p', 'q', async (ops) => {
      const g = new DriveCommitter(host.log.drive!).begin()
      await g.apply([ops[0]!, { op: 'put', path: '/d/b', data: Buffer.from('Q') }])
      await g.flush()
    })
    return at
  }
  return { host, store, call, craft, lie }
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
  const { host, store, call, lie } = await setup(t)
  await call('two', 'a', 'b')
  // the same layout a host makes, but /d/b holds something the call never wrote
  const craftedAt = await lie()
  const cw = await watch(t, store, host.key)
  const v = await settled(cw, host.log.length)
  t.is(v.verdict, 'fault')
  t.is(v.fault?.kind, 'files', v.fault?.message)
  t.is(v.fault?.index, craftedAt)
})

test('replay ahead: a call in another layout takes the full check; the calls replayed ahead of it (reading the host\'s drive, which that check passed) stand, and the contract\'s memory stays right', async (t) => {
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
  t.is(cw.stats.rebuilds, 0, 'nothing replayed ahead was dropped: no rebuild')
})

test('replay ahead: a host whose files differ at one call is caught at that call, not at the call replayed ahead of it', async (t) => {
  const { host, store, call, lie } = await setup(t)
  for (let k = 0; k < 8; k++) await call('count')
  // the layout a host makes, right values for /a, a value the call never wrote at /d/b
  const craftedAt = await lie()
  for (let k = 0; k < 8; k++) await call('count')
  const cw = await watch(t, store, host.key)
  const v = await settled(cw, host.log.length)
  t.is(v.verdict, 'fault')
  t.is(v.fault?.kind, 'files', v.fault?.message)
  t.is(v.fault?.index, craftedAt)
  t.is(v.length, craftedAt, 'judged up to the call before it')
  t.ok(v.fault?.evidence.records.some((r) => r.index === craftedAt), 'the evidence holds the diverging record')
})

test('replay ahead: a lie in the host\'s files, then calls that read the lie and record what they read: the fault is the lie, though the calls after it were replayed ahead on the host\'s drive', async (t) => {
  const { host, store, call, lie } = await setup(t)
  for (let k = 0; k < 8; k++) await call('count')
  const craftedAt = await lie()
  // the host's own sandbox reads its drive: these records agree with the lie
  for (let k = 0; k < 8; k++) t.is((await call('get', '/d/b')).outcome.result, JSON.stringify('Q'))
  const cw = await watch(t, store, host.key)
  const v = await settled(cw, host.log.length)
  t.is(v.verdict, 'fault')
  t.is(v.fault?.kind, 'files', v.fault?.message)
  t.is(v.fault?.index, craftedAt, 'the call that wrote what it did not compute')
  t.is(v.length, craftedAt, 'nothing after it is judged ok')
})

test('replay ahead (unit): an outcome is handed out only in order, for the same record bytes, when its replay ran; never for a limit record or one that does not follow', async (t) => {
  const { host, call } = await setup(t)
  for (let k = 0; k < 3; k++) await call('count')
  const prev = await host.log.call(1)
  const rec = await host.log.call(2)
  const rec3 = await host.log.call(3)
  const raw = (await host.log.core.get(2))!
  const raw3 = (await host.log.core.get(3))!
  const other = Buffer.from(raw)
  other[other.length - 1] ^= 1
  const sandbox = await createSandbox(TWO, { limits: host.genesis.limits })
  t.teardown(() => sandbox.close())
  const view = new MemoryFiles()
  const a = new SpeculativeReplays()
  t.ok(a.start(2, raw, rec, prev, sandbox, view))
  t.is(await a.take(2, other), null, 'other bytes: dropped')
  t.is(a.enabled, false, 'and no more speculation')
  t.is(a.nextIndex(1), null)
  const closing = await createSandbox(TWO, { limits: host.genesis.limits })
  const b = new SpeculativeReplays()
  t.ok(b.start(2, raw, rec, prev, closing, view))
  await closing.close()
  t.is(await b.take(2, raw), null, 'a replay that could not run (its sandbox closed): dropped')
  t.is(b.counts.dropped, 1)
  const c = new SpeculativeReplays()
  t.ok(c.start(2, raw, rec, prev, sandbox, view))
  t.ok(c.start(3, raw3, rec3, rec, sandbox, view), 'the next one follows it')
  t.absent(c.start(5, raw3, rec3, rec, sandbox, view), 'not out of order')
  t.is(await c.take(3, raw3), null, 'not taken out of order: everything is dropped')
  t.is(c.counts.dropped, 2)
  const d = new SpeculativeReplays()
  t.ok(d.start(2, raw, rec, prev, sandbox, view))
  const out = await d.take(2, raw)
  t.ok(out && out.ok, 'same bytes, first in flight: used')
  t.is(d.counts.used, 1)
  t.absent(d.start(3, raw3, { ...rec3, outcome: { ...rec3.outcome, ok: false, limit: 'timeout' } }, rec, sandbox, view), 'a limit record is never replayed')
  t.absent(d.start(3, raw3, { ...rec3, filesBefore: rec.filesAfter + 1 }, rec, sandbox, view), 'nor one that does not follow the call before')
  t.is(d.nextIndex(1), 2)
  t.is(d.nextIndex(1 + SPECULATION_DEPTH), 2 + SPECULATION_DEPTH)
  const e = new SpeculativeReplays(2)
  t.ok(e.start(2, raw, rec, prev, sandbox, view))
  t.ok(e.start(3, raw3, rec3, rec, sandbox, view))
  t.is(e.nextIndex(1), null, 'no more than its depth in flight')
})
