/**
 * The isolated-vm implementation of {@link Sandbox}: one isolate and one
 * context per contract, the bootstrap (bootstrap.ts) evaluated once, then
 * the contract's CommonJS source. Each call passes its data by copy into the
 * isolate (no code is evaluated per call); files operations come back to the
 * host through one Reference and run against the call's {@link CallFiles}.
 *
 * Processes using this module must run with `node --no-node-snapshot`.
 */

import ivm, { IVM_VERSION } from './ivm.js'
import { LANGUAGE_SURFACE } from './bootstrap-surface.js'
import type { ErrorRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { noop } from '../noop.js'
import { VERSION } from '../version.js'
import { canonicalResult } from '../json.js'
import { checkJsonDepth } from '../json-depth.js'
import { cutMessage } from './message-cut.js'
import { BOOTSTRAP_FILENAME, BOOTSTRAP_SOURCE, WRAPPER_HEAD, WRAPPER_TAIL } from './bootstrap.js'
import { FilesApi, type FilesReply } from './files-api.js'
import { placeInSource } from './source-place.js'
import { CallFiles } from './overlay.js'
import type { CallContext, CallOutcome, LimitHit, Limits, Sandbox, SandboxFactory, SandboxOptions } from './types.js'

/** What `run` in the isolate answers. */
interface RunReply { k: 0 | 1, r?: string, c?: string, m?: string }
/** What `check` in the isolate answers once the call is quiet. */
interface CheckReply { o: string, d: string | null, dm: string | null }
/** What `load` in the isolate answers. */
interface LoadReply { k: 0 | 1, names?: string, m?: string, stack?: string }

/** Host state the files Reference reads: the call in progress, if any. */
interface HostState { gen: number, api: FilesApi | null }

const RUN_OPTS = { arguments: { copy: true }, result: { promise: true, copy: true } } as const
const CHECK_OPTS = { arguments: { copy: true }, result: { promise: true, copy: true } } as const
const ORACLE_MODES = { off: 0, record: 1, replay: 2 } as const
/** Version of the runtime's semantics in {@link runtimeFingerprint}; 2: depth, entries, path bytes and error cut limits. */
const RUNTIME_RULES = 2
/** Strings shorter than this (UTF-16 units) are passed into the isolate as they are (isolated-vm makes them heap strings). */
const SHORT_STRING = 512

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** A 53-bit random double from the host's CSPRNG (oracles in record mode). */
function realRandom (): number {
  const u = crypto.getRandomValues(new Uint32Array(2))
  return ((u[0]! >>> 5) * 67108864 + (u[1]! >>> 6)) / 9007199254740992
}

/** A contract loaded in its own isolate. Build it with {@link createSandbox}. */
class IsolateSandbox implements Sandbox {
  readonly methods: string[]
  private readonly isolate: ivm.Isolate
  private readonly context: ivm.Context
  private readonly runRef: ivm.Reference
  private readonly checkRef: ivm.Reference
  private readonly state: HostState
  private readonly limits: Limits
  private closed = false
  private broken = false
  private tail: Promise<unknown> = Promise.resolve()

  constructor (isolate: ivm.Isolate, context: ivm.Context, runRef: ivm.Reference, checkRef: ivm.Reference, state: HostState, limits: Limits, methods: string[]) {
    this.isolate = isolate
    this.context = context
    this.runRef = runRef
    this.checkRef = checkRef
    this.state = state
    this.limits = limits
    this.methods = methods
  }

  get usable (): boolean {
    return !this.closed && !this.broken && !this.isolate.isDisposed
  }

  /**
   * Runs one method after the calls already queued (FIFO).
   * @returns the outcome; contract failures and limits are outcomes, not throws
   * @throws VmsError CLOSED when the sandbox is closed or a limit disposed its isolate
   *   (also for a call in progress when `close()` runs); INTERNAL when `ctx.files`
   *   failed during the call (the sandbox is then unusable); BAD_ARGUMENT when `ctx.seed`
   *   is not 32 bytes, `ctx.argsJson` not a string or `ctx.oracle` malformed
   */
  call (ctx: CallContext): Promise<CallOutcome> {
    if (!this.usable) return Promise.reject(VmsError.CLOSED('the sandbox is closed or was disposed by a limit'))
    const p = this.tail.then(async () => await this.runCall(ctx))
    this.tail = p.then(noop, noop)
    return p
  }

  /** Disposes the isolate; a call in progress rejects with CLOSED. Idempotent. */
  async close (): Promise<void> {
    this.closed = true
    this.dispose()
  }

  private dispose (): void {
    if (!this.isolate.isDisposed) this.isolate.dispose()
  }

  private async runCall (ctx: CallContext): Promise<CallOutcome> {
    if (!this.usable) throw VmsError.CLOSED('the sandbox is closed or was disposed by a limit')
    if (!(ctx.seed instanceof Uint8Array) || ctx.seed.byteLength !== 32) throw VmsError.BAD_ARGUMENT('seed must be 32 bytes')
    if (typeof ctx.argsJson !== 'string') throw VmsError.BAD_ARGUMENT('argsJson must be a string')
    const o = ctx.oracle
    if (!o || !Object.hasOwn(ORACLE_MODES, o.mode)) throw VmsError.BAD_ARGUMENT('oracle.mode must be off, record or replay')
    if (o.mode === 'replay' && (!Array.isArray(o.outputs) || !o.outputs.every((x) => typeof x === 'string'))) {
      throw VmsError.BAD_ARGUMENT('oracle.outputs must be an array of JSON strings')
    }
    const start = performance.now()
    const limits = this.limits
    if (Buffer.byteLength(ctx.argsJson) > limits.maxArgsBytes) {
      return failed(VmsError.ARGS_TOO_LARGE(`arguments exceed ${limits.maxArgsBytes} bytes`).toInfo(), [], start)
    }
    try {
      checkJsonDepth(ctx.argsJson, limits.maxDepth, 'the arguments')
    } catch (err) {
      return failed(VmsError.from(err).toInfo(), [], start)
    }
    const files = new CallFiles(ctx.files, limits)
    const gen = ++this.state.gen
    const api = new FilesApi(files)
    this.state.api = api
    const args = [gen, ctx.method, ctx.argsJson, ctx.callerId, ctx.timestamp, ctx.seed, ORACLE_MODES[o.mode], o.mode === 'replay' ? o.outputs : [], limits.maxResultBytes, { depth: limits.maxDepth, error: limits.maxErrorBytes, path: limits.maxPathBytes, write: limits.maxWriteBytes }]
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      this.dispose()
    }, limits.timeoutMs)
    try {
      // check is queued right behind run and answers once the isolate is idle
      const running = this.runRef.apply(undefined, args, { ...RUN_OPTS, timeout: limits.timeoutMs }) as Promise<RunReply>
      const first = this.checkRef.apply(undefined, [gen], CHECK_OPTS) as Promise<CheckReply | 1>
      running.catch(noop)
      first.catch(noop)
      const reply = await running
      let fin = await first
      while (fin === 1) fin = await this.checkRef.apply(undefined, [gen], CHECK_OPTS) as CheckReply | 1
      if (api.hostError !== null) {
        clearTimeout(timer)
        // the contract saw a storage failure: its memory may now differ from a replay's
        this.broken = true
        this.dispose()
        throw api.hostError
      }
      // what the call left behind counts: over the limit, the call is a limit hit and its state goes.
      // The host's measurement only: a replay follows the limit hits the host recorded (it skips
      // them), and is not failed by a measurement of its own that can differ by a few bytes
      if (o.mode !== 'replay') await checkMemory(this.isolate, this.context, limits)
      clearTimeout(timer)
      return this.outcome(reply, fin, files, start)
    } catch (err) {
      if (err === api.hostError) throw err
      clearTimeout(timer)
      return this.limitOutcome(err, timedOut, start)
    } finally {
      this.state.api = null
    }
  }

  private outcome (reply: RunReply, fin: CheckReply, files: CallFiles, start: number): CallOutcome {
    const oracles = (JSON.parse(fin.o) as unknown[]).map(String)
    let error: ErrorRecord | null = null
    if (files.doom !== null) error = files.doom.toInfo()
    else if (fin.d !== null) error = { code: String(fin.d), message: String(fin.dm) }
    else if (reply.k !== 0) error = { code: String(reply.c), message: String(reply.m) }
    if (error !== null) return failed({ code: error.code, message: cutMessage(error.message, this.limits.maxErrorBytes) }, oracles, start)
    const out: CallOutcome = { ok: true, writes: files.writes, oracles, durationMs: 0 }
    if (typeof reply.r === 'string') {
      let json: string | undefined
      try {
        json = canonicalResult(reply.r, this.limits.maxDepth)
      } catch (err) {
        return failed(VmsError.from(err).toInfo(), oracles, start)
      }
      if (json === undefined) return failed(VmsError.RESULT_NOT_JSON('the result does not canonicalize').toInfo(), oracles, start)
      if (Buffer.byteLength(json) > this.limits.maxResultBytes) {
        return failed(VmsError.RESULT_TOO_LARGE(`the result is larger than ${this.limits.maxResultBytes} bytes`).toInfo(), oracles, start)
      }
      out.resultJson = json
    }
    out.durationMs = performance.now() - start
    return out
  }

  private limitOutcome (err: unknown, timedOut: boolean, start: number): CallOutcome {
    if (this.closed) throw VmsError.CLOSED('the sandbox was closed during the call')
    const msg = messageOf(err)
    let limit: LimitHit | null = null
    if (timedOut || /timed out/i.test(msg)) limit = 'timeout'
    else if (/memory limit/i.test(msg) || this.isolate.isDisposed) limit = 'memory'
    this.broken = true
    this.dispose()
    if (limit === null) return failed(VmsError.INTERNAL(`sandbox failure: ${msg}`).toInfo(), [], start)
    const error = limit === 'timeout'
      ? VmsError.TIMEOUT(`the call passed its deadline of ${this.limits.timeoutMs} ms`)
      : VmsError.MEMORY_LIMIT(`the isolate passed its memory limit of ${this.limits.memoryMb} MiB`)
    return { ...failed(error.toInfo(), [], start), limit }
  }
}

/** Bytes in a MiB. */
const MIB = 1024 * 1024

/**
 * The memory a call (or the top-level code) left in the isolate, checked
 * against `limits.memoryMb`: V8 heap in use (flat and cons strings, objects,
 * code) plus memory allocated outside the heap that isolated-vm counts
 * against the isolate (array buffers), `used_heap_size +
 * externally_allocated_size` of `getHeapStatisticsSync()`. Over the limit,
 * evaluating a script makes isolated-vm run its own check: a full GC (so
 * garbage does not count) and a second look, disposing the isolate when
 * still over. This is the host's measurement: it is recorded as the call's
 * limit hit and never reproduced by replays.
 * @throws Error "memory limit" (the isolate is then disposed)
 */
async function checkMemory (isolate: ivm.Isolate, context: ivm.Context, limits: Limits): Promise<void> {
  const limit = limits.memoryMb * MIB
  const h = isolate.getHeapStatisticsSync()
  if (h.used_heap_size + h.externally_allocated_size <= limit) return
  await context.eval('0', { timeout: limits.timeoutMs })
  const after = isolate.getHeapStatisticsSync()
  if (after.used_heap_size + after.externally_allocated_size > limit) {
    isolate.dispose()
    throw new Error(`the isolate holds more than its memory limit of ${limits.memoryMb} MiB`)
  }
}

function failed (error: ErrorRecord, oracles: string[], start: number): CallOutcome {
  return { ok: false, error, writes: [], oracles, durationMs: performance.now() - start }
}

function checkLimits (limits: Limits): void {
  for (const key of ['timeoutMs', 'memoryMb', 'maxArgsBytes', 'maxResultBytes', 'maxWriteBytes', 'maxDepth', 'maxEntries', 'maxPathBytes', 'maxErrorBytes'] as const) {
    const v = limits?.[key]
    if (typeof v !== 'number' || !(v > 0)) throw VmsError.BAD_ARGUMENT(`limits.${key} must be a positive number`)
  }
  if (limits.maxErrorBytes < 16) throw VmsError.BAD_ARGUMENT('limits.maxErrorBytes must be at least 16')
}

/** The line of `filename` a stack trace points at first, or null. */
function lineIn (stack: string, filename: string): string | null {
  const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const m = new RegExp(escaped + ':(\\d+)').exec(stack)
  return m ? m[1]! : null
}

/** Compiles the contract and runs its top-level code; returns the method names. */
async function loadContract (isolate: ivm.Isolate, context: ivm.Context, load: ivm.Reference, source: string, filename: string, limits: Limits): Promise<string[]> {
  let script: ivm.Script
  try {
    script = await isolate.compileScript(WRAPPER_HEAD + source + WRAPPER_TAIL, { filename })
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error'
    throw VmsError.CONTRACT_LOAD(`${name}: ${placeInSource(messageOf(err), source, filename)}`)
  }
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    if (!isolate.isDisposed) isolate.dispose()
  }, limits.timeoutMs)
  let res: LoadReply
  try {
    const fn = await script.run(context, { reference: true, release: true, timeout: limits.timeoutMs }) as ivm.Reference
    res = await load.apply(undefined, [fn.derefInto({ release: true })], { result: { copy: true }, timeout: limits.timeoutMs }) as LoadReply
    await checkMemory(isolate, context, limits)
  } catch (err) {
    const msg = messageOf(err)
    if (timedOut || /timed out/i.test(msg)) throw VmsError.CONTRACT_LOAD(`top-level code passed the deadline of ${limits.timeoutMs} ms`)
    if (/memory limit/i.test(msg) || isolate.isDisposed) throw VmsError.CONTRACT_LOAD(`top-level code passed the memory limit of ${limits.memoryMb} MiB`)
    throw VmsError.CONTRACT_LOAD(msg)
  } finally {
    clearTimeout(timer)
  }
  if (res.k !== 0) {
    const line = lineIn(String(res.stack), filename)
    throw VmsError.CONTRACT_LOAD(String(res.m) + (line !== null ? ` [${filename}:${line}]` : ''))
  }
  return JSON.parse(String(res.names)) as string[]
}

/**
 * Builds a sandbox from contract source (CommonJS: `exports.fn = ...` or
 * `module.exports = fn`). The isolate gets `memoryLimit: limits.memoryMb`
 * (MiB, at least 8); top-level code runs under `limits.timeoutMs` (ms).
 *
 * Error semantics of the calls (see {@link CallOutcome}):
 * - a contract throw becomes `CONTRACT_ERROR` with message
 *   `CONTRACT_ERROR: <name>: <message>` (a thrown non-object: `CONTRACT_ERROR: <value>`);
 * - an uncaught error raised by the runtime itself keeps its own code and
 *   message: files errors (ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL),
 *   WRITES_TOO_LARGE, ORACLE_DISABLED, ORACLE_MISMATCH, RESULT_NOT_JSON, DETERMINISM;
 * - WRITES_TOO_LARGE, ORACLE_MISMATCH and oracle failures in record mode fail
 *   the call even when the contract catches them;
 * - UNKNOWN_METHOD, BAD_ARGUMENTS, ARGS_TOO_LARGE, RESULT_NOT_JSON,
 *   RESULT_TOO_LARGE (bytes of canonical JSON) are error outcomes too;
 * - TIMEOUT (`limit: 'timeout'`) and MEMORY_LIMIT (`limit: 'memory'`) dispose
 *   the isolate: the sandbox is then unusable and `call` throws CLOSED;
 * - MEMORY_LIMIT also when a call (not a replay: oracle mode `replay`) leaves
 *   the isolate holding more than `limits.memoryMb` MiB once it returns (heap
 *   in use after a full GC plus array buffers; see `checkMemory`), and when
 *   top-level code does (CONTRACT_LOAD).
 * Every failed outcome has `writes: []`.
 *
 * Top-level code runs once, deterministically: `Date.now()` is 0, `Math.random`
 * is seeded with 32 zero bytes, `System.caller.id`/`env.callerId` are null, and
 * `System.files`/`System.oracle` throw DETERMINISM. In a call, `Date.now()` and
 * `new Date()` give `ctx.timestamp`, `Math.random` is sfc32 seeded from `ctx.seed`,
 * local-time Date methods and Intl behave as under TZ=UTC and locale en-US.
 * An oracle in record mode sees the real clock and real randomness only while
 * its function runs synchronously (for an async function: until its first await).
 *
 * @param source contract source text
 * @param opts limits and the file name shown in stack traces (default `contract.js`)
 * @returns a loaded sandbox whose `methods` are the exported method names, sorted
 * @throws VmsError CONTRACT_LOAD on a syntax error, a throw, a timeout or the
 *   memory limit in top-level code; BAD_ARGUMENT on bad limits
 */
export const createSandbox: SandboxFactory = async (source: string, opts: SandboxOptions): Promise<Sandbox> => {
  if (typeof source !== 'string') throw VmsError.BAD_ARGUMENT('contract source must be a string')
  const limits = { ...opts.limits }
  checkLimits(limits)
  const filename = opts.filename ?? 'contract.js'
  const isolate = new ivm.Isolate({ memoryLimit: Math.max(8, Math.floor(limits.memoryMb)) })
  const state: HostState = { gen: 0, api: null }
  // called with applySyncPromise from the isolate, whose answer must be transferable:
  // null (done), a string or a boolean as they are, anything else as a copy of the reply
  const filesRef = new ivm.Reference(async (gen: number, op: string, path: unknown, a: unknown, b: unknown): Promise<null | string | boolean | ivm.Copy<FilesReply>> => {
    const api = state.api
    const reply: FilesReply = api === null || gen !== state.gen ? [1, 'EINVAL', 'EINVAL: no call in progress'] : await api.exec(op, path, a, b)
    if (reply[0] === 0) {
      const v = reply[1]
      // a string of 1 KiB or more would enter the isolate as an external string, outside the
      // heap the memory check measures: long strings travel inside the copied reply instead
      if (v === null || typeof v === 'boolean' || (typeof v === 'string' && v.length < SHORT_STRING)) return v
    }
    return new ivm.ExternalCopy(reply).copyInto({ release: true })
  })
  const randomRef = new ivm.Reference(realRandom)
  try {
    const context = await isolate.createContext()
    const api = await context.evalClosure(BOOTSTRAP_SOURCE, [filesRef, randomRef], { result: { reference: true }, filename: BOOTSTRAP_FILENAME }) as ivm.Reference
    const load = await api.get('load', { reference: true }) as ivm.Reference
    const runRef = await api.get('run', { reference: true }) as ivm.Reference
    const checkRef = await api.get('check', { reference: true }) as ivm.Reference
    api.release()
    const methods = await loadContract(isolate, context, load, source, filename, limits)
    load.release()
    return new IsolateSandbox(isolate, context, runRef, checkRef, state, limits, methods)
  } catch (err) {
    if (!isolate.isDisposed) isolate.dispose()
    throw err
  }
}

/**
 * Names the exact runtime that executes contracts, for genesis records and
 * attestations: replays are only comparable on the same runtime.
 * `rules/N` names the version of the runtime's semantics (limits, cuts, checks):
 * bumped whenever the same call could end differently; `surface/` names the
 * language surface contracts see (bootstrap-surface.ts).
 * @returns e.g. `vms-node/0.1.0 rules/2 isolated-vm/5.0.4 v8/11.3.244.8-node.38 node/20.20.2 surface/v8-11.3`
 */
export function runtimeFingerprint (): string {
  return `vms-node/${VERSION} rules/${RUNTIME_RULES} isolated-vm/${IVM_VERSION} v8/${process.versions.v8} node/${process.versions.node} surface/${LANGUAGE_SURFACE}`
}
