/**
 * Command output: human lines, or with `--json` one JSON object per line.
 * Keys in JSON output are z-base32 text.
 */

/** Where a command writes: stdout lines and stderr notes. */
export interface Output {
  /** True when every line must be one JSON object. */
  json: boolean
  /** Writes a line to stdout. */
  line (text: string): void
  /** Writes a JSON object as one line to stdout. */
  object (value: Record<string, unknown>): void
  /** Writes a note to stderr (never mixed into JSON output on stdout). */
  note (text: string): void
}

/**
 * Output to the process streams.
 * @param json one JSON object per line on stdout
 */
export function processOutput (json: boolean): Output {
  return {
    json,
    line (text) { process.stdout.write(text + '\n') },
    object (value) { process.stdout.write(JSON.stringify(value) + '\n') },
    note (text) { process.stderr.write(text + '\n') }
  }
}
