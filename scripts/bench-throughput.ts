/**
 * Benchmark section `throughput`: what one host serves with 64 calls in
 * flight (4 client processes x 16), write calls and read-only calls, next
 * to three figures measured in child processes in the same round, so a
 * ratio to them cancels out how busy the shared machine is:
 * - `cryptoCap`: ed25519 checks per second on one core (bench-crypto.ts);
 * - `baseline`: the raw pipeline, verify + batched put + batched append, no
 *   RPC, no sandbox (bench-baseline.ts);
 * - `naive`: the seeds' 2017 design, verify, put and append awaited in turn
 *   per call (bench-baseline.ts with `naive`).
 * Each ratio is the median of the per-round ratios (one round: the three
 * children, then the write load, then the read-only load).
 */

import { Child, median, round } from './bench-lib.js'
import { closedLoad, load, startClients, stopAll, windowRate, type BenchParams, type CpuShare, type HostProc } from './bench-procs.js'

/** Median of the per-round ratios `a[i] / b[i]`. */
function ratio (a: number[], b: number[]): number {
  return round(median(a.map((x, i) => x / b[i]!)))
}

/** Runs a benchmark child to its `result` event and returns the named figure. */
async function childFigure (script: string, config: Record<string, unknown>, figure: string): Promise<number> {
  const child = new Child(script, config)
  const n = (await child.next('result', 10 * 60_000))[figure] as number
  await child.exited
  return n
}

/**
 * Runs `runs` rounds of: `cryptoCap` (verifies/s), `baseline` and `naive`
 * (calls/s), host write and read-only throughput (calls/s completed after
 * the warm-up); after one uncounted warm-up round of host load.
 * @returns `{ cryptoCap, baseline, naive, write, read }`, each with the
 *   median, the runs and (write, read) the ratios to the other three and the
 *   CPU cores the host and the clients used
 */
export async function throughput (p: BenchParams, host: HostProc): Promise<Record<string, unknown>> {
  const writers = await startClients(p, host.keys.w!)
  const readers = await startClients(p, host.keys.r!)
  const cap: number[] = []
  const baseline: number[] = []
  const naive: number[] = []
  const write: number[] = []
  const read: number[] = []
  const cpu: { write: CpuShare[], read: CpuShare[] } = { write: [], read: [] }
  try {
    // one uncounted round first: the first measured run was always the slowest (JIT and caches warming up)
    const warm = { ...p, durationMs: 2 * p.warmupMs }
    await load(writers, closedLoad(warm, 'rsvp', ['$n', true, 'warm-up']), host)
    await load(readers, closedLoad(warm, 'get', ['host']), host)
    for (let r = 0; r < p.runs; r++) {
      cap.push(await childFigure('bench-crypto', { ms: p.cryptoMs }, 'verifiesPerSec'))
      baseline.push(await childFigure('bench-baseline', { calls: p.baselineCalls, group: p.clients * p.concurrency }, 'callsPerSec'))
      naive.push(await childFigure('bench-baseline', { calls: p.naiveCalls, naive: true }, 'callsPerSec'))
      const w = await load(writers, closedLoad(p, 'rsvp', ['$n', true, 'bench']), host)
      write.push(windowRate(w.startAt, w.done, p))
      cpu.write.push(w.cpu!)
      const rd = await load(readers, closedLoad(p, 'get', ['host']), host)
      read.push(windowRate(rd.startAt, rd.done, p))
      cpu.read.push(rd.cpu!)
      process.stderr.write(`  run ${r + 1}: cryptoCap ${cap.at(-1)} verifies/s, baseline ${baseline.at(-1)} calls/s, naive ${naive.at(-1)} calls/s, write ${write.at(-1)} calls/s (CPU: host ${w.cpu!.host}, clients ${w.cpu!.clients}), read-only ${read.at(-1)} calls/s (CPU: host ${rd.cpu!.host}, clients ${rd.cpu!.clients})\n`)
    }
  } finally {
    await stopAll([...writers, ...readers])
  }
  const ratios = (xs: number[]): Record<string, number> => ({ ratioToCryptoCap: ratio(xs, cap), ratioToBaseline: ratio(xs, baseline), ratioToNaive: ratio(xs, naive) })
  return {
    cryptoCap: { verifiesPerSec: median(cap), runs: cap },
    baseline: { callsPerSec: median(baseline), ratioToCryptoCap: ratio(baseline, cap), runs: baseline },
    naive: { callsPerSec: median(naive), calls: p.naiveCalls, ratioToCryptoCap: ratio(naive, cap), runs: naive },
    write: { callsPerSec: median(write), ...ratios(write), runs: write, cpuCores: cpu.write },
    read: { callsPerSec: median(read), ...ratios(read), runs: read, cpuCores: cpu.read }
  }
}
