/**
 * The contract runtime: the isolated-vm sandbox (in this process, or in
 * supervised sandbox processes), its files overlay and an in-memory files
 * view. See types.ts for the interface.
 */

export { createSandbox, runtimeFingerprint } from './sandbox.js'
export { createProcessSandbox, SandboxProcessPool, sharedSandboxProcesses } from './sandbox-process.js'
export { MemoryFiles } from './memory-files.js'
export { CallFiles } from './overlay.js'
export { normalisePath } from './paths.js'
export { DEFAULT_LIMITS } from './types.js'
export type {
  CallContext, CallOutcome, FileOp, FileStat, FilesView, LimitHit, Limits,
  OracleMode, Sandbox, SandboxFactory, SandboxOptions
} from './types.js'
