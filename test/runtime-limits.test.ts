/**
 * Limits: every way a contract can run away ends the call with a recorded
 * outcome, disposes the isolate where it must, and leaves the host running.
 */

import test from 'brittle'
import { harness, LIMITS, type Harness } from './runtime-helpers.js'
import type { Test } from 'brittle'

const SRC = `
const fs = System.files
exports.ok = () => 'fine'
exports.loop = () => { while (true) {} }
exports.never = async () => { await new Promise(() => {}) }
exports.awaitLoop = async () => { for (;;) await null }
exports.loopAfterIo = async () => { await fs.exists('/x'); while (true) {} }
exports.leftover = () => { (async () => { await fs.exists('/x'); for (;;) await null })(); return 'returned' }
exports.bomb = () => { const a = []; while (true) a.push(new Array(1e6).fill(1)) }
exports.bigResult = () => 'x'.repeat(200000)
exports.bigUnicode = () => 'é'.repeat(60000)
exports.bigWrite = async () => { await fs.writeFile('/a', 'x'.repeat(60000)); await fs.writeFile('/b', 'x'.repeat(60000)) }
exports.bigWriteCaught = async () => { try { await fs.writeFile('/big', new Uint8Array(200000)) } catch (e) { return e.code } }
`
const LIMITED = { ...LIMITS, timeoutMs: 400, memoryMb: 32, maxResultBytes: 100000, maxWriteBytes: 100000 }

async function expectLimit (t: Test, method: string, limit: 'timeout' | 'memory'): Promise<void> {
  const h = await harness(t, SRC, undefined, LIMITED)
  const started = Date.now()
  const out = await h.call(method)
  t.is(out.ok, false, method)
  t.is(out.limit, limit, `${method} -> ${limit}`)
  t.is(out.error?.code, limit === 'timeout' ? 'TIMEOUT' : 'MEMORY_LIMIT')
  t.alike(out.writes, [])
  t.is(h.sb.usable, false, 'sandbox unusable after a limit')
  await t.exception(h.sb.call(h.ctx('ok')), /CLOSED/)
  t.ok(Date.now() - started < 5000, 'ended promptly')
  await stillWorks(t)
}

async function stillWorks (t: Test): Promise<Harness> {
  const h = await harness(t, SRC, undefined, LIMITED)
  t.is(await h.value(t, 'ok'), 'fine', 'a new sandbox works')
  return h
}

test('limit: synchronous infinite loop', async (t) => { await expectLimit(t, 'loop', 'timeout') })
test('limit: a promise that never settles', async (t) => { await expectLimit(t, 'never', 'timeout') })
test('limit: an endless loop of awaits', async (t) => { await expectLimit(t, 'awaitLoop', 'timeout') })
test('limit: a loop after a files round trip', async (t) => { await expectLimit(t, 'loopAfterIo', 'timeout') })
test('limit: work left running after the method returned', async (t) => { await expectLimit(t, 'leftover', 'timeout') })
test('limit: memory bomb', async (t) => { await expectLimit(t, 'bomb', 'memory') })

test('limit: result and write sizes fail the call but keep the sandbox', async (t) => {
  const h = await harness(t, SRC, undefined, LIMITED)
  const big = await h.call('bigResult')
  t.alike(big.error, { code: 'RESULT_TOO_LARGE', message: 'RESULT_TOO_LARGE: the result is larger than 100000 bytes' })
  t.absent(big.limit)
  const uni = await h.call('bigUnicode')
  t.is(uni.error?.code, 'RESULT_TOO_LARGE', 'measured in UTF-8 bytes of canonical JSON')
  const w = await h.call('bigWrite')
  t.alike(w.error, { code: 'WRITES_TOO_LARGE', message: 'WRITES_TOO_LARGE: the call wrote more than 100000 bytes' })
  t.alike(w.writes, [])
  const caught = await h.call('bigWriteCaught')
  t.is(caught.error?.code, 'WRITES_TOO_LARGE', 'fails the call even when caught')
  t.is(h.sb.usable, true)
  t.is(await h.value(t, 'ok'), 'fine')
})

test('calls queue FIFO; close is idempotent and ends the sandbox', async (t) => {
  const h = await harness(t, `
    let n = 0
    exports.next = async () => { const mine = ++n; await System.files.exists('/'); return mine }
  `)
  const outs = await Promise.all([1, 2, 3, 4].map(async () => await h.sb.call(h.ctx('next'))))
  t.alike(outs.map((o) => o.resultJson), ['1', '2', '3', '4'])
  await h.sb.close()
  await h.sb.close()
  t.is(h.sb.usable, false)
  await t.exception(h.sb.call(h.ctx('next')), /CLOSED/)
})

test('a call queued behind a limit hit is refused with CLOSED', async (t) => {
  const h = await harness(t, SRC, undefined, LIMITED)
  const first = h.sb.call(h.ctx('loop'))
  const second = h.sb.call(h.ctx('ok'))
  t.is((await first).limit, 'timeout')
  await t.exception(second, /CLOSED/)
})

test('close() during a call rejects that call with CLOSED', async (t) => {
  const h = await harness(t, SRC, undefined, LIMITED)
  const running = h.sb.call(h.ctx('never'))
  await new Promise((resolve) => setTimeout(resolve, 50))
  await h.sb.close()
  await t.exception(running, /CLOSED/)
  t.is(h.sb.usable, false)
})
