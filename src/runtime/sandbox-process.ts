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
 * Event `exit` ({@link ChildExit}) when a child ends other than by `close()`
 * (an out-of-memory abort, a crash, a kill past a deadline).
 */
export class SandboxProcessPool extends EventEmitter {
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
    super()
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
      if (!this.closed) this.emit('exit', exit)
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
