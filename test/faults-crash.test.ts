// Fault suite, crashes: a `vms-node host` process and a `vms-node watch`
// process are SIGKILLed at random points while callers load the host, over
// many iterations (VMS_FAULT_ITERATIONS, default 20; `npm run test:faults`
// runs 200). After every kill: no acknowledged call is lost, nothing is
// half-applied (the drive is exactly what the logged calls wrote), and the
// restarted watcher resumes and finds the log ok; at the end a one-shot
// `verify` agrees. VMS_FAULT_SEED replays a run.

import test from 'brittle'
import path from 'node:path'
import Corestore from 'corestore'
import { VmsClient } from '../src/client.js'
import { ContractLog } from '../src/log/contract-log.js'
import createTestnet from 'hyperdht/testnet.js'
import type { Testnet } from 'hyperdht/testnet.js'
import { bootstrapArg, cliRun, examplePath, identity, tmpdir } from './helpers.js'
import type { CliProcess } from './helpers.js'
import { cliJson as cli, line } from './fault-helpers.js'

const ITERATIONS = Number(process.env.VMS_FAULT_ITERATIONS ?? 20)
const SEED = Number(process.env.VMS_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31))

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

test(`SIGKILL of host and watcher at random points over ${ITERATIONS} iterations -> no acknowledged call lost, no half-applied call, every log verifies after restart`, { timeout: Math.max(120_000, ITERATIONS * 20_000) }, async (t) => {
  const random = prng(SEED)
  t.comment(`seed ${SEED} (VMS_FAULT_SEED=${SEED} replays this run)`)
  const dir = tmpdir(t)
  const hostDir = path.join(dir, 'host')
  const watchDir = path.join(dir, 'watch')
  const contract = 'persistent-counter-fixed'

  let key = ''
  const acked = new Map<number, number>() // log index -> counter value the caller got
  let maxAcked = 0
  let scanned = 1 // log blocks whose outcome is counted
  let okIncrements = 0
  let directChecks = 0
  let watcherCaughtUp = 0
  const failures: string[] = []
  const fail = (msg: string): void => { if (failures.length < 20) failures.push(msg) }
  const faultOf = (w: CliProcess) => w.lines.find((l) => l.event === 'fault')

  // A fresh DHT every iteration: a killed host cannot withdraw its announcement, and
  // piles of dead peers would only slow down finding the restarted one. Its bootstrap
  // port is random: every DHT node tries 49737-49741 first, and a bootstrap address
  // reused at once by another test's network would merge the two.
  const network = async (): Promise<{ net: Testnet, boot: string }> => {
    const net = await createTestnet(3, { port: 20_000 + Math.floor(Math.random() * 20_000) })
    t.teardown(() => net.destroy(), { order: 100 })
    return { net, boot: bootstrapArg(net) }
  }
  const startHost = async (boot: string): Promise<{ proc: CliProcess, length: number }> => {
    const proc = cli(t, ['host', examplePath(contract + '.js'), '--storage', hostDir, '--bootstrap', boot, '--json'])
    const ready = await proc.event('ready', 60_000)
    key = ready.contract as string
    const length = ready.length as number
    if (length <= maxAcked) fail(`restarted host has ${length} blocks, but call ${maxAcked} was acknowledged`)
    return { proc, length }
  }
  const startWatcher = (boot: string): CliProcess => cli(t, ['watch', key, '--storage', watchDir, '--bootstrap', boot, '--json'])
  const kill = async (proc: CliProcess): Promise<void> => {
    proc.child.kill('SIGKILL')
    await proc.exited
  }

  /** Opens the host's storage in this process (recovery runs here) and checks the invariants. */
  const directCheck = async (fromIteration: Map<number, number>): Promise<void> => {
    directChecks++
    const store = new Corestore(path.join(hostDir, 'corestore'))
    const log = new ContractLog(store.namespace('contract/' + contract))
    try {
      await log.ready()
      const lastFiles = await log.lastFilesVersion()
      if (log.drive?.version !== lastFiles) fail(`drive at version ${String(log.drive?.version)}, last logged call wrote version ${String(lastFiles)}: half-applied`)
      for (let i = scanned; i < log.length; i++) if ((await log.call(i)).outcome.ok) okIncrements++
      scanned = log.length
      const counter = Number((await log.drive!.get('/counter'))?.toString() ?? 0)
      if (counter !== okIncrements) fail(`/counter is ${counter} but the log holds ${okIncrements} increments`)
      for (const [index, value] of fromIteration) {
        if (index >= log.length) { fail(`acknowledged call ${index} is not in the log (length ${log.length})`); continue }
        const rec = await log.call(index)
        if (JSON.parse(rec.outcome.result ?? 'null') !== value) fail(`acknowledged call ${index} returned ${value}, the log says ${String(rec.outcome.result)}`)
      }
    } finally {
      await log.close()
      await store.close()
    }
  }

  for (let it = 0; it < ITERATIONS && failures.length === 0; it++) {
    const t0 = Date.now()
    const { net, boot } = await network()
    const host = await startHost(boot)
    // after the host announced: a client-only swarm looks a topic up again only every 10 minutes
    const watcher = startWatcher(boot)
    // the restarted watcher resumes from its storage and must find everything so far ok
    const caught = await line(watcher, (l) => (l.event === 'verdict' && (l.length as number) >= host.length) || l.event === 'fault', 120_000)
    if (caught.event === 'fault' || caught.verdict !== 'ok') fail(`iteration ${it}: the restarted watcher says ${JSON.stringify(caught).slice(0, 400)}`)
    else watcherCaughtUp++
    const t1 = Date.now()

    const connected = await Promise.allSettled([0, 1, 2].map(() => VmsClient.connect(key, { bootstrap: net.bootstrap, identity: identity(), timeout: 60_000 })))
    const clients = connected.flatMap((r) => r.status === 'fulfilled' ? [r.value] : [])
    const refused = connected.find((r) => r.status === 'rejected')
    if (refused) {
      fail(`iteration ${it}: a client could not reach the restarted host: ${String(refused.reason)}; host: ${host.proc.stderr().slice(-3000)}`)
      await Promise.all(clients.map((c) => c.close()))
      break
    }
    const thisRound = new Map<number, number>()
    let stop = false
    const worker = async (c: VmsClient): Promise<void> => {
      while (!stop) {
        try {
          const value = await c.call('increment') as number
          thisRound.set(c.lastReceipt!.index, value)
        } catch {
          return // the host died with this call in flight: it was never acknowledged
        }
      }
    }
    const load = Promise.all(clients.map(worker))
    const watcherAt = Math.floor(random() * 250)
    const killWatcher = sleep(watcherAt).then(() => kill(watcher))
    await sleep(20 + Math.floor(random() * 180))
    await kill(host.proc)
    stop = true
    const t2 = Date.now()
    // calls in flight on a dead connection would wait for their timeout: closing the clients ends them
    await Promise.all(clients.map((c) => c.close()))
    await Promise.all([load, killWatcher])
    const t3 = Date.now()
    await net.destroy()
    const t4 = Date.now()
    for (const [i, v] of thisRound) acked.set(i, v)
    for (const i of thisRound.keys()) maxAcked = Math.max(maxAcked, i)
    const fault = faultOf(watcher)
    if (fault) fail(`iteration ${it}: the watcher reported a fault: ${JSON.stringify(fault).slice(0, 400)}`)
    // every other round this process runs the recovery and checks the storage; otherwise the restarted host recovers itself
    if (it % 2 === 1 || it === ITERATIONS - 1) await directCheck(thisRound)
    if (process.env.VMS_FAULT_DEBUG) t.comment(`iteration ${it}: start and catch-up ${t1 - t0} ms, load ${t2 - t1} ms, close ${t3 - t2} ms, dht ${t4 - t3} ms, total ${Date.now() - t0} ms, ${thisRound.size} acked, watcher killed at ${watcherAt} ms`)
  }
  t.comment(`${ITERATIONS} iterations: ${acked.size} calls acknowledged, ${directChecks} direct storage checks, the restarted watcher caught up ok ${watcherCaughtUp} times`)
  t.alike(failures, [], 'no acknowledged call lost, nothing half-applied, no fault')
  t.ok(acked.size > 0, 'calls were acknowledged between kills')
  t.is(watcherCaughtUp, ITERATIONS, 'after every restart the watcher resumed and judged the log ok')
  if (failures.length > 0) return

  // a last restart: a fresh one-shot audit of the whole log agrees, and every acknowledged call is there
  const { boot } = await network()
  const host = await startHost(boot)
  const verify = await cliRun(['verify', key, '--bootstrap', boot, '--timeout', '30000', '--json'], { timeoutMs: 180_000 })
  t.is(verify.code, 0, verify.stderr + verify.stdout.slice(0, 400))
  const out = JSON.parse(verify.stdout.trim().split('\n').pop()!)
  t.is(out.verdict, 'ok')
  t.is(out.length, host.length, 'verify judged the whole log ok')
  await kill(host.proc)
  await directCheck(acked)
  t.alike(failures, [], `all ${acked.size} acknowledged calls are in the log with their results`)
})
