// Fault suite, the host: hostile contract code next to honest contracts in
// one host process (limits, bounded memory), prototype pollution across
// calls and contracts, and nondeterminism probes replayed by watcher
// processes that run in other time zones and locales. See
// docs/threat-model.md.

import test from 'brittle'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from '../src/crypto.js'
import { bootstrapArg, example, hostNode, testnet, tmpdir } from './helpers.js'
import { cliJson as cli, connect, line, runScript, until, watcherOn } from './fault-helpers.js'

const HOSTILE = `
exports.spin = () => { for (;;) {} }
exports.hang = () => new Promise(() => {})
exports.bomb = () => { const a = []; for (;;) a.push(new Array(1e6).fill(a.length)) }
exports.big = (n) => 'x'.repeat(n)
exports.ok = () => 'still here'
`

/** A host process serving several contracts from one HostNode; answers `rss` requests on stdin (after a full GC: retained memory, not garbage). */
const MULTI_HOST = `
const { HostNode } = await import(dist + '/src/host/host-node.js')
const { createSandbox, runtimeFingerprint } = await import(dist + '/src/runtime/sandbox.js')
const { formatKey } = await import(dist + '/src/keys.js')
const node = new HostNode({ storage: args.storage, sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: args.bootstrap })
const keys = {}
for (const c of args.contracts) keys[c.name] = formatKey((await node.deploy(c.source, { name: c.name, limits: c.limits })).key)
out({ event: 'ready', keys })
for await (const l of commands) {
  const cmd = JSON.parse(l)
  if (cmd.op === 'rss') { globalThis.gc(); out({ event: 'rss', id: cmd.id, rss: process.memoryUsage().rss }) }
}
`

test('hostile contract (loops, unsettled promises, memory bombs, huge results) on a host of several contracts -> clear errors, every other contract keeps being served, process RSS stays bounded', async (t) => {
  const net = await testnet(t)
  const proc = runScript(t, MULTI_HOST, {
    storage: tmpdir(t),
    bootstrap: net.bootstrap,
    contracts: [
      { name: 'hostile', source: HOSTILE, limits: { timeoutMs: 400, memoryMb: 32, maxResultBytes: 10_000 } },
      // the same code with a long deadline: a memory bomb must meet the memory limit first, however busy the machine
      { name: 'bomber', source: HOSTILE, limits: { timeoutMs: 10_000, memoryMb: 32, maxResultBytes: 10_000 } },
      { name: 'counter', source: example('counter.js') },
      { name: 'rsvp', source: example('rsvp.js') }
    ]
  }, { nodeArgs: ['--expose-gc'] })
  const ready = await proc.event('ready', 60_000)
  const keys = ready.keys as Record<string, string>
  const hostile = await connect(t, net, keys.hostile!, { timeout: 30_000 })
  const bomber = await connect(t, net, keys.bomber!, { timeout: 30_000 })
  const counter = await connect(t, net, keys.counter!, { timeout: 30_000 })
  const rsvp = await connect(t, net, keys.rsvp!, { timeout: 30_000 })
  let rssId = 0
  const rss = async (): Promise<number> => {
    const id = ++rssId
    proc.send({ op: 'rss', id })
    return (await line(proc, (l) => l.event === 'rss' && l.id === id)).rss as number
  }

  const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { code: string }) => e.code)
  const ROUNDS = Number(process.env.VMS_FAULT_ROUNDS ?? 6)
  const samples: number[] = []
  let count = 0
  let servedDuringAttack = 0
  for (let round = 0; round < ROUNDS; round++) {
    let busy = true
    const attack = (async () => {
      const codes = [await codeOf(hostile.spin()), await codeOf(hostile.hang()), await codeOf(bomber.bomb()), await codeOf(bomber.big(100_000))]
      busy = false
      return codes
    })()
    // the honest contracts are called while the hostile one loops, hangs and blows up
    // (a few calls a round: memory must not grow with attacks, and honest data is not what is measured)
    for (let i = 0; i < 3; i++) {
      t.is(await counter.increment(), ++count)
      await rsvp.RSVP('guest ' + (count % 5), count % 2 === 0)
      if (busy) servedDuringAttack++
    }
    t.alike(await attack, ['TIMEOUT', 'TIMEOUT', 'MEMORY_LIMIT', 'RESULT_TOO_LARGE'], `round ${round}: each attack fails with its own clear code`)
    t.is(await hostile.ok(), 'still here', `round ${round}: the hostile contract itself still serves its other method`)
    t.is(await bomber.ok(), 'still here')
    samples.push(await rss())
  }
  t.ok(servedDuringAttack > 0, `${servedDuringAttack} honest calls were served while the hostile contract was looping or hanging`)
  const mb = samples.map((s) => Math.round(s / 1024 / 1024))
  t.comment(`host RSS after each round, MiB: ${mb.join(' ')}`)
  const settled = Math.max(...mb.slice(2))
  t.ok(settled - mb[1]! < 32, `RSS does not grow with the attacks: less than one bomb's 32 MiB over ${ROUNDS - 2} more rounds (after round 2: ${mb[1]} MiB, highest later: ${settled} MiB)`)
})

const POLLUTER = `
function merge (target, source) {
  for (const k of Object.keys(source)) {
    if (typeof source[k] === 'object' && source[k] !== null) { if (!target[k]) target[k] = {}; merge(target[k], source[k]) } else target[k] = source[k]
  }
  return target
}
exports.merge = (patch) => Object.keys(merge({}, patch)) // the classic vulnerable deep merge
exports.mergeThenThrow = (patch) => { merge({}, patch); throw new Error('after polluting') }
exports.mergeThenSpin = (patch) => { merge({}, patch); for (;;) {} }
exports.hijack = () => { JSON.stringify = () => '"lie"'; JSON.parse = () => ['lie']; Array.prototype.map = function () { return ['hijacked'] }; Object.keys = () => [] }
exports.hijackToJSON = () => { Object.prototype.toJSON = function () { return 'polluted' } }
exports.probe = () => ({ admin: ({}).admin === true, thrown: ({}).thrown === true, spun: ({}).spun === true, map: [1, 2].map((x) => x * 2) })
exports.record = async (name) => { const o = { b: 1, a: [name] }; await System.files.writeFile('/records/' + System.caller.id, o); return o }
exports.traverse = async (p) => { await System.files.writeFile(p, 'escaped?'); return System.files.readdir('/') }
`

test('prototype pollution across calls and contracts -> stays inside the polluting contract\'s isolate, replays identically, never reaches the host or other contracts; path traversal stays in the drive', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const polluter = await node.deploy(POLLUTER, { name: 'polluter', limits: { timeoutMs: 300 } })
  const neighbour = await node.deploy('exports.probe = () => ({ admin: ({}).admin === true, map: [1, 2].map((x) => x * 2), json: JSON.stringify({ a: 1 }) })', { name: 'neighbour' })
  const attacker = await connect(t, net, polluter.key)
  const victim = await connect(t, net, polluter.key)
  const other = await connect(t, net, neighbour.key)

  await attacker.merge(JSON.parse('{"__proto__":{"admin":true}}')) // pollutes Object.prototype through the contract's own merge
  await t.exception(attacker.mergeThenThrow(JSON.parse('{"__proto__":{"thrown":true}}')), /CONTRACT_ERROR/)
  await t.exception(attacker.mergeThenSpin(JSON.parse('{"__proto__":{"spun":true}}')), /TIMEOUT/)
  t.alike(await victim.probe(), { admin: true, thrown: true, spun: false, map: [2, 4] }, 'later callers of that contract see what its logged calls did (its own state), not what a call cut by a limit did (the isolate is rebuilt from the log)')
  await attacker.hijack()
  t.alike(await victim.record('v'), { a: ['v'], b: 1 }, 'results and writes are encoded by the runtime, not by the polluted JSON, Array or toJSON')
  const drive = await victim.openFiles()
  t.is((await drive.get('/records/' + victim.identity.id))?.toString(), '{"b":1,"a":["v"]}')
  await attacker.hijackToJSON()
  t.is(await victim.record('w'), 'polluted', 'an inherited toJSON is JSON semantics: the contract changed its own results, as every replay will')

  t.alike(await other.probe(), { admin: false, map: [2, 4], json: '{"a":1}' }, 'another contract on the same host is untouched')
  t.is(({} as Record<string, unknown>).admin, undefined, 'the host realm is untouched')
  t.is(JSON.stringify({ a: 1 }), '{"a":1}')

  const escapee = 'escape-' + randomBytes(6).toString('hex')
  const outside = path.join(os.tmpdir(), escapee)
  await attacker.traverse('../'.repeat(12) + outside.replace(/^\/+/, ''))
  t.absent(fs.existsSync(outside), 'a ../ path does not reach the host filesystem')
  t.is((await (await victim.openFiles()).get(outside))?.toString(), 'escaped?', 'it lands inside the drive, under the same name')

  const w = await watcherOn(t, net)
  const cw = await w.watch(polluter.key)
  const v = await cw.until(polluter.log.length, 30_000)
  t.is(v.verdict, 'ok', 'a watcher replays the pollution, the rebuild and the traversal to the same state: ' + (v.fault?.message ?? ''))
  t.is(v.length, polluter.log.length)
})

const PROBES = `
let n = 0
exports.probe = async () => {
  const d = new Date()
  let stack = ''
  try { null.x } catch (e) { stack = String(e.stack) }
  const out = {
    now: Date.now(), str: String(d), local: d.toLocaleString(), hours: d.getHours(), offset: d.getTimezoneOffset(),
    parsed: Date.parse('2020-06-01T12:00:00'), legacy: new Date(2020, 5, 1).getTime(),
    intl: Intl.DateTimeFormat().resolvedOptions(), number: (1234567.891).toLocaleString(), currency: new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' }).format(3.5),
    upper: 'istanbul'.toLocaleUpperCase(), lower: 'İI'.toLocaleLowerCase(), sorted: ['ä', 'z', 'a', 'Ö', 'o'].sort((a, b) => a.localeCompare(b)),
    collator: new Intl.Collator().compare('a', 'B'), plural: new Intl.PluralRules().select(2), relative: new Intl.RelativeTimeFormat().format(-1, 'day'),
    list: new Intl.ListFormat().format(['a', 'b', 'c']), random: [Math.random(), Math.random(), Math.random()],
    weakRef: typeof WeakRef, finalization: typeof FinalizationRegistry, shared: typeof SharedArrayBuffer, stack, errorStack: new Error('probe').stack
  }
  n++
  await System.files.writeFile('/probes/' + n + '.json', out)
  return out
}
`

test('nondeterminism probes (Math.random, Date, Intl and locale, WeakRef, error stacks) -> two watcher processes in other time zones and locales reach identical state hashes', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const source = path.join(dir, 'probes.js')
  fs.writeFileSync(source, PROBES)
  const envs = [
    { TZ: 'Asia/Kathmandu', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' },
    { TZ: 'America/St_Johns', LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' },
    { TZ: 'Pacific/Chatham', LANG: 'ja_JP.UTF-8', LC_ALL: 'ja_JP.UTF-8' }
  ]
  const host = cli(t, ['host', source, '--storage', path.join(dir, 'host'), '--bootstrap', bootstrapArg(net), '--json'], { env: envs[0] })
  const ready = await host.event('ready')
  const key = ready.contract as string
  const client = await connect(t, net, key)
  const results = []
  for (let i = 0; i < 5; i++) results.push(await client.probe() as Record<string, unknown>)
  const first = results[0]!
  t.is(first.offset, 0, 'a host in Kathmandu runs calls in UTC')
  t.is((first.intl as { locale: string, timeZone: string }).locale, 'en-US', 'and in en-US, whatever its LANG')
  t.is(first.weakRef, 'undefined')
  t.ok(results.every((r) => !String(r.stack).includes(dir) && !String(r.errorStack).includes(dir)), 'error stacks name no host path')
  t.unlike(results[0]!.random, results[1]!.random, 'Math.random differs per call (seeded from the record)')

  const watchers = envs.slice(1).map((env, i) => cli(t, ['watch', key, '--storage', path.join(dir, 'w' + i), '--bootstrap', bootstrapArg(net), '--json'], { env }))
  const final = 1 + results.length
  const verdicts = await Promise.all(watchers.map((w) => line(w, (l) => (l.event === 'verdict' && l.length === final) || l.event === 'fault', 60_000)))
  for (const v of verdicts) {
    t.is(v.event, 'verdict', JSON.stringify(v).slice(0, 300))
    t.is(v.verdict, 'ok', 'every replayed result matched the host\'s')
  }
  const [a, b] = verdicts as [Record<string, unknown>, Record<string, unknown>]
  t.is(a.treeHash, b.treeHash, 'same log')
  t.ok(a.filesHash && a.filesHash === b.filesHash, 'identical files state hash from St. John\'s (de_DE) and Chatham (ja_JP)')
  t.is(a.filesVersion, b.filesVersion)
  t.ok(await until(() => watchers.every((w) => !w.lines.some((l) => l.event === 'fault'))), 'no fault anywhere')
})
