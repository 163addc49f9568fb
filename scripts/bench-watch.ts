/**
 * Benchmark child: a watcher of one contract, with fresh storage.
 *
 * Config: `{ bootstrap, key: hex, mode: 'verify' | 'follow', timeout? }`.
 * - verify: a cold one-shot audit up to the host's length (download,
 *   replay, judge), then `{ event: 'verified', seconds, judged, verdict,
 *   judgingSeconds, replayCallsPerSec, downloadSeconds, filesDownloadSeconds, judgedAtFiles, cpuMs }`
 *   (s, calls/s, ms of CPU time of this process; `downloadSeconds`: until the
 *   call log was all here, `filesDownloadSeconds`: until the last block of the
 *   files drive, database and blobs, arrived, and `judgedAtFiles` calls were judged then);
 * - follow: judges live and emits `ready`; command `report` answers
 *   `{ event: 'verdicts', verdicts: [[ms wall clock, length], ...], arrivals: [[ms, index], ...] }` with the
 *   ok verdicts since the last report and when every tenth call record was downloaded, and
 *   `cpuMs` (this process's CPU time, ms) and `elu` (its main thread's event-loop utilisation, 0-1) since then.
 *   With `VMS_BENCH_TRACE=1` it prints where it stands every 500 ms (stderr).
 * `VMS_BENCH_WATCH_SANDBOX=inprocess` replays in this process's isolates (a comparison).
 */

import fs from 'node:fs'
import path from 'node:path'
import type { BootstrapNode } from '../src/net/swarm.js'
import { Watcher } from '../src/watch/watcher.js'
import { loadedBlobsCore } from '../src/log/holepunch-internals.js'
import { createSandbox } from '../src/runtime/sandbox.js'
import { describeExit, sharedSandboxProcesses } from '../src/runtime/sandbox-process.js'
import type { Verdict } from '../src/watch/verdict.js'
import { childIO, now, tempDir } from './bench-lib.js'

interface Config {
  bootstrap: BootstrapNode[]
  key: string
  mode: 'verify' | 'follow'
  timeout?: number
}

const verdicts: Array<[number, number]> = []
/** Follow mode: when call records arrived here, `[ms wall clock, block index]`, one in ten (where the lag goes: network or judging). */
const arrivals: Array<[number, number]> = []
let watcher: Watcher | null = null
const dir = tempDir('vms-watch-')

/** Follow mode: this process's CPU time and event-loop use at the last report (the next report gives what was used since). */
let usage = { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() }

const { config, emit } = childIO<Config>(async (cmd) => {
  if (cmd.cmd === 'report') {
    const cpu = process.cpuUsage(usage.cpu)
    const elu = performance.eventLoopUtilization(usage.elu)
    usage = { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() }
    emit({ event: 'verdicts', verdicts: verdicts.splice(0), arrivals: arrivals.splice(0), cpuMs: Math.round((cpu.user + cpu.system) / 1000), elu: Math.round(elu.utilization * 1000) / 1000 })
  } else if (cmd.cmd === 'exit') {
    if (watcher) await watcher.close()
    fs.rmSync(dir, { recursive: true, force: true })
    process.exit(0)
  }
})

const timeout = config.timeout ?? 120_000
// VMS_BENCH_WATCH_SANDBOX=inprocess: replays in isolates of this process, not supervised sandbox processes
// (a comparison only: a contract that aborts V8 then ends the watcher)
const inProcess = process.env.VMS_BENCH_WATCH_SANDBOX === 'inprocess'
sharedSandboxProcesses().on('exit', (e) => process.stderr.write(`watcher warning: ${describeExit(e)}\n`))
watcher = new Watcher({ storage: path.join(dir, 'watcher'), bootstrap: config.bootstrap, timeout, sandboxFactory: inProcess ? createSandbox : undefined })
const t0 = now()
if (config.mode === 'verify') {
  const cw = await watcher.watch(config.key, { oneShot: true })
  // a replay retried for a reason of this machine, a stall: findings, printed where the bench shows them
  cw.on('warning', (err: Error) => process.stderr.write(`watcher warning: ${err.message}\n`))
  let firstJudged = 0
  let downloaded = 0
  let target = Infinity
  // the files (drive database and blobs) arrive after the log: when their last block did
  let filesLength = -1
  let filesDownloaded = 0
  let judgedAtFiles = 0
  const sampler = setInterval(() => {
    if (firstJudged === 0 && cw.stats.judged > 0) firstJudged = now()
    if (downloaded === 0 && cw.log.core.contiguousLength >= target) downloaded = now()
    const drive = cw.log.drive
    const blobs = drive ? loadedBlobsCore(drive) : null
    const have = (drive ? drive.core.contiguousLength : 0) + (blobs ? blobs.contiguousLength : 0)
    if (have !== filesLength) {
      filesLength = have
      filesDownloaded = now()
      judgedAtFiles = cw.stats.judged
    }
  }, 20)
  cw.log.core.on('append', () => { target = Math.max(target === Infinity ? 0 : target, cw.log.core.length) })
  const cpu0 = process.cpuUsage()
  const v = await cw.auditOnce(timeout)
  const t1 = now()
  const cpu = process.cpuUsage(cpu0)
  clearInterval(sampler)
  const judged = cw.stats.judged
  const judgingSeconds = (t1 - (firstJudged || t0)) / 1000
  emit({
    event: 'verified',
    seconds: (t1 - t0) / 1000,
    judged,
    length: v.length,
    verdict: v.verdict,
    // an ok benchmark log must never give a fault: when it does, what the watcher saw is the figure that matters
    fault: v.fault ? { kind: v.fault.kind, index: v.fault.index, cause: v.fault.cause, message: v.fault.message } : null,
    judgingSeconds,
    replayCallsPerSec: Math.round(judged / judgingSeconds),
    downloadSeconds: downloaded ? (downloaded - t0) / 1000 : null,
    filesDownloadSeconds: filesDownloaded ? (filesDownloaded - t0) / 1000 : null,
    judgedAtFiles,
    cpuMs: (cpu.user + cpu.system) / 1000
  })
} else {
  const cw = await watcher.watch(config.key)
  cw.log.core.on('download', (index: number) => { if (index % 10 === 0) arrivals.push([now(), index]) })
  cw.on('verdict', (v: Verdict) => {
    if (v.verdict === 'ok') verdicts.push([now(), v.length])
    // a benchmark host is honest: any other verdict is a finding, printed where the bench shows it
    else if (v.fault) process.stderr.write(`watcher: ${v.verdict} at block ${v.fault.index} (${v.fault.kind}, cause ${v.fault.cause}): ${v.fault.message}\n`)
  })
  cw.on('warning', (err: Error) => process.stderr.write(`watcher warning: ${err.message}\n`))
  if (process.env.VMS_BENCH_TRACE) {
    // where a following watcher stands, every 500 ms: blocks here, judged, and what judging cost (rebuilds replay the log)
    setInterval(() => {
      const st = cw.stats
      process.stderr.write(`watcher trace: length ${cw.log.core.length} contiguous ${cw.log.core.contiguousLength} judged ${cw.verdict?.length ?? 0} replayed ${st.replayed} ahead ${st.replayedAhead ?? 0} mirrored ${st.mirrored ?? 0} rebuilds ${st.rebuilds} rebuildReplays ${st.rebuildReplays}\n`)
    }, 500).unref()
  }
  emit({ event: 'ready' })
}
