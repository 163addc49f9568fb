/**
 * Benchmark section `rehost`: a cold `verify` of the big log from
 * 3 watchers with the host offline (the log and files downloaded from
 * several peers, the root a watcher kept), next to the same from the host.
 * Its own host process (contract `w`, filled to `bigLog` calls by the replay
 * section's code), 3 following watcher processes with storage (they serve),
 * then the host stopped and `runs` cold verifies.
 */

import fs from 'node:fs'
import { Child, median, round, type Event } from './bench-lib.js'
import { hostStats, startHost, type BenchParams } from './bench-procs.js'
import { replay } from './bench-replay.js'

/** Cold verify from the host, then from 3 watchers with the host offline; medians in s. */
export async function rehost (p: BenchParams): Promise<Record<string, unknown>> {
  const host = await startHost(p, ['w'])
  const watchers: Child[] = []
  try {
    const fromHost = await replay(p, host, null) // fills the log, then cold verifies from the host
    const length = ((await hostStats(host)).contracts as Record<string, { length: number }>).w!.length
    for (let i = 0; i < 3; i++) watchers.push(new Child('bench-watch', { bootstrap: p.bootstrap, key: host.keys.w, mode: 'follow' }))
    await Promise.all(watchers.map((w) => w.next('ready', 60_000)))
    const t0 = Date.now()
    await Promise.all(watchers.map(async (w) => {
      let judged = 0
      while (judged < length) {
        await new Promise((resolve) => setTimeout(resolve, 1000))
        w.send({ cmd: 'report' })
        for (const [, len] of (await w.next('verdicts', 60_000)).verdicts as Array<[number, number]>) judged = Math.max(judged, len)
      }
    }))
    process.stderr.write(`  3 watchers judged the ${length}-block log in ${round((Date.now() - t0) / 1000)} s; host stopped\n`)
    await host.child.stop(30_000)
    const runs: Event[] = []
    for (let r = 0; r < p.runs; r++) {
      const v = new Child('bench-watch', { bootstrap: p.bootstrap, key: host.keys.w, mode: 'verify', timeout: 120_000 })
      const out = await v.next('verified', 60 * 60_000)
      await v.stop()
      runs.push(out)
      process.stderr.write(`  verify from watchers ${r + 1}: ${out.judged} calls in ${round(out.seconds as number)} s (download ${out.downloadSeconds === null ? '-' : round(out.downloadSeconds as number)} s), verdict ${out.verdict}\n`)
    }
    return {
      calls: fromHost.calls,
      fromHostSeconds: fromHost.verifySeconds,
      fromWatchersSeconds: round(median(runs.map((v) => v.seconds as number))),
      fromWatchersDownloadSeconds: round(median(runs.map((v) => (v.downloadSeconds as number | null) ?? NaN))),
      verdicts: runs.map((v) => v.verdict),
      runs: runs.map(({ event: _e, ...rest }) => rest)
    }
  } finally {
    await Promise.all(watchers.map((w) => w.stop().catch(() => {})))
    await host.child.stop(30_000).catch(() => {})
    fs.rmSync(host.dir, { recursive: true, force: true })
  }
}
