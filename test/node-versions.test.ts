// One contract, two Node versions: a host on one Node and a caller/verifier
// on another see the same language surface (bootstrap-surface.ts), so a
// contract that probes built-ins only the newer V8 has cannot make an honest
// host look like a liar.
//
// The second Node comes from the environment (CI sets both):
//   VMS_OTHER_NODE  path of another Node binary (e.g. Node 26 when this is Node 20)
//   VMS_OTHER_ROOT  a checkout of this project installed and built with that Node
//                   (default: this checkout, if its node_modules serve both Nodes)

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { bootstrapArg, cli, cliRun, testnet, tmpdir } from './helpers.js'
import { harness, LIMITS } from './runtime-helpers.js'

const OTHER_NODE = process.env.VMS_OTHER_NODE ?? ''
const OTHER_ROOT = process.env.VMS_OTHER_ROOT ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..')
const otherVersion = OTHER_NODE && fs.existsSync(OTHER_NODE) ? execFileSync(OTHER_NODE, ['--version'], { encoding: 'utf8' }).trim() : ''
const skip = !otherVersion || otherVersion.split('.')[0] === process.version.split('.')[0]
if (skip) {
  console.log(`# node-versions: SKIPPED: set VMS_OTHER_NODE to a Node binary of another major version than ${process.version} ` +
    '(and VMS_OTHER_ROOT to a checkout installed with it); .ci/run does')
}

// every property path reachable from globalThis and the hidden intrinsics
// (own keys, data properties followed 4 deep), plus what newer built-ins answer
const PROBE = String.raw`
function surface () {
  const out = []; const seen = new Set(); const P = Object.getPrototypeOf
  const name = (k) => typeof k === 'symbol' ? '[' + String(k) + ']' : k
  function walk (obj, p, depth) {
    if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function') || seen.has(obj)) return
    seen.add(obj)
    for (const k of Reflect.ownKeys(obj)) {
      const q = p ? p + '.' + name(k) : name(k)
      out.push(q)
      const d = Object.getOwnPropertyDescriptor(obj, k)
      if (depth < 4 && d && 'value' in d) walk(d.value, q, depth + 1)
    }
  }
  walk(globalThis, '', 0)
  const hidden = {
    TypedArray: P(Int8Array),
    IteratorPrototype: P(P([][Symbol.iterator]())),
    AsyncIteratorPrototype: P(P((async function * () {}).prototype)),
    ArrayIteratorPrototype: P([][Symbol.iterator]()),
    MapIteratorPrototype: P(new Map()[Symbol.iterator]()),
    SetIteratorPrototype: P(new Set()[Symbol.iterator]()),
    GeneratorPrototype: P(function * () {}).prototype,
    AsyncGeneratorPrototype: P(async function * () {}).prototype,
    SegmentsPrototype: P(new Intl.Segmenter().segment('a'))
  }
  for (const [k, v] of Object.entries(hidden)) { seen.delete(v); out.push('%' + k + '%'); walk(v, '%' + k + '%', 1) }
  return out.sort()
}
exports.surface = async () => surface()
exports.probe = async () => ({
  groupBy: typeof Object.groupBy,
  iteratorMap: typeof [].values().map,
  setUnion: typeof new Set().union,
  withResolvers: typeof Promise.withResolvers,
  dispose: typeof Symbol.dispose,
  temporal: typeof globalThis.Temporal,
  toHex: typeof new Uint8Array(1).toHex,
  calendars: new Intl.Locale('en-US').calendars
})
`

test('node versions: a host on another Node offers the same built-ins, and a verify on this Node finds it ok', { skip, timeout: 180_000 }, async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const file = path.join(dir, 'probe.js')
  fs.writeFileSync(file, PROBE)
  const other = { node: OTHER_NODE, cliPath: path.join(OTHER_ROOT, 'bin', 'vms-node.js') }
  const host = cli(t, ['host', file, '--storage', path.join(dir, 'host'), '--bootstrap', bootstrapArg(net), '--json', '--no-tui'], other)
  const ready = await host.event('ready', 60_000)
  const runtime = ready.runtime as string
  t.ok(runtime.includes(`node/${otherVersion.slice(1)}`), `host runs on the other Node: ${runtime}`)
  t.ok(runtime.endsWith('surface/v8-11.3'), 'the genesis names the language surface')

  const b = ['--bootstrap', bootstrapArg(net), '--identity', path.join(dir, 'id.json'), '--timeout', '15000', '--json']
  const remote = await cliRun(['call', ready.contract as string, 'surface', ...b])
  t.is(remote.code, 0, remote.stderr)
  const theirs = JSON.parse(remote.stdout).result as string[]
  const local = await harness(t, PROBE, undefined, { ...LIMITS, timeoutMs: 10_000 })
  const ours = await local.value(t, 'surface') as string[]
  const onlyTheirs = theirs.filter((p) => !ours.includes(p))
  const onlyOurs = ours.filter((p) => !theirs.includes(p))
  t.alike({ onlyTheirs, onlyOurs }, { onlyTheirs: [], onlyOurs: [] }, `the same ${ours.length} built-in paths on ${otherVersion} and ${process.version}`)

  const probe = await cliRun(['call', ready.contract as string, 'probe', ...b])
  t.is(probe.code, 0, probe.stderr)
  t.alike(JSON.parse(probe.stdout).result, await local.value(t, 'probe'), 'newer built-ins absent on both')

  const verify = await cliRun(['verify', ready.contract as string, '--bootstrap', bootstrapArg(net), '--json', '--timeout', '15000'], { timeoutMs: 90_000 })
  t.is(verify.code, 0, `verify on ${process.version} of a host on ${otherVersion}: ok (${verify.stdout.slice(-400)} ${verify.stderr})`)
})
