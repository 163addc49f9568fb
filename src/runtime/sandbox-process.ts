/**
 * Supervised sandboxes: the isolates run in a small pool of child processes
 * (sandbox-child.ts), each holding many of them, behind the same
 * {@link Sandbox} interface as the in-process runtime (sandbox.ts).
 *
 * Why: isolated-vm's `memoryLimit` is a guideline, not a bound. A contract
 * doing `Array(1e9).fill(0)` makes V8 abort the whole process with a fatal
 * heap out-of-memory error; in the node that would end every contract it
 * hosts. In a child process it ends that child only. The calls in progress
 * there get `MEMORY_LIMIT` (`limit: 'memory'`: the host's statement, skipped
 * by replays, as for any limit hit), the child's sandboxes become unusable,
 * and their owners rebuild them (by replaying their logs) in a new child.
 * The same holds on watchers: a replay that crashes its child is a limit
 * hit of the watcher's own machine ("could not judge").
 *
 * Each child runs `node --no-node-snapshot --max-old-space-size=<heapMb>`
 * (the child's own heap: IPC messages, overlays); each isolate keeps its own
 * `memoryLimit`. Children are started on demand, up to `processes`; a new
 * sandbox goes to the child holding the fewest. Children are unreferenced
 * while idle, so they never keep the node's process alive, and exit when it
 * does (their IPC channel closes).
 */

import { fork, type ChildProcess } from 'node:child_process'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { VmsError } from '../errors.js'
import { parentOf } from './paths.js'
import type { FromChild, ReadOp, ToChild, WireContext } from './sandbox-ipc.js'
import type { CallContext, CallOutcome, FileStat, FilesView, Limits, Sandbox, SandboxFactory, SandboxOptions } from './types.js'

const CHILD = fileURLToPath(new URL('./sandbox-child.js', import.meta.url))

/** Options of {@link SandboxProcessPool}. */
export interface SandboxProcessOptions {
  /** Most child processes (default: cores, 1..4). */
  processes?: number
  /** V8 old-space cap of each child in MiB, `--max-old-space-size` (default 512). */
  heapMb?: number
  /**
   * ms a call may run past its own deadline before the supervisor kills its
   * child (a child stuck outside JavaScript; default 5000). The call gets TIMEOUT.
   */
  graceMs?: number
}

/** What ended a child, for logs and tests. */
export interface ChildExit {
  pid: number | undefined
  code: number | null
  signal: NodeJS.Signals | null
  /** Last bytes the child wrote to stderr (V8's out-of-memory report, for instance). */
  stderr: string
}

interface CallEntry {
  sandbox: ProcessSandbox
  ctx: CallContext
  start: number
  timer: NodeJS.Timeout
  timedOut: boolean
  resolve: (o: CallOutcome) => void
  reject: (e: Error) => void
}

interface CreateEntry {
  resolve: (methods: string[]) => void
  reject: (e: Error) => void
}

/** Raised inside the pool when a child ended while creating a sandbox. */
class ChildGone extends Error {}

const STDERR_TAIL = 8192

/** One child process and what it holds. */
class SandboxChild {
  readonly proc: ChildProcess
  alive = true
  /** Sandboxes held (created and not closed). */
  held = 0
  private stderr = ''
  private busy = 0
  private readonly calls = new Map<number, CallEntry>()
  private readonly creates = new Map<number, CreateEntry>()
  private nextReq = 0
  private readonly onExit: (child: SandboxChild, exit: ChildExit) => void

  constructor (opts: Required<SandboxProcessOptions>, onExit: (child: SandboxChild, exit: ChildExit) => void) {
    this.onExit = onExit
    this.proc = fork(CHILD, [], {
      execArgv: ['--no-node-snapshot', `--max-old-space-size=${opts.heapMb}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc']
    })
    const err = this.proc.stderr
    if (err) {
      err.on('data', (d: Buffer) => {
        this.stderr = (this.stderr + d.toString()).slice(-STDERR_TAIL)
      })
      // only the process handle and the IPC channel decide whether the child keeps this process alive
      ;(err as unknown as { unref?: () => void }).unref?.()
    }
    this.proc.on('message', (m: FromChild) => this.onMessage(m))
    this.proc.on('error', () => {
      // could not start, or the channel failed: settle everything now (an exit may never come)
      this.proc.kill('SIGKILL')
      this.exited(null, null)
    })
    this.proc.on('exit', (code, signal) => this.exited(code, signal))
    this.idle()
  }

  /** Loads `source` in a new sandbox of this child. @returns its method names */
  create (sb: number, source: string, opts: SandboxOptions): Promise<string[]> {
    const req = ++this.nextReq
    return new Promise((resolve, reject) => {
      this.creates.set(req, { resolve, reject })
      this.work(1)
      this.send({ t: 'create', req, sb, source, opts })
    })
  }

  /** Runs one call of sandbox `sandbox` (queued by the caller: one at a time per sandbox). */
  call (sandbox: ProcessSandbox, ctx: CallContext, limits: Limits, graceMs: number): Promise<CallOutcome> {
    const id = ++this.nextReq
    const wire: WireContext = { method: ctx.method, argsJson: ctx.argsJson, callerId: ctx.callerId, timestamp: ctx.timestamp, seed: ctx.seed, oracle: ctx.oracle }
    return new Promise((resolve, reject) => {
      const entry: CallEntry = {
        sandbox,
        ctx,
        start: performance.now(),
        timedOut: false,
        resolve,
        reject,
        timer: setTimeout(() => {
          // the child's own deadline did not end the call: the child is stuck, end it
          entry.timedOut = true
          this.proc.kill('SIGKILL')
        }, limits.timeoutMs + graceMs)
      }
      this.calls.set(id, entry)
      this.work(1)
      this.send({ t: 'call', sb: sandbox.id, call: id, ctx: wire })
    })
  }

  /** Disposes sandbox `sb` in the child. */
  close (sb: number): void {
    this.held--
    this.send({ t: 'close', sb })
  }

  /** Ends the child (keeping this process alive until its exit is seen). */
  kill (): void {
    if (!this.alive) return
    this.proc.ref()
    this.proc.kill('SIGKILL')
  }

  private send (msg: ToChild): void {
    if (!this.alive || !this.proc.connected) return
    try {
      this.proc.send(msg)
    } catch {
      this.proc.kill('SIGKILL') // a message that cannot be sent: the exit handler settles everything
    }
  }

  /** Counts requests in progress: the child keeps the process alive only while it works. */
  private work (delta: number): void {
    const before = this.busy
    this.busy += delta
    if (before === 0 && this.busy > 0) {
      this.proc.ref()
      refChannel(this.proc, true)
    } else if (before > 0 && this.busy === 0) {
      this.idle()
    }
  }

  private idle (): void {
    this.proc.unref()
    refChannel(this.proc, false)
  }

  private onMessage (m: FromChild): void {
    switch (m.t) {
      case 'created': {
        const c = this.creates.get(m.req)
        if (!c) return
        this.creates.delete(m.req)
        this.work(-1)
        if ('error' in m) c.reject(VmsError.fromInfo(m.error))
        else c.resolve(m.methods)
        return
      }
      case 'done': {
        const c = this.calls.get(m.call)
        if (!c) return
        this.calls.delete(m.call)
        clearTimeout(c.timer)
        this.work(-1)
        if (!m.usable) c.sandbox.broken = true
        if ('error' in m) c.reject(VmsError.fromInfo(m.error))
        else c.resolve(m.outcome)
        return
      }
      case 'read': {
        const c = this.calls.get(m.call)
        if (!c) {
          this.send({ t: 'read', req: m.req, ok: false, message: 'no call in progress' })
          return
        }
        answer(c.ctx.files, m.op, m.path).then(({ value, ancestors }) => this.send({ t: 'read', req: m.req, ok: true, value, ancestors }), (err: unknown) => {
          this.send({ t: 'read', req: m.req, ok: false, message: err instanceof Error ? err.message : String(err) })
        })
      }
    }
  }

  private exited (code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.alive) return
    this.alive = false
    const exit: ChildExit = { pid: this.proc.pid, code, signal, stderr: this.stderr }
    for (const c of this.calls.values()) {
      clearTimeout(c.timer)
      c.sandbox.broken = true
      c.resolve(crashOutcome(c))
    }
    this.calls.clear()
    for (const c of this.creates.values()) c.reject(new ChildGone('the sandbox process ended'))
    this.creates.clear()
    this.onExit(this, exit)
  }
}

/** Reads the call's files view for a child (see {@link ReadOp} for `ancestors`). */
async function answer (files: FilesView, op: ReadOp, path: string): Promise<{ value: Uint8Array | FileStat | string[] | null, ancestors?: Array<[string, FileStat | null]> }> {
  if (op === 'read') return { value: await files.read(path) }
  if (op === 'readdir') return { value: await files.readdir(path) }
  const value = await files.stat(path)
  const ancestors: Array<[string, FileStat | null]> = []
  if (value !== null && value.type === 'directory') return { value, ancestors }
  for (let dir = parentOf(path); dir !== '/'; dir = parentOf(dir)) {
    const s = await files.stat(dir)
    ancestors.push([dir, s])
    if (s !== null) break
  }
  return { value, ancestors }
}

function refChannel (proc: ChildProcess, on: boolean): void {
  const ch = (proc as unknown as { channel?: { ref?: () => void, unref?: () => void } }).channel
  if (on) ch?.ref?.()
  else ch?.unref?.()
}

/** The outcome of a call whose child process ended under it. */
function crashOutcome (c: CallEntry): CallOutcome {
  const limits = c.sandbox.limits
  const timeout = c.timedOut
  const error = timeout
    ? VmsError.TIMEOUT(`the call passed its deadline of ${limits.timeoutMs} ms`)
    : VmsError.MEMORY_LIMIT(`the sandbox process ended during the call (out of memory: limit ${limits.memoryMb} MiB)`)
  return { ok: false, error: error.toInfo(), writes: [], oracles: [], limit: timeout ? 'timeout' : 'memory', durationMs: performance.now() - c.start }
}

function noop (): void {}

/** A contract's sandbox living in a child process. Build it with {@link SandboxProcessPool.create}. */
class ProcessSandbox implements Sandbox {
  readonly methods: string[]
  readonly id: number
  readonly limits: Limits
  /** Set when the child said the sandbox is gone (limit, host error) or the child ended. */
  broken = false
  private readonly child: SandboxChild
  private readonly graceMs: number
  private closed = false
  private tail: Promise<unknown> = Promise.resolve()

  constructor (child: SandboxChild, id: number, methods: string[], limits: Limits, graceMs: number) {
    this.child = child
    this.id = id
    this.methods = methods
    this.limits = limits
    this.graceMs = graceMs
  }

  get usable (): boolean {
    return !this.closed && !this.broken && this.child.alive
  }

  /**
   * Runs one method in the child, after the calls already queued (FIFO).
   * @returns the outcome, as {@link createSandbox} gives it; when the child
   *   process ended during the call: MEMORY_LIMIT with `limit: 'memory'`
   *   (TIMEOUT with `limit: 'timeout'` when the supervisor ended it past the deadline)
   * @throws VmsError CLOSED when not usable; INTERNAL when `ctx.files` failed;
   *   BAD_ARGUMENT on a malformed context (as the in-process sandbox)
   */
  call (ctx: CallContext): Promise<CallOutcome> {
    if (!this.usable) return Promise.reject(VmsError.CLOSED('the sandbox is closed or was disposed by a limit'))
    const p = this.tail.then(async () => {
      if (!this.usable) throw VmsError.CLOSED('the sandbox is closed or was disposed by a limit')
      return await this.child.call(this, ctx, this.limits, this.graceMs)
    })
    this.tail = p.then(noop, noop)
    return p
  }

  /** Disposes the isolate in the child. Idempotent. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.child.alive) this.child.close(this.id)
  }
}

/**
 * A pool of sandbox processes. `create` is a {@link SandboxFactory}.
 * Events are not emitted; read {@link SandboxProcessPool.exits}.
 */
export class SandboxProcessPool {
  /** Children that ended so far (crashes, kills), oldest first, the last 16. */
  readonly exits: ChildExit[] = []
  /** Children started so far. */
  started = 0
  private readonly opts: Required<SandboxProcessOptions>
  private readonly children: SandboxChild[] = []
  private nextSandbox = 0
  private closed = false

  /** @param opts see {@link SandboxProcessOptions} */
  constructor (opts: SandboxProcessOptions = {}) {
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
    this.opts = {
      processes: Math.max(1, Math.floor(opts.processes ?? Math.min(4, Math.max(1, cores)))),
      heapMb: opts.heapMb ?? 512,
      graceMs: opts.graceMs ?? 5000
    }
  }

  /** Live child processes. */
  get processes (): number {
    return this.children.length
  }

  /** Pids of the live children (for tests and diagnostics). */
  get pids (): number[] {
    return this.children.map((c) => c.proc.pid ?? -1)
  }

  /**
   * Builds a sandbox in the child holding the fewest (a new child while
   * fewer than `processes` run). When the child ends while loading, the
   * load is tried once more in a new child.
   * @throws VmsError CONTRACT_LOAD (as {@link createSandbox}, and when the
   *   top-level code ended its child twice), BAD_ARGUMENT, CLOSED after `close()`
   */
  readonly create: SandboxFactory = async (source: string, opts: SandboxOptions): Promise<Sandbox> => {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw VmsError.CLOSED('the sandbox process pool is closed')
      const child = this.pick()
      const id = ++this.nextSandbox
      child.held++
      try {
        const methods = await child.create(id, source, opts)
        return new ProcessSandbox(child, id, methods, { ...opts.limits }, this.opts.graceMs)
      } catch (err) {
        child.held--
        if (!(err instanceof ChildGone)) throw err
        if (attempt >= 1) throw VmsError.CONTRACT_LOAD(`top-level code ended its sandbox process (out of memory: limit ${opts.limits.memoryMb} MiB)`)
      }
    }
  }

  /** Ends every child; sandboxes of the pool become unusable. */
  async close (): Promise<void> {
    this.closed = true
    const waits = this.children.map((c) => new Promise((resolve) => {
      if (!c.alive) resolve(null)
      c.proc.once('exit', resolve)
      c.kill()
    }))
    await Promise.all(waits)
  }

  private pick (): SandboxChild {
    if (this.children.length < this.opts.processes) return this.spawn()
    let best = this.children[0]!
    for (const c of this.children) if (c.held < best.held) best = c
    return best
  }

  private spawn (): SandboxChild {
    const child = new SandboxChild(this.opts, (c, exit) => {
      const i = this.children.indexOf(c)
      if (i !== -1) this.children.splice(i, 1)
      this.exits.push(exit)
      if (this.exits.length > 16) this.exits.shift()
    })
    this.children.push(child)
    this.started++
    return child
  }
}

let shared: SandboxProcessPool | null = null

/** The pool of this process, made on first use (default options). */
export function sharedSandboxProcesses (): SandboxProcessPool {
  if (!shared) shared = new SandboxProcessPool()
  return shared
}

/**
 * The supervised {@link SandboxFactory}: builds the sandbox in this
 * process's shared pool of sandbox processes. Same contract as
 * {@link createSandbox}; what differs is only that a fatal out-of-memory
 * error or a crash ends a child process, not this one.
 */
export const createProcessSandbox: SandboxFactory = async (source, opts) => await sharedSandboxProcesses().create(source, opts)
