/**
 * Benchmark: how fast a watcher verifies a log compared with how fast the
 * host wrote it, in the same run. Per run: a local DHT testnet, a host node
 * serving a contract, one client sending N calls with many in flight (so the
 * host group-commits), then a fresh watcher that verifies the whole log
 * (replicate, replay, judge). Prints one JSON object with the medians.
 *
 *   node --no-node-snapshot dist/scripts/bench-verify.js [--calls 10000] [--runs 3] [--contract persistent-counter-fixed.js] [--window 512]
 */

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import createTestnet from 'hyperdht/testnet.js'
import { VmsClient } from '../src/client.js'
import { keyPair } from '../src/crypto.js'
import { HostNode } from '../src/host/host-node.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { Watcher } from '../src/watch/watcher.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Options of one benchmark run. */
export interface BenchOptions {
  /** Calls to make (default 10,000). */
  calls?: number
  /** Example contract file name (default persistent-counter-fixed.js). */
  contract?: string
  /** Calls in flight at once (default 512). */
  window?: number
  /** ms a verify may wait for peers and blocks (default 30,000). */
  timeout?: number
}

/** What one run measured. */
export interface BenchRun {
  calls: number
  logLength: number
  hostSeconds: number
  hostCallsPerSec: number
  /** Group commits the host did (calls per commit = calls / batches). */
  hostBatches: number
  verifySeconds: number
  replayCallsPerSec: number
  verdict: string
  judged: number
}

/** One run: host N calls, then verify the log with a fresh watcher. */
export async function benchOnce (opts: BenchOptions = {}): Promise<BenchRun> {
  const calls = opts.calls ?? 10_000
  const window = opts.window ?? 512
  const contract = opts.contract ?? 'persistent-counter-fixed.js'
  const method = contract.startsWith('rsvp') ? 'RSVP' : 'increment'
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vms-bench-'))
  const testnet = await createTestnet(3)
  const node = new HostNode({ storage: path.join(dir, 'host'), sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: testnet.bootstrap })
  let client: VmsClient | null = null
  let watcher: Watcher | null = null
  try {
    const host = await node.deploy(fs.readFileSync(path.join(ROOT, 'examples', contract), 'utf8'), { name: 'bench' })
    client = await VmsClient.connect(host.key, { bootstrap: testnet.bootstrap, identity: keyPair(), timeout: 60_000 })
    const c = client
    const args = method === 'RSVP' ? ['bench', true, 'x'] : []
    const batchesBefore = host.stats.batches
    const t0 = performance.now()
    let sent = 0
    await Promise.all(Array.from({ length: Math.min(window, calls) }, async () => {
      while (sent < calls) {
        sent++
        await c.call(method, ...args)
      }
    }))
    const hostSeconds = (performance.now() - t0) / 1000
    const hostBatches = host.stats.batches - batchesBefore

    watcher = new Watcher({ storage: path.join(dir, 'watcher'), bootstrap: testnet.bootstrap, timeout: opts.timeout ?? 30_000 })
    const t1 = performance.now()
    const cw = await watcher.watch(host.key, { oneShot: true })
    const verdict = await cw.auditOnce(opts.timeout ?? 30_000)
    const verifySeconds = (performance.now() - t1) / 1000
    return {
      calls,
      logLength: host.log.length,
      hostSeconds: round(hostSeconds),
      hostCallsPerSec: Math.round(calls / hostSeconds),
      hostBatches,
      verifySeconds: round(verifySeconds),
      replayCallsPerSec: Math.round(cw.stats.judged / verifySeconds),
      verdict: verdict.verdict,
      judged: cw.stats.judged
    }
  } finally {
    if (watcher) await watcher.close()
    if (client) await client.close()
    await node.close()
    await testnet.destroy()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Several runs; medians. */
export async function bench (opts: BenchOptions & { runs?: number } = {}): Promise<Record<string, unknown>> {
  const runs: BenchRun[] = []
  for (let i = 0; i < (opts.runs ?? 3); i++) runs.push(await benchOnce(opts))
  const hostCps = median(runs.map((r) => r.hostCallsPerSec))
  const replayCps = median(runs.map((r) => r.replayCallsPerSec))
  return {
    bench: 'verify',
    contract: opts.contract ?? 'persistent-counter-fixed.js',
    calls: opts.calls ?? 10_000,
    runs: runs.length,
    hostCallsPerSec: hostCps,
    replayCallsPerSec: replayCps,
    replayOverHost: round(replayCps / hostCps),
    verifySeconds: median(runs.map((r) => r.verifySeconds)),
    hostSeconds: median(runs.map((r) => r.hostSeconds)),
    callsPerCommit: round(median(runs.map((r) => r.calls / Math.max(1, r.hostBatches)))),
    verdicts: runs.map((r) => r.verdict),
    runtime: runtimeFingerprint(),
    cpus: os.cpus().length,
    detail: runs
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

function round (x: number): number {
  return Math.round(x * 1000) / 1000
}

function flag (name: string): string | undefined {
  const i = process.argv.indexOf('--' + name)
  return i === -1 ? undefined : process.argv[i + 1]
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await bench({
    calls: flag('calls') ? Number(flag('calls')) : undefined,
    runs: flag('runs') ? Number(flag('runs')) : undefined,
    contract: flag('contract'),
    window: flag('window') ? Number(flag('window')) : undefined
  })
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(0)
}
