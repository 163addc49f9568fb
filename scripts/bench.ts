/**
 * `npm run bench`: the benchmark of issue 6. Starts a 3-node local DHT in
 * this process and real processes on it (a host node, load clients, cold
 * and live watchers, gossip nodes), and prints one JSON object on stdout
 * (and a readable table on stderr) with, each the median of `--runs` runs:
 *
 * - `baseline`: the raw pipeline without RPC or sandbox (verify + batched
 *   drive put + batched log append), calls/s, measured between the host runs;
 * - `write` / `read`: host throughput with 64 calls in flight from 4 client
 *   processes (one file write per call / one file read, no writes), calls/s,
 *   and the ratio to `baseline`;
 * - `latency`: p50/p99 (ms) of write calls at 500 calls/s offered;
 * - `replay`: a cold watcher verifying a log of `--big-log` calls (download,
 *   replay, judge), calls/s and the ratio to host write throughput, and the
 *   whole verify time (s);
 * - `auditLag`: reply -> first ok attestation covering the call (ms, p50/p99) at 1,000 calls/s;
 * - `gossip`: ms for one attestation to reach all of 10 nodes;
 * - `scale`: RSS (bytes) and call latency (ms) with 1,000 contracts on one host;
 * - `rehost`: a cold verify of the big log from 3 watchers with the host
 *   offline, next to the same from the host (s).
 *
 * Flags: `--quick` (smaller and shorter: ~3 minutes), `--runs n`,
 * `--only section,section` (throughput, latency, replay, audit, gossip, scale, sandbox, rehost),
 * `--big-log n`, `--scale n`, `--profile dir` (CPU profiles of the host and
 * cold-verify processes; `node dist/scripts/profile-top.js file` sums them up).
 */

import os from 'node:os'
import createTestnet from 'hyperdht/testnet.js'
import { runtimeFingerprint } from '../src/runtime/sandbox.js'
import { now, round } from './bench-lib.js'
import { auditLag, gossip, latency, machine, replay, scale, startHost, stopHost, throughput, type BenchParams, type HostProc } from './bench-sections.js'
import { table } from './bench-table.js'
import { sandboxCost } from './bench-sandbox.js'
import { rehost } from './bench-rehost.js'

const SECTIONS = ['throughput', 'latency', 'replay', 'audit', 'gossip', 'scale', 'sandbox', 'rehost']

function flag (name: string): string | undefined {
  const i = process.argv.indexOf('--' + name)
  return i === -1 ? undefined : process.argv[i + 1]
}

const quick = process.argv.includes('--quick')
const only = (flag('only') ?? SECTIONS.join(',')).split(',')
const testnet = await createTestnet(3, { host: '127.0.0.1' })
const p: BenchParams = {
  runs: Number(flag('runs') ?? 3),
  durationMs: quick ? 4000 : 8000,
  warmupMs: quick ? 1000 : 2000,
  concurrency: 16,
  clients: 4,
  latencyRate: 500,
  bigLog: Number(flag('big-log') ?? (quick ? 10_000 : 100_000)),
  auditRate: 1000,
  gossipNodes: 10,
  scale: Number(flag('scale') ?? (quick ? 100 : 1000)),
  scaleSample: quick ? 20 : 100,
  baselineCalls: quick ? 5000 : 20_000,
  profileDir: flag('profile') ?? null,
  bootstrap: testnet.bootstrap
}

const t0 = now()
const loadStart = round(os.loadavg()[0]!)
const result: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: machine(),
  runtime: runtimeFingerprint(),
  quick,
  runs: p.runs
}
let host: HostProc | null = null
try {
  if (only.some((s) => ['throughput', 'latency', 'replay', 'audit'].includes(s))) {
    host = await startHost(p, ['w', 'r', 'l', 'a'])
  }
  let hostWrite: number | null = null
  if (only.includes('throughput')) {
    process.stderr.write('throughput (4 clients x 16 calls in flight)\n')
    Object.assign(result, await throughput(p, host!))
    hostWrite = (result.write as { callsPerSec: number }).callsPerSec
  }
  if (only.includes('latency')) {
    process.stderr.write(`latency at ${p.latencyRate} calls/s\n`)
    result.latency = await latency(p, host!)
  }
  if (only.includes('replay')) {
    process.stderr.write(`replay: cold verify of a ${p.bigLog}-call log\n`)
    result.replay = await replay(p, host!, hostWrite)
  }
  if (only.includes('audit')) {
    process.stderr.write(`audit lag at ${p.auditRate} calls/s\n`)
    result.auditLag = await auditLag(p, host!)
  }
  if (host) await stopHost(host)
  host = null
  if (only.includes('gossip')) {
    process.stderr.write(`gossip to ${p.gossipNodes} nodes\n`)
    result.gossip = await gossip(p)
  }
  if (only.includes('scale')) {
    process.stderr.write(`scale: ${p.scale} contracts on one host\n`)
    result.scale = await scale({ ...p, profileDir: null })
  }
  if (only.includes('sandbox')) {
    process.stderr.write('sandbox: cost per call in process vs in a sandbox process\n')
    result.sandbox = await sandboxCost(quick ? 2000 : 5000)
  }
  if (only.includes('rehost')) {
    process.stderr.write(`rehost: cold verify of a ${p.bigLog}-call log from 3 watchers, host offline, and from the host\n`)
    result.rehost = await rehost(p)
  }
} finally {
  if (host) await stopHost(host).catch(() => {})
  await testnet.destroy()
}
result.seconds = round((now() - t0) / 1000, 1)
// other work on the machine skews every figure: the 1-minute load average before and after says how much
;(result.machine as Record<string, unknown>).loadAverage = { start: loadStart, end: round(os.loadavg()[0]!) }
process.stderr.write('\n' + table(result) + '\n')
process.stdout.write(JSON.stringify(result) + os.EOL)
process.exit(0)
