// Watchers and `verify` as separate processes against a `vms-node host`
// process: a host under load judged ok by two watchers, an operator who
// edits the drive behind the log, and a contract nobody hosts.

import test from 'brittle'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { VmsClient } from '../src/client.js'
import { keyPair } from '../src/crypto.js'
import { formatKey } from '../src/keys.js'
import { bootstrapArg, cli, cliRun, examplePath, identity, testnet, tmpdir } from './helpers.js'
import { line } from './fault-helpers.js'
import type { CliProcess, T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'

test('host under load (3 callers x 30 calls) and two watcher processes: both reach ok at the final length; verify agrees', async (t) => {
  const net = await testnet(t)
  const host = startHost(t, net, 'rsvp.js', path.join(tmpdir(t), 'host'))
  const ready = await host.event('ready')
  const key = ready.contract as string
  const w1 = cli(t, ['watch', key, '--storage', path.join(tmpdir(t), 'w1'), '--bootstrap', bootstrapArg(net), '--json'])
  const w2 = cli(t, ['watch', key, '--storage', path.join(tmpdir(t), 'w2'), '--bootstrap', bootstrapArg(net), '--json'])
  await w1.event('watching')
  await w2.event('watching')

  const clients = await Promise.all([0, 1, 2].map(async () => {
    const c = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: identity(), timeout: 30_000 })
    t.teardown(() => c.close())
    return c
  }))
  const start = performance.now()
  await Promise.all(clients.map(async (c, k) => {
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => c.RSVP(`guest-${k}-${round}-${i}`, i % 2 === 0, 'load')))
    }
  }))
  t.comment(`90 calls from 3 callers in ${Math.round(performance.now() - start)} ms`)
  const final = 2 + 90
  for (const w of [w1, w2]) {
    const v = await line(w, (l) => (l.event === 'verdict' && l.length === final) || l.event === 'fault', 60_000)
    for (const l of w.lines) if (l.event === 'warning') t.comment('watcher warning: ' + String(l.message))
    t.is(v.event, 'verdict', JSON.stringify(v).slice(0, 500))
    t.is(v.verdict, 'ok')
    t.is(v.length, final)
  }

  const verify = await cliRun(['verify', key, '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  t.is(verify.code, 0, verify.stderr + verify.stdout)
  const out = JSON.parse(verify.stdout.trim().split('\n').pop()!)
  t.is(out.verdict, 'ok')
  t.is(out.length, final)
  t.is(out.contract, key)
  t.is(out.fault, null)
})

test('operator edits the drive with a stock Hyperdrive while the host is down: verify names the next call as a files fault', async (t) => {
  const net = await testnet(t)
  const storage = path.join(tmpdir(t), 'host')
  const host = startHost(t, net, 'persistent-counter-fixed.js', storage)
  const ready = await host.event('ready')
  const key = ready.contract as string
  const caller = identity()
  const c1 = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: caller, timeout: 15_000 })
  for (let i = 0; i < 3; i++) await c1.increment()
  await c1.close()
  host.child.kill('SIGTERM')
  await host.exited

  const store = new Corestore(path.join(storage, 'corestore'))
  const drive = new Hyperdrive(store.namespace('contract/persistent-counter-fixed').namespace('files'))
  await drive.ready()
  t.is(formatKey(drive.key!), ready.files, 'the operator opened the contract drive')
  await drive.put('/counter', Buffer.from('100'))
  await drive.close()
  await store.close()

  const again = startHost(t, net, 'persistent-counter-fixed.js', storage)
  await again.event('ready')
  const c2 = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: caller, timeout: 15_000 })
  t.teardown(() => c2.close())
  t.is(await c2.increment(), 101, 'the host served the edited state')
  const edited = c2.lastReceipt!.index

  const verify = await cliRun(['verify', key, '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  t.is(verify.code, 1, verify.stderr)
  const out = JSON.parse(verify.stdout.trim().split('\n').pop()!)
  t.is(out.verdict, 'fault')
  t.is(out.fault.kind, 'files')
  t.is(out.fault.index, edited, 'names the first call after the edit')
  t.is(out.fault.cause, 'host')
  t.is(out.length, edited, 'everything before it is ok')
  const changed = out.fault.evidence.observed.unloggedChanges as Array<{ path: string }>
  t.alike(changed.map((c) => c.path), ['/counter'], 'evidence lists the path edited outside the log')
  t.is(out.fault.evidence.records.length, 2, 'the previous record and the faulty one')
})

test('verify exits 2 when no host answers within --timeout', async (t) => {
  const net = await testnet(t)
  const start = Date.now()
  const r = await cliRun(['verify', formatKey(keyPair().publicKey), '--bootstrap', bootstrapArg(net), '--timeout', '1500', '--json'], { timeoutMs: 120_000 })
  t.is(r.code, 2, r.stderr)
  t.ok(Date.now() - start < 20_000, 'gave up in time')
  t.is(JSON.parse(r.stdout.trim()).error.code, 'NOT_FOUND')
})

function startHost (t: T, net: Testnet, contract: string, storage: string): CliProcess {
  return cli(t, ['host', examplePath(contract), '--storage', storage, '--bootstrap', bootstrapArg(net), '--json'])
}
