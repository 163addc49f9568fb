// Watchers and `verify` as separate processes against a `vms-node host`
// process: a host under load judged ok by two watchers, an operator who
// edits the drive behind the log, and a contract nobody hosts.

import test from 'brittle'
import path from 'node:path'
import readline from 'node:readline'
import { spawn } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { VmsClient } from '../src/client.js'
import { keyPair } from '../src/crypto.js'
import { formatKey } from '../src/keys.js'
import { ROOT, bootstrapArg, cli, cliRun, examplePath, identity, testnet, tmpdir } from './helpers.js'
import type { CliProcess, T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'

test('host under load (3 callers x 30 calls) and two watcher processes: both reach ok at the final length; verify agrees', async (t) => {
  const net = await testnet(t)
  const host = startHost(t, net, 'rsvp.js', path.join(tmpdir(t), 'host'))
  const ready = await host.event('ready')
  const key = ready.contract as string
  const w1 = await auditCommand(t, ['watch', key, '--storage', path.join(tmpdir(t), 'w1'), '--bootstrap', bootstrapArg(net), '--json'])
  const w2 = await auditCommand(t, ['watch', key, '--storage', path.join(tmpdir(t), 'w2'), '--bootstrap', bootstrapArg(net), '--json'])
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

  const verify = await auditRun(['verify', key, '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'])
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

  const verify = await auditRun(['verify', key, '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'])
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
  const r = await auditRun(['verify', formatKey(keyPair().publicKey), '--bootstrap', bootstrapArg(net), '--timeout', '1500', '--json'])
  t.is(r.code, 2, r.stderr)
  t.ok(Date.now() - start < 20_000, 'gave up in time')
  t.is(JSON.parse(r.stdout.trim()).error.code, 'NOT_FOUND')
})

function startHost (t: T, net: Testnet, contract: string, storage: string): CliProcess {
  return cli(t, ['host', examplePath(contract), '--storage', storage, '--bootstrap', bootstrapArg(net), '--json'])
}

/** Resolves with the first JSON line of `proc` for which `pred` holds. */
function line (proc: CliProcess, pred: (l: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>> {
  const end = Date.now() + ms
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const hit = proc.lines.find(pred)
      if (hit) return resolve(hit)
      if (Date.now() > end) return reject(new Error(`no matching line in ${ms} ms; stderr: ${proc.stderr()}; last: ${JSON.stringify(proc.lines.at(-1))}`))
      setTimeout(check, 50)
    }
    check()
  })
}

// `watch` and `verify` run through the CLI once it has them; before that, through the
// same command functions in a child process, with the same flags.
let cliKnows: Promise<boolean> | null = null
function cliHasAudit (): Promise<boolean> {
  if (!cliKnows) cliKnows = cliRun(['--help']).then((r) => /\bverify\b/.test(r.stdout) && /\bwatch\b/.test(r.stdout))
  return cliKnows
}

const RUNNER = `
const [cmd, ...argv] = process.argv.slice(1)
const keys = []
const o = {}
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]
  if (!a.startsWith('--')) { keys.push(a); continue }
  const name = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase())
  if (name === 'json') o.json = true
  else o[name] = argv[++i]
}
const dist = process.env.VMS_DIST
const { parseBootstrap } = await import(dist + '/src/net/swarm.js')
const { processOutput } = await import(dist + '/src/commands/output.js')
const opts = { bootstrap: parseBootstrap(o.bootstrap), storage: o.storage, timeout: o.timeout ? Number(o.timeout) : undefined, source: o.source, sourceHash: o.sourceHash }
const out = processOutput(!!o.json)
if (cmd === 'verify') {
  const { runVerify } = await import(dist + '/src/commands/verify.js')
  process.exit(await runVerify(keys[0], opts, out))
} else {
  const { runWatch } = await import(dist + '/src/commands/watch.js')
  const { watcher } = await runWatch(keys, opts, out)
  process.once('SIGTERM', () => watcher.close().then(() => process.exit(0)))
}
`

function runnerArgs (args: string[]): { argv: string[], env: Record<string, string> } {
  return {
    argv: ['--no-node-snapshot', '--input-type=module', '-e', RUNNER, ...args],
    env: { VMS_DIST: pathToFileURL(path.join(ROOT, 'dist')).href }
  }
}

/** A long-running `watch` process. */
async function auditCommand (t: T, args: string[]): Promise<CliProcess> {
  if (await cliHasAudit()) return cli(t, args)
  const { argv, env } = runnerArgs(args)
  const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: Array<Record<string, unknown>> = []
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    try { lines.push(JSON.parse(l) as Record<string, unknown>) } catch { lines.push({ text: l }) }
  })
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const proc: CliProcess = {
    child,
    lines,
    exited,
    stderr: () => err,
    event: (name, ms = 30_000) => line(proc, (l) => l.event === name, ms)
  }
  return proc
}

/** A one-shot `verify` run. */
async function auditRun (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  if (await cliHasAudit()) return await cliRun(args, { timeoutMs: 120_000 })
  const { argv, env } = runnerArgs(args)
  const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  clearTimeout(timer)
  return { code, stdout, stderr }
}
