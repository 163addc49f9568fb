/**
 * Shared pieces of the fault suite (test/faults-*.test.ts): polling,
 * watcher and client set-up on a testnet, and JSON-line child processes that
 * run a snippet against the built library.
 */

import path from 'node:path'
import readline from 'node:readline'
import { spawn } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import type { Testnet } from 'hyperdht/testnet.js'
import { VmsClient } from '../src/client.js'
import { Watcher, type WatcherOptions } from '../src/watch/watcher.js'
import type { ContractWatch } from '../src/watch/contract-watch.js'
import type { Verdict } from '../src/watch/verdict.js'
import { CLI, ROOT, identity, tmpdir, type CliProcess, type T } from './helpers.js'

/** The brittle test object, with forced teardowns (run even when the test throws). */
export interface FT extends T {
  teardown (fn: () => unknown, opts?: { order?: number, force?: boolean }): void
}

/** Polls `fn` every 25 ms. @returns false when it did not hold within `ms` */
export async function until (fn: () => boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) return false
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return true
}

/** A connected client with a fresh identity, closed at teardown. */
export async function connect (t: T, net: Testnet, key: Uint8Array | string, opts: { quorum?: number, quorumTimeout?: number, timeout?: number } = {}) {
  const c = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000, ...opts })
  t.teardown(() => c.close())
  return c
}

/** An in-process watcher with its own storage, fast root requests and attestations, closed at teardown. */
export async function watcherOn (t: T, net: Testnet, opts: Partial<WatcherOptions> = {}): Promise<Watcher> {
  const w = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 200, attest: { everyCalls: 1, everyMs: 100 }, ...opts })
  t.teardown(() => w.close())
  await w.ready()
  return w
}

/** Resolves with the watch's first fault. */
export function nextFault (cw: ContractWatch, ms = 30_000): Promise<Verdict> {
  if (cw.verdict && cw.verdict.verdict === 'fault') return Promise.resolve(cw.verdict)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no fault in time')), ms)
    cw.once('fault', (v: Verdict) => { clearTimeout(timer); resolve(v) })
  })
}

/** Resolves with the first JSON line of `proc` for which `pred` holds (rejects if it exits first). */
export function line (proc: CliProcess, pred: (l: Record<string, unknown>) => boolean, ms = 30_000): Promise<Record<string, unknown>> {
  const end = Date.now() + ms
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const hit = proc.lines.find(pred)
      if (hit) return resolve(hit)
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) return reject(new Error(`process exited before a matching line; stderr: ${proc.stderr()}`))
      if (Date.now() > end) return reject(new Error(`no matching line in ${ms} ms; stderr: ${proc.stderr()}; last: ${JSON.stringify(proc.lines.at(-1))}`))
      setTimeout(check, 25)
    }
    check()
  })
}

/** A child process talking JSON lines, killed at teardown; `send` writes a JSON line to its stdin. */
export type JsonProcess = CliProcess & { send (msg: unknown): void }

/**
 * Spawns `command argv...` with JSON lines on stdout (other lines become
 * `{ text }`), killed with SIGKILL at teardown — a forced teardown, which
 * brittle runs even when the test throws, so a failing test leaves no
 * process behind.
 */
export function spawnJson (t: FT, command: string, argv: string[], opts: { env?: Record<string, string> } = {}): JsonProcess {
  const child = spawn(command, argv, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] })
  const lines: Array<Record<string, unknown>> = []
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  child.stdin.on('error', () => {})
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    try { lines.push(JSON.parse(l) as Record<string, unknown>) } catch { lines.push({ text: l }) }
  })
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  }, { force: true })
  const proc: JsonProcess = {
    child,
    lines,
    exited,
    stderr: () => err,
    event: (name: string, ms = 30_000) => line(proc, (l) => l.event === name, ms),
    send: (msg: unknown) => { child.stdin.write(JSON.stringify(msg) + '\n') }
  }
  return proc
}

/** `vms-node <args>` as a child process (see {@link spawnJson}); pass `--json` for JSON lines. */
export function cliJson (t: FT, args: string[], opts: { env?: Record<string, string> } = {}): JsonProcess {
  return spawnJson(t, process.execPath, ['--no-node-snapshot', CLI, ...args], opts)
}

/**
 * Runs `code` (an ES module body) in a child Node process, with `dist` (the
 * built project, a file URL), `args` (parsed JSON), `out(obj)` (prints a JSON
 * line) and `commands` (an async iterator of the lines sent to its stdin) in
 * scope. Killed at teardown.
 * @param opts.prefix command words that run node (e.g. a network namespace runner)
 */
export function runScript (t: FT, code: string, args: unknown, opts: { env?: Record<string, string>, prefix?: string[], nodeArgs?: string[] } = {}): JsonProcess {
  const body = `
const dist = ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist')).href)}
const args = JSON.parse(process.argv[process.argv.length - 1])
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n')
const rl = (await import('node:readline')).createInterface({ input: process.stdin })
const commands = rl[Symbol.asyncIterator]()
${code}
`
  const argv = ['--no-node-snapshot', ...(opts.nodeArgs ?? []), '--input-type=module', '-e', body, JSON.stringify(args)]
  const prefix = opts.prefix ?? []
  return prefix.length > 0
    ? spawnJson(t, prefix[0]!, [...prefix.slice(1), process.execPath, ...argv], opts)
    : spawnJson(t, process.execPath, argv, opts)
}
