/**
 * Contract code must not reach the host, nor subvert the bootstrap; loading
 * errors; results and method errors.
 */

import test from 'brittle'
import { createSandbox } from '../src/runtime/sandbox.js'
import { harness, LIMITS } from './runtime-helpers.js'

test('escape attempts find nothing of the host', async (t) => {
  const h = await harness(t, `
    exports.escape = function () {
      const out = {}
      try { out.ctorChain = typeof this.constructor.constructor('return process')() } catch (e) { out.ctorChain = e.name }
      const g = (function () { return this })() || Function('return this')()
      out.sameGlobal = g === globalThis
      out.fnProcess = Function('return typeof process')()
      out.evalProcess = eval('typeof process')
      const names = Object.getOwnPropertyNames(globalThis)
      out.suspicious = names.filter((n) => /ivm|^reference$|externalcopy|host|\\$/i.test(n))
      out.protoNames = []
      for (const n of names) {
        let v
        try { v = globalThis[n] } catch (e) { continue }
        if (v !== null && (typeof v === 'object' || typeof v === 'function')) {
          const p = Object.getPrototypeOf(v)
          const cn = p && p.constructor && p.constructor.name
          if (/Reference|ExternalCopy|Isolate|Context/.test(String(cn))) out.protoNames.push(n + ':' + cn)
        }
      }
      out.caller = String(exports.escape.caller)
      out.systemKeys = Object.getOwnPropertyNames(System).sort().concat(Object.getOwnPropertyNames(System.files).sort())
      return out
    }
    exports.frames = async () => {
      const seen = []
      Error.prepareStackTrace = (err, frames) => {
        for (const f of frames) {
          const fn = f.getFunction()
          seen.push(typeof fn === 'function' && /filesSync|filesRef|hostOp|randomRef|requireCall/.test(String(fn)) ? 'LEAK ' + f.getFunctionName() : 'ok')
        }
        return 'x'
      }
      try {
        await System.files.writeFile('/f', { toJSON () { return new Error('probe').stack } })
        await System.files.writeFile('/g', { toJSON () { throw new Error('probe2') } }).catch((e) => e.stack)
      } finally { Error.prepareStackTrace = undefined }
      return seen
    }`)
  const v = await h.value(t, 'escape') as Record<string, unknown>
  t.is(v.ctorChain, 'ReferenceError')
  t.is(v.sameGlobal, true)
  t.is(v.fnProcess, 'undefined')
  t.is(v.evalProcess, 'undefined')
  t.alike(v.suspicious, [])
  t.alike(v.protoNames, [])
  t.is(v.caller, 'null', 'the strict bootstrap is not reachable through .caller')
  t.alike(v.systemKeys, ['caller', 'files', 'oracle', 'exists', 'mkdir', 'readFile', 'readdir', 'rmdir', 'stat', 'unlink', 'writeFile'])
  const frames = await h.value(t, 'frames') as string[]
  t.ok(frames.length > 0)
  // frames of bootstrap functions (strict) hide their function and receiver
  t.ok(frames.every((f) => f === 'ok'), frames.join(' '))
})

test('prototype pollution does not change args, recorded writes or result encoding', async (t) => {
  const h = await harness(t, `
    const fs = System.files
    exports.w = async (a, b) => {
      await fs.writeFile('/f', { a, b })
      const text = await fs.readFile('/f', {})
      let code
      try { await fs.readFile('/missing') } catch (e) { code = e.code }
      const stat = await fs.stat('/f')
      return { a, b, text, code, size: stat.size, list: await fs.readdir('/') }
    }
    // pollution in top-level code, before any call
    Array.prototype.push = function () { throw new Error('polluted push') }
    Array.prototype.sort = function () { return ['polluted'] }
    Array.isArray = () => false
    Object.keys = () => ['polluted']
    Object.prototype.encoding = 'hex'
    Object.defineProperty(Object.prototype, 'code', { set () { throw new Error('polluted code setter') }, get () { return 'POLLUTED' }, configurable: true })
    JSON.stringify = () => '"hacked"'
    JSON.parse = () => ['hacked']
    String.prototype.slice = () => 'polluted'
    Map.prototype.get = () => undefined
    Map.prototype.set = () => { throw new Error('polluted map') }
    Function.prototype.call = function () { throw new Error('polluted call') }
    Function.prototype.apply = function () { throw new Error('polluted apply') }
    Function.prototype.bind = function () { throw new Error('polluted bind') }
    Reflect.apply = () => { throw new Error('polluted Reflect.apply') }
    Uint8Array.prototype.slice = () => new Uint8Array([66])
    Math.random = () => 0.5
  `)
  const out = await h.call('w', ['x', [1, { z: null }]])
  t.is(out.ok, true, out.error?.message)
  t.is(out.resultJson, '{"a":"x","b":[1,{"z":null}],"code":"ENOENT","list":["f"],"size":28,"text":"{\\"a\\":\\"x\\",\\"b\\":[1,{\\"z\\":null}]}"}')
  t.alike(out.writes.map((w) => [w.op, w.path, Buffer.from(w.op === 'put' ? w.data : []).toString()]), [['put', '/f', '{"a":"x","b":[1,{"z":null}]}']])
})

test('CONTRACT_LOAD: syntax error, top-level throw, require, limits in top-level code', async (t) => {
  const load = async (src: string, limits = LIMITS): Promise<string> => {
    try {
      const sb = await createSandbox(src, { limits, filename: 'contract.js' })
      await sb.close()
      return 'loaded'
    } catch (e) {
      t.is((e as { code?: string }).code, 'CONTRACT_LOAD')
      return (e as Error).message
    }
  }
  const syntax = await load('exports.a = 1\nexports.b = = 2\nexports.c = 3\n')
  t.is(syntax, "CONTRACT_LOAD: SyntaxError: Unexpected token '=' [contract.js:2:13]")
  const eof = await load('exports.a = () => {\n')
  t.ok(/^CONTRACT_LOAD: SyntaxError: /.test(eof), eof)
  const thrown = await load('exports.a = () => 1\n\nthrow new TypeError("bad config")\n')
  t.is(thrown, 'CONTRACT_LOAD: TypeError: bad config [contract.js:3]')
  const req = await load("const fs = require('fs')")
  t.ok(/^CONTRACT_LOAD: ReferenceError: require is not defined/.test(req), req)
  const loop = await load('while (true) {}', { ...LIMITS, timeoutMs: 300 })
  t.is(loop, 'CONTRACT_LOAD: top-level code passed the deadline of 300 ms')
  const bomb = await load('const a = []; while (true) a.push(new Array(1e6).fill(1))', { ...LIMITS, memoryMb: 16 })
  t.is(bomb, 'CONTRACT_LOAD: top-level code passed the memory limit of 16 MiB')
  t.is(await load('exports.ok = () => 1'), 'loaded')
})

test('methods, results and call errors', async (t) => {
  const h = await harness(t, `
    exports.zeta = () => ({ b: 1, a: [1e21, 0.1, -0, 'é'] })
    exports.alpha = () => undefined
    exports.notAMethod = 42
    exports.fn = () => () => 1
    exports.big = () => 10n
    exports.cyclic = () => { const o = {}; o.o = o; return o }
    exports.sym = () => Symbol('s')
    exports.str = () => { throw 'plain string' }
    exports.args = (...a) => a
    exports.self = function () { return this === exports }
  `)
  t.alike(h.sb.methods, ['alpha', 'args', 'big', 'cyclic', 'fn', 'self', 'str', 'sym', 'zeta'])
  t.is((await h.call('zeta')).resultJson, '{"a":[1e+21,0.1,0,"é"],"b":1}', 'canonical JSON (RFC 8785)')
  const undef = await h.call('alpha')
  t.is(undef.ok, true)
  t.is(undef.resultJson, undefined)
  for (const m of ['fn', 'big', 'cyclic', 'sym']) t.is((await h.call(m)).error?.code, 'RESULT_NOT_JSON', m)
  t.alike((await h.call('str')).error, { code: 'CONTRACT_ERROR', message: 'CONTRACT_ERROR: plain string' })
  t.alike((await h.call('notAMethod')).error, { code: 'UNKNOWN_METHOD', message: 'UNKNOWN_METHOD: the contract exports no method "notAMethod"' })
  t.is((await h.call('toString')).error?.code, 'UNKNOWN_METHOD')
  t.is((await h.call('__proto__')).error?.code, 'UNKNOWN_METHOD')
  t.is(await h.value(t, 'self'), true)
  t.alike(await h.value(t, 'args', [1, 'two', [3], { four: 4 }, null]), [1, 'two', [3], { four: 4 }, null])
  const bad = await h.sb.call({ ...h.ctx('args'), argsJson: '{"a":1}' })
  t.is(bad.error?.code, 'BAD_ARGUMENTS')
  const tooBig = await h.sb.call({ ...h.ctx('args'), argsJson: JSON.stringify(['x'.repeat(LIMITS.maxArgsBytes)]) })
  t.is(tooBig.error?.code, 'ARGS_TOO_LARGE')
})
