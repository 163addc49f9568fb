/**
 * Memory accounting after every call: what a call leaves in the isolate
 * (heap, strings, array buffers) is measured when it returns; a call that
 * leaves the contract over its limit is a MEMORY_LIMIT hit, recorded as the
 * host's statement, so its state is never kept and never replayed: no single
 * call can brick a contract. See docs/threat-model.md.
 */

import test from 'brittle'
import { MemoryFiles } from '../src/runtime/memory-files.js'
import { harness, LIMITS } from './runtime-helpers.js'
import { localHost } from './local-helpers.js'

const KEEPER = `
let kept = ''
const chunks = []
exports.keep = () => { kept = 'x'.repeat(500 * 1024 * 1024); return kept.charCodeAt(0) }
exports.keepBytes = () => { chunks.push(new Uint8Array(80 * 1024 * 1024)); return chunks.length }
exports.hoard = async () => { for (let i = 0; i < 24; i++) chunks.push(await System.files.readFile('/big.txt')); return chunks.length }
exports.garbage = () => { let n = 0; for (let i = 0; i < 40; i++) n += 'y'.repeat(4 * 1024 * 1024).charCodeAt(i); return n }
exports.len = () => kept.length + chunks.length
`

// the memory limit, not the deadline, must end these calls: on a busy machine a 500 MiB allocation can take
// more than the helpers' 1.5 s (CI saw TIMEOUT once), so they get 20 s
const ROOMY = { ...LIMITS, timeoutMs: 20_000 }

test('memory: a 500 MiB string kept as state fails MEMORY_LIMIT in a 64 MiB isolate (the host statement), not when a later call touches it', async (t) => {
  const h = await harness(t, KEEPER, undefined, ROOMY)
  const out = await h.call('keep')
  t.is(out.ok, false, 'the call that keeps it fails')
  t.is(out.error?.code, 'MEMORY_LIMIT')
  t.is(out.limit, 'memory', 'recorded as a limit hit (skipped by replays)')
  t.alike(out.writes, [])
  t.is(h.sb.usable, false, 'its isolate is gone')
  const fresh = await harness(t, KEEPER, undefined, ROOMY)
  t.is(await fresh.value(t, 'len'), 0, 'a rebuilt sandbox does not hold it')
})

test('memory: array buffers and long strings read from files count, garbage does not', async (t) => {
  const bytes = await harness(t, KEEPER, undefined, ROOMY)
  const b = await bytes.call('keepBytes')
  t.is(b.ok, false, '80 MiB of kept array buffer in a 64 MiB isolate fails (the allocator refuses it)')
  t.ok(b.error?.code === 'MEMORY_LIMIT' || /allocation failed/.test(b.error?.message ?? ''), b.error?.message)
  const files = new MemoryFiles({ '/big.txt': 'z'.repeat(4 * 1024 * 1024) })
  const reader = await harness(t, KEEPER, files, ROOMY)
  const r = await reader.call('hoard')
  t.is(r.error?.code, 'MEMORY_LIMIT', '24 kept reads of a 4 MiB file (96 MiB of strings) in a 64 MiB isolate')
  const gc = await harness(t, KEEPER, undefined, ROOMY)
  for (let i = 0; i < 3; i++) t.ok((await gc.call('garbage')).ok, `call ${i}: 160 MiB of short-lived strings is not kept state`)
  t.is(await gc.value(t, 'len'), 0)
})

test('memory: a host whose contract kept a 500 MiB string is not bricked: that call fails MEMORY_LIMIT, later calls work and a second try is rejected again', async (t) => {
  const { host, call } = await localHost(t, KEEPER, { limits: { memoryMb: 64, timeoutMs: 20_000 } })
  const res = await call('keep')
  t.is(res.outcome.error?.code, 'MEMORY_LIMIT')
  t.is(res.outcome.limit, 'memory', 'the host records its statement')
  for (let i = 0; i < 3; i++) t.is((await call('len')).outcome.result, '0', `call ${i} after it works`)
  t.is((await call('keep')).outcome.error?.code, 'MEMORY_LIMIT', 'again: rejected again')
  t.is((await call('len')).outcome.result, '0')
  t.ok(host.stats.rebuilds >= 2, 'the sandbox was rebuilt after each hit')
})

test('memory: the measurement is the host\'s statement: a replay follows the record and is not failed by its own measurement', async (t) => {
  const h = await harness(t, KEEPER, undefined, ROOMY)
  const replay = await h.call('keep', [], { oracle: { mode: 'replay', outputs: [] } })
  t.is(replay.ok, true, 'a replay of a call the host recorded as ok is not made a limit hit by a measurement that may differ here')
  const live = await harness(t, KEEPER, undefined, ROOMY)
  t.is((await live.call('keep')).limit, 'memory', 'the same call on the host is')
})
