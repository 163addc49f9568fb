/**
 * Benchmark section `audit`: audit lag, the time from a call's reply to the
 * first ok attestation covering it (seen by the calling client through
 * gossip; when no attestation arrives at all, to the following watcher's
 * first ok verdict covering it), with one following watcher process per
 * contract. Each run starts once the watcher has judged the whole log
 * (`settleMs`: how long that took; -1: it had not after 2 minutes).
 * - `auditLag`: p50/p99 (ms) at `auditRate` calls/s offered (open loop);
 * - `auditFlat`: on a contract of its own (`f`), a `flatMs` run at half the host's measured write capacity
 *   (the throughput section's figure of this run), the lag per `flatWindowMs`
 *   window of reply times (p50/p99, ms), the least-squares slope of the
 *   windows' p99 (ms of lag per s of run) and last-over-first window p99:
 *   a watcher that keeps up shows a flat line, one that falls behind a lag
 *   that grows with the run.
 */

import { Child, median, now, percentile, round, sleep } from './bench-lib.js'
import { hostStats, load, openLoad, profileArgs, startClients, stopAll, type BenchParams, type HostProc, type LoadDone } from './bench-procs.js'

/**
 * Lag (ms) of every covered call with its reply time (ms wall clock); `total` calls replied. `verdictLag`:
 * the same calls' lag to the watcher's own first ok verdict (NaN when none), which leaves gossip out.
 */
interface Lags { replied: number[], lag: number[], verdictLag: number[], total: number, source: 'attestation' | 'verdict', downloadLag: number[], judging: JudgeRates }

/**
 * How fast the watcher judged while the load ran and after it: calls/s
 * from the first call's start to the last reply (`loadedCallsPerSec`), and
 * from then until its verdicts covered the run's last call
 * (`afterCallsPerSec`, null when they never did); with the watcher
 * process's CPU time (`cpuMs`) and main-thread event-loop use (`elu`, 0-1)
 * over the run and its linger.
 */
interface JudgeRates { loadedCallsPerSec: number, afterCallsPerSec: number | null, loadSeconds: number, cpuMs: number, elu: number }

/** {@link JudgeRates} of one run from its calls and the watcher's ok verdicts (`[ms wall clock, length]`, sorted). */
function judgeRates (done: LoadDone[], verdicts: Array<[number, number]>, cpuMs: number, elu: number): JudgeRates {
  const starts = done.flatMap((d) => d.start)
  const replies = done.flatMap((d) => d.start.map((s, i) => s + d.latency[i]!))
  const indexes = done.flatMap((d) => d.index)
  const t0 = Math.min(...starts)
  const t1 = Math.max(...replies)
  const first = Math.min(...indexes)
  const last = Math.max(...indexes)
  let atEnd = first
  for (const [t, length] of verdicts) if (t <= t1) atEnd = Math.max(atEnd, length)
  const covered = firstCovering(verdicts, last)
  return {
    loadedCallsPerSec: round((atEnd - first) / Math.max(1e-3, (t1 - t0) / 1000)),
    afterCallsPerSec: covered === null || covered <= t1 ? null : round((last + 1 - atEnd) / ((covered - t1) / 1000)),
    loadSeconds: round((t1 - t0) / 1000),
    cpuMs,
    elu
  }
}

/** The time of the first mark (sorted by time) whose length covers block `index`, or null. */
function firstCovering (marks: Array<[number, number]>, index: number): number | null {
  for (const [t, length] of marks) if (length > index) return t
  return null
}

/** Asks the watcher for its ok verdicts since the last ask and measures each call's lag. */
async function lagsOf (done: LoadDone[], watcher: Child): Promise<Lags> {
  watcher.send({ cmd: 'report' })
  const report = await watcher.next('verdicts')
  const verdicts = (report.verdicts as Array<[number, number]>).sort((a, b) => a[0] - b[0])
  const arrived = new Map((report.arrivals as Array<[number, number]> | undefined ?? []).map(([t, index]) => [index, t]))
  const withAtt = done.every((d) => d.attestations.length > 0)
  const out: Lags = { replied: [], lag: [], verdictLag: [], total: 0, source: withAtt ? 'attestation' : 'verdict', downloadLag: [], judging: judgeRates(done, verdicts, report.cpuMs as number, report.elu as number) }
  for (const d of done) {
    d.index.forEach((index, i) => {
      const t = arrived.get(index)
      if (t !== undefined) out.downloadLag.push(t - (d.start[i]! + d.latency[i]!))
    })
    const marks = withAtt ? d.attestations.slice().sort((a, b) => a[0] - b[0]) : verdicts
    out.total += d.index.length
    d.index.forEach((index, i) => {
      const replied = d.start[i]! + d.latency[i]!
      const first = firstCovering(marks, index)
      if (first === null) return
      const v = firstCovering(verdicts, index)
      out.replied.push(replied)
      out.lag.push(Math.max(0, first - replied))
      out.verdictLag.push(v === null ? NaN : Math.max(0, v - replied))
    })
  }
  return out
}

/** p50/p99 (ms) of a list of lags, NaN left out. */
function pcts (xs: number[]): { p50Ms: number, p99Ms: number } {
  const ok = xs.filter((x) => !Number.isNaN(x))
  return { p50Ms: round(percentile(ok, 50)), p99Ms: round(percentile(ok, 99)) }
}

/** Least-squares slope of `ys` over `xs` (units of y per unit of x; 0 with fewer than 2 points). */
export function slope (xs: number[], ys: number[]): number {
  const n = xs.length
  if (n < 2) return 0
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my)
    den += (xs[i]! - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

/** Starts the following watcher of contract `name` and its clients. */
async function start (p: BenchParams, host: HostProc, name: string): Promise<{ watcher: Child, clients: Child[] }> {
  const watcher = new Child('bench-watch', { bootstrap: p.bootstrap, key: host.keys[name], mode: 'follow' }, profileArgs(p, 'follow-' + name))
  await watcher.next('ready', 60_000)
  return { watcher, clients: await startClients(p, host.keys[name]!) }
}

/**
 * Waits (at most `timeoutMs` ms) until the watcher has judged all of contract `name`'s log, so that a run
 * starts without the backlog of the one before; drops the verdicts reported until then.
 * @returns ms it waited, or -1 when the watcher was still behind at the timeout
 */
async function settle (host: HostProc, watcher: Child, name: string, timeoutMs = 120_000): Promise<number> {
  const t0 = now()
  const length = ((await hostStats(host)).contracts as Record<string, { length: number }>)[name]!.length
  let judged = 0
  for (;;) {
    watcher.send({ cmd: 'report' })
    for (const [, len] of (await watcher.next('verdicts')).verdicts as Array<[number, number]>) judged = Math.max(judged, len)
    if (judged >= length) return round(now() - t0)
    if (now() - t0 > timeoutMs) return -1
    await sleep(250)
  }
}

/**
 * Audit lag at `p.auditRate` calls/s offered, `runs` runs of `durationMs`.
 * @returns `{ offeredCallsPerSec, source, p50Ms, p99Ms, verdict: { p50Ms, p99Ms } (to the watcher's verdict, no gossip), download: { p50Ms, p99Ms } (reply to the record downloaded by the watcher),
 *   covered (share of calls with a lag), judging: { loadedCallsPerSec, afterCallsPerSec } (medians of the runs' JudgeRates), runs }`
 */
export async function auditLag (p: BenchParams, host: HostProc): Promise<Record<string, unknown>> {
  const { watcher, clients } = await start(p, host, 'a')
  const runs: Array<{ source: string, p50Ms: number, p99Ms: number, covered: number, settleMs: number, verdict: { p50Ms: number, p99Ms: number }, download: { p50Ms: number, p99Ms: number }, judging: JudgeRates }> = []
  try {
    for (let r = 0; r < p.runs; r++) {
      const settleMs = await settle(host, watcher, 'a')
      const l = await load(clients, openLoad(p.auditRate, clients.length, p.durationMs, { linger: 20_000 }))
      const lags = await lagsOf(l.done, watcher)
      runs.push({ source: lags.source, p50Ms: round(percentile(lags.lag, 50)), p99Ms: round(percentile(lags.lag, 99)), covered: round(lags.lag.length / Math.max(1, lags.total), 4), settleMs, verdict: pcts(lags.verdictLag), download: pcts(lags.downloadLag), judging: lags.judging })
      const last = runs.at(-1)!
      process.stderr.write(`  run ${r + 1}: ${lags.source} lag p50 ${last.p50Ms} ms, p99 ${last.p99Ms} ms (${lags.lag.length}/${lags.total} calls covered; to the watcher's verdict p50 ${last.verdict.p50Ms} ms, p99 ${last.verdict.p99Ms} ms; the record downloaded p50 ${last.download.p50Ms} ms, p99 ${last.download.p99Ms} ms after the reply; judged ${last.judging.loadedCallsPerSec} calls/s while loaded, ${last.judging.afterCallsPerSec ?? '-'} after; watcher CPU ${last.judging.cpuMs} ms, event loop ${last.judging.elu})\n`)
    }
  } finally {
    await stopAll([...clients, watcher])
  }
  return {
    offeredCallsPerSec: p.auditRate,
    source: runs.every((x) => x.source === 'attestation') ? 'attestation' : 'verdict',
    p50Ms: median(runs.map((x) => x.p50Ms)),
    p99Ms: median(runs.map((x) => x.p99Ms)),
    verdict: { p50Ms: median(runs.map((x) => x.verdict.p50Ms)), p99Ms: median(runs.map((x) => x.verdict.p99Ms)) },
    download: { p50Ms: median(runs.map((x) => x.download.p50Ms)), p99Ms: median(runs.map((x) => x.download.p99Ms)) },
    covered: median(runs.map((x) => x.covered)),
    judging: {
      loadedCallsPerSec: median(runs.map((x) => x.judging.loadedCallsPerSec)),
      afterCallsPerSec: median(runs.flatMap((x) => x.judging.afterCallsPerSec === null ? [] : [x.judging.afterCallsPerSec]))
    },
    runs
  }
}

/**
 * Audit lag over a long run at half the host's write capacity, per window.
 * @param hostWrite the host's write calls/s of this run, or null (then 500 calls/s are offered, and `rateFrom` says so)
 * @returns `{ offeredCallsPerSec, rateFrom, seconds, windowSeconds, windows: [{ fromS, calls, p50Ms, p99Ms, verdict }]
 *   (medians over the runs), p99SlopeMsPerS, p50SlopeMsPerS, lastOverFirstP99, covered, runs }`
 */
export async function auditFlat (p: BenchParams, host: HostProc, hostWrite: number | null): Promise<Record<string, unknown>> {
  const rate = hostWrite ? Math.round(hostWrite / 2) : 500
  const { watcher, clients } = await start(p, host, 'f')
  const nWin = Math.max(1, Math.ceil(p.flatMs / p.flatWindowMs))
  const runs: Array<{ windows: Array<{ fromS: number, calls: number, p50Ms: number, p99Ms: number, verdict: { p50Ms: number, p99Ms: number } }>, p99SlopeMsPerS: number, p50SlopeMsPerS: number, lastOverFirstP99: number, covered: number, settleMs: number }> = []
  try {
    for (let r = 0; r < p.runs; r++) {
      const settleMs = await settle(host, watcher, 'f')
      const l = await load(clients, openLoad(rate, clients.length, p.flatMs, { linger: 30_000 }))
      const lags = await lagsOf(l.done, watcher)
      const win = Array.from({ length: nWin }, () => ({ lag: [] as number[], verdictLag: [] as number[] }))
      lags.replied.forEach((t, i) => {
        const w = win[Math.min(nWin - 1, Math.max(0, Math.floor((t - l.startAt) / p.flatWindowMs)))]!
        w.lag.push(lags.lag[i]!)
        w.verdictLag.push(lags.verdictLag[i]!)
      })
      const windows = win.map((w, i) => ({ fromS: i * p.flatWindowMs / 1000, calls: w.lag.length, ...pcts(w.lag), verdict: pcts(w.verdictLag) }))
      const mids = windows.map((w) => w.fromS + p.flatWindowMs / 2000)
      const run = {
        windows,
        p99SlopeMsPerS: round(slope(mids, windows.map((w) => w.p99Ms))),
        p50SlopeMsPerS: round(slope(mids, windows.map((w) => w.p50Ms))),
        lastOverFirstP99: round(windows.at(-1)!.p99Ms / Math.max(1, windows[0]!.p99Ms)),
        covered: round(lags.lag.length / Math.max(1, lags.total), 4),
        settleMs
      }
      runs.push(run)
      process.stderr.write(`  run ${r + 1} at ${rate} calls/s: p50/p99 lag per ${p.flatWindowMs / 1000} s window ${windows.map((w) => `${w.p50Ms}/${w.p99Ms}`).join(', ')} ms (to the watcher's verdict: ${windows.map((w) => `${w.verdict.p50Ms}/${w.verdict.p99Ms}`).join(', ')}); p99 slope ${run.p99SlopeMsPerS} ms/s, last/first ${run.lastOverFirstP99} (${lags.lag.length}/${lags.total} calls covered)\n`)
    }
  } finally {
    await stopAll([...clients, watcher])
  }
  return {
    offeredCallsPerSec: rate,
    rateFrom: hostWrite ? 'half the write throughput of this run' : 'no throughput section: 500 calls/s',
    seconds: p.flatMs / 1000,
    windowSeconds: p.flatWindowMs / 1000,
    windows: Array.from({ length: nWin }, (_, i) => ({
      fromS: i * p.flatWindowMs / 1000,
      calls: median(runs.map((x) => x.windows[i]!.calls)),
      p50Ms: median(runs.map((x) => x.windows[i]!.p50Ms)),
      p99Ms: median(runs.map((x) => x.windows[i]!.p99Ms)),
      verdict: { p50Ms: median(runs.map((x) => x.windows[i]!.verdict.p50Ms)), p99Ms: median(runs.map((x) => x.windows[i]!.verdict.p99Ms)) }
    })),
    p99SlopeMsPerS: median(runs.map((x) => x.p99SlopeMsPerS)),
    p50SlopeMsPerS: median(runs.map((x) => x.p50SlopeMsPerS)),
    lastOverFirstP99: median(runs.map((x) => x.lastOverFirstP99)),
    covered: median(runs.map((x) => x.covered)),
    runs
  }
}
