// A separate `vms-node host` process, driven through the CLI and VmsClient:
// keys and state survive restarts, a SIGKILL under load loses no
// acknowledged call and leaves nothing half-applied, bad input gets one line.

import test from 'brittle'
import path from 'node:path'
import fs from 'node:fs'
import Corestore from 'corestore'
import { VmsClient } from '../src/client.js'
import { ContractLog } from '../src/log/contract-log.js'
import { bootstrapArg, cli, cliRun, examplePath, identity, testnet, tmpdir } from './helpers.js'
import type { T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'

function startHost (t: T, net: Testnet, contract: string, storage: string, extra: string[] = []) {
  return cli(t, ['host', examplePath(contract), '--storage', storage, '--bootstrap', bootstrapArg(net), '--json', ...extra])
}

async function stop (proc: ReturnType<typeof cli>, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  proc.child.kill(signal)
  await proc.exited
}

test('host process: RSVP via the CLI (call, info, repl --exec), then a restart keeps keys, log and files', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const storage = path.join(dir, 'host')
  const idFile = path.join(dir, 'bob.json')
  const host = startHost(t, net, 'rsvp.js', storage)
  const ready = await host.event('ready')
  t.is(typeof ready.contract, 'string')
  t.is((ready.contract as string).length, 52, 'contract key printed z-base32')
  t.alike(ready.methods, ['RSVP', 'init'])
  t.is(ready.length, 2, 'genesis + init')

  const b = ['--bootstrap', bootstrapArg(net), '--identity', idFile, '--timeout', '15000']
  const called = await cliRun(['call', ready.contract as string, 'RSVP', 'bob', 'false', 'Washing my hair, sorry!', '--json', ...b])
  t.is(called.code, 0, called.stderr)
  t.is(JSON.parse(called.stdout).result, null)
  t.is(JSON.parse(called.stdout).index, 2)

  const info = await cliRun(['info', ready.contract as string, '--json', ...b])
  t.is(info.code, 0, info.stderr)
  t.is(JSON.parse(info.stdout).length, 3)
  t.is(JSON.parse(info.stdout).files, ready.files)

  const repl = await cliRun(['repl', ready.contract as string, '--exec', "client.RSVP('bob', true)", '--json', ...b])
  t.is(repl.code, 0, repl.stderr)

  const bobId = JSON.parse(fs.readFileSync(idFile, 'utf8')).publicKey as string
  await stop(host)

  const again = startHost(t, net, 'rsvp.js', storage)
  const ready2 = await again.event('ready')
  t.is(ready2.contract, ready.contract, 'same contract key after restart')
  t.is(ready2.files, ready.files, 'same files key after restart')
  t.is(ready2.length, 4, 'log kept')

  const client = await VmsClient.connect(ready.contract as string, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => client.close())
  const drive = await client.openFiles()
  const names: string[] = []
  for await (const n of drive.readdir('/rsvps')) names.push(n)
  t.is(names.length, 1)
  const rec = JSON.parse((await drive.get('/rsvps/' + names[0]))!.toString())
  t.is(rec.isAttending, true, 'the last RSVP (from the repl) is the state')
  t.ok(Buffer.from(client.key).length === 32 && bobId.length === 64)
})

test('host process: in-memory contract state (the counter seed) survives a restart by replaying the log', async (t) => {
  const net = await testnet(t)
  const storage = path.join(tmpdir(t), 'host')
  const host = startHost(t, net, 'counter.js', storage)
  const ready = await host.event('ready')
  const c1 = await VmsClient.connect(ready.contract as string, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.is(await c1.increment(), 1)
  t.is(await c1.increment(), 2)
  await c1.close()
  await stop(host)

  const again = startHost(t, net, 'counter.js', storage)
  await again.event('ready')
  const c2 = await VmsClient.connect(ready.contract as string, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => c2.close())
  t.is(await c2.increment(), 3, 'state rebuilt from the call log')
})

test('host process: SIGKILL under load loses no acknowledged call and leaves no half-applied batch', async (t) => {
  const net = await testnet(t)
  const storage = path.join(tmpdir(t), 'host')
  const host = startHost(t, net, 'persistent-counter-fixed.js', storage)
  const ready = await host.event('ready')
  const client = await VmsClient.connect(ready.contract as string, { bootstrap: net.bootstrap, identity: identity(), timeout: 5_000 })
  t.teardown(() => client.close())

  const acked = new Map<number, unknown>() // log index -> result
  let stopped = false
  const worker = async (): Promise<void> => {
    while (!stopped) {
      try {
        const value = await client.increment()
        if (client.lastReceipt) acked.set(client.lastReceipt.index, value)
      } catch {
        return // the host died mid-call: that call was never acknowledged
      }
    }
  }
  const workers = [worker(), worker(), worker(), worker()]
  while (acked.size < 60) await new Promise((resolve) => setTimeout(resolve, 5))
  host.child.kill('SIGKILL')
  await host.exited
  stopped = true
  await Promise.all(workers)
  await client.close()
  t.comment(`${acked.size} calls acknowledged before the kill`)

  // open the storage directly: recovery runs, then the drive must match the log
  const store = new Corestore(path.join(storage, 'corestore'))
  const log = new ContractLog(store.namespace('contract/persistent-counter-fixed'))
  await log.ready()
  const lastFiles = await log.lastFilesVersion()
  t.is(log.drive?.version, lastFiles, 'drive version equals the last logged version (nothing half-applied)')
  let okCalls = 0
  for (let i = 1; i < log.length; i++) {
    const rec = await log.call(i)
    if (rec.outcome.ok) okCalls++
    if (acked.has(i)) t.is(JSON.parse(rec.outcome.result ?? 'null'), acked.get(i), `acknowledged call ${i} is in the log with its result`)
  }
  for (const index of acked.keys()) t.ok(index < log.length, `acknowledged index ${index} is logged`)
  t.is(Number((await log.drive!.get('/counter'))?.toString()), okCalls, '/counter equals the number of logged increments')
  await log.close()
  await store.close()

  const again = startHost(t, net, 'persistent-counter-fixed.js', storage)
  await again.event('ready')
  const c2 = await VmsClient.connect(ready.contract as string, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => c2.close())
  t.is(await c2.increment(), okCalls + 1, 'the restarted host continues from the logged state')
})

test('CLI: bad input gets one clear line and a non-zero exit, never a stack trace', async (t) => {
  const dir = tmpdir(t)
  const cases: Array<{ args: string[], code: string }> = [
    { args: ['host', path.join(dir, 'missing.js'), '--storage', dir, '--bootstrap', '127.0.0.1:1'], code: 'BAD_ARGUMENT' },
    { args: ['call', 'not-a-key', 'increment', '--bootstrap', '127.0.0.1:1'], code: 'BAD_KEY' },
    { args: ['info', 'x'.repeat(52), '--bootstrap', 'nohostport'], code: 'BAD_BOOTSTRAP' }
  ]
  const bad = path.join(dir, 'bad.js')
  fs.writeFileSync(bad, 'exports.x = function ( {')
  cases.push({ args: ['host', bad, '--storage', path.join(dir, 's'), '--bootstrap', '127.0.0.1:1'], code: 'CONTRACT_LOAD' })
  for (const c of cases) {
    const r = await cliRun(c.args, { timeoutMs: 30_000 })
    t.is(r.code, 1, `${c.args[0]} exits 1`)
    const lines = r.stderr.trim().split('\n')
    t.is(lines.length, 1, `one line: ${r.stderr.trim()}`)
    t.ok(lines[0].startsWith(`vms-node: ${c.code}: `), `code ${c.code}`)
    t.absent(/\n\s+at /.test(r.stderr), 'no stack trace')
  }
})

test('CLI: a key nobody hosts gives NOT_FOUND (exit 2) after the timeout', async (t) => {
  const net = await testnet(t)
  const r = await cliRun(['call', 'a'.repeat(64), 'x', '--bootstrap', bootstrapArg(net), '--timeout', '1500', '--identity', path.join(tmpdir(t), 'id.json')])
  t.is(r.code, 2)
  t.ok(r.stderr.startsWith('vms-node: NOT_FOUND: '), r.stderr)
})
