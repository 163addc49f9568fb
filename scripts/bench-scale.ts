/**
 * Benchmark section `scale`: `scale` contracts on one host process. The
 * host deploys them (for at most `scaleBudgetMs`; how many it managed is in
 * the result), stops, and a new host process opens the same storage and
 * reopens them all: the time to open and the RSS after it are what a host
 * restart costs. Then one client process calls `scaleSample` contracts
 * picked at random, 5 write calls each in a row: the first call of a
 * contract is its cold call (its sandbox may have been evicted, rebuilt by
 * replay), the others warm.
 */

import { Child, now, percentile, round, type Event } from './bench-lib.js'
import { hostStats, startHost, stopHost, type BenchParams } from './bench-procs.js'

/** Prints the host's `deployed` events every 1,000 contracts (count, s, RSS MB). */
function progress (what: string): (ev: Event) => void {
  return (ev) => {
    if (ev.event === 'deployed' && (ev.count as number) % 1000 === 0) process.stderr.write(`  ${what} ${ev.count} in ${round(ev.seconds as number)} s, RSS ${Math.round((ev.rss as number) / 1e6)} MB\n`)
  }
}

/**
 * @returns `{ contracts (asked), deployed, stoppedEarly, deploySeconds, reopened, reopenStoppedEarly, openSeconds (s, from starting the process
 *   to every contract open), rssAfterDeployBytes, rssAfterOpenBytes, rssAfterCallsBytes (bytes), liveSandboxes,
 *   evictions, rebuilds, coldP50Ms, coldP99Ms, warmP50Ms, p50Ms, p99Ms (ms), calls, errors }`
 */
export async function scale (p: BenchParams): Promise<Record<string, unknown>> {
  const t0 = now()
  const first = await startHost(p, [], { scale: p.scale, budgetMs: p.scaleBudgetMs }, progress('deployed'))
  const deploySeconds = round((now() - t0) / 1000)
  const deployed = first.ready.deployed as number
  const stoppedEarly = first.ready.stoppedEarly as boolean
  let rssAfterDeployBytes: number
  try {
    rssAfterDeployBytes = (await hostStats(first)).rss as number
  } finally {
    await stopHost(first, true)
  }
  process.stderr.write(`  deployed ${deployed} contracts in ${deploySeconds} s${stoppedEarly ? ` (stopped: the budget of ${p.scaleBudgetMs / 1000} s ran out before ${p.scale})` : ''}; reopening\n`)
  const t1 = now()
  const host = await startHost(p, [], { scale: deployed, storage: first.dir, budgetMs: p.scaleBudgetMs }, progress('reopened'))
  const openSeconds = round((now() - t1) / 1000)
  const reopened = host.ready.deployed as number
  const reopenStoppedEarly = host.ready.stoppedEarly as boolean
  try {
    const opened = await hostStats(host)
    process.stderr.write(`  reopened ${reopened} in ${openSeconds} s${reopenStoppedEarly ? ` (stopped: the budget of ${p.scaleBudgetMs / 1000} s ran out)` : ''}, RSS ${Math.round((opened.rss as number) / 1e6)} MB\n`)
    const list = host.scaleKeys
    const sample: string[] = []
    for (let i = 0; i < p.scaleSample && list.length > 0; i++) sample.push(list[Math.floor(Math.random() * list.length)]!)
    const prober = new Child('load-scale', { bootstrap: p.bootstrap, keys: sample, calls: 5 })
    await prober.next('ready', 60_000)
    const done = await prober.next('done', 30 * 60_000)
    await prober.stop()
    const after = await hostStats(host)
    const cold = done.cold as number[]
    const warm = done.warm as number[]
    const all = [...cold, ...warm]
    return {
      contracts: p.scale,
      deployed,
      stoppedEarly,
      deploySeconds,
      reopened,
      reopenStoppedEarly,
      openSeconds,
      rssAfterDeployBytes,
      rssAfterOpenBytes: opened.rss,
      rssAfterCallsBytes: after.rss,
      liveSandboxes: after.live,
      evictions: after.evictions,
      rebuilds: after.rebuilds,
      coldP50Ms: round(percentile(cold, 50)),
      coldP99Ms: round(percentile(cold, 99)),
      warmP50Ms: round(percentile(warm, 50)),
      p50Ms: round(percentile(all, 50)),
      p99Ms: round(percentile(all, 99)),
      calls: all.length,
      errors: done.errors
    }
  } finally {
    await stopHost(host)
  }
}
