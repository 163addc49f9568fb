import { DEFAULT_METHOD } from '../../protocol/constants.js'

/**
 * Bootstrap source, part 2: the contract-visible `System` and `env` globals
 * and the call driver. Runs after {@link DETERMINISM_SOURCE} in the same
 * strict closure (see bootstrap.ts), whose primordials it uses.
 *
 * Driver functions handed to the host (as References, never to contracts):
 * - `load(wrapper)`: runs the contract's top-level code; `{ k: 0, names }`
 *   (JSON array of method names) or `{ k: 1, m, stack }`.
 * - `run(gen, method, argsJson, callerId, timestamp, seed, mode, outputs, maxResultUnits, lim)`:
 *   one call; `{ k: 0, r? }` (r = JSON text of the result) or `{ k: 1, c, m }`.
 *   `lim` = `{ depth, error, path, write }`: the genesis maxDepth, maxErrorBytes,
 *   maxPathBytes and maxWriteBytes, checked here before anything is copied out
 *   of the isolate (a path, data, a message, a result).
 * - `check(gen)`: queued right behind `run`, so it runs once the isolate is
 *   idle: `1` when `run` has not started yet (ask again), else the final
 *   `{ o, d, dm }`: oracle outputs (JSON array of JSON texts) and the error
 *   that dooms the call whatever it returned (or null). Files operations are
 *   synchronous for the isolate and nothing else can wake it (no timers), so
 *   once idle no contract code can run again in this call: the method has
 *   settled (with every operation it started, awaited or not), or never will.
 * Files operations go to the host through `filesRef` (one Reference for all
 * operations, dispatching on a name), tagged with the call generation.
 */
export const SYSTEM_SOURCE = String.raw`
const StringCharCodeAt = uncurry(String.prototype.charCodeAt)
const StringToWellFormed = uncurry(String.prototype.toWellFormed)
// ---- deterministic limits (see protocol/limits.ts) -------------------------
let limDepth = 64
let limError = 4096
let limPath = 1024
let limWrite = 0
// the error message rule of runtime/message-cut.ts: well-formed, at most limError UTF-8 bytes
function cutMessage (m) {
  const keep = limError - 6
  let bytes = 0
  let cutAt = 0
  const n = m.length
  for (let i = 0; i < n; i++) {
    const u = StringCharCodeAt(m, i)
    let size = u < 0x80 ? 1 : u < 0x800 ? 2 : 3
    let width = 1
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < n) {
      const v = StringCharCodeAt(m, i + 1)
      if (v >= 0xdc00 && v <= 0xdfff) { size = 4; width = 2 }
    }
    bytes += size
    if (bytes > limError) return StringToWellFormed(StringSlice(m, 0, cutAt)) + ' [cut]'
    if (bytes <= keep) cutAt = i + width
    i += width - 1
  }
  return StringToWellFormed(m)
}
// deepest nesting of arrays/objects in a JSON text (json-depth.ts), stopping past max; no recursion
function tooDeep (text, max) {
  const n = text.length
  let depth = 0
  let inString = false
  for (let i = 0; i < n; i++) {
    const ch = StringCharCodeAt(text, i)
    if (inString) {
      if (ch === 92) i++
      else if (ch === 34) inString = false
    } else if (ch === 34) inString = true
    else if (ch === 91 || ch === 123) { if (++depth > max) return true }
    else if (ch === 93 || ch === 125) depth--
  }
  return false
}
// JSON text of a value, or a failure: JSON.stringify recurses, so a stack overflow
// means "too deep" (any value deeper than the limit is refused alike where it did not overflow)
function jsonOf (value, what) {
  let text
  try { text = JSONStringify(value) } catch (e) {
    if (e instanceof RangeErrorCtor && RegExpExec(STACK_RE, safeString(safeGet(e, 'message'))) !== null) return fail('TOO_DEEP', what + ' is nested deeper than ' + limDepth)
    return fail(what === 'the result' ? 'RESULT_NOT_JSON' : 'EINVAL', (what === 'the result' ? '' : 'data is not JSON: ') + describe(e))
  }
  if (typeof text !== 'string') return text
  if (tooDeep(text, limDepth)) return fail('TOO_DEEP', what + ' is nested deeper than ' + limDepth)
  return text
}
const RangeErrorCtor = RangeError
const STACK_RE = /call stack/
// ---- call state --------------------------------------------------------
let inCall = false
let callGen = 0
let callerId = null
let oracleMode = 0 // 0 off, 1 record, 2 replay
let oracleOutputs = null
let oracleNext = 0
let oracleOut = new MapCtor()
let doomCode = null
let doomMsg = null
let methods = new MapCtor()
let methodThis
const ZERO_SEED = new U8(32)
const KEEP_CODES = { __proto__: null, ENOENT: true, EEXIST: true, ENOTDIR: true, EISDIR: true, ENOTEMPTY: true, EINVAL: true, WRITES_TOO_LARGE: true, ORACLE_DISABLED: true, ORACLE_MISMATCH: true, RESULT_NOT_JSON: true, DETERMINISM: true, TOO_DEEP: true }

function safeGet (obj, key) { try { return obj[key] } catch (e) { return undefined } }
function safeString (v) { try { return typeof v === 'symbol' ? 'Symbol' : StringCtor(v) } catch (e) { return 'unprintable value' } }
// "name: message" of anything thrown (never throws itself)
function describe (e) {
  if (e === null || (typeof e !== 'object' && typeof e !== 'function')) return safeString(e)
  const name = safeGet(e, 'name')
  const message = safeGet(e, 'message')
  return (typeof name === 'string' && name !== '' ? name : 'Error') + ': ' + (message === undefined ? '' : safeString(message))
}
function errorInfo (e) {
  if (e !== null && typeof e === 'object') {
    const code = safeGet(e, 'code')
    const message = safeGet(e, 'message')
    if (typeof code === 'string' && KEEP_CODES[code] === true && typeof message === 'string' && message.length > code.length && message[code.length] === ':' && StringSlice(message, 0, code.length) === code) {
      return { __proto__: null, k: 1, c: code, m: cutMessage(message) }
    }
  }
  return { __proto__: null, k: 1, c: 'CONTRACT_ERROR', m: cutMessage('CONTRACT_ERROR: ' + describe(e)) }
}
function fail (code, detail) { return { __proto__: null, k: 1, c: code, m: cutMessage(code + ': ' + detail) } }
// the first doom decides the call's error, even when the contract catches it
function doom (code, detail) {
  const message = cutMessage(code + ': ' + detail)
  if (doomCode === null) { doomCode = code; doomMsg = message }
  return mkErr(code, message)
}
function requireCall (what) {
  if (!inCall) throw mkErr('DETERMINISM', 'DETERMINISM: ' + what + ' is only usable while a method runs, not in top-level code')
}

// ---- System.files --------------------------------------------------------
// Each operation blocks the isolate thread until the host answers
// (applySyncPromise): operations run strictly in program order, even
// unawaited ones, and a call is over when its task is.
const filesSync = uncurry(filesRef.applySyncPromise)
const FILES_OPTS = { __proto__: null, arguments: { __proto__: null, copy: true } }
function hostOp (op, path, a, b) {
  if (typeof path !== 'string') return PromiseReject(mkErr('EINVAL', 'EINVAL: path must be a string'))
  // sizes first, before anything is copied to the host (a UTF-16 unit is at least one UTF-8 byte)
  if (path.length > limPath) return PromiseReject(mkErr('EINVAL', 'EINVAL: path longer than ' + limPath + ' bytes'))
  if ((op === 'read' && typeof a === 'string' && a.length > 16) || (typeof b === 'string' && b.length > 16)) return PromiseReject(mkErr('EINVAL', 'EINVAL: unknown encoding'))
  if (op === 'write') {
    // utf8 text is at least one byte per unit, base64/hex at least one per two units (+ padding)
    const units = typeof a === 'string' ? (b === 'base64' || b === 'hex' ? (a.length - 4) / 2 : a.length) : TAByteLength(a)
    if (units > limWrite) return PromiseReject(doom('WRITES_TOO_LARGE', 'the call wrote more than ' + limWrite + ' bytes'))
  }
  let r
  try {
    r = filesSync(filesRef, undefined, [callGen, op, path, a, b], FILES_OPTS)
  } catch (e) {
    return PromiseReject(mkErr('EINVAL', 'EINVAL: argument cannot be passed to the files drive'))
  }
  if (r === null || typeof r !== 'object') return PromiseResolve(r === null ? undefined : r)
  if (r[0] === 0) return PromiseResolve(r[1])
  return PromiseReject(mkErr(r[1], r[2]))
}
function encodingOf (opts) {
  if (typeof opts === 'string') return opts
  if (opts !== null && typeof opts === 'object' && ObjectHasOwn(opts, 'encoding')) {
    const enc = opts.encoding
    return typeof enc === 'string' ? enc : undefined
  }
  return undefined
}
function toBytes (data) {
  if (data === null || typeof data !== 'object') return null
  if (ABIsView(data)) {
    const view = TATag(data) !== undefined
      ? new U8(TABuffer(data), TAByteOffset(data), TAByteLength(data))
      : new U8(DVBuffer(data), DVByteOffset(data), DVByteLength(data))
    return new U8(view)
  }
  try { ABByteLength(data) } catch (e) { return null }
  return new U8(new U8(data))
}
function parseJson (text) { return JSONParse(text) }
function makeStat (r) {
  const type = r[0]
  return { type, size: r[1], isFile: named('isFile', function () { return type === 'file' }, 0), isDirectory: named('isDirectory', function () { return type === 'directory' }, 0) }
}
function readFile (path, opts) {
  requireCall('System.files.readFile')
  const enc = encodingOf(opts)
  const p = hostOp('read', path, enc === undefined ? 'utf8' : enc, undefined)
  return enc === 'json' ? PromiseThen(p, parseJson) : p
}
function writeFile (path, data, opts) {
  requireCall('System.files.writeFile')
  const enc = encodingOf(opts)
  let wire = data
  let wireEnc = enc
  if (enc === 'json' || typeof data !== 'string') {
    const bytes = enc === 'json' ? null : toBytes(data)
    if (bytes !== null) {
      wire = bytes
      wireEnc = undefined
    } else {
      wire = jsonOf(data, 'the data')
      if (wire !== null && typeof wire === 'object') return PromiseReject(mkErr(wire.c, wire.m))
      if (typeof wire !== 'string') return PromiseReject(mkErr('EINVAL', 'EINVAL: data must be a string, bytes or a JSON value'))
      wireEnc = 'utf8'
    }
  }
  return hostOp('write', path, wire, wireEnc)
}
const files = ObjectFreeze({
  readFile: ObjectFreeze(named('readFile', readFile, 2)),
  writeFile: ObjectFreeze(named('writeFile', writeFile, 3)),
  mkdir: ObjectFreeze(named('mkdir', function (path) { requireCall('System.files.mkdir'); return hostOp('mkdir', path) }, 1)),
  readdir: ObjectFreeze(named('readdir', function (path) { requireCall('System.files.readdir'); return hostOp('readdir', path) }, 1)),
  stat: ObjectFreeze(named('stat', function (path) { requireCall('System.files.stat'); return PromiseThen(hostOp('stat', path), makeStat) }, 1)),
  unlink: ObjectFreeze(named('unlink', function (path) { requireCall('System.files.unlink'); return hostOp('unlink', path) }, 1)),
  rmdir: ObjectFreeze(named('rmdir', function (path, opts) {
    requireCall('System.files.rmdir')
    const recursive = opts !== null && typeof opts === 'object' && ObjectHasOwn(opts, 'recursive') && opts.recursive === true
    return hostOp('rmdir', path, recursive)
  }, 2)),
  exists: ObjectFreeze(named('exists', function (path) { requireCall('System.files.exists'); return hostOp('exists', path) }, 1))
})

// ---- System.oracle -------------------------------------------------------
function oracle (fn) {
  requireCall('System.oracle')
  if (oracleMode === 0) throw mkErr('ORACLE_DISABLED', 'ORACLE_DISABLED: oracles are off on this host')
  if (typeof fn !== 'function') throw mkErr('EINVAL', 'EINVAL: System.oracle needs a function')
  if (oracleMode === 2) {
    if (oracleNext >= oracleOutputs.length) throw doom('ORACLE_MISMATCH', 'the call record holds ' + oracleOutputs.length + ' oracle outputs and the call asked for more')
    const idx = oracleNext++
    const text = oracleOutputs[idx]
    MapSet(oracleOut, idx, text)
    if (text[0] === '!') {
      // a recorded failure: fail the same way, without running fn
      let failure
      try { failure = JSONParse(StringSlice(text, 1, text.length)) } catch (e) { throw doom('ORACLE_MISMATCH', 'recorded oracle failure ' + idx + ' does not decode') }
      return PromiseReject(doom(failure[0], failure[1]))
    }
    let value
    try { value = JSONParse(text) } catch (e) { throw doom('ORACLE_MISMATCH', 'recorded oracle output ' + idx + ' is not JSON') }
    return PromiseResolve(value)
  }
  const idx = oracleNext++
  // a failure is recorded as '!' + JSON [code, detail] (never valid JSON), so replays fail alike
  function failed (code, detail) {
    MapSet(oracleOut, idx, '!' + JSONStringify([code, detail]))
    return doom(code, detail)
  }
  let value
  realDepth++
  try {
    value = fn()
  } catch (e) {
    throw failed('CONTRACT_ERROR', 'oracle threw: ' + describe(e))
  } finally {
    realDepth--
  }
  return PromiseThen(PromiseResolve(value), function (v) {
    let text
    try { text = JSONStringify(v) } catch (e) { text = undefined }
    if (typeof text !== 'string') throw failed('RESULT_NOT_JSON', 'the oracle result is not a JSON value')
    MapSet(oracleOut, idx, text)
    return JSONParse(text)
  }, function (e) {
    throw failed('CONTRACT_ERROR', 'oracle threw: ' + describe(e))
  })
}

// ---- globals ---------------------------------------------------------------
const caller = ObjectFreeze({ get id () { return callerId } })
const System = ObjectFreeze({ files, caller, oracle: ObjectFreeze(named('oracle', oracle, 1)) })
const env = ObjectFreeze({ get callerId () { return callerId } })
ReflectDefine(G, 'System', { __proto__: null, value: System, writable: false, enumerable: false, configurable: false })
ReflectDefine(G, 'env', { __proto__: null, value: env, writable: false, enumerable: false, configurable: false })

// ---- driver ----------------------------------------------------------------
function load (wrapper) {
  callerId = null
  nowMs = 0
  seedRandom(ZERO_SEED)
  const mod = { exports: {} }
  try {
    ReflectApply(wrapper, mod.exports, [mod.exports, mod])
  } catch (e) {
    const stack = safeGet(e, 'stack')
    return { __proto__: null, k: 1, m: describe(e), stack: typeof stack === 'string' ? StringSlice(stack, 0, 4000) : '' }
  }
  const ex = mod.exports
  let names = '['
  methods = new MapCtor()
  if (typeof ex === 'function') {
    MapSet(methods, '${DEFAULT_METHOD}', ex)
    methodThis = undefined
    names += '"${DEFAULT_METHOD}"'
  } else if (ex !== null && typeof ex === 'object') {
    const keys = ObjectKeys(ex)
    ArraySort(keys)
    let n = 0
    for (let i = 0; i < keys.length; i++) {
      const v = safeGet(ex, keys[i])
      if (typeof v !== 'function') continue
      MapSet(methods, keys[i], v)
      names += (n++ === 0 ? '' : ',') + JSONStringify(keys[i])
    }
    methodThis = ex
  }
  return { __proto__: null, k: 0, names: names + ']' }
}

async function run (gen, method, argsJson, cid, timestamp, seed, mode, outputs, maxResultUnits, lim) {
  limDepth = lim.depth
  limError = lim.error
  limPath = lim.path
  limWrite = lim.write
  callGen = gen
  callerId = cid
  nowMs = timestamp
  seedRandom(seed)
  oracleMode = mode
  oracleOutputs = outputs
  oracleNext = 0
  oracleOut = new MapCtor()
  doomCode = null
  doomMsg = null
  inCall = true
  const fn = MapGet(methods, method)
  if (fn === undefined) return fail('UNKNOWN_METHOD', 'the contract exports no method ' + JSONStringify(method))
  let args
  try { args = JSONParse(argsJson) } catch (e) { return fail('BAD_ARGUMENTS', 'arguments are not JSON') }
  if (!ArrayIsArray(args)) return fail('BAD_ARGUMENTS', 'arguments must be a JSON array')
  let value
  try {
    value = await ReflectApply(fn, methodThis, args)
  } catch (e) {
    return errorInfo(e)
  }
  if (value === undefined) return { __proto__: null, k: 0 }
  const text = jsonOf(value, 'the result')
  if (text !== null && typeof text === 'object') return text
  if (typeof text !== 'string') return fail('RESULT_NOT_JSON', 'the result is a ' + typeof value + ', not a JSON value')
  if (text.length > maxResultUnits) return fail('RESULT_TOO_LARGE', 'the result is larger than ' + maxResultUnits + ' bytes')
  return { __proto__: null, k: 0, r: text }
}

function check (gen) {
  if (gen !== callGen || !inCall) return 1 // run has not started yet
  inCall = false
  let o = '['
  for (let i = 0; i < oracleNext; i++) {
    if (!MapHas(oracleOut, i)) {
      doom('ORACLE_MISMATCH', 'oracle ' + i + ' had not settled when the call ended')
      break
    }
    o += (i === 0 ? '' : ',') + JSONStringify(MapGet(oracleOut, i))
  }
  return { __proto__: null, o: o + ']', d: doomCode, dm: doomMsg }
}
`
