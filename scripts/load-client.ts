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

import { VERDICT_OK } from '../protocol/index.js'
import { NonceClock, signCall } from '../src/caller.js'
import { keyPair } from '../src/crypto.js'
import { canonicalArgs } from '../src/json.js'
import type { BootstrapNode } from '../src/net/swarm.js'
import { childIO, now, sleep } from './bench-lib.js'
import { joinContract } from './bench-peer.js'

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
    await peer.close()
    process.exit(0)
  }
})

const key = Buffer.from(config.key, 'hex')
const peer = await joinContract(config, 'vms-load-', (a) => {
  if (Buffer.from(a.contract).equals(key) && a.verdict === VERDICT_OK) attestations.push([now(), a.length])
})
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
      const reply = await peer.rpc.call(req, 30_000)
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
