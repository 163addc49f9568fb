/**
 * Benchmark section `replay`: a cold watcher process (fresh storage)
 * verifying the write contract's log of `bigLog` calls: download, replay,
 * judge. The log is filled first (closed loop) when shorter.
 */

import { Child, median, now, round, type Event } from './bench-lib.js'
import { hostStats, load, profileArgs, startClients, stopAll, type BenchParams, type HostProc } from './bench-procs.js'

/**
 * Fills the write contract's log to `bigLog` calls, then verifies it `runs`
 * times with a cold watcher process each.
 * @param hostWrite the host's write calls/s of this run (throughput section), or null: the fill rate stands in
 * @returns `{ calls, replayCallsPerSec (calls/s judging), ratioToHostWrite, verifySeconds (s, download included), fillCallsPerSec, verdicts, runs }`
 */
export async function replay (p: BenchParams, host: HostProc, hostWrite: number | null): Promise<Record<string, unknown>> {
  const stats = await hostStats(host)
  const have = ((stats.contracts as Record<string, { length: number }>).w?.length ?? 1) - 1
  const missing = Math.max(0, p.bigLog - have)
  let fillCallsPerSec: number | null = null
  if (missing > 0) {
    const clients = await startClients(p, host.keys.w!)
    try {
      const t0 = now()
      await load(clients, { method: 'rsvp', args: ['$n', true, 'bench'], mode: 'closed', concurrency: p.concurrency, durationMs: 60 * 60_000, count: Math.ceil(missing / p.clients) })
      fillCallsPerSec = Math.round(missing / ((now() - t0) / 1000))
      process.stderr.write(`  filled the log with ${missing} calls at ${fillCallsPerSec} calls/s\n`)
    } finally {
      await stopAll(clients)
    }
  }
  const runs: Event[] = []
  for (let r = 0; r < p.runs; r++) {
    const w = new Child('bench-watch', { bootstrap: p.bootstrap, key: host.keys.w, mode: 'verify', timeout: 120_000 }, profileArgs(p, 'verify'))
    const v = await w.next('verified', 60 * 60_000)
    await w.stop()
    runs.push(v)
    const dl = (x: unknown): string => typeof x === 'number' ? `${round(x)} s` : '-'
    process.stderr.write(`  verify ${r + 1}: ${v.judged} calls in ${round(v.seconds as number)} s (${v.replayCallsPerSec} calls/s judging; the log here after ${dl(v.downloadSeconds)}, the files after ${dl(v.filesDownloadSeconds)}, ${v.judgedAtFiles ?? '-'} calls judged by then), verdict ${v.verdict}\n`)
  }
  const cps = median(runs.map((v) => v.replayCallsPerSec as number))
  const base = hostWrite ?? fillCallsPerSec
  return {
    calls: median(runs.map((v) => v.judged as number)),
    replayCallsPerSec: cps,
    ratioToHostWrite: base ? round(cps / base) : null,
    verifySeconds: round(median(runs.map((v) => v.seconds as number))),
    fillCallsPerSec,
    verdicts: runs.map((v) => v.verdict),
    runs: runs.map(({ event: _e, ...rest }) => rest)
  }
}
