/**
 * One supervised sandbox process seen from the node: starting it
 * (sandbox-child.ts under `node --no-node-snapshot --max-old-space-size`),
 * the requests in progress there (loads, calls, the files reads a call asks
 * back for), its deadline past a call's own, and what its end means: every
 * call in progress gets MEMORY_LIMIT (`limit: 'memory'`), or TIMEOUT when the
 * supervisor ended it past the deadline. The pool is sandbox-process.ts.
 *
 * Calls of one sandbox are sent as they come, without waiting for the one
 * before to finish (a replay sends the next calls while the child runs this
 * one, so the child never waits a round trip between calls). The child runs
 * them in the order sent, one at a time (sandbox.ts queues them), so only
 * the first call of each sandbox's queue is running: its deadline is armed
 * when it gets there, and when the child ends, it alone gets the crash's
 * outcome; the calls queued behind it are rejected CLOSED, as a call sent
 * after the crash would be.
 */

import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { VmsError } from '../errors.js'
import { normalisePath, parentOf } from './paths.js'
import type { FromChild, PresetStats, ReadOp, ToChild, WireContext } from './sandbox-ipc.js'
import { MAX_STAT_HINTS, type CallContext, type CallOutcome, type FileStat, type FilesView, type Limits, type SandboxOptions } from './types.js'

const CHILD = fileURLToPath(new URL('./sandbox-child.js', import.meta.url))

/** Options of a pool of sandbox processes (sandbox-process.ts). */
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
  /**
   * Most extra children for quarantined contracts (default 2): a contract
   * that had a call in progress in a child that ended is rebuilt in one of
   * those, so a repeated bomb ends its own child, not its neighbours'.
   */
  quarantine?: number
}

/** What ended a child, for logs and tests. */
export interface ChildExit {
  pid: number | undefined
  code: number | null
  signal: NodeJS.Signals | null
  /** Last bytes the child wrote to stderr (V8's out-of-memory report, for instance). */
  stderr: string
  /** True when that report says V8 ran out of heap. */
  outOfMemory: boolean
  /** Why the supervisor ended it, when it did: a call past its deadline, and what that call was waiting for. */
  reason?: string
}

/** What the supervisor needs of a sandbox it runs a call of. */
export interface HeldSandbox {
  readonly id: number
  /** Hash of the contract source: who to quarantine after a crash. */
  readonly key: string
  readonly limits: Limits
  /** Set when the sandbox is gone in its child. */
  broken: boolean
}

interface CallEntry {
  sandbox: HeldSandbox
  ctx: CallContext
  limits: Limits
  graceMs: number
  start: number
  /** Armed once the call is the first of its sandbox's queue (running in the child). */
  timer: NodeJS.Timeout | null
  timedOut: boolean
  /** The files read this call waits for the answer to (this process answers it), if any. */
  reading: { op: string, path: string, since: number } | null
  resolve: (o: CallOutcome) => void
  reject: (e: Error) => void
}

interface CreateEntry {
  resolve: (methods: string[]) => void
  reject: (e: Error) => void
}

/** Raised inside the pool when a child ended while creating a sandbox. */
export class ChildGone extends Error {}

const STDERR_TAIL = 8192

/** One sandbox process and the requests in progress there. */
export class SandboxChild {
  readonly proc: ChildProcess
  alive = true
  /** Keys of the sandboxes held (being loaded, or loaded and not closed), by sandbox id. */
  readonly residents = new Map<number, string>()
  /** Files reads this child asked for (round trips). */
  readsAsked = 0
  private stderr = ''
  private killReason: string | null = null
  private busy = 0
  private readonly calls = new Map<number, CallEntry>()
  /** Calls sent and not done, per sandbox id, in the order sent: the first is running. */
  private readonly queues = new Map<number, CallEntry[]>()
  private readonly creates = new Map<number, CreateEntry>()
  private nextReq = 0
  /** Sandboxes held. */
  get held (): number {
    return this.residents.size
  }

  /** Set for a child of quarantined contracts (see the pool). */
  readonly quarantine: boolean
  private readonly onExit: (child: SandboxChild, exit: ChildExit, suspects: string[]) => void

  /**
   * @param onExit called once when the child ended, with the keys of the
   *   sandboxes that had a call in progress (one of them, or the load of
   *   another, ended it)
   */
  constructor (opts: Required<SandboxProcessOptions>, quarantine: boolean, onExit: (child: SandboxChild, exit: ChildExit, suspects: string[]) => void) {
    this.quarantine = quarantine
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

  /**
   * The stats of `ctx.statHints` (and their ancestors) read from its files
   * view, to send with the call (a hint whose read fails is left out: the
   * child asks for it); undefined without hints.
   */
  statsFor (ctx: CallContext): Promise<PresetStats | undefined> {
    const hints = ctx.statHints
    if (!hints || hints.length === 0) return Promise.resolve(undefined)
    return presetStats(ctx.files, hints)
  }

  /**
   * Sends one call of sandbox `sandbox` now (the caller sends the calls of a
   * sandbox in their order; the child runs them in that order), with the
   * stats read by {@link statsFor}.
   * @param since when the call was asked for (performance.now(), ms): its `durationMs` counts from there
   * @returns its outcome; MEMORY_LIMIT (or TIMEOUT past the deadline) when
   *   the child ends while it runs
   * @throws VmsError CLOSED when the child ends while it waits behind
   *   another call of its sandbox; what the child's sandbox throws
   */
  call (sandbox: HeldSandbox, ctx: CallContext, limits: Limits, graceMs: number, since: number, stats: PresetStats | undefined): Promise<CallOutcome> {
    if (!this.alive) {
      // it ended while the hints were read: as for a child that ends during the call
      sandbox.broken = true
      return Promise.resolve(crashOutcome({ sandbox, timedOut: false, start: since }))
    }
    const id = ++this.nextReq
    const wire: WireContext = { method: ctx.method, argsJson: ctx.argsJson, callerId: ctx.callerId, timestamp: ctx.timestamp, seed: ctx.seed, oracle: ctx.oracle }
    return new Promise((resolve, reject) => {
      const entry: CallEntry = { sandbox, ctx, limits, graceMs, start: since, timedOut: false, reading: null, resolve, reject, timer: null }
      let queue = this.queues.get(sandbox.id)
      if (!queue) this.queues.set(sandbox.id, queue = [])
      queue.push(entry)
      if (queue.length === 1) this.arm(entry)
      this.calls.set(id, entry)
      this.work(1)
      this.send({ t: 'call', sb: sandbox.id, call: id, ctx: wire, stats })
    })
  }

  /** Starts the deadline of a call that is now running in the child. */
  private arm (entry: CallEntry): void {
    const { limits, graceMs } = entry
    entry.timer = setTimeout(() => {
      // the child's own deadline did not end the call: the child is stuck, end it
      entry.timedOut = true
      const r = entry.reading
      this.killReason = `a call passed its deadline of ${limits.timeoutMs} ms by ${graceMs} ms, ` +
        (r ? `waiting ${Math.round(performance.now() - r.since)} ms for this process to answer a files ${r.op} of ${r.path.slice(0, 200)}` : 'not waiting for a files read')
      this.proc.kill('SIGKILL')
    }, limits.timeoutMs + graceMs)
  }

  /** Takes a call that is done off its sandbox's queue and arms the deadline of the next. */
  private finished (entry: CallEntry): void {
    if (entry.timer) clearTimeout(entry.timer)
    const queue = this.queues.get(entry.sandbox.id)
    if (!queue) return
    const k = queue.indexOf(entry)
    if (k !== -1) queue.splice(k, 1)
    if (queue.length === 0) this.queues.delete(entry.sandbox.id)
    else if (queue[0]!.timer === null) this.arm(queue[0]!)
  }

  /** Disposes sandbox `sb` in the child. */
  close (sb: number): void {
    this.residents.delete(sb)
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
        this.finished(c)
        this.work(-1)
        if (!m.usable) c.sandbox.broken = true
        if ('error' in m) c.reject(VmsError.fromInfo(m.error))
        else c.resolve(m.outcome)
        return
      }
      case 'read': {
        this.readsAsked++
        const c = this.calls.get(m.call)
        if (!c) {
          this.send({ t: 'read', req: m.req, ok: false, message: 'no call in progress' })
          return
        }
        const reading = { op: m.op, path: m.path, since: performance.now() }
        c.reading = reading
        const done = (): void => { if (c.reading === reading) c.reading = null }
        answer(c.ctx.files, m.op, m.path).then(({ value, ancestors }) => { done(); this.send({ t: 'read', req: m.req, ok: true, value, ancestors }) }, (err: unknown) => {
          done()
          this.send({ t: 'read', req: m.req, ok: false, message: err instanceof Error ? err.message : String(err) })
        })
      }
    }
  }

  private exited (code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.alive) return
    this.alive = false
    const exit: ChildExit = { pid: this.proc.pid, code, signal, stderr: this.stderr, outOfMemory: /out of memory|is_heap_oom = 1/i.test(this.stderr), reason: this.killReason ?? undefined }
    const suspects: string[] = []
    for (const queue of this.queues.values()) {
      // the first call of each queue was running; the rest never started
      const [running, ...waiting] = queue
      if (!running) continue
      suspects.push(running.sandbox.key)
      if (running.timer) clearTimeout(running.timer)
      running.sandbox.broken = true
      running.resolve(crashOutcome(running))
      for (const c of waiting) c.reject(VmsError.CLOSED('the sandbox is closed or was disposed by a limit'))
    }
    this.queues.clear()
    this.calls.clear()
    for (const c of this.creates.values()) c.reject(new ChildGone('the sandbox process ended'))
    this.creates.clear()
    this.onExit(this, exit, suspects)
  }
}

/** The stats of `hints` and their ancestors in `files`, as the child would ask for them; a failed read is left out. */
async function presetStats (files: FilesView, hints: readonly string[]): Promise<PresetStats> {
  const out = new Map<string, FileStat | null>()
  await Promise.all(hints.slice(0, MAX_STAT_HINTS).map(async (path) => {
    try {
      if (normalisePath(path) !== path) return // a hint is what a contract would ask: a normalised path
      const { value, ancestors } = await statWithAncestors(files, path)
      for (const [p, st] of [[path, value] as const, ...ancestors]) if (!out.has(p)) out.set(p, st)
    } catch {
      // a hint only saves a round trip: the child asks for this path itself, and that read says what failed
    }
  }))
  return [...out]
}

/** Reads the call's files view for a child (see {@link ReadOp} for `ancestors`). */
async function answer (files: FilesView, op: ReadOp, path: string): Promise<{ value: Uint8Array | FileStat | string[] | null, ancestors?: Array<[string, FileStat | null]> }> {
  if (op === 'read') return { value: await files.read(path) }
  if (op === 'readdir') return { value: await files.readdir(path) }
  return await statWithAncestors(files, path)
}

/** The stat of `path` and, unless it is a directory, of its ancestors up to the first that exists. */
async function statWithAncestors (files: FilesView, path: string): Promise<{ value: FileStat | null, ancestors: Array<[string, FileStat | null]> }> {
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
function crashOutcome (c: Pick<CallEntry, 'sandbox' | 'timedOut' | 'start'>): CallOutcome {
  const limits = c.sandbox.limits
  const timeout = c.timedOut
  const error = timeout
    ? VmsError.TIMEOUT(`the call passed its deadline of ${limits.timeoutMs} ms`)
    : VmsError.MEMORY_LIMIT(`the sandbox process ended during the call (out of memory: limit ${limits.memoryMb} MiB)`)
  return { ok: false, error: error.toInfo(), writes: [], oracles: [], limit: timeout ? 'timeout' : 'memory', durationMs: performance.now() - c.start }
}
