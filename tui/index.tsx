/**
 * The terminal UI of a vms-node: Ink components that only read a
 * {@link NodeState}. `openTui` draws it on the terminal's alternate screen
 * (the shell's scrollback is left as it was), routes stray logs into the
 * event log while it is up, and hands quitting to its owner.
 */

import { render } from 'ink'
import { App, type Focus } from './app.js'
import { captureLogs } from './capture.js'
import type { NodeState } from './state.js'

export { NodeState } from './state.js'
export type { NodeSnapshot, NodeView, PeerView, ContractView, CallView, CallerView, VerdictView, VerdictKind, EventLine, EventLevel } from './state.js'
export { attachHost } from './host-adapter.js'
export type { HostAdapterOptions } from './host-adapter.js'
export { attachWatcher, verdictView } from './watch-adapter.js'
export type { WatchAdapterOptions } from './watch-adapter.js'
export { attachGossip, attestationView } from './gossip-adapter.js'
export type { AttestationSource } from './gossip-adapter.js'

/** Options for {@link openTui}. */
export interface TuiOptions {
  /**
   * Called once when the user quits (q, ctrl+c): close the node here. The UI
   * shows "closing" until the returned promise settles, then unmounts.
   */
  onQuit: () => void | Promise<void>
  stdout?: NodeJS.WriteStream
  stdin?: NodeJS.ReadStream
  /** Draw on the alternate screen (default: when stdout is a terminal). */
  altScreen?: boolean
  /** Route console.* and stderr writes into the event log while up (default true). */
  captureLogs?: boolean
  /** Least time between two re-renders caused by state writes, ms (default 150). */
  throttleMs?: number
  /** Focused panel at start (default contracts). */
  initialFocus?: Focus
}

/** A running terminal UI. */
export interface TuiHandle {
  /** Takes the UI down and gives the terminal back (idempotent). */
  unmount (): void
  /** Resolves once the UI is down. */
  waitUntilExit (): Promise<void>
}

const ALT_ON = '\u001b[?1049h\u001b[H'
const ALT_OFF = '\u001b[?1049l'

/**
 * Draws the UI of `state` on the terminal until quit or unmount.
 * @param state the node's state, fed by an adapter (see attachHost)
 * @param opts see {@link TuiOptions}
 * @returns a handle to take the UI down and to wait for it
 */
export function openTui (state: NodeState, opts: TuiOptions): TuiHandle {
  const stdout = opts.stdout ?? process.stdout
  const alt = opts.altScreen ?? !!stdout.isTTY
  if (alt) stdout.write(ALT_ON)
  const restoreLogs = opts.captureLogs === false ? () => {} : captureLogs(state)
  let down = false
  let resolveExit: () => void = () => {}
  const exited = new Promise<void>((resolve) => { resolveExit = resolve })

  // the process ending with the UI up: give the screen back, and before an
  // uncaught error is printed take the UI down so the error stays readable
  const onexit = (): void => { if (alt && !down) stdout.write(ALT_OFF) }
  const oncrash = (): void => unmount()
  process.once('exit', onexit)
  process.once('uncaughtExceptionMonitor', oncrash)

  const unmount = (): void => {
    if (down) return
    down = true
    process.off('exit', onexit)
    process.off('uncaughtExceptionMonitor', oncrash)
    try {
      instance.unmount()
    } finally {
      if (alt) stdout.write(ALT_OFF)
      restoreLogs()
      resolveExit()
    }
  }

  const onQuit = (): void => {
    state.setNode({ closing: true })
    let done: Promise<void>
    try {
      done = Promise.resolve(opts.onQuit())
    } catch (err) {
      done = Promise.reject(err)
    }
    done.catch((err: Error) => state.log('error', 'quit failed: ' + (err?.message ?? String(err)))).finally(unmount)
  }

  const instance = render(
    <App state={state} onQuit={onQuit} throttleMs={opts.throttleMs} initialFocus={opts.initialFocus} />,
    {
      stdout,
      stdin: opts.stdin ?? process.stdin,
      exitOnCtrlC: false,
      patchConsole: false,
      maxFps: 10
    }
  )
  instance.waitUntilExit().then(unmount, unmount)
  return { unmount, waitUntilExit: () => exited }
}
