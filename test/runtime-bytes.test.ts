/**
 * Every byte a call adds counts, and nothing a machine's stack decides:
 * file names and entries against the write limit, path length and Unicode,
 * a huge path refused inside the isolate before it is copied out, error
 * messages cut deterministically, and nesting depth of arguments, results
 * and JSON writes checked by iterative code.
 */

import test from 'brittle'
import c from 'compact-encoding'
import { LIMITS_EXTENSION_DEFAULTS, limitsExtension, logBlock } from '../protocol/index.js'
import { harness, LIMITS } from './runtime-helpers.js'
import { MemoryFiles } from '../src/runtime/memory-files.js'
import { checkJsonDepth, jsonTextDepth } from '../src/json-depth.js'
import type { FileStat } from '../src/runtime/types.js'

const SRC = `
const fs = System.files
exports.names = async (n, len) => {
  for (let i = 0; i < n; i++) await fs.writeFile('/' + String(i).padStart(len, 'n'), '')
  return n
}
exports.dels = async (n) => { for (let i = 0; i < n; i++) { try { await fs.unlink('/missing' + i) } catch {} await fs.mkdir('/d' + i) } }
exports.write = async (path) => { await fs.writeFile(path, 'x'); return await fs.readdir('/') }
exports.hugePath = async (mb) => {
  const p = '/' + 'p'.repeat(mb * 1024 * 1024)
  try { await fs.writeFile(p, 'x') } catch (e) { return e.message.slice(0, 60) }
  return 'written'
}
exports.hugeData = async (mb) => {
  try { await fs.writeFile('/big', 'd'.repeat(mb * 1024 * 1024)) } catch (e) { return e.code }
  return 'written'
}
exports.throwBig = (n, ch) => { throw new Error((ch || 'x').repeat(n)) }
exports.throwSurrogate = () => { throw new Error('bad \\ud800 end') }
exports.nest = (n) => { let v = 1; for (let i = 0; i < n; i++) v = [v]; return v }
exports.nestObj = (n) => { let v = {}; for (let i = 0; i < n; i++) v = { a: v }; return v }
exports.echo = (x) => x
exports.writeJson = async (n) => { let v = 1; for (let i = 0; i < n; i++) v = [v]; await fs.writeFile('/j', v, 'json'); return 'ok' }
`

function nested (n: number): string {
  return '['.repeat(n) + '1' + ']'.repeat(n)
}

test('names bypass: many empty files with long names under a 1000-byte write limit -> WRITES_TOO_LARGE (paths and entries count)', async (t) => {
  const h = await harness(t, SRC, undefined, { ...LIMITS, maxWriteBytes: 1000 })
  const out = await h.call('names', [3000, 100])
  t.is(out.ok, false)
  t.alike(out.error, { code: 'WRITES_TOO_LARGE', message: 'WRITES_TOO_LARGE: the call wrote more than 1000 bytes' })
  t.alike(out.writes, [])
  const few = await h.call('names', [6, 100])
  t.is(few.ok, true, '6 x (101 + 64) bytes fit in 1000')
  const seven = await h.call('names', [7, 100])
  t.is(seven.error?.code, 'WRITES_TOO_LARGE', '7 x (101 + 64) bytes do not')
  const long = await h.call('names', [3000, 4000])
  t.is(long.error?.code, 'EINVAL', '4,000-character names pass the path limit')
  t.ok(long.error?.message.includes('1024 bytes'), long.error?.message)
})

test('entries per call are capped: puts, deletes and mkdirs each count', async (t) => {
  const h = await harness(t, SRC, undefined, { ...LIMITS, maxEntries: 10 })
  t.is((await h.call('names', [10, 1])).ok, true, '10 entries fit')
  const over = await h.call('names', [11, 1])
  t.alike(over.error, { code: 'WRITES_TOO_LARGE', message: 'WRITES_TOO_LARGE: the call made more than 10 file changes' })
  const dirs = await h.call('dels', [11])
  t.is(dirs.error?.code, 'WRITES_TOO_LARGE', 'mkdirs count (failed unlinks do not)')
  t.is((await h.call('dels', [10])).ok, true)
})

test('a lone surrogate in a path -> EINVAL, never stored as U+FFFD; a valid pair is kept', async (t) => {
  const h = await harness(t, SRC)
  const lone = await h.call('write', ['/\ud800'])
  t.is(lone.ok, false)
  t.is(lone.error?.code, 'EINVAL')
  t.ok(lone.error?.message.includes('Unicode'), lone.error?.message)
  t.alike(lone.writes, [])
  const low = await h.call('write', ['/a\udc00b'])
  t.is(low.error?.code, 'EINVAL', 'a lone low surrogate too')
  const pair = await h.call('write', ['/\ud83d\ude00'])
  t.is(pair.ok, true)
  t.alike(JSON.parse(pair.resultJson!), ['\ud83d\ude00'])
  t.is(h.files.files.has('/\ufffd'), false, 'nothing collapsed into U+FFFD')
})

test('a 100 MB path string is refused inside the isolate, before any copy to the host', async (t) => {
  let stats = 0
  class Counting extends MemoryFiles {
    override async stat (path: string): Promise<FileStat | null> { stats++; return await super.stat(path) }
  }
  const h = await harness(t, SRC, new Counting(), { ...LIMITS, memoryMb: 512, timeoutMs: 10_000 })
  const before = process.memoryUsage().rss
  const started = performance.now()
  const out = await h.call('hugePath', [100])
  const grew = (process.memoryUsage().rss - before) / 1048576
  t.comment(`100 MB path: ${Math.round(performance.now() - started)} ms, host RSS +${grew.toFixed(0)} MB (the isolate's own string included)`)
  t.is(out.ok, true, out.error?.message)
  t.is(JSON.parse(out.resultJson!), 'EINVAL: path longer than 1024 bytes')
  t.is(stats, 0, 'the host never saw the path')
  const data = await h.call('hugeData', [20])
  t.is(data.error?.code, 'WRITES_TOO_LARGE', 'oversized data is refused in the isolate too, and dooms the call')
  t.is(stats, 0, 'the host never saw the data')
})

test('a thrown 20 MB message is cut to maxErrorBytes, the same on every run; lone surrogates become U+FFFD', async (t) => {
  const h = await harness(t, SRC, undefined, { ...LIMITS, timeoutMs: 10_000, memoryMb: 256 })
  const a = await h.call('throwBig', [20 * 1024 * 1024])
  const b = await h.call('throwBig', [20 * 1024 * 1024])
  t.is(a.error?.code, 'CONTRACT_ERROR')
  const msg = a.error!.message
  t.ok(Buffer.byteLength(msg) <= 4096, `${Buffer.byteLength(msg)} bytes`)
  t.ok(msg.startsWith('CONTRACT_ERROR: Error: xxx'))
  t.ok(msg.endsWith(' [cut]'), msg.slice(-20))
  t.is(a.error?.message, b.error?.message, 'deterministic')
  const wide = await h.call('throwBig', [5000, '\ud83d\ude00'])
  const w = wide.error!.message
  t.ok(Buffer.byteLength(w) <= 4096)
  t.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(w), 'never cuts a surrogate pair in half')
  const exact = await h.call('throwBig', [4096 - 'CONTRACT_ERROR: Error: '.length])
  t.is(Buffer.byteLength(exact.error!.message), 4096, 'a message of exactly the limit is kept whole')
  t.absent(exact.error!.message.endsWith('[cut]'))
  const sur = await h.call('throwSurrogate')
  t.is(sur.error?.message, 'CONTRACT_ERROR: Error: bad \ufffd end', 'well-formed, so the log keeps it exactly')
})

test('nesting depth: results, arguments and JSON writes deeper than maxDepth -> TOO_DEEP, checked without recursion', async (t) => {
  // building and checking 100,000 levels takes ~0.5 s idle: a deadline that a busy machine cannot hit first
  const h = await harness(t, SRC, undefined, { ...LIMITS, timeoutMs: 10_000 })
  t.is((await h.call('nest', [63])).resultJson, nested(63))
  t.is((await h.call('nest', [64])).ok, true, 'depth 64 is the limit')
  const deep = await h.call('nest', [65])
  t.alike(deep.error, { code: 'TOO_DEEP', message: 'TOO_DEEP: the result is nested deeper than 64' })
  for (const n of [7500, 100_000]) {
    const r = await h.call('nest', [n])
    t.is(r.error?.code, 'TOO_DEEP', `array nested ${n} deep`)
    t.is((await h.call('nestObj', [n])).error?.code, 'TOO_DEEP', `object nested ${n} deep`)
  }
  const args = await h.sb.call({ ...h.ctx('echo'), argsJson: '[' + nested(7500) + ']' })
  t.is(args.error?.code, 'TOO_DEEP', 'arguments nested 7,500 deep')
  const fine = await h.sb.call({ ...h.ctx('echo'), argsJson: '[' + nested(63) + ']' })
  t.is(fine.ok, true, 'arguments of depth 64 (the list counts)')
  t.is((await h.call('writeJson', [64])).ok, true)
  t.is((await h.call('writeJson', [7500])).error?.code, 'TOO_DEEP', 'writeFile json nested 7,500 deep')
})

test('genesis limits: the new limits travel as a trailing extension; a genesis written without it decodes with the defaults', (t) => {
  const limits = { ...LIMITS, maxDepth: 8, maxEntries: 9, maxPathBytes: 100, maxErrorBytes: 200 }
  const genesis = {
    version: 1,
    name: 'c',
    source: 'exports.a = () => 1',
    sourceHash: Buffer.alloc(32, 1),
    files: Buffer.alloc(32, 2),
    filesVersion: 1,
    deployer: Buffer.alloc(32, 3),
    signer: Buffer.alloc(32, 4),
    runtime: 'r',
    limits,
    oracles: false,
    createdAt: 5
  }
  const block = c.encode(logBlock, { type: 'genesis', genesis })
  const back = c.decode(logBlock, block)
  t.alike(back.type === 'genesis' ? back.genesis.limits : null, limits, 'round trip')
  const ext = c.encode(limitsExtension, limits)
  const old = c.decode(logBlock, block.subarray(0, block.byteLength - ext.byteLength))
  t.alike(old.type === 'genesis' ? old.genesis.limits : null, { ...limits, ...LIMITS_EXTENSION_DEFAULTS }, 'old layout: defaults')
})

test('jsonTextDepth: one scan, no recursion; brackets inside strings and escaped quotes do not count', (t) => {
  t.is(jsonTextDepth('1'), 0)
  t.is(jsonTextDepth('[]'), 1)
  t.is(jsonTextDepth('[{"a":[1]},[]]'), 3)
  t.is(jsonTextDepth('["[[[[", "\\"[[[", {"k]": "{{"}]'), 2)
  t.is(jsonTextDepth(Buffer.from('[[["\\\\"]]]')), 3, 'on UTF-8 bytes too (an escaped backslash ends the escape)')
  t.is(jsonTextDepth(nested(1_000_000)), 1_000_000, 'a million levels, no stack')
  t.is(jsonTextDepth(nested(1_000_000), 64), 65, 'stops early past the limit')
  t.exception(() => checkJsonDepth(nested(65), 64, 'the arguments'), /TOO_DEEP: the arguments are nested deeper than 64/)
  t.execution(() => checkJsonDepth(nested(64), 64, 'the arguments'))
})
