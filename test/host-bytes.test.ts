/**
 * A call's bytes at the host: a huge thrown message is logged cut, and a
 * record that would pass the log's block size fails that call alone (a host
 * limit statement), never the other calls of its group commit. A watcher
 * replays the whole log and agrees.
 */

import test from 'brittle'
import { localHost, localWatcher } from './local-helpers.js'

const SRC = `
let n = 0
exports.add = async () => { n++; await System.files.writeFile('/n', String(n)); return n }
exports.throwBig = (mb) => { n++; throw new Error('x'.repeat(mb * 1024 * 1024)) }
exports.bigResult = (mb) => { n++; return 'r'.repeat(mb * 1024 * 1024) }
exports.count = () => n
`

test('the 20 MB error: logged cut, and every call of its group commit succeeds or fails on its own', async (t) => {
  const h = await localHost(t, SRC, { limits: { timeoutMs: 10_000, memoryMb: 256 } })
  const calls = [h.call('add'), h.call('add'), h.call('throwBig', 20), h.call('add'), h.call('add')]
  const settled = await Promise.allSettled(calls)
  t.alike(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'], 'every caller got an answer')
  const outs = settled.map((s) => (s.status === 'fulfilled' ? s.value.outcome : null))
  t.alike(outs.map((o) => o?.ok), [true, true, false, true, true])
  t.alike(outs.map((o) => o?.result ?? null), ['1', '2', null, '4', '5'], 'the call that threw counted (its memory is the contract\'s), the others ran')
  const e = outs[2]!.error!
  t.is(e.code, 'CONTRACT_ERROR')
  t.ok(Buffer.byteLength(e.message) <= 4096 && e.message.endsWith(' [cut]'), `${Buffer.byteLength(e.message)} bytes`)
  const rec = await h.host.log.call(settled[2]!.status === 'fulfilled' ? settled[2]!.value.index : 0)
  t.is(rec.outcome.error?.message, e.message, 'the log holds exactly the cut message')

  const { watcher } = await localWatcher(t, h.store)
  const cw = await watcher.watch(h.host.key)
  const v = await cw.until(h.host.log.length, 60_000)
  t.is(v.verdict, 'ok', v.fault?.message)
})

test('a record that would pass the block size fails that call alone, recorded as a host limit; its group and a watcher go on', async (t) => {
  const h = await localHost(t, SRC, { limits: { timeoutMs: 10_000, memoryMb: 256, maxResultBytes: 32 * 1024 * 1024 } })
  const settled = await Promise.allSettled([h.call('add'), h.call('bigResult', 20), h.call('add'), h.call('bigResult', 1)])
  t.alike(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'])
  const outs = settled.map((s) => (s.status === 'fulfilled' ? s.value.outcome : null))
  t.is(outs[0]?.result, '1')
  t.is(outs[1]?.ok, false)
  t.is(outs[1]?.error?.code, 'RECORD_TOO_LARGE')
  t.is(outs[1]?.limit, 'record', 'a host statement: replays skip it, as after a timeout')
  t.is(outs[2]?.result, '2', 'the oversized call\'s effects on memory were rolled back (sandbox rebuilt from the log)')
  t.is(outs[3]?.ok, true, 'a 1 MB result still fits')
  const count = await h.call('count')
  t.is(count.outcome.result, '3')

  const { watcher } = await localWatcher(t, h.store)
  const cw = await watcher.watch(h.host.key)
  const v = await cw.until(h.host.log.length, 60_000)
  t.is(v.verdict, 'ok', v.fault?.message)
})
