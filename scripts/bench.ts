/**
 * `npm run bench`: the benchmark of the host, the watcher, gossip and scale.
 * Starts a 3-node local DHT in this process and real processes on it (a
 * host node, load clients, cold and live watchers, gossip nodes: all
 * separate processes), and prints one JSON object on stdout (and a readable
 * table on stderr, with each target and whether it was met), with, each the
 * median of `--runs` runs:
 *
 * - `cryptoCap`: ed25519 verifies/s on one core, the physical limit, and
 *   `baseline` (the raw pipeline: verify + batched drive put + batched log
 *   append, no RPC, no sandbox) and `naive` (the seeds' 2017 design: verify,
 *   put, append awaited in turn per call), calls/s, each measured in every
 *   round of the throughput section (bench-throughput.ts);
 * - `write` / `read`: host throughput with 64 calls in flight from 4 client
 *   processes (one file write per call / one file read, no writes), calls/s,
 *   and the ratios to `cryptoCap`, `baseline` and `naive` of the same rounds;
 * - `latency`: p50/p99 (ms) of write calls at 1,000 and 500 calls/s offered
 *   (`at1000`, `at500`);
 * - `replay`: a cold watcher verifying a log of `--big-log` calls (download,
 *   replay, judge), calls/s and the ratios to host write throughput and to
 *   `cryptoCap`, and the whole verify time (s);
 * - `auditLag`: reply -> first ok attestation covering the call (ms, p50/p99) at 1,000 calls/s;
 * - `auditFlat`: the same lag per 10 s window over 60 s at half the host's
 *   write capacity of this run, and its slope (ms per s);
 * - `gossip`: ms for one attestation to reach all of 100 nodes (99 in 10 processes);
 * - `scale`: 10,000 contracts on one host: deploy, reopen (s), RSS (bytes)
 *   after open and after calls, cold/warm call latency (ms);
 * - `sandbox`, `rehost`: see bench-sandbox.ts, bench-rehost.ts;
 * - `targets`: every target with the value, met (true/false) or null when
 *   this run is smaller than the target's size (e.g. `--quick`).
 *
 * Flags: `--quick` (smaller and shorter), `--runs n`,
 * `--only section,section` (throughput, latency, replay, audit, flat, gossip, scale, sandbox, rehost),
 * `--big-log n`, `--scale n`, `--scale-budget s` (stop deploying, and reopening, after s seconds each),
 * `--gossip-nodes n`, `--flat-seconds s`, `--profile dir` (CPU profiles of
 * the host, cold-verify and following-watcher processes; `node dist/scripts/profile-top.js file` sums them up).
 */

import os from 'node:os'
import createTestnet from 'hyperdht/testnet.js'
import { runtimeFingerprint } from '../src/runtime/sandbox.js'
import { machine, now, round } from './bench-lib.js'
import { startHost, stopHost, type BenchParams, type HostProc } from './bench-procs.js'
import { throughput } from './bench-throughput.js'
import { latency } from './bench-latency.js'
import { replay } from './bench-replay.js'
import { auditFlat, auditLag } from './bench-audit.js'
import { gossip } from './bench-gossip.js'
import { scale } from './bench-scale.js'
import { judge } from './bench-targets.js'
import { table } from './bench-table.js'
import { sandboxCost } from './bench-sandbox.js'
import { rehost } from './bench-rehost.js'

const SECTIONS = ['throughput', 'latency', 'replay', 'audit', 'flat', 'gossip', 'scale', 'sandbox', 'rehost']

function flag (name: string): string | undefined {
  const i = process.argv.indexOf('--' + name)
  return i === -1 ? undefined : process.argv[i + 1]
}

const quick = process.argv.includes('--quick')
const only = (flag('only') ?? SECTIONS.join(',')).split(',')
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; sections: ${SECTIONS.join(', ')}`)
const testnet = await createTestnet(3, { host: '127.0.0.1' })
const flatS = Number(flag('flat-seconds') ?? (quick ? 15 : 60))
const p: BenchParams = {
  quick,
  runs: Number(flag('runs') ?? 3),
  durationMs: quick ? 4000 : 8000,
  warmupMs: quick ? 1000 : 2000,
  concurrency: 16,
  clients: 4,
  latencyRates: [1000, 500],
  bigLog: Number(flag('big-log') ?? (quick ? 10_000 : 100_000)),
  auditRate: 1000,
  flatMs: flatS * 1000,
  flatWindowMs: (quick ? 5 : 10) * 1000,
  gossipNodes: Number(flag('gossip-nodes') ?? 100),
  gossipProcs: 10,
  scale: Number(flag('scale') ?? (quick ? 100 : 10_000)),
  scaleSample: quick ? 20 : 100,
  // 10,000 contracts took 550 s to deploy and 500 s to reopen here (2026-12-01, load average 6-20): at most
  // 10 minutes each, and the section says so when the budget stops it
  scaleBudgetMs: Number(flag('scale-budget') ?? (quick ? 120 : 600)) * 1000,
  baselineCalls: quick ? 5000 : 20_000,
  naiveCalls: quick ? 1000 : 3000,
  cryptoMs: quick ? 1000 : 2000,
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
/**
 * Runs one section; a section that fails (a child that crashed, a call past its deadline on a busy machine)
 * is recorded as `{ error }` under its name and the benchmark goes on, so one failure keeps the other figures.
 */
async function section (name: string, key: string, fn: () => Promise<Record<string, unknown>>, merge = false): Promise<void> {
  if (!only.includes(name)) return
  try {
    const r = await fn()
    if (merge) Object.assign(result, r)
    else result[key] = r
  } catch (err) {
    process.stderr.write(`  section ${name} failed: ${String((err as Error)?.stack ?? err).slice(0, 2000)}\n`)
    result[key] = { error: String((err as Error)?.message ?? err).slice(0, 2000) }
  }
}
try {
  if (only.some((s) => ['throughput', 'latency', 'replay', 'audit', 'flat'].includes(s))) {
    host = await startHost(p, ['w', 'r', 'l', 'a', 'f'])
  }
  const h = host!
  await section('throughput', 'throughput', async () => {
    process.stderr.write('throughput (4 clients x 16 calls in flight), cryptoCap, baseline, naive\n')
    return await throughput(p, h)
  }, true)
  const hostWrite = (result.write as { callsPerSec?: number } | undefined)?.callsPerSec ?? null
  await section('latency', 'latency', async () => {
    process.stderr.write(`latency at ${p.latencyRates.join(' and ')} calls/s\n`)
    return await latency(p, h)
  })
  await section('replay', 'replay', async () => {
    process.stderr.write(`replay: cold verify of a ${p.bigLog}-call log\n`)
    const r = await replay(p, h, hostWrite)
    const cap = (result.cryptoCap as { verifiesPerSec: number } | undefined)?.verifiesPerSec
    // a watcher checks every call's signature too: its limit is the same
    return cap ? { ...r, ratioToCryptoCap: round((r.replayCallsPerSec as number) / cap) } : r
  })
  await section('audit', 'auditLag', async () => {
    process.stderr.write(`audit lag at ${p.auditRate} calls/s\n`)
    return await auditLag(p, h)
  })
  await section('flat', 'auditFlat', async () => {
    process.stderr.write(`audit lag over ${flatS} s at half the host's write capacity${hostWrite ? '' : ' (not measured in this run: 500 calls/s)'}\n`)
    return await auditFlat(p, h, flag('flat-rate') ? 2 * Number(flag('flat-rate')) : hostWrite)
  })
  if (host) await stopHost(host)
  host = null
  await section('gossip', 'gossip', async () => {
    process.stderr.write(`gossip to ${p.gossipNodes} nodes (${p.gossipNodes - 1} in ${p.gossipProcs} processes, and the host)\n`)
    return await gossip(p)
  })
  await section('scale', 'scale', async () => {
    process.stderr.write(`scale: ${p.scale} contracts on one host (deploying for at most ${p.scaleBudgetMs / 1000} s)\n`)
    return await scale({ ...p, profileDir: null })
  })
  await section('sandbox', 'sandbox', async () => {
    process.stderr.write('sandbox: cost per call in process vs in a sandbox process\n')
    return { ...await sandboxCost(quick ? 2000 : 5000) }
  })
  await section('rehost', 'rehost', async () => {
    process.stderr.write(`rehost: cold verify of a ${p.bigLog}-call log from 3 watchers, host offline, and from the host\n`)
    return await rehost(p)
  })
} finally {
  if (host) await stopHost(host).catch(() => {})
  await testnet.destroy()
}
result.targets = judge(result)
result.seconds = round((now() - t0) / 1000, 1)
// other work on the machine skews every figure: the 1-minute load average before and after says how much
;(result.machine as Record<string, unknown>).loadAverage = { start: loadStart, end: round(os.loadavg()[0]!) }
process.stderr.write('\n' + table(result) + '\n')
process.stdout.write(JSON.stringify(result) + os.EOL)
process.exit(0)
