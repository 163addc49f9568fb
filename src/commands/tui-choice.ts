/**
 * Whether a command opens the terminal UI, and loading it. The UI (Ink and
 * React) is loaded only when it is used, so plain commands start faster.
 */

/** Flags that decide between the UI and plain output. */
export interface TuiFlags {
  json?: boolean
  /** commander's `--no-tui` gives `tui: false`. */
  tui?: boolean
}

/** Environment variables that make Ink draw only the last frame, at exit (its "CI mode", from the is-in-ci package). */
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION']

/**
 * Whether a command should open the terminal UI: stdout (and stdin, for the
 * keys) are terminals, and neither `--json` nor `--no-tui` was given.
 */
export function wantsTui (flags: TuiFlags, stdout: NodeJS.WriteStream = process.stdout, stdin: NodeJS.ReadStream = process.stdin): boolean {
  return !flags.json && flags.tui !== false && !!stdout.isTTY && !!stdin.isTTY
}

/**
 * Loads the terminal UI commands (`runHostTui`, `runWatchTui`). The UI is
 * only opened on an interactive terminal (see {@link wantsTui}), where a
 * live screen is what was asked for, so the CI variables are removed from
 * this process's environment first: Ink reads them once, when it loads, and
 * would otherwise draw nothing until the node exits (a CI job that runs the
 * node in a pseudo-terminal, say).
 */
export async function loadTui (): Promise<typeof import('./host-tui.js')> {
  for (const name of CI_VARIABLES) delete process.env[name]
  return await import('./host-tui.js')
}
