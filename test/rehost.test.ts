// Rehosting: watchers with storage announce and serve the log and
// files they replicated, so that with the host stopped a stock Hyperdrive
// reads the whole state, `verify` audits the whole log from them (the root it
// judges handed over by a watcher that kept it: host-signed), and `call`
// fails fast with HOST_OFFLINE. Real processes on a local testnet.

import test from 'brittle'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { VmsClient } from '../src/client.js'
import type { HostNode } from '../src/host/host-node.js'
import { formatKey } from '../src/keys.js'
import { parseKey } from '../src/keys.js'
import { createSwarm } from '../src/net/swarm.js'
import { bootstrapArg, cli, cliRun, example, examplePath, hostNode, identity, rewriteHistory, testnet, tmpdir, until } from './helpers.js'
import { line } from './fault-helpers.js'
import type { CliProcess, T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'

test('host + 2 watchers, host stopped: a stock Hyperdrive reads every RSVP from the watchers; verify exits 0 from them alone; call gives HOST_OFFLINE; VmsClient reads and tells freshness', async (t) => {
  const net = await testnet(t)
  const host = startHost(t, net, 'rsvp.js', path.join(tmpdir(t), 'host'))
  const ready = await host.event('ready')
  const key = ready.contract as string
  const w1 = startWatch(t, net, key, path.join(tmpdir(t), 'w1'))
  const w2 = startWatch(t, net, key, path.join(tmpdir(t), 'w2'))
  await w1.event('watching')
  await w2.event('watching')

  const names = ['ann', 'bob', 'cy']
  for (const name of names) {
    const c = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
    await c.RSVP(name, true, 'rehost')
    await c.close()
  }
  const final = 2 + names.length
  for (const w of [w1, w2]) {
    // judged to the end and holding the host's signed root of it (what it hands over once the host is gone)
    const v = await line(w, (l) => (l.event === 'verdict' && l.length === final && (l.statement as { length?: number } | null)?.length === final) || l.event === 'fault', 60_000)
    t.is(v.verdict, 'ok', 'watcher judged every call and kept the host-signed root')
  }
  host.child.kill('SIGTERM')
  await host.exited

  const read = await readDrive(t, net, ready.files as string, names.length)
  t.is(read.length, names.length, 'every RSVP read from the watchers')
  t.alike(read.map((r) => r.name).sort(), names, 'with their content')

  const verify = await cliRun(['verify', key, '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  t.is(verify.code, 0, verify.stderr + verify.stdout)
  const out = JSON.parse(verify.stdout.trim().split('\n').pop()!)
  t.is(out.verdict, 'ok')
  t.is(out.length, final, 'the whole log, judged against a host-signed root a watcher kept')

  const start = Date.now()
  const call = await cliRun(['call', key, 'RSVP', 'dan', 'true', 'late', '--bootstrap', bootstrapArg(net), '--timeout', '10000', '--identity', path.join(tmpdir(t), 'dan.json')], { timeoutMs: 60_000 })
  t.is(call.code, 1, call.stderr)
  t.ok(/HOST_OFFLINE: .*[12] replicas? serves? its state \(as of call 4\)/.test(call.stderr), call.stderr.trim())
  t.ok(Date.now() - start < 10_000, `call failed fast (${Date.now() - start} ms, with process start)`)

  const client = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => client.close())
  t.is(client.hostOnline, false, 'the client knows the host is offline')
  const drive = await client.openFiles()
  const paths: string[] = []
  for await (const e of drive.list('/rsvps')) paths.push(e.key)
  t.is(paths.length, names.length, 'openFiles: every RSVP at the covered version')
  const first = await client.read(paths[0]!)
  t.ok(first.value && names.includes(JSON.parse(first.value.toString()).name), 'read: a proven point read from the replicas')
  t.is(first.length, final, 'read at the newest host-signed root a replica kept')
  const fresh = await client.freshness()
  t.is(fresh.length, final, 'freshness: state as of the newest host-signed root')
  t.ok(fresh.time !== null && fresh.time <= Date.now() && fresh.time > Date.now() - 120_000, 'freshness: the recorded time of the last call (host last seen)')
  t.ok(fresh.replicas >= 1 && !fresh.hostOnline, `${fresh.replicas} replicas, no host`)
  await t.exception(client.call('RSVP', 'eve', true, 'late'), /HOST_OFFLINE/, 'VmsClient call: HOST_OFFLINE')

  const info = await cliRun(['info', key, '--bootstrap', bootstrapArg(net), '--timeout', '10000', '--json', '--identity', path.join(tmpdir(t), 'info.json')], { timeoutMs: 60_000 })
  t.is(info.code, 0, info.stderr)
  const i = JSON.parse(info.stdout)
  t.is(i.host, 'offline', 'info says the host is offline')
  t.ok(i.replicas >= 1, `and who serves: ${i.replicas} replicas`)
  t.is(i.stateLength, final, 'state as of the newest host-signed root')
  t.ok(i.methods.includes('RSVP'), 'methods from the genesis source the replicas served')
  const text = await cliRun(['info', key, '--bootstrap', bootstrapArg(net), '--timeout', '10000', '--identity', path.join(tmpdir(t), 'info.json')], { timeoutMs: 60_000 })
  t.ok(/Host: +host offline; [12] replicas? serves? the state as of call 4 \(host last seen \d+ (s|min) ago\)/.test(text.stdout), text.stdout.split('\n')[0]!)
})

test('seed: fed by a watcher after the host stopped, keeps the contract readable and auditable once the watcher stops too, and again after its own restart', async (t) => {
  const net = await testnet(t)
  const host = startHost(t, net, 'rsvp.js', path.join(tmpdir(t), 'host'))
  const ready = await host.event('ready')
  const key = ready.contract as string
  const w1 = startWatch(t, net, key, path.join(tmpdir(t), 'w1'))
  await w1.event('watching')
  const names = ['ann', 'bob']
  for (const name of names) {
    const c = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
    await c.RSVP(name, false, 'seed')
    await c.close()
  }
  const final = 2 + names.length
  await line(w1, (l) => l.event === 'verdict' && l.length === final && (l.statement as { length?: number } | null)?.length === final, 60_000)
  host.child.kill('SIGTERM')
  await host.exited

  const storage = path.join(tmpdir(t), 'seed')
  const seed = cli(t, ['seed', key, '--storage', storage, '--bootstrap', bootstrapArg(net), '--json'])
  const complete = await line(seed, (l) => l.event === 'complete' && l.length === final, 60_000)
  t.ok(complete, `the seeder holds every block (log ${String(complete.length)}, files ${String(complete.filesLength)}, blobs ${String(complete.blobsLength)}), fed by the watcher alone`)
  t.ok(Number(complete.blobsLength) >= names.length, 'its blobs included: complete means every blob the files refer to (it once said complete with 0 blobs, before the blobs core had its first update)')
  w1.child.kill('SIGTERM')
  await w1.exited

  const read = await readDrive(t, net, ready.files as string, names.length)
  t.alike(read.map((r) => r.name).sort(), names, 'a stock Hyperdrive reads every RSVP from the seeder alone')
  const verify = await cliRun(['verify', key, '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  t.is(verify.code, 0, verify.stderr)
  t.is(JSON.parse(verify.stdout.trim().split('\n').pop()!).length, final, 'verify audits the whole log from the seeder alone')

  seed.child.kill('SIGTERM')
  await seed.exited
  const again = cli(t, ['seed', key, '--storage', storage, '--bootstrap', bootstrapArg(net), '--json'])
  await line(again, (l) => l.event === 'complete' && l.length === final, 60_000)
  const reread = await readDrive(t, net, ready.files as string, names.length)
  t.alike(reread.map((r) => r.name).sort(), names, 'after a restart from --storage, with nobody else online, it still serves everything')
})

test('host returns with a rewritten log: the watcher that served meanwhile reports the fork, and a fresh verify learns it from the rehosted copy', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  const open = async (): Promise<HostNode> => await hostNode(t, net, storage)
  const node = await open()
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  const key = formatKey(host.key)
  const w1 = startWatch(t, net, key, path.join(tmpdir(t), 'w1'))
  await w1.event('watching')
  const c = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  for (let i = 0; i < 4; i++) await c.increment()
  await c.close()
  const final = host.log.length
  await line(w1, (l) => l.event === 'verdict' && l.length === final && (l.statement as { length?: number } | null)?.length === final, 60_000)
  await node.close()

  // host away: the watcher serves the state
  const away = await cliRun(['verify', key, '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  t.is(away.code, 0, 'while the host is away, verify audits from the watcher: ' + away.stderr)

  // back, from the same storage, with another history
  const back = await open()
  const again = await back.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  t.alike(again.key, host.key, 'the same contract')
  await rewriteHistory(again, 3)

  const fresh = await cliRun(['verify', key, '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  t.is(fresh.code, 1, 'a verifier that never saw the old history: fault ' + fresh.stderr)
  const out = JSON.parse(fresh.stdout.trim().split('\n').pop()!)
  t.is(out.fault?.kind, 'fork', String(out.fault?.message))
  const fault = await line(w1, (l) => l.event === 'fault', 90_000)
  t.is((fault.fault as { kind?: string }).kind, 'fork', 'the watcher that served meanwhile reports the fork once the host is back')
})

/** Reads every `/rsvps/*.json` of the files drive `files` with a stock Hyperdrive on its own swarm, waiting for `count` of them. */
async function readDrive (t: T, net: Testnet, files: string, count: number): Promise<Array<{ name: string }>> {
  const store = new Corestore(tmpdir(t))
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(async () => { await swarm.destroy(); await store.close() })
  swarm.on('connection', (conn) => store.replicate(conn))
  const drive = new Hyperdrive(store, parseKey(files))
  await drive.ready()
  swarm.join(drive.discoveryKey!, { server: false, client: true })
  await swarm.flush()
  const out: Array<{ name: string }> = []
  await until(() => drive.version > 1 && drive.core.peers.length > 0, 30_000)
  await drive.update({ wait: true })
  for await (const entry of drive.list('/rsvps')) {
    const buf = await drive.get(entry.key, { wait: true, timeout: 15_000 })
    if (buf) out.push(JSON.parse(buf.toString()) as { name: string })
  }
  t.comment(`stock Hyperdrive: version ${drive.version}, ${drive.core.peers.length} peers`)
  if (out.length < count) t.comment(`only ${out.length} of ${count} files`)
  return out
}

function startHost (t: T, net: Testnet, contract: string, storage: string): CliProcess {
  return cli(t, ['host', examplePath(contract), '--storage', storage, '--bootstrap', bootstrapArg(net), '--json'])
}

function startWatch (t: T, net: Testnet, key: string, storage: string): CliProcess {
  return cli(t, ['watch', key, '--storage', storage, '--bootstrap', bootstrapArg(net), '--json'])
}
