/**
 * System.files: encodings, every error code, path confinement, transactions,
 * read-your-own-writes, unawaited operations.
 */

import test from 'brittle'
import { MemoryFiles } from '../src/runtime/memory-files.js'
import { normalisePath } from '../src/runtime/paths.js'
import { harness } from './runtime-helpers.js'

test('normalisePath confines every path to the drive', (t) => {
  t.is(normalisePath('a/b'), '/a/b')
  t.is(normalisePath('/a//b/./c/'), '/a/b/c')
  t.is(normalisePath('../../etc/passwd'), '/etc/passwd')
  t.is(normalisePath('/a/../../..'), '/')
  t.is(normalisePath(''), '/')
  t.exception(() => normalisePath('a\0b'), /EINVAL/)
  t.exception(() => normalisePath(5), /EINVAL/)
})

const FILES_SRC = `
const fs = System.files
exports.op = async (name, ...args) => {
  try {
    const v = await fs[name](...args)
    if (v instanceof Uint8Array) return { bytes: Array.from(v) }
    if (v && typeof v.isFile === 'function') return { type: v.type, size: v.size, isFile: v.isFile(), isDirectory: v.isDirectory() }
    return { v }
  } catch (e) {
    return { code: e.code, message: e.message, isError: e instanceof Error }
  }
}
exports.seq = async (ops) => {
  const out = []
  for (const [name, ...args] of ops) {
    try { const v = await fs[name](...args); out.push(v instanceof Uint8Array ? Array.from(v) : (v && v.type) ? v.type : v === undefined ? null : v) } catch (e) { out.push(e.code) }
  }
  return out
}
exports.writeThenThrow = async () => { await fs.writeFile('/t', 'x'); await fs.mkdir('/d'); throw new Error('abort') }
exports.writeThenMissing = async () => { await fs.writeFile('/t', 'x'); await fs.readFile('/missing') }
exports.unawaited = () => { fs.writeFile('/u1', '1'); Promise.resolve().then(() => Promise.resolve()).then(() => fs.writeFile('/u2', '2')); return 'done' }
exports.raceOrder = async () => {
  const order = []
  const a = fs.readFile('/a').then(() => order.push('a'))
  const b = fs.exists('/zz').then(() => order.push('b'))
  const c = fs.writeFile('/a', 'new').then(() => order.push('c'))
  const d = fs.readFile('/a').then((v) => order.push('d:' + v))
  await Promise.all([a, b, c, d])
  return order
}
exports.types = async () => {
  await fs.writeFile('/num', 42)
  await fs.writeFile('/obj', { a: [1, true, null] })
  await fs.writeFile('/null', null)
  await fs.writeFile('/u16', new Uint16Array([1, 258]))
  await fs.writeFile('/ab', new Uint8Array([1, 2, 3, 4]).buffer)
  await fs.writeFile('/sub', new Uint8Array([9, 8, 7, 6]).subarray(1, 3))
  await fs.writeFile('/dv', new DataView(new Uint8Array([5, 6, 7]).buffer, 1))
  await fs.writeFile('/hex', 'cafe', 'hex')
  await fs.writeFile('/b64', '3q2+7w==', { encoding: 'base64' })
  await fs.writeFile('/jsonstr', 'hi', 'json')
  return [
    await fs.readFile('/num', 'json'), await fs.readFile('/obj', 'json'), await fs.readFile('/null', 'json'),
    Array.from(await fs.readFile('/u16', 'binary')), Array.from(await fs.readFile('/ab', { encoding: 'binary' })),
    await fs.readFile('/sub', 'hex'), await fs.readFile('/dv', 'hex'), await fs.readFile('/hex', 'base64'),
    await fs.readFile('/b64', 'hex'), await fs.readFile('/jsonstr')
  ]
}
exports.badData = async () => {
  const out = []
  for (const d of [undefined, () => 1, Symbol('s'), 10n]) {
    try { await fs.writeFile('/x', d) ; out.push('ok') } catch (e) { out.push(e.code) }
  }
  return out
}
`

test('files: encodings and data types', async (t) => {
  const h = await harness(t, FILES_SRC)
  const v = await h.value(t, 'types')
  t.alike(v, [42, { a: [1, true, null] }, null, [1, 0, 2, 1], [1, 2, 3, 4], '0807', '0607', 'yv4=', 'deadbeef', '"hi"'])
  t.is(h.files.text('/obj'), '{"a":[1,true,null]}')
  t.alike(await h.value(t, 'badData'), ['EINVAL', 'EINVAL', 'EINVAL', 'EINVAL'])
  const bin = await h.value(t, 'op', ['readFile', '/u16', 'binary'])
  t.alike(bin, { bytes: [1, 0, 2, 1] }, 'binary gives a Uint8Array')
})

test('files: every error code, as real Errors with .code', async (t) => {
  const files = new MemoryFiles({ '/dir/file.txt': 'hello', '/dir/sub/deep.txt': 'x' })
  files.dirs.add('/empty')
  const h = await harness(t, FILES_SRC, files)
  const op = async (...args: unknown[]): Promise<any> => await h.value(t, 'op', args)
  const e = async (code: string, ...args: unknown[]): Promise<void> => {
    const r = await op(...args)
    t.is(r.code, code, `${String(args[0])} ${String(args[1])} -> ${code}`)
    t.ok(r.isError && typeof r.message === 'string' && r.message.startsWith(code + ': '), r.message)
  }
  await e('ENOENT', 'readFile', '/nope')
  await e('EISDIR', 'readFile', '/dir')
  await e('ENOENT', 'stat', '/nope')
  await e('ENOENT', 'readdir', '/nope')
  await e('ENOTDIR', 'readdir', '/dir/file.txt')
  await e('EISDIR', 'writeFile', '/dir', 'x')
  await e('EISDIR', 'writeFile', '/', 'x')
  await e('ENOTDIR', 'writeFile', '/dir/file.txt/inner', 'x')
  await e('EEXIST', 'mkdir', '/dir')
  await e('EEXIST', 'mkdir', '/dir/file.txt')
  await e('EEXIST', 'mkdir', '/')
  await e('ENOENT', 'unlink', '/nope')
  await e('EISDIR', 'unlink', '/dir')
  await e('ENOENT', 'rmdir', '/nope')
  await e('ENOTDIR', 'rmdir', '/dir/file.txt')
  await e('ENOTEMPTY', 'rmdir', '/dir')
  await e('EINVAL', 'rmdir', '/')
  await e('EINVAL', 'readFile', 42)
  await e('EINVAL', 'readFile', 'a\u0000b')
  await e('EINVAL', 'readFile', '/dir/file.txt', 'latin9')
  await e('EINVAL', 'writeFile', '/x', 'data', 'latin9')
  t.alike(await op('stat', '/dir/file.txt'), { type: 'file', size: 5, isFile: true, isDirectory: false })
  t.alike(await op('stat', '/dir'), { type: 'directory', size: 0, isFile: false, isDirectory: true })
  t.alike(await op('stat', '/'), { type: 'directory', size: 0, isFile: false, isDirectory: true })
  t.alike(await op('readdir', '/'), { v: ['dir', 'empty'] })
  t.alike(await op('readdir', 'dir/'), { v: ['file.txt', 'sub'] })
  t.alike(await op('exists', '/dir/sub'), { v: true })
  t.alike(await op('exists', '/dir/nope'), { v: false })
  t.alike(await op('rmdir', '/empty'), {}, 'rmdir resolves undefined')
  const uncaught = await h.call('seq', [[['readFile', '/dir/file.txt']]])
  t.is(uncaught.resultJson, '["hello"]')
})

test('files: an uncaught files error keeps its code', async (t) => {
  const h = await harness(t, FILES_SRC)
  const out = await h.call('writeThenMissing')
  t.alike(out.error, { code: 'ENOENT', message: 'ENOENT: no such file or directory, /missing' })
  t.alike(out.writes, [])
})

test('files: a throw aborts the transaction', async (t) => {
  const h = await harness(t, FILES_SRC)
  const out = await h.call('writeThenThrow')
  t.alike(out, { ok: false, error: { code: 'CONTRACT_ERROR', message: 'CONTRACT_ERROR: Error: abort' }, writes: [], oracles: [], durationMs: out.durationMs })
  t.is(h.files.files.size, 0)
})

test('files: a call reads its own writes; writes are recorded in order', async (t) => {
  const files = new MemoryFiles({ '/keep/a.txt': 'a', '/keep/b.txt': 'b', '/old.txt': 'old' })
  const h = await harness(t, FILES_SRC, files)
  const out = await h.call('seq', [[
    ['writeFile', '/new/x.txt', 'x'], ['readFile', '/new/x.txt'], ['readdir', '/new'], ['stat', '/new'],
    ['unlink', '/old.txt'], ['exists', '/old.txt'], ['readFile', '/old.txt'],
    ['mkdir', '/m'], ['writeFile', '/m/f', 'f'], ['rmdir', '/m'], ['rmdir', '/m', { recursive: true }], ['exists', '/m'],
    ['rmdir', '/keep', { recursive: true }], ['readdir', '/'], ['writeFile', '/keep/again', 'z'], ['readdir', '/keep'],
    ['writeFile', '/new/x.txt', 'x2'], ['readFile', '/new/x.txt']
  ]], { apply: false })
  t.alike(JSON.parse(out.resultJson!), [
    null, 'x', ['x.txt'], 'directory',
    null, false, 'ENOENT',
    null, null, 'ENOTEMPTY', null, false,
    null, ['new'], null, ['again'],
    null, 'x2'
  ])
  t.alike(out.writes.map((w) => w.op + ' ' + w.path), [
    'put /new/x.txt', 'del /old.txt', 'mkdir /m', 'put /m/f', 'del /m/f', 'rmdir /m',
    'del /keep/a.txt', 'del /keep/b.txt', 'rmdir /keep', 'put /keep/again', 'put /new/x.txt'
  ])
  files.apply(out.writes)
  t.alike(await files.readdir('/'), ['keep', 'new'])
  t.alike(await files.readdir('/keep'), ['again'])
  t.is(files.text('/new/x.txt'), 'x2')
})

test('files: path traversal stays inside the drive', async (t) => {
  const h = await harness(t, FILES_SRC)
  const out = await h.call('seq', [[['writeFile', '../../etc/passwd', 'root'], ['readFile', '/etc/passwd'], ['readFile', 'etc/../../../etc/./passwd']]])
  t.is(out.resultJson, '[null,"root","root"]')
  t.alike(out.writes.map((w) => w.path), ['/etc/passwd'])
})

test('files: unawaited operations finish before the call ends', async (t) => {
  const h = await harness(t, FILES_SRC)
  const out = await h.call('unawaited')
  t.is(out.resultJson, '"done"')
  t.alike(out.writes.map((w) => w.path), ['/u1', '/u2'])
})

test('files: concurrent operations run and settle in the order started', async (t) => {
  const h = await harness(t, FILES_SRC, new MemoryFiles({ '/a': 'old' }))
  const out = await h.call('raceOrder')
  t.is(out.resultJson, '["a","b","c","d:new"]')
})

test('files: System.files is not usable from top-level code', async (t) => {
  const h = await harness(t, `
    let err
    try { System.files.readFile('/x') } catch (e) { err = e.code + ' | ' + e.message }
    exports.err = () => err
  `)
  t.is(await h.value(t, 'err'), 'DETERMINISM | DETERMINISM: System.files.readFile is only usable while a method runs, not in top-level code')
})

test('files: a failing files view is a host error, not a contract outcome', async (t) => {
  const broken = new MemoryFiles({ '/a': 'x' })
  broken.read = async () => { throw new Error('disk on fire') }
  const h = await harness(t, FILES_SRC, broken)
  await t.exception(h.sb.call(h.ctx('op', ['readFile', '/a'])), /INTERNAL: files view failed: disk on fire/)
  t.is(h.sb.usable, false, 'rebuild needed: the contract saw the failure')
})
