/**
 * Determinism inside a call: clock, time zone, locale, Math.random, and the
 * globals that are absent.
 */

import test from 'brittle'
import { harness, seed } from './runtime-helpers.js'

const TS = Date.UTC(2024, 1, 29, 23, 30, 15, 250) // 2024-02-29T23:30:15.250Z

test('Date gives the call timestamp and behaves as if TZ=UTC', async (t) => {
  const h = await harness(t, `
    exports.dates = () => {
      const d = new Date()
      return {
        now: Date.now(), get: d.getTime(), iso: d.toISOString(), str: String(d), call: Date(),
        dateStr: d.toDateString(), timeStr: d.toTimeString(),
        hours: d.getHours() === d.getUTCHours() && d.getDate() === d.getUTCDate() && d.getDay() === d.getUTCDay() && d.getFullYear() === d.getUTCFullYear() && d.getMonth() === d.getUTCMonth(),
        offset: d.getTimezoneOffset(), year: d.getYear(),
        local: new Date(2020, 0, 1, 10, 30).getTime() === Date.UTC(2020, 0, 1, 10, 30),
        oneArg: new Date(2020, 5).toISOString(),
        parseLocalIso: Date.parse('2020-01-01T10:00:00') === Date.UTC(2020, 0, 1, 10),
        parseZoned: Date.parse('2020-01-01T10:00:00+02:00') === Date.UTC(2020, 0, 1, 8),
        parseDateOnly: Date.parse('2020-01-01') === Date.UTC(2020, 0, 1),
        parseLegacy: new Date('Jan 1 2020 10:00:00').getTime() === Date.UTC(2020, 0, 1, 10),
        parseLegacyGmt: Date.parse('Wed, 01 Jan 2020 10:00:00 GMT') === Date.UTC(2020, 0, 1, 10),
        setHours: (() => { const x = new Date(0); x.setHours(5); return x.getUTCHours() })(),
        invalid: String(new Date('nope')), invalidOffset: new Date(NaN).getTimezoneOffset(),
        instance: d instanceof Date && Date.prototype.constructor === Date && Object.prototype.toString.call(d),
        sub: (() => { class D extends Date {} const x = new D(); return x instanceof D && x instanceof Date && x.getTime() })(),
        utc: Date.UTC(2000, 0), fixed: new Date(86400000).toString()
      }
    }`)
  const v = await h.value(t, 'dates', [], { timestamp: TS }) as Record<string, unknown>
  t.is(v.now, TS)
  t.is(v.get, TS)
  t.is(v.iso, '2024-02-29T23:30:15.250Z')
  t.is(v.str, 'Thu Feb 29 2024 23:30:15 GMT+0000 (Coordinated Universal Time)')
  t.is(v.call, v.str)
  t.is(v.dateStr, 'Thu Feb 29 2024')
  t.is(v.timeStr, '23:30:15 GMT+0000 (Coordinated Universal Time)')
  t.is(v.hours, true, 'local getters are the UTC getters')
  t.is(v.offset, 0)
  t.is(v.year, 124)
  t.is(v.local, true, 'new Date(y, m, ...) is UTC')
  t.is(v.oneArg, '2020-06-01T00:00:00.000Z')
  t.is(v.parseLocalIso, true)
  t.is(v.parseZoned, true)
  t.is(v.parseDateOnly, true)
  t.is(v.parseLegacy, true)
  t.is(v.parseLegacyGmt, true)
  t.is(v.setHours, 5)
  t.is(v.invalid, 'Invalid Date')
  t.is(v.invalidOffset, null, 'NaN')
  t.is(v.instance, '[object Date]')
  t.is(v.sub, TS)
  t.is(v.utc, Date.UTC(2000, 0))
  t.is(v.fixed, 'Fri Jan 02 1970 00:00:00 GMT+0000 (Coordinated Universal Time)')
})

test('Intl and toLocale* default to en-US and UTC', async (t) => {
  const h = await harness(t, `
    exports.intl = () => {
      const d = new Date()
      const dtf = Intl.DateTimeFormat()
      return {
        zone: dtf.resolvedOptions().timeZone, locale: dtf.resolvedOptions().locale,
        zoneNew: new Intl.DateTimeFormat().resolvedOptions().timeZone,
        explicit: new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Tokyo', hour: 'numeric', hourCycle: 'h23' }).format(d),
        format: dtf.format(), parts: dtf.formatToParts().map((p) => p.value).join(''),
        localeString: d.toLocaleString(), dateString: d.toLocaleDateString(), timeString: d.toLocaleTimeString(),
        withOpts: d.toLocaleDateString(undefined, { month: 'long' }),
        number: (1234567.891).toLocaleString(), nf: new Intl.NumberFormat().format(1234.5),
        compare: ['b', 'a', 'C'].sort((x, y) => x.localeCompare(y)).join(''),
        upper: 'i'.toLocaleUpperCase(), isDTF: dtf instanceof Intl.DateTimeFormat
      }
    }`)
  const v = await h.value(t, 'intl', [], { timestamp: TS }) as Record<string, unknown>
  t.is(v.zone, 'UTC')
  t.is(v.zoneNew, 'UTC')
  t.is(v.locale, 'en-US')
  t.is(v.explicit, '08', 'explicit options still win')
  t.is(v.format, '2/29/2024')
  t.is(v.parts, '2/29/2024')
  t.is(v.localeString, '2/29/2024, 11:30:15 PM')
  t.is(v.dateString, '2/29/2024')
  t.is(v.timeString, '11:30:15 PM')
  t.is(v.withOpts, 'February')
  t.is(v.number, '1,234,567.891')
  t.is(v.nf, '1,234.5')
  t.is(v.compare, 'abC')
  t.is(v.upper, 'I')
  t.is(v.isDTF, true)
})

test('Math.random is seeded per call', async (t) => {
  const src = 'exports.r = () => [Math.random(), Math.random(), Math.random()]'
  const a = await harness(t, src)
  const b = await harness(t, src)
  const a1 = await a.value(t, 'r', [], { seed: seed(3) }) as number[]
  const a2 = await a.value(t, 'r', [], { seed: seed(3) }) as number[]
  const b1 = await b.value(t, 'r', [], { seed: seed(3) }) as number[]
  const c1 = await b.value(t, 'r', [], { seed: seed(4) }) as number[]
  t.alike(a1, a2, 'reseeded at the start of every call')
  t.alike(a1, b1, 'same seed, same sequence in another isolate')
  t.unlike(a1, c1)
  t.ok(a1.every((x) => x >= 0 && x < 1) && new Set(a1).size === 3)
  // the 32 bytes all matter
  const s = seed(3)
  s[31] = 4
  t.unlike(await b.value(t, 'r', [], { seed: s }), a1)
})

test('forbidden globals are absent; console is silent', async (t) => {
  const h = await harness(t, `
    exports.g = () => {
      const names = ['process', 'require', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'queueMicrotask',
        'WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'WebAssembly', 'Buffer', 'global', 'fetch', '__dirname']
      const out = {}
      for (const n of names) out[n] = typeof globalThis[n]
      out.freeRequire = typeof require
      out.freeProcess = typeof process
      out.atomicsWait = typeof Atomics.wait
      out.atomicsWaitAsync = typeof Atomics.waitAsync
      out.console = [console.log('x'), console.error('y'), console.info(), console.warn()].every((r) => r === undefined)
      try { require('fs'); out.requireCall = 'worked' } catch (e) { out.requireCall = e.name }
      return out
    }`)
  const v = await h.value(t, 'g') as Record<string, unknown>
  for (const [k, type] of Object.entries(v)) {
    if (k === 'console' || k === 'requireCall') continue
    t.is(type, 'undefined', k)
  }
  t.is(v.console, true)
  t.is(v.requireCall, 'ReferenceError')
})

test('System is frozen; env and caller follow the call', async (t) => {
  const h = await harness(t, `
    exports.f = () => {
      'use strict'
      const r = { frozen: Object.isFrozen(System) && Object.isFrozen(System.files) && Object.isFrozen(System.files.readFile) && Object.isFrozen(System.oracle) && Object.isFrozen(System.caller) }
      try { System.files = null } catch (e) { r.assign = e.name }
      try { System.files.readFile = null } catch (e) { r.assignFn = e.name }
      try { globalThis.System = 1 } catch (e) { r.assignGlobal = e.name }
      r.id = System.caller.id
      r.env = env.callerId
      return r
    }`)
  t.alike(await h.value(t, 'f', [], { callerId: 'zkey' }), {
    frozen: true, assign: 'TypeError', assignFn: 'TypeError', assignGlobal: 'TypeError', id: 'zkey', env: 'zkey'
  })
})
