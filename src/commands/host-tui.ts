/**
 * `vms-node host` and `vms-node watch` with the terminal UI: the same
 * runHost / runWatch, but their output goes into the UI's event log (nothing
 * is printed while the UI is up) and the node's state is drawn live. Chosen
 * when stdout is a terminal and neither `--json` nor `--no-tui` was given
 * (see wantsTui in ./tui-choice.ts, which also loads this module).
 */

import path from 'node:path'
import { formatKey } from '../keys.js'
import { formatBootstrap } from '../net/swarm.js'
import { runHost, type HostOptions, type RunningHost } from './host.js'
import { runHostNode, type HostNodeCommandOptions } from './host-public.js'
import type { HostNode } from '../host/host-node.js'
import { runWatch, type RunningWatch } from './watch.js'
import type { AuditCommandOptions } from './verify.js'
import type { Output } from './output.js'
import { NodeState } from '../../tui/state.js'
import { attachHost } from '../../tui/host-adapter.js'
import { attachGossip } from '../../tui/gossip-adapter.js'
import { attachWatcher } from '../../tui/watch-adapter.js'
import { openTui, type TuiHandle } from '../../tui/index.js'

/**
 * An {@link Output} that writes into a NodeState's event log: lines become
 * info lines, notes become warnings; JSON objects (the commands' `ready`,
 * `call`, `verdict` events, which the adapters show better) are dropped.
 */
export function stateOutput (state: NodeState): Output {
  return {
    json: true,
    line (text) { state.log('info', text) },
    object () {},
    note (text) { state.log(/^warning: /.test(text) ? 'warn' : 'info', text.replace(/^warning: /, '')) }
  }
}

/** Options for {@link runHostTui} and {@link runWatchTui}. */
export interface HostTuiOptions {
  /**
   * Ends the process. When given, the UI owns the process's end: `q`,
   * ctrl+c, SIGINT, SIGTERM and SIGHUP close the node (flushing storage),
   * give the terminal back, then call `exit` with 0 (keys), 128 + the signal
   * number (signals) or 1 (closing failed; the error is printed after the
   * UI is down). A second signal while closing exits at once.
   */
  exit?: (code: number) => void
}

/** The UI part of what {@link runHostTui} and {@link runWatchTui} started. */
export interface RunningTui {
  state: NodeState
  tui: TuiHandle
  /**
   * Closes the node (flushing storage) while the UI says so, then takes the
   * UI down and gives the terminal back. Idempotent.
   */
  close (): Promise<void>
}

/** What {@link runHostTui} started. */
export interface RunningHostTui extends RunningHost, RunningTui {}

/** What {@link runWatchTui} started. */
export interface RunningWatchTui extends RunningWatch, RunningTui {}

const SIGNALS: Array<[NodeJS.Signals, number]> = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]

/** Something that closes (a HostNode, a Watcher) and says so with a `close` event. */
interface Closable {
  close (): Promise<void>
  once (event: 'close', fn: () => void): unknown
}

/**
 * Opens the UI on `state` for a started `node`, with the quitting rules of
 * {@link HostTuiOptions}.
 * @param detach stops the adapter feeding `state`
 * @param farewell lines printed once the terminal is given back (the full contract keys, so they outlive the UI)
 */
function openNodeTui (state: NodeState, node: Closable, detach: () => void, tuiOpts: HostTuiOptions, farewell: string[] = []): RunningTui {
  const handlers: Array<[NodeJS.Signals, () => void]> = []
  let closing: Promise<void> | null = null
  const close = (): Promise<void> => {
    if (closing) return closing
    state.setNode({ closing: true })
    closing = (async () => {
      try {
        await node.close()
      } finally {
        detach()
        tui.unmount()
        for (const [sig, fn] of handlers) process.off(sig, fn)
        for (const line of farewell) process.stdout.write(line + '\n')
      }
    })()
    return closing
  }

  const exit = tuiOpts.exit
  const end = (code: number): Promise<void> => {
    if (!exit) return close()
    return close().then(() => exit(code), (err: Error) => {
      process.stderr.write(`vms-node: ${err?.message ?? String(err)}\n`)
      exit(1)
    })
  }

  const tui = openTui(state, { onQuit: () => end(0) })
  if (exit) {
    for (const [sig, n] of SIGNALS) {
      const fn = (): void => {
        if (closing) exit(128 + n)
        else void end(128 + n)
      }
      handlers.push([sig, fn])
      process.on(sig, fn)
    }
  }
  // closed some other way: give the terminal back
  node.once('close', () => { void close() })
  return { state, tui, close }
}

/**
 * Deploys or reopens the contract like runHost, then opens the terminal UI
 * on it. Errors before the UI opens (bad file, contract that does not load)
 * are thrown as from runHost, with nothing drawn.
 * @param file contract source file
 * @param opts as for runHost
 * @param tuiOpts see {@link HostTuiOptions}
 * @returns the node, its contract, the UI state and handle, and close()
 */
export async function runHostTui (file: string, opts: HostOptions, tuiOpts: HostTuiOptions = {}): Promise<RunningHostTui> {
  const state = new NodeState({ role: 'host', storage: path.resolve(opts.storage), bootstrap: formatBootstrap(opts.bootstrap ?? []) })
  const running = await runHost(file, opts, stateOutput(state))
  const detachHost = attachHost(running.node, state)
  const detachGossip = attachGossip(running.node.gossip, state)
  const detach = (): void => { detachGossip(); detachHost() }
  const info = running.contract.info()
  const farewell = [`Contract: ${formatKey(running.contract.key)} ("${info.name}")`, `Files:    ${formatKey(info.files)}`, `Storage:  ${path.resolve(opts.storage)}`]
  return { ...running, ...openNodeTui(state, running.node, detach, tuiOpts, farewell) }
}

/**
 * Starts a node of many contracts (and those others deploy) like
 * runHostNode, then opens the terminal UI on it: every contract with its
 * deployer, those deployed later as they come.
 * @throws as runHostNode, before anything is drawn
 */
export async function runHostNodeTui (files: string[], opts: HostNodeCommandOptions, tuiOpts: HostTuiOptions = {}): Promise<{ node: HostNode } & RunningTui> {
  const state = new NodeState({ role: 'host', storage: path.resolve(opts.storage), bootstrap: formatBootstrap(opts.bootstrap ?? []) })
  const running = await runHostNode(files, opts, stateOutput(state))
  const detachHost = attachHost(running.node, state)
  const detachGossip = attachGossip(running.node.gossip, state)
  const detach = (): void => { detachGossip(); detachHost() }
  const farewell = [`Node:     ${formatKey(running.node.swarm!.keyPair.publicKey)}`, ...[...running.node.contracts.values()].map((h) => `Contract: ${formatKey(h.key)} ("${h.genesis.name}")`), `Storage:  ${path.resolve(opts.storage)}`]
  return { ...running, ...openNodeTui(state, running.node, detach, tuiOpts, farewell) }
}

/**
 * Starts following `keys` like runWatch, then opens the terminal UI on the
 * watcher: its peers, the contracts with how far they are judged, and its
 * verdicts (faults in red with the first diverging call). Errors before the
 * UI opens are thrown as from runWatch.
 * @param keys contract keys, z-base32 or hex
 * @param opts as for runWatch
 * @param tuiOpts see {@link HostTuiOptions}
 * @returns the watcher, its contract watches, the UI state and handle, and close()
 */
export async function runWatchTui (keys: readonly string[], opts: AuditCommandOptions & { identity?: string }, tuiOpts: HostTuiOptions = {}): Promise<RunningWatchTui> {
  const state = new NodeState({ role: 'watcher', storage: opts.storage ? path.resolve(opts.storage) : '(temporary)', bootstrap: formatBootstrap(opts.bootstrap ?? []) })
  const running = await runWatch(keys, opts, stateOutput(state))
  const detach = attachWatcher(running.watcher, state, { bootstrap: formatBootstrap(opts.bootstrap ?? []) })
  const farewell = running.contracts.map((cw) => `Watched:  ${formatKey(cw.key)}`)
  return { ...running, ...openNodeTui(state, running.watcher, detach, tuiOpts, farewell) }
}
