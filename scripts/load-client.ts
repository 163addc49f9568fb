/**
 * Benchmark child: a load generator for one contract. It connects like a
 * client does (DHT lookup by the log's discovery key, replication of the
 * log, attestation gossip, the host RPC) and signs every call with its own
 * identity, so it knows the log index of each reply (the receipt).
 *
 * Config: `{ key: hex, bootstrap, index: number }`. Emits `ready` once the
 * RPC channel is open. Command `run`:
 * `{ method, args, mode: 'closed' | 'open', concurrency?, rate?, startAt, durationMs, linger? }`
 * - closed: `concurrency` calls in flight until `durationMs` ends (or
 *   `count` calls were made);
 * - open: one call every 1/`rate` s (calls/s), timed from the schedule;
 * - the string `$n` in `args` becomes `<index>-<n mod 1000>`;
 * - `linger` (ms): after the last reply, wait this long at most for
 *   attestations that cover every call.
 * Answers `done` with per-call columns: `start` (ms, wall clock), `latency`
 * (ms), `index` (log block), plus `errors`, `cpuMs` (CPU time of this process
 * during the load, ms) and `attestations` ([ms, length]).
 */

import path from 'node:path'
import fs from 'node:fs'
import Corestore from 'corestore'
import type { SwarmConnection } from 'hyperswarm'
import { VERDICT_OK, type Attestation } from '../protocol/index.js'
import { AttestationStore } from '../src/attest/store.js'
import { NonceClock, signCall } from '../src/caller.js'
import { discoveryKey, keyPair } from '../src/crypto.js'
import { canonicalArgs } from '../src/json.js'
import { Gossip } from '../src/net/gossip.js'
import { RpcClient } from '../src/net/rpc.js'
import { createSwarm, type BootstrapNode } from '../src/net/swarm.js'
import { childIO, now, sleep, tempDir } from './bench-lib.js'

interface Config {
  key: string
  bootstrap: BootstrapNode[]
  index: number
}

interface RunCommand {
  method: string
  args: unknown[]
  mode: 'closed' | 'open'
  concurrency?: number
  rate?: number
  startAt: number
  durationMs: number
  /** Closed loop: stop after this many calls (default: no bound). */
  count?: number
  linger?: number
}

const identity = keyPair()
const nonces = new NonceClock()
const attestations: Array<[number, number]> = []
let rpc: RpcClient | null = null
let busy = false

const { config, emit } = childIO<Config>(async (cmd) => {
  if (cmd.cmd === 'run') {
    if (busy) throw new Error('a run is already going')
    busy = true
    try {
      emit({ event: 'done', ...(await run(cmd as unknown as RunCommand)) })
    } finally {
      busy = false
    }
  } else if (cmd.cmd === 'exit') {
    await close()
    process.exit(0)
  }
})

const key = Buffer.from(config.key, 'hex')
const dir = tempDir('vms-load-')
const store = new Corestore(path.join(dir, 'corestore'))
const core = store.get({ key })
await core.ready()
const gossip = new Gossip(new AttestationStore())
gossip.on('attestation', (a: Attestation) => {
  if (Buffer.from(a.contract).equals(key) && a.verdict === VERDICT_OK) attestations.push([now(), a.length])
})
const swarm = createSwarm({ bootstrap: config.bootstrap })
const opened = new Promise<void>((resolve) => {
  swarm.on('connection', (conn: SwarmConnection) => {
    store.replicate(conn)
    gossip.attach(conn)
    const r = new RpcClient(conn, key)
    r.rpc.fullyOpened().then(() => {
      if (!rpc) rpc = r
      resolve()
    }, () => {})
  })
})
swarm.join(discoveryKey(key), { server: false, client: true })
await opened
emit({ event: 'ready', index: config.index })

async function run (cmd: RunCommand): Promise<Record<string, unknown>> {
  const start: number[] = []
  const latency: number[] = []
  const index: number[] = []
  let errors = 0
  let firstError: string | null = null
  let n = 0
  const end = cmd.startAt + cmd.durationMs
  const one = async (scheduled: number): Promise<void> => {
    const k = n++
    const args = cmd.args.map((a) => a === '$n' ? `${config.index}-${k % 1000}` : a)
    const req = signCall(identity, key, nonces.next(), cmd.method, canonicalArgs(args))
    try {
      const reply = await rpc!.call(req, 30_000)
      if (!reply.accepted) throw new Error(reply.error.message)
      if (!reply.response.outcome.ok) throw new Error(reply.response.outcome.error?.message ?? 'failed')
      start.push(scheduled)
      latency.push(now() - scheduled)
      index.push(reply.response.index)
    } catch (err) {
      errors++
      if (firstError === null) firstError = String((err as Error).message)
    }
  }
  await sleep(Math.max(0, cmd.startAt - now()))
  const cpu0 = process.cpuUsage()
  if (cmd.mode === 'closed') {
    await Promise.all(Array.from({ length: cmd.concurrency ?? 16 }, async () => {
      while (now() < end && n < (cmd.count ?? Infinity)) await one(now())
    }))
  } else {
    const rate = cmd.rate ?? 100
    const pending: Array<Promise<void>> = []
    for (let k = 0; ; k++) {
      const at = cmd.startAt + k * 1000 / rate
      if (at >= end) break
      const wait = at - now()
      if (wait > 1) await sleep(wait)
      pending.push(one(at))
    }
    await Promise.all(pending)
  }
  const cpu = process.cpuUsage(cpu0)
  const cpuMs = (cpu.user + cpu.system) / 1000
  if (cmd.linger && index.length > 0) {
    const last = index.reduce((a, b) => Math.max(a, b), 0)
    const until = now() + cmd.linger
    while (now() < until && !attestations.some(([, length]) => length > last)) await sleep(20)
  }
  return { start, latency, index, errors, firstError, cpuMs, attestations: attestations.splice(0) }
}

async function close (): Promise<void> {
  gossip.close()
  await swarm.destroy()
  await core.close()
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
}
