/**
 * The measurements of `npm run bench`, one function per section. Each
 * section starts the processes it needs on the benchmark's local DHT (host
 * node, load clients, watchers, gossip nodes: all separate processes), does
 * `runs` runs and returns the medians with the per-run figures.
 */

import os from 'node:os'
import fs from 'node:fs'
import type { BootstrapNode } from '../src/net/swarm.js'
import { Child, median, now, percentile, round, tempDir, type Event } from './bench-lib.js'

/** Sizes and durations of a benchmark (see `bench.ts` for the defaults). */
export interface BenchParams {
  runs: number
  /** Closed-loop load duration per run, ms (the first `warmupMs` are not counted). */
  durationMs: number
  warmupMs: number
  /** Calls in flight per load client (4 clients). */
  concurrency: number
  clients: number
  /** Offered load of the latency section, calls/s. */
  latencyRate: number
  /** Calls in the log the watcher verifies. */
  bigLog: number
  /** Offered load of the audit lag section, calls/s. */
  auditRate: number
  gossipNodes: number
  /** Contracts deployed on one host in the scale section. */
  scale: number
  /** Contracts the scale section calls (5 calls each). */
  scaleSample: number
  baselineCalls: number
  /** Folder for `--cpu-prof` of the host and cold-verify processes, or null. */
  profileDir: string | null
  bootstrap: BootstrapNode[]
}

/** One load client's answer to `run` (see load-client.ts). */
interface LoadDone {
  start: number[]
  latency: number[]
  index: number[]
  errors: number
  firstError: string | null
  cpuMs: number
  attestations: Array<[number, number]>
}

/** A host process with the named benchmark contracts. */
export interface HostProc {
  child: Child
  keys: Record<string, string>
  /** Keys (hex) of the contracts of the scale section. */
  scaleKeys: string[]
  dir: string
}

/** Node flags that write a CPU profile of a child (`<profileDir>/<what>-*.cpuprofile`, read with profile-top.ts), or none. */
function profileArgs (p: BenchParams, what: string): string[] {
  return p.profileDir ? ['--cpu-prof', '--cpu-prof-dir', p.profileDir, '--cpu-prof-name', `${what}-${Date.now()}.cpuprofile`] : []
}

/** Starts a host node process deploying one benchmark contract per name. */
export async function startHost (p: BenchParams, names: string[], extra: Record<string, unknown> = {}): Promise<HostProc> {
  const dir = tempDir('vms-bench-host-')
  const child = new Child('bench-host', { bootstrap: p.bootstrap, storage: dir, names, ...extra }, profileArgs(p, 'host'))
  const ready = await child.next('ready', 30 * 60_000)
  return { child, keys: ready.keys as Record<string, string>, scaleKeys: ready.scaleKeys as string[], dir }
}

/** Stops a host process and removes its storage. */
export async function stopHost (h: HostProc): Promise<void> {
  await h.child.stop(30_000)
  fs.rmSync(h.dir, { recursive: true, force: true })
}

/** Asks the host for its stats (RSS bytes, per-contract counters). */
export async function hostStats (h: HostProc): Promise<Event> {
  h.child.send({ cmd: 'stats' })
  return await h.child.next('stats', 60_000)
}

async function startClients (p: BenchParams, key: string, n = p.clients): Promise<Child[]> {
  const clients = Array.from({ length: n }, (_, index) => new Child('load-client', { key, bootstrap: p.bootstrap, index }))
  await Promise.all(clients.map((c) => c.next('ready', 60_000)))
  return clients
}

async function stopAll (children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.stop()))
}

/** Where the CPU went during a load: cores busy on average (1 = one core all the time). */
interface CpuShare { host: number, clients: number }

/**
 * Runs one load on every client at once; resolves with the start time,
 * each client's answer, and (given the host) the CPU the host and the
 * clients used.
 */
async function load (clients: Child[], cmd: Record<string, unknown>, host?: HostProc): Promise<{ startAt: number, done: LoadDone[], cpu: CpuShare | null }> {
  const cpu0 = host ? (await hostStats(host)).cpuMs as number : 0
  const startAt = now() + 300
  for (const c of clients) c.send({ cmd: 'run', startAt, ...cmd })
  const done = await Promise.all(clients.map((c) => c.next('done', 30 * 60_000))) as unknown as LoadDone[]
  const wall = now() - startAt
  const cpu = host ? { host: round(((await hostStats(host)).cpuMs as number - cpu0) / wall), clients: round(done.reduce((a, d) => a + d.cpuMs, 0) / wall) } : null
  const errors = done.reduce((a, d) => a + d.errors, 0)
  if (errors > 0) process.stderr.write(`  (${errors} failed calls; first: ${done.find((d) => d.firstError)?.firstError})\n`)
  return { startAt, done, cpu }
}

/** Calls/s completed inside [startAt + warmup, startAt + duration]. */
function windowRate (startAt: number, done: LoadDone[], p: BenchParams): number {
  const from = startAt + p.warmupMs
  const to = startAt + p.durationMs
  let n = 0
  for (const d of done) {
    for (let i = 0; i < d.start.length; i++) {
      const t = d.start[i]! + d.latency[i]!
      if (t >= from && t <= to) n++
    }
  }
  return Math.round(n / ((to - from) / 1000))
}

function closedLoad (p: BenchParams, method: string, args: unknown[]): Record<string, unknown> {
  return { method, args, mode: 'closed', concurrency: p.concurrency, durationMs: p.durationMs }
}

/** `baseline` (child process) and host throughput, write and read-only, interleaved run by run. */
export async function throughput (p: BenchParams, host: HostProc): Promise<Record<string, unknown>> {
  const writers = await startClients(p, host.keys.w!)
  const readers = await startClients(p, host.keys.r!)
  const baseline: number[] = []
  const write: number[] = []
  const read: number[] = []
  const cpu: { write: CpuShare[], read: CpuShare[] } = { write: [], read: [] }
  try {
    // one uncounted round first: the first measured run was always the slowest (JIT and caches warming up)
    const warm = { ...p, durationMs: 2 * p.warmupMs }
    await load(writers, closedLoad(warm, 'rsvp', ['$n', true, 'warm-up']), host)
    await load(readers, closedLoad(warm, 'get', ['host']), host)
    for (let r = 0; r < p.runs; r++) {
      const b = new Child('bench-baseline', { calls: p.baselineCalls, group: p.clients * p.concurrency })
      baseline.push((await b.next('result', 10 * 60_000)).callsPerSec as number)
      await b.exited
      const w = await load(writers, closedLoad(p, 'rsvp', ['$n', true, 'bench']), host)
      write.push(windowRate(w.startAt, w.done, p))
      cpu.write.push(w.cpu!)
      const rd = await load(readers, closedLoad(p, 'get', ['host']), host)
      read.push(windowRate(rd.startAt, rd.done, p))
      cpu.read.push(rd.cpu!)
      process.stderr.write(`  run ${r + 1}: baseline ${baseline.at(-1)} calls/s, write ${write.at(-1)} calls/s (CPU: host ${w.cpu!.host}, clients ${w.cpu!.clients}), read-only ${read.at(-1)} calls/s (CPU: host ${rd.cpu!.host}, clients ${rd.cpu!.clients})\n`)
    }
  } finally {
    await stopAll([...writers, ...readers])
  }
  const base = median(baseline)
  return {
    baseline: { callsPerSec: base, runs: baseline },
    write: { callsPerSec: median(write), ratioToBaseline: round(median(write) / base), runs: write, cpuCores: cpu.write },
    read: { callsPerSec: median(read), ratioToBaseline: round(median(read) / base), runs: read, cpuCores: cpu.read }
  }
}

/** Latency p50/p99 (ms) of write calls at a fixed offered load (open loop, timed from the schedule). */
export async function latency (p: BenchParams, host: HostProc): Promise<Record<string, unknown>> {
  const clients = await startClients(p, host.keys.l!)
  const runs: Array<{ p50Ms: number, p99Ms: number, achieved: number, inHost: { p50Ms: number, p99Ms: number } }> = []
  try {
    for (let r = 0; r < p.runs; r++) {
      host.child.send({ cmd: 'served' })
      await host.child.next('served')
      const l = await load(clients, { method: 'rsvp', args: ['$n', true, 'bench'], mode: 'open', rate: p.latencyRate / p.clients, durationMs: p.durationMs })
      host.child.send({ cmd: 'served' })
      const inHost = await host.child.next('served')
      const lat: number[] = []
      for (const d of l.done) d.start.forEach((s, i) => { if (s >= l.startAt + p.warmupMs) lat.push(d.latency[i]!) })
      runs.push({ p50Ms: round(percentile(lat, 50)), p99Ms: round(percentile(lat, 99)), achieved: windowRate(l.startAt, l.done, p), inHost: { p50Ms: inHost.p50Ms as number, p99Ms: inHost.p99Ms as number } })
      process.stderr.write(`  run ${r + 1}: p50 ${runs.at(-1)!.p50Ms} ms, p99 ${runs.at(-1)!.p99Ms} ms at ${runs.at(-1)!.achieved} calls/s (inside the host: p50 ${inHost.p50Ms} ms, p99 ${inHost.p99Ms} ms)\n`)
    }
  } finally {
    await stopAll(clients)
  }
  return {
    offeredCallsPerSec: p.latencyRate,
    p50Ms: median(runs.map((x) => x.p50Ms)),
    p99Ms: median(runs.map((x) => x.p99Ms)),
    inHost: { p50Ms: median(runs.map((x) => x.inHost.p50Ms)), p99Ms: median(runs.map((x) => x.inHost.p99Ms)) },
    runs
  }
}

/**
 * Fills the write contract's log to `bigLog` calls (closed loop), then
 * verifies it `runs` times with a cold watcher process each (download,
 * replay, judge).
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
    process.stderr.write(`  verify ${r + 1}: ${v.judged} calls in ${round(v.seconds as number)} s (${v.replayCallsPerSec} calls/s judging), verdict ${v.verdict}\n`)
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

/**
 * Audit lag at a fixed offered load: time from a call's reply to the first
 * ok attestation covering it (seen by the calling client through gossip);
 * when no attestation arrives, to the watcher's first ok verdict covering it.
 */
export async function auditLag (p: BenchParams, host: HostProc): Promise<Record<string, unknown>> {
  const watcher = new Child('bench-watch', { bootstrap: p.bootstrap, key: host.keys.a, mode: 'follow' })
  await watcher.next('ready', 60_000)
  const clients = await startClients(p, host.keys.a!)
  const runs: Array<{ source: string, p50Ms: number, p99Ms: number, covered: number }> = []
  try {
    for (let r = 0; r < p.runs; r++) {
      const l = await load(clients, { method: 'rsvp', args: ['$n', true, 'bench'], mode: 'open', rate: p.auditRate / p.clients, durationMs: p.durationMs, linger: 20_000 })
      watcher.send({ cmd: 'report' })
      const verdicts = (await watcher.next('verdicts')).verdicts as Array<[number, number]>
      const withAtt = l.done.every((d) => d.attestations.length > 0)
      const lags: number[] = []
      let covered = 0
      for (const d of l.done) {
        const marks = withAtt ? d.attestations : verdicts
        d.index.forEach((index, i) => {
          const replied = d.start[i]! + d.latency[i]!
          let first = Infinity
          for (const [t, length] of marks) if (length > index && t < first) first = t
          if (first === Infinity) return
          covered++
          lags.push(Math.max(0, first - replied))
        })
      }
      const total = l.done.reduce((a, d) => a + d.index.length, 0)
      runs.push({ source: withAtt ? 'attestation' : 'verdict', p50Ms: round(percentile(lags, 50)), p99Ms: round(percentile(lags, 99)), covered: round(covered / Math.max(1, total), 4) })
      process.stderr.write(`  run ${r + 1}: ${runs.at(-1)!.source} lag p50 ${runs.at(-1)!.p50Ms} ms, p99 ${runs.at(-1)!.p99Ms} ms (${covered}/${total} calls covered)\n`)
    }
  } finally {
    await stopAll([...clients, watcher])
  }
  return {
    offeredCallsPerSec: p.auditRate,
    source: runs.every((x) => x.source === 'attestation') ? 'attestation' : 'verdict',
    p50Ms: median(runs.map((x) => x.p50Ms)),
    p99Ms: median(runs.map((x) => x.p99Ms)),
    runs
  }
}

/** Time for one attestation to reach every one of `gossipNodes` nodes (a host and its clients). */
export async function gossip (p: BenchParams): Promise<Record<string, unknown>> {
  const host = await startHost(p, ['g'], { gossipEvents: true })
  const nodes = Array.from({ length: p.gossipNodes - 1 }, () => new Child('bench-gossip', { bootstrap: p.bootstrap, key: host.keys.g }))
  const runs: number[] = []
  try {
    await Promise.all(nodes.map((n) => n.next('ready', 60_000)))
    for (let r = 0; r < p.runs; r++) {
      const [origin, ...others] = nodes
      origin!.send({ cmd: 'publish' })
      const pub = await origin!.next('published', 30_000)
      const got = await Promise.all([host.child, ...others].map(async (n) => {
        for (;;) {
          const ev = await n.next('received', 30_000)
          if (ev.id === pub.id) return ev.t as number
        }
      }))
      runs.push(round(Math.max(...got) - (pub.t as number)))
      process.stderr.write(`  run ${r + 1}: ${runs.at(-1)} ms to reach ${p.gossipNodes} nodes\n`)
    }
  } finally {
    await stopAll(nodes)
    await stopHost(host)
  }
  return { nodes: p.gossipNodes, ms: median(runs), runs }
}

/** RSS (bytes) and call latency (ms) with `scale` contracts on one host. */
export async function scale (p: BenchParams): Promise<Record<string, unknown>> {
  const t0 = now()
  const host = await startHost(p, [], { scale: p.scale })
  const deploySeconds = round((now() - t0) / 1000)
  try {
    const before = await hostStats(host)
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
    const all2 = [...cold, ...warm]
    return {
      contracts: p.scale,
      deploySeconds,
      rssBytes: before.rss,
      rssAfterCallsBytes: after.rss,
      liveSandboxes: after.live,
      evictions: after.evictions,
      rebuilds: after.rebuilds,
      p50Ms: round(percentile(all2, 50)),
      p99Ms: round(percentile(all2, 99)),
      coldP50Ms: round(percentile(cold, 50)),
      warmP50Ms: round(percentile(warm, 50)),
      calls: all2.length,
      errors: done.errors
    }
  } finally {
    await stopHost(host)
  }
}

/** What machine this ran on. */
export function machine (): Record<string, unknown> {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, memBytes: os.totalmem(), node: process.version, platform: `${os.platform()} ${os.release()}` }
}
