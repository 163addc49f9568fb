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
 * sandbox goes to the child holding the fewest. A contract that had a call
 * in progress in a child that ended (the culprit, or a neighbour: the child
 * cannot say which isolate aborted) is rebuilt in a quarantine child, so
 * that a bomb repeated ends only children of suspects. Children are unreferenced
 * while idle, so they never keep the node's process alive, and exit when it
 * does (their IPC channel closes).
 */

import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import os from 'node:os'
import { VmsError } from '../errors.js'
import { ChildGone, SandboxChild, type ChildExit, type SandboxProcessOptions } from './sandbox-supervisor.js'
import type { CallContext, CallOutcome, Limits, Sandbox, SandboxFactory, SandboxOptions } from './types.js'

export type { ChildExit, SandboxProcessOptions } from './sandbox-supervisor.js'

function noop (): void {}

/** A contract's sandbox living in a child process. Build it with {@link SandboxProcessPool.create}. */
class ProcessSandbox implements Sandbox {
  readonly methods: string[]
  readonly id: number
  readonly key: string
  readonly limits: Limits
  /** Set when the child said the sandbox is gone (limit, host error) or the child ended. */
  broken = false
  private readonly child: SandboxChild
  private readonly graceMs: number
  private closed = false
  /** Settles once the calls asked for so far were sent to the child (or failed to be). */
  private sent: Promise<unknown> = Promise.resolve()

  constructor (child: SandboxChild, id: number, key: string, methods: string[], limits: Limits, graceMs: number) {
    this.child = child
    this.id = id
    this.key = key
    this.methods = methods
    this.limits = limits
    this.graceMs = graceMs
  }

  get usable (): boolean {
    return !this.closed && !this.broken && this.child.alive
  }

  /**
   * Runs one method in the child, after the calls already asked for (FIFO).
   * It is sent at once, once the stats of its hints are read and the calls
   * before it were sent, not when they are done: the child queues it.
   * @returns the outcome, as {@link createSandbox} gives it; when the child
   *   process ended during the call: MEMORY_LIMIT with `limit: 'memory'`
   *   (TIMEOUT with `limit: 'timeout'` when the supervisor ended it past the deadline)
   * @throws VmsError CLOSED when not usable (also when a call before it made
   *   it unusable); INTERNAL when `ctx.files` failed; BAD_ARGUMENT on a
   *   malformed context (as the in-process sandbox)
   */
  call (ctx: CallContext): Promise<CallOutcome> {
    if (!this.usable) return Promise.reject(VmsError.CLOSED('the sandbox is closed or was disposed by a limit'))
    const since = performance.now()
    const stats = this.child.statsFor(ctx)
    // wrapped, so that `sent` settles when the message is sent, not when the outcome comes
    const sending = this.sent.then(async () => {
      const preset = await stats
      if (!this.usable) throw VmsError.CLOSED('the sandbox is closed or was disposed by a limit')
      // eslint-disable-next-line no-useless-call -- the child's own call method, not Function.prototype.call
      return { outcome: this.child.call(this, ctx, this.limits, this.graceMs, since, preset) }
    })
    this.sent = sending.then(noop, noop)
    return sending.then(async (s) => await s.outcome)
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
 * Event `exit` ({@link ChildExit}) when a child ends other than by `close()`
 * (an out-of-memory abort, a crash, a kill past a deadline).
 */
export class SandboxProcessPool extends EventEmitter {
  /** Children that ended so far (crashes, kills), oldest first, the last 16. */
  readonly exits: ChildExit[] = []
  /** Children started so far. */
  started = 0
  private endedReads = 0
  private readonly opts: Required<SandboxProcessOptions>
  private readonly children: SandboxChild[] = []
  /** Keys (source hashes) of contracts suspected of ending a child, oldest first. */
  private readonly suspects = new Map<string, number>()
  /** Children ended so far with calls in progress: the number of the crash a suspect was last seen in. */
  private crashes = 0
  private nextSandbox = 0
  private closed = false

  /** @param opts see {@link SandboxProcessOptions} */
  constructor (opts: SandboxProcessOptions = {}) {
    super()
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
    this.opts = {
      processes: Math.max(1, Math.floor(opts.processes ?? Math.min(4, Math.max(1, cores)))),
      heapMb: opts.heapMb ?? 512,
      graceMs: opts.graceMs ?? 5000,
      quarantine: Math.max(0, Math.floor(opts.quarantine ?? 2))
    }
  }

  /** Live child processes (quarantine children included). */
  get processes (): number {
    return this.children.length
  }

  /**
   * True when sandboxes of `source` (with that file name) are built in a
   * quarantine child (see {@link SandboxProcessOptions.quarantine}).
   */
  quarantined (source: string, filename?: string): boolean {
    return this.suspects.has(sourceKey(source, filename))
  }

  /**
   * Files reads the children asked their supervisor for so far, each one
   * IPC round trip during a call (a stat sent with the call, from
   * `statHints`, is none).
   */
  get readsAsked (): number {
    let n = this.endedReads
    for (const c of this.children) n += c.readsAsked
    return n
  }

  /** Pids of the live children (for tests and diagnostics). */
  get pids (): number[] {
    return this.children.map((c) => c.proc.pid ?? -1)
  }

  /**
   * Builds a sandbox in the child holding the fewest (a new child while
   * fewer than `processes` run); a contract that had a call in progress in
   * a child that ended goes to a quarantine child instead. When the child
   * ends while loading, the load is tried once more in a new child.
   * @throws VmsError CONTRACT_LOAD (as {@link createSandbox}, and when the
   *   top-level code ended its child twice), BAD_ARGUMENT, CLOSED after `close()`
   */
  readonly create: SandboxFactory = async (source: string, opts: SandboxOptions): Promise<Sandbox> => {
    const key = sourceKey(source, opts?.filename)
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw VmsError.CLOSED('the sandbox process pool is closed')
      const child = this.pick(key)
      const id = ++this.nextSandbox
      child.residents.set(id, key)
      try {
        const methods = await child.create(id, source, opts)
        return new ProcessSandbox(child, id, key, methods, { ...opts.limits }, this.opts.graceMs)
      } catch (err) {
        child.residents.delete(id)
        if (!(err instanceof ChildGone)) throw err
        if (attempt >= 1) throw VmsError.CONTRACT_LOAD(`top-level code ended its sandbox process (out of memory: limit ${opts?.limits?.memoryMb} MiB)`)
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

  /**
   * The child for a new sandbox of `key`: the least loaded normal child, or
   * for a suspect a quarantine child, preferring one that holds no other
   * suspect of the same crash (co-suspects are split up, so the next crash
   * tells them apart).
   */
  private pick (key: string): SandboxChild {
    const crash = this.suspects.get(key)
    const q = crash !== undefined && this.opts.quarantine > 0
    const kind = this.children.filter((c) => c.quarantine === q)
    if (kind.length < (q ? this.opts.quarantine : this.opts.processes)) return this.spawn(q)
    const cost = (c: SandboxChild): number => {
      if (!q) return c.held
      let same = 0
      for (const k of c.residents.values()) if (this.suspects.get(k) === crash) same++
      return same * 1e6 + c.held
    }
    let best = kind[0]!
    for (const c of kind) if (cost(c) < cost(best)) best = c
    return best
  }

  private spawn (quarantine: boolean): SandboxChild {
    const child = new SandboxChild(this.opts, quarantine, (c, exit, suspects) => {
      const i = this.children.indexOf(c)
      if (i !== -1) {
        this.children.splice(i, 1)
        this.endedReads += c.readsAsked
      }
      // the residents of a quarantine child that were idle when it ended did not end it: released
      if (c.quarantine) for (const key of c.residents.values()) if (!suspects.includes(key)) this.suspects.delete(key)
      if (suspects.length > 0) this.crashes++
      for (const key of suspects) {
        this.suspects.delete(key)
        this.suspects.set(key, this.crashes)
        if (this.suspects.size > MAX_SUSPECTS) this.suspects.delete(this.suspects.keys().next().value!)
      }
      this.exits.push(exit)
      if (this.exits.length > 16) this.exits.shift()
      if (!this.closed) this.emit('exit', exit)
    })
    this.children.push(child)
    this.started++
    return child
  }
}

/** Most contracts remembered as suspects (the oldest is forgotten first). */
const MAX_SUSPECTS = 64

/** The key a contract is known by in the pool: its file name (a host names it after the contract) and source. */
function sourceKey (source: unknown, filename: unknown): string {
  if (typeof source !== 'string') return ''
  return createHash('sha256').update(String(filename ?? '')).update('\0').update(source).digest('hex')
}

/**
 * One line saying how a sandbox process ended, for a node's warnings:
 * `sandbox process 123 ended by SIGABRT (V8 out of memory)`, or by SIGKILL
 * with why the supervisor killed it (a call past its deadline, and the files
 * read it was waiting for).
 * @param e the exit the pool reported (its `exit` event)
 */
export function describeExit (e: ChildExit): string {
  return `sandbox process ${e.pid ?? '?'} ended by ${e.signal ?? `exit code ${e.code}`}${e.outOfMemory ? ' (V8 out of memory)' : ''}${e.reason ? ` (${e.reason})` : ''}`
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
