/**
 * Test helpers: a local DHT testnet, temporary folders, example contracts,
 * and `vms-node` child processes, each torn down with `t.teardown`.
 */

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import createTestnet from 'hyperdht/testnet.js'
import type { Testnet } from 'hyperdht/testnet.js'
import { HostNode, type HostNodeOptions } from '../src/host/host-node.js'
import type { ContractHost } from '../src/host/contract-host.js'
import { signCall } from '../src/caller.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { keyPair } from '../src/crypto.js'
import type { KeyPair } from '../src/crypto.js'
import { VmsClient, type ClientOptions, type ConnectedClient } from '../src/client.js'
import type { SwarmConnection } from 'hyperswarm'
import { RpcClient } from '../src/net/rpc.js'
import { createSwarm } from '../src/net/swarm.js'
import { discoveryKey } from '../src/crypto.js'

/** The brittle test object, as far as these helpers use it. */
export interface T {
  teardown (fn: () => unknown, opts?: { order?: number }): void
  comment (msg: string): void
}

/** Project root (dist/test -> ../..). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The CLI entry point. */
export const CLI = path.join(ROOT, 'bin', 'vms-node.js')

/** Source of `examples/<name>`. */
export function example (name: string): string {
  return fs.readFileSync(path.join(ROOT, 'examples', name), 'utf8')
}

/** Path of `examples/<name>`. */
export function examplePath (name: string): string {
  return path.join(ROOT, 'examples', name)
}

/** A temporary folder removed at teardown. */
export function tmpdir (t: T): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vms-test-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }), { order: Infinity })
  return dir
}

/** A 3-node local DHT on loopback, destroyed at teardown. */
export async function testnet (t: T): Promise<Testnet> {
  return await createTestnet(3, { teardown: (fn: () => Promise<void>) => t.teardown(fn, { order: Infinity }) })
}

/** A caller identity. */
export function identity (): KeyPair {
  return keyPair()
}

/** An in-process host node on `net` (more options in `opts`), closed at teardown. */
export async function hostNode (t: T, net: Testnet, storage?: string, opts: Partial<HostNodeOptions> = {}): Promise<HostNode> {
  const node = new HostNode({ storage: storage ?? tmpdir(t), sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: net.bootstrap, ...opts })
  t.teardown(() => node.close())
  await node.ready()
  return node
}

/** A running `vms-node` child process and its JSON output lines. */
export interface CliProcess {
  child: ChildProcess
  /** Resolves with the first JSON line whose `event` is `name`. */
  event (name: string, timeoutMs?: number): Promise<Record<string, unknown>>
  /** Every JSON line printed so far. */
  lines: Array<Record<string, unknown>>
  /** Text printed on stderr so far. */
  stderr (): string
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string | null>
}

/** Which Node binary and which checkout's CLI a child process runs (default: this Node, this checkout). */
export interface CliRuntime { node?: string, cliPath?: string }

/**
 * Starts `vms-node <args>` (with `--json`) as a child process, killed at teardown.
 */
export function cli (t: T, args: string[], opts: { env?: Record<string, string> } & CliRuntime = {}): CliProcess {
  const child = spawn(opts.node ?? process.execPath, ['--no-node-snapshot', opts.cliPath ?? CLI, ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: Array<Record<string, unknown>> = []
  const waiters: Array<() => void> = []
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      lines.push({ text: line })
    }
    for (const w of waiters.splice(0)) w()
  })
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  return {
    child,
    lines,
    exited,
    stderr: () => err,
    event (name, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${name} event in ${timeoutMs} ms; stderr: ${err}`)), timeoutMs)
        const check = (): void => {
          const hit = lines.find((l) => l.event === name)
          if (hit) {
            clearTimeout(timer)
            resolve(hit)
            return
          }
          if (child.exitCode !== null) {
            clearTimeout(timer)
            reject(new Error(`process exited (${child.exitCode}) before ${name}; stderr: ${err}`))
            return
          }
          waiters.push(check)
        }
        child.on('exit', () => { for (const w of waiters.splice(0)) w() })
        check()
      })
    }
  }
}

/**
 * Runs `vms-node <args>` to completion.
 * @returns exit code, stdout and stderr
 */
export async function cliRun (args: string[], opts: { env?: Record<string, string>, timeoutMs?: number } & CliRuntime = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(opts.node ?? process.execPath, ['--no-node-snapshot', opts.cliPath ?? CLI, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** Bootstrap text of a testnet for `--bootstrap`. */
export function bootstrapArg (net: Testnet): string {
  return net.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
}

/**
 * Polls `fn` every 20 ms until it is true.
 * @param ms give up after this long
 * @returns whether it became true in time
 */
export async function until (fn: () => boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return true
}

/** A VmsClient of `key` on `net` with a fresh identity (unless given), closed at teardown. */
export async function connectClient (t: T, net: Testnet, key: Uint8Array, opts: ClientOptions = {}): Promise<ConnectedClient> {
  const client = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000, ...opts })
  t.teardown(() => client.close())
  return client
}

/**
 * Makes `host` rewrite its history in-process: truncates the log to
 * `length`, then logs two `increment` calls by a new caller in place of the
 * dropped ones (a fork a watcher holding an earlier root must catch).
 */
export async function rewriteHistory (host: ContractHost, length: number): Promise<void> {
  await host.log.core.truncate(length)
  const rewriter = identity()
  await host.call(signCall(rewriter, host.key, 1, 'increment', '[]'))
  await host.call(signCall(rewriter, host.key, 2, 'increment', '[]'))
}

/** A raw RPC channel to `key`, bypassing VmsClient, for sending bad requests. */
export async function rawRpc (t: T, net: Testnet, key: Uint8Array): Promise<RpcClient> {
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(() => swarm.destroy())
  const conn = await new Promise<SwarmConnection>((resolve) => {
    swarm.once('connection', resolve)
    swarm.join(discoveryKey(key), { server: false, client: true })
  })
  const rpc = new RpcClient(conn, key)
  await rpc.rpc.fullyOpened()
  return rpc
}
