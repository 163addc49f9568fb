/**
 * The limits added to the genesis after its first layout: nesting depth of
 * JSON values, entries and path length per call, and the cut of error
 * messages. They are encoded as a trailing extension of the genesis record
 * and of the `info` reply (after every field of the first layout), so a
 * block written before them still decodes: its limits are then these
 * defaults. No I/O here.
 */

import c from 'compact-encoding'
import type { Encoder, State } from 'compact-encoding'

/** Limits of the extension, all deterministic (same input, same outcome, on every machine). */
export interface LimitsExtension {
  /**
   * Deepest nesting of arrays and objects in a call's arguments, its result
   * and JSON written with `writeFile(..., 'json')`. `[]` is depth 1, `[[]]` 2,
   * a scalar 0. Checked by iterative code only.
   */
  maxDepth: number
  /** Most file changes (put, del, mkdir, rmdir) one call may make. */
  maxEntries: number
  /** Longest path a contract may give to `System.files`, in UTF-8 bytes. */
  maxPathBytes: number
  /** Longest error message recorded for a call, in UTF-8 bytes; longer ones are cut (see `cutMessage`). */
  maxErrorBytes: number
}

/** Defaults of {@link LimitsExtension}; also what a genesis without the extension means. */
export const LIMITS_EXTENSION_DEFAULTS: Readonly<LimitsExtension> = Object.freeze({
  maxDepth: 64,
  maxEntries: 1024,
  maxPathBytes: 1024,
  maxErrorBytes: 4096
})

/**
 * Largest call record a host appends, in bytes: Hypercore's largest suggested
 * block (15 MiB) less room for the block's framing. A call whose record would
 * be larger fails alone, recorded as the host limit `record` (the host's
 * statement: a replay cannot know the size of oracle outputs never recorded).
 */
export const MAX_RECORD_BYTES = 15 * 1024 * 1024 - 4096

/** Codec of {@link LimitsExtension}: a field count, then the fields (unknown later fields are skipped). */
export const limitsExtension: Encoder<LimitsExtension> = {
  preencode (state, m) {
    c.uint.preencode(state, 4)
    c.uint.preencode(state, m.maxDepth); c.uint.preencode(state, m.maxEntries)
    c.uint.preencode(state, m.maxPathBytes); c.uint.preencode(state, m.maxErrorBytes)
  },
  encode (state, m) {
    c.uint.encode(state, 4)
    c.uint.encode(state, m.maxDepth); c.uint.encode(state, m.maxEntries)
    c.uint.encode(state, m.maxPathBytes); c.uint.encode(state, m.maxErrorBytes)
  },
  decode (state) {
    const n = c.uint.decode(state)
    const f: number[] = []
    for (let i = 0; i < n; i++) f.push(c.uint.decode(state))
    const d = LIMITS_EXTENSION_DEFAULTS
    return { maxDepth: f[0] ?? d.maxDepth, maxEntries: f[1] ?? d.maxEntries, maxPathBytes: f[2] ?? d.maxPathBytes, maxErrorBytes: f[3] ?? d.maxErrorBytes }
  }
}

/**
 * Decodes the trailing extension when bytes are left in `state`, else the defaults.
 * @returns the extension limits
 */
export function decodeTrailingLimits (state: State): LimitsExtension {
  return state.start < state.end ? limitsExtension.decode(state) : { ...LIMITS_EXTENSION_DEFAULTS }
}
