/**
 * Bootstrap source, part 1b: one language surface on every supported Node.
 * Plain JavaScript evaluated inside the isolate after the determinism part
 * (bootstrap-determinism.ts, whose closure names it uses) and before any
 * contract code.
 *
 * Node 20 runs V8 11.3, Node 26 V8 14.6; a contract that calls
 * `Object.groupBy` works on one and throws on the other, so a host and a
 * watcher on different Nodes would disagree and the watcher would blame an
 * honest host. The sandbox therefore offers what the oldest supported engine
 * offers ({@link LANGUAGE_SURFACE}): every built-in that V8 added after 11.3
 * is removed (list below, found by listing every property reachable from
 * `globalThis` and the hidden intrinsics in a fresh isolate on Node 20, 22,
 * 24 and 26 and diffing), and the `Intl.Locale` getters that newer engines
 * replaced by methods are put back. `Symbol` is replaced by a copy without
 * `dispose`/`asyncDispose` (those two are non-configurable on the real one).
 *
 * Not covered (documented in README "Supported Node"): syntax that only newer
 * engines parse (`using` declarations, RegExp modifiers `(?i:...)`, duplicate
 * named groups) and ICU data (locale formatting details).
 */

/** Name of the language surface the sandbox offers; part of the runtime fingerprint. */
export const LANGUAGE_SURFACE = 'v8-11.3'

export const SURFACE_SOURCE = String.raw`
// ---- one language surface: what V8 11.3 (Node 20) offers -------------------
{
  const P = ReflectGetProto
  const hide = (obj, keys) => { if (obj) for (const k of keys) delete obj[k] }
  const iterProto = P(P([][Symbol.iterator]()))
  const asyncIterProto = P(P((async function * () {}).prototype))
  const symDispose = Symbol.dispose
  const symAsyncDispose = Symbol.asyncDispose
  hide(G, ['Iterator', 'AsyncDisposableStack', 'DisposableStack', 'SuppressedError', 'Float16Array', 'Temporal'])
  hide(Array, ['fromAsync'])
  hide(Atomics, ['pause'])
  hide(ErrorCtor, ['isError'])
  hide(JSON, ['isRawJSON', 'rawJSON'])
  hide(MapCtor, ['groupBy'])
  hide(Math, ['f16round'])
  hide(ObjectCtor, ['groupBy'])
  hide(PromiseCtor, ['try', 'withResolvers'])
  hide(RegExp, ['escape'])
  hide(U8, ['fromBase64', 'fromHex'])
  hide(U8.prototype, ['setFromBase64', 'setFromHex', 'toBase64', 'toHex'])
  hide(ArrayBuffer.prototype, ['detached', 'transfer', 'transferToFixedLength'])
  hide(DataView.prototype, ['getFloat16', 'setFloat16'])
  hide(Date.prototype, ['toTemporalInstant'])
  hide(MapCtor.prototype, ['getOrInsert', 'getOrInsertComputed'])
  hide(WeakMap.prototype, ['getOrInsert', 'getOrInsertComputed'])
  hide(Set.prototype, ['difference', 'intersection', 'isDisjointFrom', 'isSubsetOf', 'isSupersetOf', 'symmetricDifference', 'union'])
  hide(iterProto, ['constructor', 'drop', 'every', 'filter', 'find', 'flatMap', 'forEach', 'map', 'reduce', 'some', 'take', 'toArray', Symbol.toStringTag])
  if (symDispose !== undefined) delete iterProto[symDispose]
  if (symAsyncDispose !== undefined) delete asyncIterProto[symAsyncDispose]
  if (typeof Intl !== 'undefined' && Intl.Locale) {
    hide(Intl, ['DurationFormat'])
    const LP = Intl.Locale.prototype
    // V8 12+ turned these getters into get* methods; V8 11.3 has the getters only
    for (const [prop, method] of [['calendars', 'getCalendars'], ['collations', 'getCollations'], ['hourCycles', 'getHourCycles'],
      ['numberingSystems', 'getNumberingSystems'], ['textInfo', 'getTextInfo'], ['timeZones', 'getTimeZones'], ['weekInfo', 'getWeekInfo']]) {
      const fn = LP[method]
      if (typeof fn === 'function' && !ReflectGetOwnDesc(LP, prop)) {
        const get = uncurry(fn)
        ReflectDefine(LP, prop, { __proto__: null, get: named('get ' + prop, function () { return get(this) }, 0), enumerable: false, configurable: true })
      }
      delete LP[method]
    }
    delete LP.firstDayOfWeek
  }
  // Symbol.dispose / asyncDispose are non-configurable: offer a Symbol without them
  if (symDispose !== undefined || symAsyncDispose !== undefined) {
    const RealSymbol = Symbol
    const S = named('Symbol', function Symbol (description) {
      if (new.target !== undefined) throw new TypeError('Symbol is not a constructor')
      return description === undefined ? RealSymbol() : RealSymbol(description)
    }, 0)
    for (const k of Reflect.ownKeys(RealSymbol)) {
      if (k === 'dispose' || k === 'asyncDispose' || k === 'name' || k === 'length') continue
      ReflectDefine(S, k, ReflectGetOwnDesc(RealSymbol, k))
    }
    ReflectDefine(RealSymbol.prototype, 'constructor', { __proto__: null, value: S, writable: true, enumerable: false, configurable: true })
    setOwn(G, 'Symbol', S)
  }
}
`
