/**
 * Bootstrap source, part 1: primordials and determinism. Plain JavaScript
 * (strict mode) evaluated inside the isolate before any contract code, as
 * part of {@link BOOTSTRAP_SOURCE} (see bootstrap.ts). It:
 * - captures the built-ins the bootstrap itself relies on, so a contract
 *   that overwrites globals or pollutes prototypes cannot subvert it;
 * - makes `Date` report the call timestamp and behave as if TZ=UTC;
 * - gives `Intl` and the `toLocale*` methods the default locale `en-US` and
 *   (for dates) the default time zone `UTC`;
 * - replaces `Math.random` with sfc32 seeded per call;
 * - removes `WeakRef`, `FinalizationRegistry`, `SharedArrayBuffer`,
 *   `WebAssembly`, `Atomics.wait`/`waitAsync`, and silences `console`.
 * Shared closure state: `nowMs` (call time, ms), `realDepth` (> 0 while an
 * oracle runs in record mode: real clock and randomness), `seedRandom(bytes)`.
 */
export const DETERMINISM_SOURCE = String.raw`
const G = globalThis
const FunctionCall = Function.prototype.call
const FunctionBind = Function.prototype.bind
const ReflectApply = Reflect.apply
const ReflectConstruct = Reflect.construct
const ReflectDefine = Reflect.defineProperty
const ReflectGetOwnDesc = Reflect.getOwnPropertyDescriptor
const ReflectGetProto = Reflect.getPrototypeOf
const uncurry = (fn) => ReflectApply(FunctionBind, FunctionCall, [fn])
const ObjectCtor = Object
const ObjectCreate = Object.create
const ObjectFreeze = Object.freeze
const ObjectKeys = Object.keys
const ObjectHasOwn = Object.hasOwn
const StringCtor = String
const MathTrunc = Math.trunc
const StringSlice = uncurry(String.prototype.slice)
const ErrorCtor = Error
const PromiseCtor = Promise
const PromiseThen = uncurry(Promise.prototype.then)
const PromiseResolve = ReflectApply(FunctionBind, Promise.resolve, [Promise])
const PromiseReject = ReflectApply(FunctionBind, Promise.reject, [Promise])
const MapCtor = Map
const MapGet = uncurry(Map.prototype.get)
const MapSet = uncurry(Map.prototype.set)
const MapHas = uncurry(Map.prototype.has)
const JSONParse = JSON.parse
const JSONStringify = JSON.stringify
const ArrayIsArray = Array.isArray
const ArraySort = uncurry(Array.prototype.sort)
const RegExpExec = uncurry(RegExp.prototype.exec)
const U8 = Uint8Array
const TAProto = ReflectGetProto(Uint8Array.prototype)
const TATag = uncurry(ReflectGetOwnDesc(TAProto, Symbol.toStringTag).get)
const TABuffer = uncurry(ReflectGetOwnDesc(TAProto, 'buffer').get)
const TAByteOffset = uncurry(ReflectGetOwnDesc(TAProto, 'byteOffset').get)
const TAByteLength = uncurry(ReflectGetOwnDesc(TAProto, 'byteLength').get)
const DVBuffer = uncurry(ReflectGetOwnDesc(DataView.prototype, 'buffer').get)
const DVByteOffset = uncurry(ReflectGetOwnDesc(DataView.prototype, 'byteOffset').get)
const DVByteLength = uncurry(ReflectGetOwnDesc(DataView.prototype, 'byteLength').get)
const ABByteLength = uncurry(ReflectGetOwnDesc(ArrayBuffer.prototype, 'byteLength').get)
const ABIsView = ArrayBuffer.isView

// own data property, defined (never assigned) so no setter on a prototype can intercept it
function setOwn (obj, key, value, enumerable) {
  ReflectDefine(obj, key, { __proto__: null, value, writable: true, enumerable: enumerable === true, configurable: true })
}
function setConst (obj, key, value) {
  ReflectDefine(obj, key, { __proto__: null, value, writable: false, enumerable: false, configurable: false })
}
function named (name, fn, length) {
  ReflectDefine(fn, 'name', { __proto__: null, value: name, writable: false, enumerable: false, configurable: true })
  if (length !== undefined) ReflectDefine(fn, 'length', { __proto__: null, value: length, writable: false, enumerable: false, configurable: true })
  return fn
}
function mkErr (code, message) {
  const e = new ErrorCtor(message)
  setOwn(e, 'code', code, true)
  return e
}

// ---- clock -------------------------------------------------------------
let nowMs = 0
let realDepth = 0
const DateCtor = Date
const DP = Date.prototype
const RealDateNow = Date.now
const RealDateParse = Date.parse
const RealDateUTC = Date.UTC
const dGetTime = uncurry(DP.getTime)
const dRealTZO = uncurry(DP.getTimezoneOffset)
const dUTC = {
  FullYear: uncurry(DP.getUTCFullYear), Month: uncurry(DP.getUTCMonth), Date: uncurry(DP.getUTCDate),
  Day: uncurry(DP.getUTCDay), Hours: uncurry(DP.getUTCHours), Minutes: uncurry(DP.getUTCMinutes),
  Seconds: uncurry(DP.getUTCSeconds)
}
const dSetUTCFullYear = uncurry(DP.setUTCFullYear)
const dSetTime = uncurry(DP.setTime)
function currentTime () { return realDepth > 0 ? RealDateNow() : nowMs }

const ISO_DATETIME = /^[+-]?\d{4,6}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(z|[+-]\d\d:?\d\d)?$/i
const ISO_DATE = /^[+-]?\d{4,6}(?:-\d\d(?:-\d\d)?)?$/
const HAS_ZONE = /(?:\b(?:z|ut|utc|gmt|[ecmp][sd]t)\b|[+-]\d\d:?\d\d\s*(?:\([^)]*\))?\s*$)/i
// Date.parse as if the host ran with TZ=UTC
function vParse (value) {
  const s = StringCtor(value)
  const iso = RegExpExec(ISO_DATETIME, s)
  if (iso !== null) return RealDateParse(iso[1] === undefined ? s + 'Z' : s)
  const t = RealDateParse(s)
  if (t !== t || RegExpExec(ISO_DATE, s) !== null || RegExpExec(HAS_ZONE, s) !== null) return t
  return t - dRealTZO(new DateCtor(t)) * 60000 // the parser took local time: undo the host offset
}
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
function pad (n, w) { let s = '' + n; while (s.length < w) s = '0' + s; return s }
function dateStr (d) {
  const y = dUTC.FullYear(d)
  return DAYS[dUTC.Day(d)] + ' ' + MONTHS[dUTC.Month(d)] + ' ' + pad(dUTC.Date(d), 2) + ' ' + (y < 0 ? '-' + pad(-y, 4) : pad(y, 4))
}
function timeStr (d) {
  return pad(dUTC.Hours(d), 2) + ':' + pad(dUTC.Minutes(d), 2) + ':' + pad(dUTC.Seconds(d), 2) + ' GMT+0000 (Coordinated Universal Time)'
}
function invalid (d) { const t = dGetTime(d); return t !== t }

const VDate = function Date (year, month, date, hours, minutes, seconds, ms) {
  const n = arguments.length
  if (new.target === undefined) return ReflectApply(dateToString, new DateCtor(currentTime()), [])
  let t
  if (n === 0) t = currentTime()
  else if (n === 1) t = typeof year === 'string' ? vParse(year) : year
  else t = RealDateUTC(year, month, n > 2 ? date : 1, n > 3 ? hours : 0, n > 4 ? minutes : 0, n > 5 ? seconds : 0, n > 6 ? ms : 0)
  return ReflectConstruct(DateCtor, [t], new.target)
}
setConst(VDate, 'prototype', DP)
setOwn(VDate, 'now', named('now', function () { return currentTime() }, 0))
setOwn(VDate, 'parse', named('parse', function (s) { return vParse(s) }, 1))
setOwn(VDate, 'UTC', RealDateUTC)
setOwn(DP, 'constructor', VDate)
setOwn(G, 'Date', VDate)

function dateToString () { return invalid(this) ? 'Invalid Date' : dateStr(this) + ' ' + timeStr(this) }
const LOCAL_TO_UTC = ['FullYear', 'Month', 'Date', 'Day', 'Hours', 'Minutes', 'Seconds', 'Milliseconds']
for (const unit of LOCAL_TO_UTC) {
  const get = DP['getUTC' + unit]
  setOwn(DP, 'get' + unit, named('get' + unit, function () { return ReflectApply(get, this, []) }, 0))
  if (unit === 'Day') continue
  const set = DP['setUTC' + unit]
  setOwn(DP, 'set' + unit, named('set' + unit, function (...args) { return ReflectApply(set, this, args) }, set.length))
}
setOwn(DP, 'getTimezoneOffset', named('getTimezoneOffset', function () { return invalid(this) ? NaN : 0 }, 0))
setOwn(DP, 'getYear', named('getYear', function () { return invalid(this) ? NaN : dUTC.FullYear(this) - 1900 }, 0))
setOwn(DP, 'setYear', named('setYear', function (year) {
  const y = +year
  if (y !== y) return dSetTime(this, NaN)
  const yi = MathTrunc(y)
  if (invalid(this)) dSetTime(this, 0)
  return dSetUTCFullYear(this, yi >= 0 && yi <= 99 ? 1900 + yi : y)
}, 1))
setOwn(DP, 'toString', named('toString', dateToString, 0))
setOwn(DP, 'toDateString', named('toDateString', function () { return invalid(this) ? 'Invalid Date' : dateStr(this) }, 0))
setOwn(DP, 'toTimeString', named('toTimeString', function () { return invalid(this) ? 'Invalid Date' : timeStr(this) }, 0))

// ---- Intl: default locale en-US, default time zone UTC ---------------------
const DEFAULT_LOCALE = 'en-US'
function loc (locales) { return locales === undefined ? DEFAULT_LOCALE : locales }
function tzOptions (options) {
  if (options === undefined) return { __proto__: null, timeZone: 'UTC' }
  if (options === null) return options
  const o = ObjectCtor(options)
  if (o.timeZone !== undefined) return options
  return ObjectCreate(o, { timeZone: { __proto__: null, value: 'UTC', enumerable: true, writable: true, configurable: true } })
}
function wrapIntl (name, withZone) {
  const Real = Intl[name]
  if (typeof Real !== 'function') return
  const W = ({ [name]: function (locales, options) {
    return ReflectConstruct(Real, [loc(locales), withZone ? tzOptions(options) : options], new.target === undefined ? Real : new.target)
  } })[name]
  named(name, W, Real.length)
  setConst(W, 'prototype', Real.prototype)
  setOwn(W, 'supportedLocalesOf', Real.supportedLocalesOf)
  setOwn(Real.prototype, 'constructor', W)
  setOwn(Intl, name, W)
}
wrapIntl('DateTimeFormat', true)
for (const name of ['NumberFormat', 'Collator', 'PluralRules', 'RelativeTimeFormat', 'ListFormat', 'Segmenter', 'DisplayNames']) wrapIntl(name, false)
const DTFProto = Intl.DateTimeFormat.prototype
const dtfFormatGet = uncurry(ReflectGetOwnDesc(DTFProto, 'format').get)
const dtfFormatToParts = uncurry(DTFProto.formatToParts)
ReflectDefine(DTFProto, 'format', { __proto__: null, configurable: true, enumerable: false, get: named('get format', function () {
  const f = dtfFormatGet(this)
  return named('', function (date) { return f(date === undefined ? currentTime() : date) }, 1)
}) })
setOwn(DTFProto, 'formatToParts', named('formatToParts', function (date) { return dtfFormatToParts(this, date === undefined ? currentTime() : date) }, 1))
function localeMethod (proto, name, zone) {
  const real = uncurry(proto[name])
  setOwn(proto, name, named(name, function (locales, options) { return real(this, loc(locales), zone ? tzOptions(options) : options) }, 0))
}
localeMethod(DP, 'toLocaleString', true)
localeMethod(DP, 'toLocaleDateString', true)
localeMethod(DP, 'toLocaleTimeString', true)
localeMethod(Number.prototype, 'toLocaleString', false)
localeMethod(BigInt.prototype, 'toLocaleString', false)
{
  const compare = uncurry(String.prototype.localeCompare)
  setOwn(String.prototype, 'localeCompare', named('localeCompare', function (that, locales, options) { return compare(this, that, loc(locales), options) }, 1))
  for (const name of ['toLocaleLowerCase', 'toLocaleUpperCase']) {
    const real = uncurry(String.prototype[name])
    setOwn(String.prototype, name, named(name, function (locales) { return real(this, loc(locales)) }, 0))
  }
}

// ---- Math.random: sfc32, seeded from the call's 32 bytes ------------------
let ra = 0; let rb = 0; let rc = 0; let rd = 1
function sfc32 () {
  const t = (((ra + rb) | 0) + rd) | 0
  rd = (rd + 1) | 0
  ra = rb ^ (rb >>> 9)
  rb = (rc + (rc << 3)) | 0
  rc = (rc << 21) | (rc >>> 11)
  rc = (rc + t) | 0
  return t >>> 0
}
function word (bytes, i) { return (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) | 0 }
// all 256 bits count: the first half seeds the state, the second is mixed in after a warm-up
function seedRandom (bytes) {
  ra = word(bytes, 0); rb = word(bytes, 4); rc = word(bytes, 8); rd = word(bytes, 12)
  for (let i = 0; i < 12; i++) sfc32()
  ra ^= word(bytes, 16); rb ^= word(bytes, 20); rc ^= word(bytes, 24); rd ^= word(bytes, 28)
  for (let i = 0; i < 12; i++) sfc32()
}
const randomApplySync = uncurry(randomRef.applySync)
const SYNC_OPTS = { __proto__: null, result: { __proto__: null, copy: true } }
setOwn(Math, 'random', named('random', function () {
  if (realDepth > 0) return randomApplySync(randomRef, undefined, [], SYNC_OPTS)
  return ((sfc32() >>> 5) * 67108864 + (sfc32() >>> 6)) / 9007199254740992
}, 0))

// ---- forbidden and silenced globals ---------------------------------------
for (const name of ['SharedArrayBuffer', 'WeakRef', 'FinalizationRegistry', 'WebAssembly']) delete G[name]
delete Atomics.wait
delete Atomics.waitAsync
{
  const noop = ObjectFreeze(named('', function () {}, 0))
  const quiet = {}
  for (const name of Object.getOwnPropertyNames(G.console)) quiet[name] = noop
  setOwn(G, 'console', ObjectFreeze(quiet))
}
`
