/**
 * The small interface in front of the sandbox. The host, the watcher and the
 * rebuild-after-limit path all talk to a contract through {@link Sandbox} only,
 * so the isolate implementation can be swapped (or a test runtime injected).
 * Nothing here knows about the network or the call log.
 */

import type { ErrorRecord, LimitsRecord } from '../../protocol/index.js'
import { LIMITS_EXTENSION_DEFAULTS } from '../../protocol/limits.js'

/**
 * Per-call limits, fixed in the genesis record: the genesis's own
 * `LimitsRecord` (protocol/messages.ts, units there), one shape for the
 * sandbox and the wire.
 */
export type Limits = LimitsRecord

/** Bytes every file change counts against `maxWriteBytes` besides its path and content. */
export const ENTRY_OVERHEAD_BYTES = 64

/** Defaults for {@link Limits}. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  timeoutMs: 2000,
  memoryMb: 128,
  maxArgsBytes: 1024 * 1024,
  maxResultBytes: 1024 * 1024,
  maxWriteBytes: 16 * 1024 * 1024,
  ...LIMITS_EXTENSION_DEFAULTS
})

/** What `stat` says about a path in the files drive. */
export interface FileStat {
  type: 'file' | 'directory'
  /** Bytes of content; 0 for directories. */
  size: number
}

/**
 * A read-only view of the contract's files (a Hyperdrive at one version, plus
 * any writes of earlier calls not yet flushed). Paths given to it are already
 * normalised: absolute, `/`-separated, no `.`/`..`, no trailing slash (root is `/`).
 * A directory exists when a directory entry was made for it (mkdir) or when
 * some file lies below it.
 */
export interface FilesView {
  /** Content of the file at `path`, or null when there is no file there. */
  read (path: string): Promise<Uint8Array | null>
  /** File or directory at `path`, or null. */
  stat (path: string): Promise<FileStat | null>
  /** Names (not paths) of the immediate children of directory `path`, sorted by code unit. */
  readdir (path: string): Promise<string[]>
}

/**
 * One change a call made to the files, in the order made. Applied to the
 * drive all together after the call returns; discarded when it throws.
 * A directory is a drive entry with no content and `metadata: { vms: 'dir' }`.
 */
export type FileOp =
  | { op: 'put', path: string, data: Uint8Array }
  | { op: 'del', path: string }
  | { op: 'mkdir', path: string }
  | { op: 'rmdir', path: string }

/** How `System.oracle(fn)` behaves during a call. */
export type OracleMode =
  /** Host: oracles disabled, `System.oracle` throws ORACLE_DISABLED. */
  | { mode: 'off' }
  /** Host: run `fn` (with the real clock and real randomness) and record its JSON result. */
  | { mode: 'record' }
  /** Replay: never run `fn`; return the recorded JSON outputs in order. */
  | { mode: 'replay', outputs: string[] }

/** Everything one call needs. All of it comes from (or goes into) the call record. */
export interface CallContext {
  /** Method name; `default` for a contract whose `module.exports` is a function. */
  method: string
  /** Canonical JSON of the argument array, e.g. `[true,"busy"]`. */
  argsJson: string
  /** Caller public key, z-base32 (what `System.caller.id` and `env.callerId` return). */
  callerId: string
  /** Recorded call time in ms since the epoch: what `Date.now()` and `new Date()` give. */
  timestamp: number
  /** 32 bytes seeding `Math.random()` for this call. */
  seed: Uint8Array
  /** Files as they are before this call. */
  files: FilesView
  oracle: OracleMode
  /**
   * Paths the call is expected to `stat` (a replay names those its record
   * wrote). A sandbox in another process sends their stats, read from
   * `files`, with the call, which saves the call a round trip each. Only a
   * hint: what the call reads is `files` either way. At most
   * {@link MAX_STAT_HINTS} are used.
   */
  statHints?: readonly string[]
}

/** Most `statHints` a sandbox reads for one call. */
export const MAX_STAT_HINTS = 32

/** Which limit a call hit; after any, the isolate must be rebuilt before the next call. */
export type LimitHit = 'timeout' | 'memory'

/** What one call did. Deterministic for everything but `limit` (a host statement). */
export interface CallOutcome {
  /** True when the method returned (its writes are to be applied). */
  ok: boolean
  /** Canonical JSON of the result when `ok`; `undefined` when the method returned undefined. */
  resultJson?: string
  /** Why the call failed when `!ok`: contract throws are CONTRACT_ERROR or a files code (ENOENT...). */
  error?: ErrorRecord
  /** The call's file changes, in order; empty when `!ok`. */
  writes: FileOp[]
  /** JSON of each `System.oracle` output, in call order (recorded on the host, echoed on replay); a failed oracle is `!` + JSON `[code, detail]`. */
  oracles: string[]
  /** Set when a wall-clock or memory limit ended the call; the sandbox is then unusable. */
  limit?: LimitHit
  /** Wall time the call took inside the sandbox, ms (not deterministic; for stats only). */
  durationMs: number
}

/**
 * A loaded contract in its own isolate. One call at a time: `call` queues
 * behind a call in progress (the seeds' script-wide lock).
 */
export interface Sandbox {
  /** Exported method names, sorted; `default` when `module.exports` is a function. */
  readonly methods: string[]
  /** False once a limit disposed the isolate or `close()` ran; build a new sandbox then. */
  readonly usable: boolean
  /**
   * Runs one method. Never throws for anything the contract does: failures come
   * back as `{ ok: false, error }`. Throws VmsError CLOSED when not usable.
   */
  call (ctx: CallContext): Promise<CallOutcome>
  /** Disposes the isolate. Idempotent. */
  close (): Promise<void>
}

/** Options for {@link SandboxFactory}. */
export interface SandboxOptions {
  limits: Limits
  /** File name shown in contract stack traces, e.g. `contract.js`. */
  filename?: string
}

/**
 * Builds a sandbox from contract source (CommonJS). Throws VmsError
 * CONTRACT_LOAD on a syntax error or a throw in top-level code.
 */
export type SandboxFactory = (source: string, opts: SandboxOptions) => Promise<Sandbox>
