/**
 * The one error class of vms-node, Holepunch style: every error has a stable
 * `code` and a message of the form `CODE: detail`. Check errors by `code`,
 * never by `instanceof`: errors cross the sandbox and the RPC wire, where
 * classes are lost and only `{ code, message }` survives.
 */

import type { ErrorRecord } from '../protocol/index.js'

/** Every stable error code, with a one-line meaning (shown by docs and `--help`). */
export const ERROR_CODES = {
  // request validation (rejected before the sandbox, never logged)
  BAD_SIGNATURE: 'the call request signature does not verify for its caller key',
  NONCE_REUSED: 'the caller nonce is not greater than the last one the log holds for that caller',
  UNKNOWN_METHOD: 'the contract exports no method of that name',
  BAD_ARGUMENTS: 'arguments are not a JSON array',
  ARGS_TOO_LARGE: 'canonical JSON arguments exceed the contract limit (bytes)',
  WRONG_CONTRACT: 'the request names another contract key',
  BAD_REQUEST: 'a request frame that does not decode',
  HOST_BUSY: 'the host call queue is full',
  // outcomes of a call that ran (recorded in the call log)
  CONTRACT_ERROR: 'the contract method threw',
  TIMEOUT: 'the call passed its CPU/wall-clock deadline (ms)',
  MEMORY_LIMIT: 'the isolate passed its memory limit and was disposed',
  RESULT_TOO_LARGE: 'the JSON result exceeds the contract limit (bytes)',
  RESULT_NOT_JSON: 'the result is not a JSON value',
  WRITES_TOO_LARGE: 'the bytes written by one call exceed the contract limit',
  DETERMINISM: 'the contract used an API that is absent for determinism',
  ORACLE_DISABLED: 'System.oracle was called but the host runs without --oracles',
  ORACLE_MISMATCH: 'replay asked for more oracle outputs than the call record holds',
  // files (System.files) errors, as Node/DatArchive name them
  ENOENT: 'no such file or directory',
  EEXIST: 'file or directory already exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOTEMPTY: 'directory not empty',
  EINVAL: 'invalid path or argument',
  // contract and storage
  CONTRACT_LOAD: 'the contract source does not load (syntax error or top-level throw)',
  CONTRACT_MISMATCH: 'the storage holds a different contract than the one given',
  BAD_RECORD: 'a call log block that does not decode or breaks the log rules',
  BAD_KEY: 'a key that is neither 64 hex characters nor 52 z-base32 characters',
  BAD_ARGUMENT: 'a bad option or argument to a vms-node API or command',
  // network
  BAD_BOOTSTRAP: 'a --bootstrap value that is not host:port',
  NOT_FOUND: 'no peer serving that contract was found in time',
  REQUEST_TIMEOUT: 'the host did not answer in time (ms)',
  CLOSED: 'the node or connection is closed',
  STALLED: 'a watcher has waited long for blocks no peer served: a call record, or the files version it names (ms)',
  // trust policy
  QUORUM_TIMEOUT: 'fewer than the asked number of watchers attested ok in time',
  CONTRACT_FAULTY: 'split-view evidence, or replay faults from enough distinct watchers, are known for the contract',
  INTERNAL: 'an unexpected failure inside vms-node',
  // watcher trust (roots and heads proven against the contract key)
  FORGED_ROOT: 'a peer answered a root or head statement the contract\'s signer did not sign: the peer is dropped',
  HEAD_UNPROVEN: 'the replicated files drive is ahead of what the log covers and no peer signs a head pair: flagged, not proven',
  // deterministic limits added with the genesis limits extension
  TOO_DEEP: 'arguments, a result or JSON written are nested deeper than the contract limit (limits.maxDepth)',
  RECORD_TOO_LARGE: 'the call record would exceed the log block size: that call alone fails, recorded as a host limit',
  // client trust (replies proven against the contract key)
  FORGED_REPLY: 'a peer answered with a reply, root or info that does not verify against the contract key',
  UNSUPPORTED_NODE: 'no isolated-vm build installed for the running Node version (module ABI)',
  NO_DHT: 'no DHT node answered at the bootstrap addresses (--bootstrap / VMS_BOOTSTRAP)',
  CONTRACT_INIT: 'the contract init method failed at deploy: nothing was deployed',
  STORAGE_IN_USE: 'the storage folder is open in another vms-node process',
  // rehosting
  HOST_OFFLINE: 'no host of the contract is online to run calls; replicas serve its state (reads and audits still work)',
  // public hosting (deploy onto someone else's node)
  WRONG_NODE: 'a deploy or undeploy request names another node key',
  NOT_DEPLOYER: 'only the contract\'s deployer or the node\'s operator may undeploy it',
  DEPLOY_REFUSED: 'the node accepts no deploys, or not from this deployer (allowlist)',
  DEPLOY_QUOTA: 'the deploy would pass the node\'s contract quota (per deployer or in total)',
  DEPLOY_RATE: 'the deployer sent more deploys than the node\'s rate limit allows',
  LIMITS_TOO_HIGH: 'a deploy asked for limits above the operator\'s maxima',
  STORAGE_QUOTA: 'the contract\'s files and log passed the node\'s per-contract storage cap (bytes)',
  REGISTRY_MISMATCH: 'a node\'s contract listing does not match its signed registry log'
} as const

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES

/**
 * The vms-node error. `new VmsError(code, detail)` or a factory such as
 * `VmsError.BAD_SIGNATURE('caller xyz')`; `message` is `CODE: detail`.
 */
export class VmsError extends Error {
  /** Stable code, one of {@link ERROR_CODES} (or a contract's own code, see `fromInfo`). */
  readonly code: string

  /**
   * @param code a stable code
   * @param detail human text after `CODE: `
   */
  constructor (code: string, detail: string = '') {
    super(detail ? `${code}: ${detail}` : code)
    this.code = code
    this.name = 'VmsError'
  }

  /** Plain `{ code, message }` for encoding. */
  toInfo (): ErrorRecord {
    return { code: this.code, message: this.message }
  }

  /**
   * Rebuilds an error from `{ code, message }` as received over the wire or from
   * the sandbox. The message is kept as sent (it already starts with `CODE: `).
   */
  static fromInfo (info: ErrorRecord): VmsError {
    const err = new VmsError(info.code)
    err.message = info.message
    return err
  }

  /**
   * Wraps anything thrown into a VmsError; errors that already carry a string
   * `code` and a message keep them, anything else becomes `fallback`.
   */
  static from (err: unknown, fallback: ErrorCode = 'INTERNAL'): VmsError {
    if (err instanceof VmsError) return err
    const e = err as { code?: unknown, message?: unknown } | null
    if (e && typeof e.code === 'string' && typeof e.message === 'string' && e.message.startsWith(e.code + ':')) {
      return VmsError.fromInfo({ code: e.code, message: e.message })
    }
    const msg = e && typeof e.message === 'string' ? e.message : String(err)
    return new VmsError(fallback, msg)
  }

  static BAD_SIGNATURE (msg = 'invalid caller signature'): VmsError { return new VmsError('BAD_SIGNATURE', msg) }
  static NONCE_REUSED (msg = 'nonce already used'): VmsError { return new VmsError('NONCE_REUSED', msg) }
  static UNKNOWN_METHOD (msg = 'no such method'): VmsError { return new VmsError('UNKNOWN_METHOD', msg) }
  static BAD_ARGUMENTS (msg = 'arguments must be a JSON array'): VmsError { return new VmsError('BAD_ARGUMENTS', msg) }
  static ARGS_TOO_LARGE (msg = 'arguments too large'): VmsError { return new VmsError('ARGS_TOO_LARGE', msg) }
  static WRONG_CONTRACT (msg = 'request is for another contract'): VmsError { return new VmsError('WRONG_CONTRACT', msg) }
  static BAD_REQUEST (msg = 'malformed request'): VmsError { return new VmsError('BAD_REQUEST', msg) }
  static HOST_BUSY (msg = 'call queue full'): VmsError { return new VmsError('HOST_BUSY', msg) }
  static CONTRACT_ERROR (msg: string): VmsError { return new VmsError('CONTRACT_ERROR', msg) }
  static TIMEOUT (msg = 'call deadline passed'): VmsError { return new VmsError('TIMEOUT', msg) }
  static MEMORY_LIMIT (msg = 'memory limit passed'): VmsError { return new VmsError('MEMORY_LIMIT', msg) }
  static RESULT_TOO_LARGE (msg = 'result too large'): VmsError { return new VmsError('RESULT_TOO_LARGE', msg) }
  static RESULT_NOT_JSON (msg = 'result is not JSON'): VmsError { return new VmsError('RESULT_NOT_JSON', msg) }
  static WRITES_TOO_LARGE (msg = 'too many bytes written'): VmsError { return new VmsError('WRITES_TOO_LARGE', msg) }
  static DETERMINISM (msg: string): VmsError { return new VmsError('DETERMINISM', msg) }
  static ORACLE_DISABLED (msg = 'oracles are off on this host'): VmsError { return new VmsError('ORACLE_DISABLED', msg) }
  static ORACLE_MISMATCH (msg = 'oracle outputs do not match the record'): VmsError { return new VmsError('ORACLE_MISMATCH', msg) }
  static ENOENT (path: string): VmsError { return new VmsError('ENOENT', `no such file or directory, ${path}`) }
  static EEXIST (path: string): VmsError { return new VmsError('EEXIST', `already exists, ${path}`) }
  static ENOTDIR (path: string): VmsError { return new VmsError('ENOTDIR', `not a directory, ${path}`) }
  static EISDIR (path: string): VmsError { return new VmsError('EISDIR', `is a directory, ${path}`) }
  static ENOTEMPTY (path: string): VmsError { return new VmsError('ENOTEMPTY', `directory not empty, ${path}`) }
  static EINVAL (msg: string): VmsError { return new VmsError('EINVAL', msg) }
  static CONTRACT_LOAD (msg: string): VmsError { return new VmsError('CONTRACT_LOAD', msg) }
  static CONTRACT_MISMATCH (msg: string): VmsError { return new VmsError('CONTRACT_MISMATCH', msg) }
  static BAD_RECORD (msg: string): VmsError { return new VmsError('BAD_RECORD', msg) }
  static BAD_KEY (msg: string): VmsError { return new VmsError('BAD_KEY', msg) }
  static BAD_ARGUMENT (msg: string): VmsError { return new VmsError('BAD_ARGUMENT', msg) }
  static BAD_BOOTSTRAP (msg: string): VmsError { return new VmsError('BAD_BOOTSTRAP', msg) }
  static NOT_FOUND (msg: string): VmsError { return new VmsError('NOT_FOUND', msg) }
  static REQUEST_TIMEOUT (msg = 'request timed out'): VmsError { return new VmsError('REQUEST_TIMEOUT', msg) }
  static CLOSED (msg = 'closed'): VmsError { return new VmsError('CLOSED', msg) }
  static STALLED (msg: string): VmsError { return new VmsError('STALLED', msg) }
  static INTERNAL (msg: string): VmsError { return new VmsError('INTERNAL', msg) }
  static FORGED_ROOT (msg: string): VmsError { return new VmsError('FORGED_ROOT', msg) }
  static HEAD_UNPROVEN (msg: string): VmsError { return new VmsError('HEAD_UNPROVEN', msg) }
  static TOO_DEEP (msg = 'nested too deep'): VmsError { return new VmsError('TOO_DEEP', msg) }
  static RECORD_TOO_LARGE (msg = 'call record too large'): VmsError { return new VmsError('RECORD_TOO_LARGE', msg) }
  static FORGED_REPLY (msg: string): VmsError { return new VmsError('FORGED_REPLY', msg) }
  static UNSUPPORTED_NODE (msg: string): VmsError { return new VmsError('UNSUPPORTED_NODE', msg) }
  static NO_DHT (msg: string): VmsError { return new VmsError('NO_DHT', msg) }
  static CONTRACT_INIT (msg: string): VmsError { return new VmsError('CONTRACT_INIT', msg) }
  static STORAGE_IN_USE (msg: string): VmsError { return new VmsError('STORAGE_IN_USE', msg) }
  static HOST_OFFLINE (msg: string): VmsError { return new VmsError('HOST_OFFLINE', msg) }
  static WRONG_NODE (msg: string): VmsError { return new VmsError('WRONG_NODE', msg) }
  static NOT_DEPLOYER (msg: string): VmsError { return new VmsError('NOT_DEPLOYER', msg) }
  static DEPLOY_REFUSED (msg: string): VmsError { return new VmsError('DEPLOY_REFUSED', msg) }
  static DEPLOY_QUOTA (msg: string): VmsError { return new VmsError('DEPLOY_QUOTA', msg) }
  static DEPLOY_RATE (msg: string): VmsError { return new VmsError('DEPLOY_RATE', msg) }
  static LIMITS_TOO_HIGH (msg: string): VmsError { return new VmsError('LIMITS_TOO_HIGH', msg) }
  static STORAGE_QUOTA (msg: string): VmsError { return new VmsError('STORAGE_QUOTA', msg) }
  static REGISTRY_MISMATCH (msg: string): VmsError { return new VmsError('REGISTRY_MISMATCH', msg) }
}
