/**
 * Shared helpers of the runtime tests: real isolates over a MemoryFiles view.
 */

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'brittle'
import { createSandbox } from '../src/runtime/sandbox.js'
import { createProcessSandbox } from '../src/runtime/sandbox-process.js'
import { MemoryFiles } from '../src/runtime/memory-files.js'
import { DEFAULT_LIMITS } from '../src/runtime/types.js'
import type { CallContext, CallOutcome, Limits, OracleMode, Sandbox } from '../src/runtime/types.js'

/** Limits for tests: the defaults with a short deadline. */
export const LIMITS: Limits = { ...DEFAULT_LIMITS, timeoutMs: 1500, memoryMb: 64 }

/** Source of a contract in examples/ (project root, from dist/test/). */
export function example (name: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  return fs.readFileSync(path.join(here, '..', '..', 'examples', name), 'utf8')
}

/** 32 bytes all equal to `n`. */
export function seed (n: number): Uint8Array {
  return new Uint8Array(32).fill(n)
}

/** Options of {@link Harness.call}. */
export interface CallOpts {
  callerId?: string
  timestamp?: number
  seed?: Uint8Array
  oracle?: OracleMode
  /** Apply the writes of a successful call to the harness files (default true). */
  apply?: boolean
}

/** A sandbox plus its MemoryFiles, closed at teardown. */
export class Harness {
  readonly sb: Sandbox
  readonly files: MemoryFiles

  constructor (sb: Sandbox, files: MemoryFiles) {
    this.sb = sb
    this.files = files
  }

  /** The context of one call over the current files. */
  ctx (method: string, args: unknown[] = [], o: CallOpts = {}): CallContext {
    return {
      method,
      argsJson: JSON.stringify(args),
      callerId: o.callerId ?? 'alice',
      timestamp: o.timestamp ?? 1700000000000,
      seed: o.seed ?? seed(1),
      files: this.files,
      oracle: o.oracle ?? { mode: 'off' }
    }
  }

  /** Runs a call and (by default) applies its writes to the files, as the host does. */
  async call (method: string, args: unknown[] = [], o: CallOpts = {}): Promise<CallOutcome> {
    const out = await this.sb.call(this.ctx(method, args, o))
    if (out.ok && o.apply !== false) this.files.apply(out.writes)
    return out
  }

  /** The parsed result of a call that must succeed. */
  async value (t: Test, method: string, args: unknown[] = [], o: CallOpts = {}): Promise<unknown> {
    const out = await this.call(method, args, o)
    if (!out.ok) t.fail(`${method} failed: ${out.error?.message}`)
    return out.resultJson === undefined ? undefined : JSON.parse(out.resultJson)
  }
}

/**
 * The runtime under test: in process, or with `VMS_TEST_SANDBOX=process` the
 * supervised sandbox processes (the runtime tests then check that both agree).
 */
export const testFactory = process.env.VMS_TEST_SANDBOX === 'process' ? createProcessSandbox : createSandbox

/** Loads `source` in a new sandbox over `files` (default: empty), closed at teardown. */
export async function harness (t: Test, source: string, files = new MemoryFiles(), limits: Limits = LIMITS): Promise<Harness> {
  const sb = await testFactory(source, { limits, filename: 'contract.js' })
  t.teardown(() => sb.close())
  return new Harness(sb, files)
}
