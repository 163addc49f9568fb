/**
 * Shared pieces of the benchmark (`npm run bench`): the benchmark contract,
 * child processes that talk JSON lines (commands on stdin, events on
 * stdout), wall-clock time shared between processes, and statistics.
 */

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * The benchmark contract: `rsvp` writes one small file (the seeds' RSVP,
 * one JSON file per guest name), `get` only reads one, `ping` touches no
 * file. `init` writes the file `get` reads.
 */
export const BENCH_CONTRACT = `
exports.init = async () => {
  await System.files.mkdir('/rsvps')
  await System.files.writeFile('/rsvps/host.json', JSON.stringify({ name: 'host', isAttending: true }))
}
exports.rsvp = async (name, isAttending, reason) => {
  const id = System.caller.id
  await System.files.writeFile('/rsvps/' + name + '.json', JSON.stringify({ id, name, isAttending, reason }))
}
exports.get = async (name) => {
  return JSON.parse(await System.files.readFile('/rsvps/' + name + '.json'))
}
exports.ping = async () => 'pong'
`

/** Folder of the compiled scripts (this module's folder). */
export const SCRIPTS_DIR = path.dirname(fileURLToPath(import.meta.url))

/** Wall-clock time in ms with sub-ms precision, comparable between processes on one machine. */
export function now (): number {
  return performance.timeOrigin + performance.now()
}

/** Median of a list (NaN when empty). */
export function median (xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The `p`-th percentile (0..100, nearest rank) of a list (NaN when empty). */
export function percentile (xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = Float64Array.from(xs).sort()
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1))
  return s[rank]!
}

/** Rounds to `digits` decimals. */
export function round (x: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** A new temporary folder; remove it with `fs.rmSync` when done. */
export function tempDir (prefix = 'vms-bench-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** What machine this runs on: cores, CPU model, memory (bytes), Node version, OS. */
export function machine (): Record<string, unknown> {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, memBytes: os.totalmem(), node: process.version, platform: `${os.platform()} ${os.release()}` }
}

/** Sleeps `ms` milliseconds. */
export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A JSON line from a child process: `event` names it. */
export type Event = Record<string, unknown> & { event: string }

/**
 * A benchmark child process (a compiled script of this folder run with
 * `node --no-node-snapshot`): send it JSON commands, wait for its JSON events.
 */
export class Child {
  readonly name: string
  readonly proc: ChildProcess
  readonly exited: Promise<number | string | null>
  /** Called with every event as it arrives (before anyone waits for it), e.g. to print progress. */
  onevent: ((ev: Event) => void) | null = null
  private readonly events: Event[] = []
  private readonly waiters = new Set<() => void>()
  private stderrText = ''

  /**
   * @param script file name in this folder without extension, e.g. `load-client`
   * @param config passed as one JSON argument
   * @param nodeArgs extra node flags (e.g. `--cpu-prof`)
   */
  constructor (script: string, config: unknown, nodeArgs: string[] = []) {
    this.name = script
    this.proc = spawn(process.execPath, ['--no-node-snapshot', ...nodeArgs, path.join(SCRIPTS_DIR, script + '.js'), JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe']
    })
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderrText = (this.stderrText + d.toString()).slice(-20_000)
      if (process.env.VMS_BENCH_VERBOSE) process.stderr.write(d) // the children's own messages too (findings, warnings)
    })
    this.proc.stdin!.on('error', () => {})
    readline.createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let ev: Event
      try {
        ev = JSON.parse(line) as Event
      } catch {
        return
      }
      this.events.push(ev)
      if (this.onevent) this.onevent(ev)
      this.wake()
    })
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      resolve(code ?? signal)
      this.wake()
    }))
  }

  /** What the child printed on stderr (last 20,000 characters). */
  get stderr (): string {
    return this.stderrText
  }

  /** Sends one JSON command line. */
  send (cmd: Record<string, unknown>): void {
    this.proc.stdin!.write(JSON.stringify(cmd) + '\n')
  }

  /**
   * Waits for (and consumes) the next event named `name`.
   * @param timeoutMs ms (default 120,000)
   * @throws when the child exits first, reports an `error` event, or on timeout
   */
  next (name: string, timeoutMs = 120_000): Promise<Event> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${this.name}: no ${name} event in ${timeoutMs} ms; stderr: ${this.stderrText.slice(-2000)}`)), timeoutMs)
      const check = (): void => {
        const i = this.events.findIndex((e) => e.event === name || e.event === 'error')
        if (i !== -1) {
          const [ev] = this.events.splice(i, 1)
          if (ev!.event === 'error') done(new Error(`${this.name}: ${String(ev!.message)}`))
          else done(null, ev)
        } else if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
          done(new Error(`${this.name} exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${name}; stderr: ${this.stderrText.slice(-2000)}`))
        }
      }
      const done = (err: Error | null, ev?: Event): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        if (err) reject(err)
        else resolve(ev!)
      }
      this.waiters.add(check)
      check()
    })
  }

  /** Asks the child to exit (`{cmd:'exit'}`), then kills it after `graceMs`. */
  async stop (graceMs = 10_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    this.send({ cmd: 'exit' })
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  private wake (): void {
    for (const w of [...this.waiters]) w()
  }
}

/**
 * Child side: the config argument, a printer of events, and a reader of
 * commands. Uncaught failures are printed as an `error` event before exiting.
 */
export function childIO<C> (onCommand: (cmd: Record<string, unknown> & { cmd: string }) => unknown): { config: C, emit: (ev: Event) => void } {
  const config = JSON.parse(process.argv[2] ?? '{}') as C
  const emit = (ev: Event): void => {
    process.stdout.write(JSON.stringify(ev) + '\n')
  }
  const fail = (err: unknown): void => {
    emit({ event: 'error', message: String((err as Error)?.stack ?? err) })
    process.exit(1)
  }
  process.on('uncaughtException', fail)
  process.on('unhandledRejection', fail)
  // the benchmark went away (its end of the pipe closed): so does this process
  process.stdin.on('end', () => process.exit(0))
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    let cmd: Record<string, unknown> & { cmd: string }
    try {
      cmd = JSON.parse(line) as Record<string, unknown> & { cmd: string }
    } catch {
      return
    }
    Promise.resolve(onCommand(cmd)).catch(fail)
  })
  return { config, emit }
}
