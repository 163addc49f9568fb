/**
 * The seed contracts (examples/, verbatim from the seed documents) in real
 * isolates, plus the oracle and the nondeterministic example.
 */

import test from 'brittle'
import { runtimeFingerprint } from '../src/runtime/sandbox.js'
import { MemoryFiles } from '../src/runtime/memory-files.js'
import { example, harness, seed } from './runtime-helpers.js'

test('runtimeFingerprint names vms-node, isolated-vm, v8 and node', (t) => {
  t.ok(/^vms-node\/\d+\.\d+\.\d+\S* rules\/\d+ isolated-vm\/\d+\.\d+\.\d+ v8\/\S+ node\/\d+\.\d+\.\d+ surface\/v8-11\.3$/.test(runtimeFingerprint()), runtimeFingerprint())
})

test('seed counter.js: in-memory state across calls', async (t) => {
  const h = await harness(t, example('counter.js'))
  t.alike(h.sb.methods, ['increment'])
  t.is(await h.value(t, 'increment'), 1)
  t.is(await h.value(t, 'increment'), 2)
  t.is(await h.value(t, 'increment'), 3)
})

test('seed persistent-counter.js as written: first call fails with ENOENT', async (t) => {
  const h = await harness(t, example('persistent-counter.js'))
  const out = await h.call('increment')
  t.is(out.ok, false)
  t.is(out.error?.code, 'ENOENT')
  t.is(out.error?.message, 'ENOENT: no such file or directory, /counter')
  t.alike(out.writes, [])
  // once /counter exists (e.g. written by an earlier contract version) it counts
  h.files.apply([{ op: 'put', path: '/counter', data: new TextEncoder().encode('41') }])
  t.is(await h.value(t, 'increment'), 42)
  t.is(h.files.text('/counter'), '42')
})

test('persistent-counter-fixed.js counts from a missing /counter', async (t) => {
  const h = await harness(t, example('persistent-counter-fixed.js'))
  t.is(await h.value(t, 'increment'), 1)
  t.is(await h.value(t, 'increment'), 2)
  t.is(h.files.text('/counter'), '2')
  // a new isolate over the same files continues: state lives in the files
  const h2 = await harness(t, example('persistent-counter-fixed.js'), h.files)
  t.is(await h2.value(t, 'increment'), 3)
})

test('seed photo-album.js: base64 data, names taken once', async (t) => {
  const h = await harness(t, example('photo-album.js'))
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 255])
  const data = Buffer.from(png).toString('base64')
  const out = await h.call('addPhoto', ['cat.png', data, 'base64'])
  t.is(out.ok, true)
  t.is(out.resultJson, undefined)
  t.alike(out.writes.map((w) => [w.op, w.path]), [['put', '/photos/cat.png']])
  t.alike(h.files.files.get('/photos/cat.png'), png)
  const again = await h.call('addPhoto', ['cat.png', 'AAAA', 'base64'])
  t.is(again.ok, false)
  t.alike(again.error, { code: 'CONTRACT_ERROR', message: 'CONTRACT_ERROR: Error: File already exists' })
  t.alike(again.writes, [])
  t.alike(h.files.files.get('/photos/cat.png'), png)
  t.is((await h.call('addPhoto', ['dog.txt', 'woof'])).ok, true)
  t.is(h.files.text('/photos/dog.txt'), 'woof')
})

test('seed secure-counter.js: env.callerId and the owner check', async (t) => {
  const h = await harness(t, example('secure-counter.js'))
  t.alike(h.sb.methods, ['increment', 'init'])
  t.is((await h.call('init', [], { callerId: 'alice' })).ok, true)
  t.is(await h.value(t, 'increment', [], { callerId: 'alice' }), 0)
  t.is(await h.value(t, 'increment', [], { callerId: 'alice' }), 1)
  const bob = await h.call('increment', [], { callerId: 'bob' })
  t.alike(bob.error, { code: 'CONTRACT_ERROR', message: 'CONTRACT_ERROR: Error: You are not my owner!' })
  const again = await h.call('init', [], { callerId: 'bob' })
  t.alike(again.error, { code: 'CONTRACT_ERROR', message: 'CONTRACT_ERROR: Error: I already have an owner!' })
  t.is(await h.value(t, 'increment', [], { callerId: 'alice' }), 2)
})

test('seed rsvp.js: mkdir, one file per caller, readable with readdir', async (t) => {
  const h = await harness(t, example('rsvp.js'))
  const init = await h.call('init')
  t.alike(init.writes, [{ op: 'mkdir', path: '/rsvps' }])
  t.is((await h.call('RSVP', ['bob', false, 'Washing my hair, sorry!'], { callerId: 'bobkey' })).ok, true)
  t.is((await h.call('RSVP', ['carol', true], { callerId: 'carolkey' })).ok, true)
  t.alike(JSON.parse(h.files.text('/rsvps/bobkey.json')!), { id: 'bobkey', name: 'bob', isAttending: false, reason: 'Washing my hair, sorry!' })
  t.alike(JSON.parse(h.files.text('/rsvps/carolkey.json')!), { id: 'carolkey', name: 'carol', isAttending: true })
  // the seed's getRSVPs(), run as a contract over the same files
  const reader = await harness(t, `
    exports.getRSVPs = async () => {
      const fs = System.files
      const rsvpFilenames = await fs.readdir('/rsvps')
      let rsvps = []
      for (let i = 0; i < rsvpFilenames.length; i++) rsvps.push(JSON.parse(await fs.readFile('/rsvps/' + rsvpFilenames[i])))
      return rsvps
    }`, h.files)
  t.alike(await reader.value(t, 'getRSVPs'), [
    { id: 'bobkey', name: 'bob', isAttending: false, reason: 'Washing my hair, sorry!' },
    { id: 'carolkey', name: 'carol', isAttending: true }
  ])
  const twice = await h.call('init')
  t.is(twice.error?.code, 'EEXIST')
})

test('seed rsvp-original.js: the single-quoted path is literal for every caller', async (t) => {
  const h = await harness(t, example('rsvp-original.js'))
  t.is((await h.call('init')).ok, true)
  t.is((await h.call('RSVP', [true], { callerId: 'bobkey' })).ok, true)
  t.is((await h.call('RSVP', [false, 'busy'], { callerId: 'carolkey' })).ok, true)
  t.alike(await h.files.readdir('/rsvps'), ['${System.caller.id}.json'])
  t.alike(JSON.parse(h.files.text('/rsvps/${System.caller.id}.json')!), { who: 'carolkey', isAttending: false, reason: 'busy' })
})

test('seed nondeterministic.js is deterministic per seed, unawaited write included', async (t) => {
  const run = async (n: number): Promise<{ result: string | undefined, latest: string | null, ops: number }> => {
    const h = await harness(t, example('nondeterministic.js'))
    t.alike(h.sb.methods, ['default'])
    const out = await h.call('default', [], { seed: seed(n) })
    t.is(out.ok, true)
    return { result: out.resultJson, latest: h.files.text('/latest'), ops: out.writes.length }
  }
  const a = await run(1)
  const b = await run(1)
  const c = await run(2)
  t.alike(a, b, 'same seed, same outcome')
  t.is(a.ops, 1, 'the unawaited writeFile is recorded')
  t.is(a.latest, a.result, 'the file holds the returned number as JSON')
  t.not(a.result, c.result, 'another seed, another value')
  const v = Number(a.result)
  t.ok(v >= 0 && v < 1)
})

test('seed oracle.js: record then replay gives the same outcome', async (t) => {
  const h = await harness(t, example('oracle.js'))
  const rec = await h.call('default', [], { oracle: { mode: 'record' }, apply: false })
  t.is(rec.ok, true)
  t.is(rec.oracles.length, 1)
  t.is(rec.oracles[0], rec.resultJson)
  const again = await h.call('default', [], { oracle: { mode: 'record' }, apply: false })
  t.not(again.resultJson, rec.resultJson, 'record mode uses real randomness, not the seed')
  const w = await harness(t, example('oracle.js'))
  const rep = await w.call('default', [], { oracle: { mode: 'replay', outputs: rec.oracles }, apply: false })
  t.alike(rep, { ...rec, durationMs: rep.durationMs })
  const off = await w.call('default')
  t.alike(off.error, { code: 'ORACLE_DISABLED', message: 'ORACLE_DISABLED: oracles are off on this host' })
})

test('oracle replay never runs fn; record does, with the real clock', async (t) => {
  const src = `
    let runs = 0
    exports.once = async () => { const v = await System.oracle(() => { runs++; return { at: Date.now() } }); return { v, runs } }
    exports.two = async () => {
      const [a, b] = await Promise.all([System.oracle(async () => 'a'), System.oracle(() => 'b')])
      return a + b
    }
    exports.bad = async () => { await System.oracle(() => () => 1) }
    exports.throws = async () => { try { await System.oracle(() => { throw new Error('sensor down') }) } catch (e) {} return 'caught' }
    exports.notFn = async () => System.oracle(42)
  `
  const h = await harness(t, src)
  const before = Date.now()
  const rec = await h.call('once', [], { oracle: { mode: 'record' }, timestamp: 5 })
  const r = JSON.parse(rec.resultJson!)
  t.is(r.runs, 1)
  t.ok(r.v.at >= before && r.v.at <= Date.now(), 'real clock inside the oracle')
  const rep = await h.call('once', [], { oracle: { mode: 'replay', outputs: ['{"at":7}'] } })
  t.alike(JSON.parse(rep.resultJson!), { v: { at: 7 }, runs: 1 }, 'fn did not run on replay')
  t.alike(rep.oracles, ['{"at":7}'])
  const missing = await h.call('once', [], { oracle: { mode: 'replay', outputs: [] } })
  t.is(missing.error?.code, 'ORACLE_MISMATCH')
  const two = await h.call('two', [], { oracle: { mode: 'record' } })
  t.is(two.resultJson, '"ab"')
  t.alike(two.oracles, ['"a"', '"b"'], 'outputs in call order')
  const twoRep = await h.call('two', [], { oracle: { mode: 'replay', outputs: ['"x"', '"y"'] } })
  t.is(twoRep.resultJson, '"xy"')
  t.is((await h.call('bad', [], { oracle: { mode: 'record' } })).error?.code, 'RESULT_NOT_JSON')
  const thrown = await h.call('throws', [], { oracle: { mode: 'record' } })
  t.alike(thrown.error, { code: 'CONTRACT_ERROR', message: 'CONTRACT_ERROR: oracle threw: Error: sensor down' }, 'a failed oracle fails the call even when caught')
  t.is(thrown.oracles.length, 1, 'the failure is recorded as an oracle output')
  const thrownRep = await h.call('throws', [], { oracle: { mode: 'replay', outputs: thrown.oracles } })
  t.alike(thrownRep.error, thrown.error, 'a replay fails the same way, without running the oracle')
  const badRep = await h.call('bad', [], { oracle: { mode: 'replay', outputs: (await h.call('bad', [], { oracle: { mode: 'record' } })).oracles } })
  t.is(badRep.error?.code, 'RESULT_NOT_JSON', 'a non-JSON oracle result replays as the same failure')
  t.is((await h.call('notFn', [], { oracle: { mode: 'record' } })).error?.code, 'EINVAL')
})

test('MemoryFiles: implicit directories, apply, readdir', async (t) => {
  const f = new MemoryFiles({ '/a/b/c.txt': 'x', top: 'y' })
  t.alike(await f.stat('/a'), { type: 'directory', size: 0 })
  t.alike(await f.stat('/a/b/c.txt'), { type: 'file', size: 1 })
  t.alike(await f.readdir('/'), ['a', 'top'])
  f.apply([{ op: 'del', path: '/a/b/c.txt' }, { op: 'mkdir', path: '/d' }])
  t.is(await f.stat('/a'), null)
  t.alike(await f.readdir('/'), ['d', 'top'])
  f.apply([{ op: 'rmdir', path: '/d' }])
  t.alike(await f.readdir('/'), ['top'])
})
