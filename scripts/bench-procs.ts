/**
 * The processes a benchmark section drives, and how it drives them: the
 * benchmark's parameters, a host node process, load client processes, one
 * load run on every client at once, and the rate completed in a window.
 * The sections (bench-throughput.ts, bench-latency.ts, ...) are built on it.
 */

import fs from 'node:fs'
import type { BootstrapNode } from '../src/net/swarm.js'
import { Child, now, round, tempDir, type Event } from './bench-lib.js'

/** Sizes and durations of a benchmark (see `bench.ts` for the defaults). */
export interface BenchParams {
  quick: boolean
  runs: number
  /** Closed-loop load duration per run, ms (the first `warmupMs` are not counted). */
  durationMs: number
  warmupMs: number
  /** Calls in flight per load client (4 clients). */
  concurrency: number
  clients: number
  /** Offered loads of the latency section, calls/s (the first is the one with targets). */
  latencyRates: number[]
  /** Calls in the log the watcher verifies. */
  bigLog: number
  /** Offered load of the audit lag section, calls/s. */
  auditRate: number
  /** Length of the audit flatness run, ms, and of each window it reports, ms. */
  flatMs: number
  flatWindowMs: number
  /** Gossip nodes in all (the host is one of them), and the processes the others run in. */
  gossipNodes: number
  gossipProcs: number
  /** Contracts deployed on one host in the scale section. */
  scale: number
  /** Contracts the scale section calls (5 calls each). */
  scaleSample: number
  /** The scale section stops deploying after this long, ms (and says so). */
  scaleBudgetMs: number
  /** Calls per `baseline` run, per `naive` run; ms per `cryptoCap` run. */
  baselineCalls: number
  naiveCalls: number
  cryptoMs: number
  /** Folder for `--cpu-prof` of the host and cold-verify processes, or null. */
  profileDir: string | null
  bootstrap: BootstrapNode[]
}

/** One load client's answer to `run` (see load-client.ts). */
export interface LoadDone {
  /** Per call: ms wall clock it started (open loop: was scheduled), ms latency, log block index. */
  start: number[]
  latency: number[]
  index: number[]
  errors: number
  firstError: string | null
  cpuMs: number
  /** Ok attestations gossip brought: [ms wall clock, log length]. */
  attestations: Array<[number, number]>
}

/** A host process with the named benchmark contracts. */
export interface HostProc {
  child: Child
  keys: Record<string, string>
  /** Keys (hex) of the contracts of the scale section. */
  scaleKeys: string[]
  /** The `ready` event (scale: `deployed`, `stoppedEarly`, `seconds`). */
  ready: Event
  dir: string
}

/** Node flags that write a CPU profile of a child (`<profileDir>/<what>-*.cpuprofile`, read with profile-top.ts), or none. */
export function profileArgs (p: BenchParams, what: string): string[] {
  return p.profileDir ? ['--cpu-prof', '--cpu-prof-dir', p.profileDir, '--cpu-prof-name', `${what}-${Date.now()}.cpuprofile`] : []
}

/**
 * Starts a host node process (bench-host.ts) deploying one benchmark contract per name.
 * @param extra more config for bench-host.ts (`scale`, `storage` of an earlier host to reopen, ...)
 * @param onevent called with every event of the host process (e.g. `deployed` progress)
 */
export async function startHost (p: BenchParams, names: string[], extra: Record<string, unknown> = {}, onevent: ((ev: Event) => void) | null = null): Promise<HostProc> {
  const dir = (extra.storage as string | undefined) ?? tempDir('vms-bench-host-')
  const child = new Child('bench-host', { bootstrap: p.bootstrap, storage: dir, names, ...extra }, profileArgs(p, 'host'))
  child.onevent = onevent
  const ready = await child.next('ready', 60 * 60_000)
  return { child, keys: ready.keys as Record<string, string>, scaleKeys: ready.scaleKeys as string[], ready, dir }
}

/** Stops a host process and removes its storage (`keep`: leaves the storage for a restart). */
export async function stopHost (h: HostProc, keep = false): Promise<void> {
  await h.child.stop(60_000)
  if (!keep) fs.rmSync(h.dir, { recursive: true, force: true })
}

/** Asks the host for its stats (RSS bytes, CPU ms, per-contract counters). */
export async function hostStats (h: HostProc): Promise<Event> {
  h.child.send({ cmd: 'stats' })
  return await h.child.next('stats', 60_000)
}

/** Starts `n` load client processes (load-client.ts) on the contract `key` (hex), resolved once connected. */
export async function startClients (p: BenchParams, key: string, n = p.clients): Promise<Child[]> {
  const clients = Array.from({ length: n }, (_, index) => new Child('load-client', { key, bootstrap: p.bootstrap, index }))
  await Promise.all(clients.map((c) => c.next('ready', 60_000)))
  return clients
}

/** Stops child processes (all at once). */
export async function stopAll (children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.stop()))
}

/** Where the CPU went during a load: cores busy on average (1 = one core all the time). */
export interface CpuShare { host: number, clients: number }

/**
 * Runs one load on every client at once; resolves with the start time
 * (ms wall clock), each client's answer, and (given the host) the CPU the
 * host and the clients used.
 */
export async function load (clients: Child[], cmd: Record<string, unknown>, host?: HostProc): Promise<{ startAt: number, done: LoadDone[], cpu: CpuShare | null }> {
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

/** Calls/s completed inside [startAt + warmup, startAt + duration] (times in ms wall clock). */
export function windowRate (startAt: number, done: LoadDone[], p: BenchParams): number {
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

/** A closed-loop `run` command: `concurrency` calls of `method(args)` in flight per client for `durationMs`. */
export function closedLoad (p: BenchParams, method: string, args: unknown[]): Record<string, unknown> {
  return { method, args, mode: 'closed', concurrency: p.concurrency, durationMs: p.durationMs }
}

/** An open-loop `run` command: `rate` calls/s in all, spread over `clients` clients, for `durationMs`. */
export function openLoad (rate: number, clients: number, durationMs: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { method: 'rsvp', args: ['$n', true, 'bench'], mode: 'open', rate: rate / clients, durationMs, ...extra }
}
