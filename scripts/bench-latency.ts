/**
 * Benchmark section `latency`: p50/p99 (ms) of write calls at fixed offered
 * loads (open loop over 4 clients, each call timed from when it was
 * scheduled, so a late host counts its queueing), and the time the same
 * calls spent inside the host (from the RPC handing a request over to its
 * answer). Calls in the first `warmupMs` of a run are not counted.
 */

import { median, percentile, round } from './bench-lib.js'
import { load, openLoad, startClients, stopAll, windowRate, type BenchParams, type HostProc } from './bench-procs.js'

/** One run at one offered load: ms, calls/s. */
interface LatencyRun { p50Ms: number, p99Ms: number, achieved: number, inHost: { p50Ms: number, p99Ms: number } }

/** `runs` runs at `rate` calls/s offered; medians in ms, `achieved` in calls/s. */
async function at (p: BenchParams, host: HostProc, clients: Awaited<ReturnType<typeof startClients>>, rate: number): Promise<Record<string, unknown>> {
  const runs: LatencyRun[] = []
  for (let r = 0; r < p.runs; r++) {
    host.child.send({ cmd: 'served' })
    await host.child.next('served')
    const l = await load(clients, openLoad(rate, clients.length, p.durationMs))
    host.child.send({ cmd: 'served' })
    const inHost = await host.child.next('served')
    const lat: number[] = []
    for (const d of l.done) d.start.forEach((s, i) => { if (s >= l.startAt + p.warmupMs) lat.push(d.latency[i]!) })
    const run = { p50Ms: round(percentile(lat, 50)), p99Ms: round(percentile(lat, 99)), achieved: windowRate(l.startAt, l.done, p), inHost: { p50Ms: inHost.p50Ms as number, p99Ms: inHost.p99Ms as number } }
    runs.push(run)
    process.stderr.write(`  ${rate}/s run ${r + 1}: p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms at ${run.achieved} calls/s (inside the host: p50 ${run.inHost.p50Ms} ms, p99 ${run.inHost.p99Ms} ms)\n`)
  }
  return {
    offeredCallsPerSec: rate,
    p50Ms: median(runs.map((x) => x.p50Ms)),
    p99Ms: median(runs.map((x) => x.p99Ms)),
    achievedCallsPerSec: median(runs.map((x) => x.achieved)),
    inHost: { p50Ms: median(runs.map((x) => x.inHost.p50Ms)), p99Ms: median(runs.map((x) => x.inHost.p99Ms)) },
    runs
  }
}

/**
 * Latency of write calls (contract `l`) at each of `p.latencyRates` calls/s offered.
 * @returns `{ at<rate>: { offeredCallsPerSec, p50Ms, p99Ms, achievedCallsPerSec, inHost: { p50Ms, p99Ms }, runs } }`
 *   for every rate, e.g. `at1000` and `at500`
 */
export async function latency (p: BenchParams, host: HostProc): Promise<Record<string, unknown>> {
  const clients = await startClients(p, host.keys.l!)
  const out: Record<string, unknown> = {}
  try {
    for (const rate of p.latencyRates) out['at' + rate] = await at(p, host, clients, rate)
  } finally {
    await stopAll(clients)
  }
  return out
}
