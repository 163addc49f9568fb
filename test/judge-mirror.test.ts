// The watcher's files mirror (src/watch/mirror.ts): calls whose drive blocks
// are exactly what the replayed writes make are confirmed without checkouts;
// any other layout takes the full check (and still passes when the files
// are right), and a host whose files differ from the replay is still caught.

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

const TWO = `
exports.two = async (a, b) => {
  await System.files.writeFile('/a', a)
  await System.files.writeFile('/d/b', b)
  return a + b
}
exports.gone = async () => { await System.files.unlink('/a') }
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
