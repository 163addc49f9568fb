// Fault suite, real interfaces: hosts, watchers and a client each in their
// own Linux network namespace, joined by veth links to a bridge in a switch
// namespace that also runs the DHT bootstrap. Contracts are called, audited
// and attested across the links; then a host's and a watcher's links are
// cut and restored, and everyone reconnects and catches up.
//
// Needs root and iproute2 (`ip netns`); skipped with a message otherwise.
// Only private addresses (10.77.0.0/24) inside namespaces this test creates;
// every namespace (and with it every link) is deleted at teardown.

import test from 'brittle'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { CLI, examplePath, tmpdir } from './helpers.js'
import { line, runScript, spawnJson, type FT as T, type JsonProcess } from './fault-helpers.js'

const NAME = 'network namespaces: hosts, watchers and a client on real interfaces; a host\'s and a watcher\'s links cut and restored -> calls, audits and attestations flow across, nodes reconnect and catch up'
const PREFIX = 'vmsf-' + process.pid + '-'
const SUBNET = '10.77.0.'
const SWITCH = PREFIX + 'sw'
const NODES = { h1: 11, h2: 12, w1: 21, w2: 22, c: 31 } as const
type Role = keyof typeof NODES

function ip (...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`)
}

/** Why this machine cannot run the test, or null. */
function unavailable (): string | null {
  if (process.platform !== 'linux') return 'not Linux'
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root (ip netns needs root)'
  const v = spawnSync('ip', ['-V'], { encoding: 'utf8' })
  if (v.error || v.status !== 0) return 'the ip command (iproute2) is missing'
  const probe = PREFIX + 'probe'
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' })
  if (add.status !== 0) return 'cannot create network namespaces here: ' + add.stderr.trim()
  spawnSync('ip', ['netns', 'del', probe])
  return null
}

/** Deletes namespaces left by earlier runs of this test whose process is gone. */
function removeStale (): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? ''
  for (const name of list.split('\n').map((l) => l.split(' ')[0]!)) {
    const m = /^vmsf-(\d+)-/.exec(name)
    if (!m || Number(m[1]) === process.pid) continue
    try { process.kill(Number(m[1]), 0) } catch { spawnSync('ip', ['netns', 'del', name]) }
  }
}

/** Builds the switch namespace (bridge + DHT address) and one namespace per role, each on a veth link to the bridge. */
function buildNetwork (t: T): void {
  const created: string[] = []
  // runs after the processes inside are killed (order 0), before temporary folders go (order Infinity)
  // forced: it runs even when the test throws
  t.teardown(() => { for (const ns of created.reverse()) spawnSync('ip', ['netns', 'del', ns]) }, { order: 1000, force: true })
  const add = (ns: string): void => { ip('netns', 'add', ns); created.push(ns); ip('-n', ns, 'link', 'set', 'lo', 'up') }
  add(SWITCH)
  ip('-n', SWITCH, 'link', 'add', 'br0', 'type', 'bridge')
  ip('-n', SWITCH, 'addr', 'add', SUBNET + '1/24', 'dev', 'br0')
  ip('-n', SWITCH, 'link', 'set', 'br0', 'up')
  for (const [role, octet] of Object.entries(NODES)) {
    const ns = PREFIX + role
    add(ns)
    ip('-n', SWITCH, 'link', 'add', 'p-' + role, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
    ip('-n', SWITCH, 'link', 'set', 'p-' + role, 'master', 'br0')
    ip('-n', SWITCH, 'link', 'set', 'p-' + role, 'up')
    ip('-n', ns, 'addr', 'add', SUBNET + octet + '/24', 'dev', 'eth0')
    ip('-n', ns, 'link', 'set', 'eth0', 'up')
  }
}

/** Cuts (or restores) the link of `role` at the switch: its veth goes down, the peer loses carrier. */
function link (role: Role, up: boolean): void {
  ip('-n', SWITCH, 'link', 'set', 'p-' + role, up ? 'up' : 'down')
}

/** `vms-node <args>` inside the namespace of `role`, its DHT bound to the namespace's address. */
function nsCli (t: T, role: Role | 'sw', args: string[]): JsonProcess {
  const ns = role === 'sw' ? SWITCH : PREFIX + role
  const bind = role === 'sw' ? [] : ['--bind-host', SUBNET + NODES[role]]
  return spawnJson(t, 'ip', ['netns', 'exec', ns, process.execPath, '--no-node-snapshot', CLI, ...args, ...bind, '--json'])
}

/** A long-lived client inside a namespace: `{ id, key, method, args, quorum, fresh }` in, `result` or `error` out (`fresh`: a new connection). */
const CLIENT = `
const { VmsClient } = await import(dist + '/src/client.js')
const clients = new Map()
for await (const l of commands) {
  const cmd = JSON.parse(l)
  const name = cmd.key + '/' + (cmd.quorum ?? 0) + (cmd.fresh ? '/' + cmd.id : '')
  try {
    let c = clients.get(name)
    if (!c) {
      c = await VmsClient.connect(cmd.key, { bootstrap: args.bootstrap, bindHost: args.bindHost, identity: args.identity, timeout: cmd.timeout ?? 15000, quorum: cmd.quorum ?? 0, quorumTimeout: 60000 })
      clients.set(name, c)
    }
    const result = await c.call(cmd.method, ...cmd.args)
    out({ event: 'result', id: cmd.id, result: result ?? null, length: c.lastReceipt.root.length })
  } catch (e) {
    out({ event: 'error', id: cmd.id, code: e.code ?? 'INTERNAL', message: e.message })
  }
}
`

const reason = unavailable()
if (reason) {
  test(NAME, { skip: true }, () => {})
  console.log(`# skipped "${NAME.slice(0, 60)}...": ${reason}`)
} else {
  test(NAME, { timeout: 240_000 }, async (t) => {
    removeStale()
    buildNetwork(t)
    const dir = tmpdir(t)
    const boot = SUBNET + '1:49737'

    const devnet = nsCli(t, 'sw', ['devnet', '--host', SUBNET + '1', '--port', '49737'])
    await devnet.event('ready', 60_000)
    const h1 = nsCli(t, 'h1', ['host', examplePath('rsvp.js'), '--storage', path.join(dir, 'h1'), '--bootstrap', boot])
    const h2 = nsCli(t, 'h2', ['host', examplePath('persistent-counter-fixed.js'), '--storage', path.join(dir, 'h2'), '--bootstrap', boot])
    const [r1, r2] = await Promise.all([h1.event('ready', 60_000), h2.event('ready', 60_000)])
    const k1 = r1.contract as string
    const k2 = r2.contract as string
    const watchers = (['w1', 'w2'] as const).map((w) => nsCli(t, w, ['watch', k1, k2, '--storage', path.join(dir, w), '--bootstrap', boot]))
    await Promise.all(watchers.map((w) => line(w, (l) => l.event === 'watching' && l.contract === k2, 60_000)))

    const client = runScript(t, CLIENT, { bootstrap: [{ host: SUBNET + '1', port: 49737 }], bindHost: SUBNET + NODES.c, identity: path.join(dir, 'caller.json') }, { prefix: ['ip', 'netns', 'exec', PREFIX + 'c'] })
    let nextId = 0
    const call = async (key: string, method: string, args: unknown[], opts: { quorum?: number, timeout?: number, fresh?: boolean } = {}): Promise<Record<string, unknown>> => {
      const id = ++nextId
      client.send({ id, key, method, args, ...opts })
      return await line(client, (l) => l.id === id, 120_000)
    }
    const verdictAt = (w: JsonProcess, key: string, length: number) => line(w, (l) => (l.event === 'verdict' && l.contract === key && (l.length as number) >= length) || l.event === 'fault', 120_000)

    // across the links: calls, then calls that wait for both watchers' attestations
    for (let i = 0; i < 3; i++) t.is((await call(k2, 'increment', [])).result, i + 1, `increment ${i + 1} from the client namespace`)
    const rsvp = await call(k1, 'RSVP', ['alice', true, 'from another namespace'], { quorum: 2 })
    t.is(rsvp.event, 'result', 'an RSVP returned once both watchers (two more namespaces) attested it: ' + JSON.stringify(rsvp).slice(0, 300))
    const q = await call(k2, 'increment', [], { quorum: 2 })
    t.is(q.result, 4, 'and a counter call with a quorum of two')
    for (const w of watchers) {
      for (const [key, length] of [[k1, rsvp.length], [k2, q.length]] as const) {
        const v = await verdictAt(w, key, length as number)
        t.is(v.verdict, 'ok', `a watcher judged ${key.slice(0, 8)} ok up to ${String(length)} over the links`)
      }
    }

    // cut h1 and w2 off
    link('h1', false)
    link('w2', false)
    const cutAt = Date.now()
    t.comment('links of h1 and w2 are down')
    const during: number[] = []
    for (let i = 0; i < 3; i++) {
      const r = await call(k2, 'increment', [], { quorum: 1 })
      t.is(r.event, 'result', 'h2 keeps serving, attested by the watcher still connected')
      during.push(r.length as number)
    }
    const lost = await call(k1, 'RSVP', ['bob', false, 'is anyone there?'], { timeout: 3000 })
    t.is(lost.event, 'error', `a call to the cut-off host fails: ${String(lost.code)}`)
    const w1During = await verdictAt(watchers[0]!, k2, during.at(-1)!)
    t.is(w1During.verdict, 'ok', 'w1 followed h2 during the cut')
    t.absent(watchers[1]!.lines.some((l) => l.event === 'verdict' && l.contract === k2 && (l.length as number) >= during.at(-1)!), 'w2 could not follow while cut off')

    // restore: everyone reconnects and catches up
    link('h1', true)
    link('w2', true)
    t.comment(`links restored after ${Date.now() - cutAt} ms`)
    const back = await call(k1, 'RSVP', ['bob', true, 'back again'], { quorum: 2, timeout: 30_000, fresh: true })
    t.is(back.event, 'result', 'a new connection reaches the host whose link came back, and both watchers attest its new length: ' + JSON.stringify(back).slice(0, 300))
    const caught = await call(k2, 'increment', [], { quorum: 2 })
    t.is(caught.result, 8, 'the counter, with both watchers attesting again')
    const v = await verdictAt(watchers[1]!, k2, caught.length as number)
    t.is(v.verdict, 'ok', 'the watcher that was cut off caught up with the calls it missed')
    t.ok(watchers.every((w) => !w.lines.some((l) => l.event === 'fault')), 'no fault anywhere')
  })
}
