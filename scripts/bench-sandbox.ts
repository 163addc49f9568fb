/**
 * Cost per call of the sandbox alone, in this process (sandbox.ts) and in a
 * supervised sandbox process (sandbox-process.ts): a call that returns a
 * counter (`pure`) and one that reads one file and writes one (`files`, over
 * an in-memory files view). No log, no network. Calls run one after another
 * (one contract runs one call at a time), after a warm-up.
 *
 * Run: `node --no-node-snapshot dist/scripts/bench-sandbox.js [calls]`
 * prints one JSON object: per mode and kind, calls/s and µs per call
 * (median of 3 runs), plus the extra µs per call of the process boundary.
 * `npm run bench -- --only sandbox` runs it as a section of the benchmark.
 */

import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { createSandbox } from '../src/runtime/sandbox.js'
import { SandboxProcessPool } from '../src/runtime/sandbox-process.js'
import { MemoryFiles } from '../src/runtime/memory-files.js'
import { DEFAULT_LIMITS, type CallContext, type Sandbox, type SandboxFactory } from '../src/runtime/types.js'
import { median, now, round } from './bench-lib.js'

const SRC = `
let n = 0
exports.pure = () => ++n
exports.files = async (i) => { const s = await System.files.readFile('/in.txt'); await System.files.writeFile('/out/' + (i % 100), s + i); return s.length }
`

/** Figures of one mode (µs per call and calls/s, per kind of call). */
export interface ModeCost {
  pureUs: number
  pureCallsPerSec: number
  filesUs: number
  filesCallsPerSec: number
}

/** What {@link sandboxCost} returns. */
export interface SandboxCost {
  calls: number
  inProcess: ModeCost
  childProcess: ModeCost
  /** Extra µs per call of the process boundary (child minus in-process). */
  extraPureUs: number
  extraFilesUs: number
}

async function timeCalls (sb: Sandbox, method: string, calls: number, files: MemoryFiles): Promise<number> {
  const seed = new Uint8Array(32)
  const ctx = (i: number): CallContext => ({ method, argsJson: `[${i}]`, callerId: 'bench', timestamp: 1, seed, files, oracle: { mode: 'off' } })
  for (let i = 0; i < Math.min(200, calls); i++) await sb.call(ctx(i))
  const t0 = now()
  for (let i = 0; i < calls; i++) {
    const out = await sb.call(ctx(i))
    if (!out.ok) throw new Error(`${method}: ${out.error?.message}`)
  }
  return ((now() - t0) * 1000) / calls
}

async function measure (factory: SandboxFactory, calls: number): Promise<ModeCost> {
  const files = new MemoryFiles({ '/in.txt': 'x'.repeat(100) })
  const sb = await factory(SRC, { limits: DEFAULT_LIMITS })
  try {
    const pure: number[] = []
    const io: number[] = []
    for (let r = 0; r < 3; r++) {
      pure.push(await timeCalls(sb, 'pure', calls, files))
      io.push(await timeCalls(sb, 'files', calls, files))
    }
    const p = median(pure)
    const f = median(io)
    return { pureUs: round(p, 1), pureCallsPerSec: Math.round(1e6 / p), filesUs: round(f, 1), filesCallsPerSec: Math.round(1e6 / f) }
  } finally {
    await sb.close()
  }
}

/**
 * Measures both modes.
 * @param calls calls per run and kind (3 runs each)
 */
export async function sandboxCost (calls = 5000): Promise<SandboxCost> {
  const inProcess = await measure(createSandbox, calls)
  const pool = new SandboxProcessPool({ processes: 1 })
  try {
    const childProcess = await measure(pool.create, calls)
    return {
      calls,
      inProcess,
      childProcess,
      extraPureUs: round(childProcess.pureUs - inProcess.pureUs, 1),
      extraFilesUs: round(childProcess.filesUs - inProcess.filesUs, 1)
    }
  } finally {
    await pool.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const res = await sandboxCost(Number(process.argv[2] ?? 5000))
  process.stdout.write(JSON.stringify(res) + os.EOL)
}
