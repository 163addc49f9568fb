/**
 * The data that crosses the wire and lands in the call log, defined once with
 * compact-encoding (hand-written codecs). No I/O here.
 *
 * Call log layout: block 0 is a {@link GenesisRecord}, every later block a
 * {@link CallRecord}; each block starts with a type byte (BLOCK_GENESIS,
 * BLOCK_CALL) and a record version.
 */

import c from 'compact-encoding'
import type { Encoder, State } from 'compact-encoding'
import { BLOCK_CALL, BLOCK_GENESIS, RECORD_VERSION, TAG_CALL, TAG_ROOT } from './constants.js'
import { decodeTrailingLimits, limitsExtension, type LimitsExtension } from './limits.js'
import { decodeTrailingDeploy, deployExtension } from './genesis-deploy.js'

/**
 * Limits fixed at genesis, per call (src/runtime/types.ts `Limits` is this type): ms, MiB, bytes.
 * The {@link LimitsExtension} fields travel as a trailing extension (limits.ts).
 */
export interface LimitsRecord extends LimitsExtension {
  /** Deadline of one call in ms: synchronous CPU and awaited time (unsettled promises) alike. */
  timeoutMs: number
  /** Isolate heap limit in MiB (isolated-vm `memoryLimit`, minimum 8). */
  memoryMb: number
  /** Largest canonical JSON argument list, in bytes (UTF-8). */
  maxArgsBytes: number
  /** Largest canonical JSON result, in bytes (UTF-8). */
  maxResultBytes: number
  /**
   * Largest total of bytes one call may add to System.files: content bytes,
   * plus for every change (put, del, mkdir, rmdir) the UTF-8 bytes of its path
   * and src/runtime/types.ts `ENTRY_OVERHEAD_BYTES` for the entry and its metadata.
   */
  maxWriteBytes: number
}

/** What a caller signs and sends: one method call on one contract. */
export interface CallRequest {
  /** Contract key (the call log's key), 32 bytes. */
  contract: Uint8Array
  /** Caller ed25519 public key, 32 bytes. */
  caller: Uint8Array
  /** Per-caller nonce; must grow with every call the log records for that caller. */
  nonce: number
  method: string
  /** Canonical (RFC 8785) JSON of the argument array. */
  args: string
  /** ed25519 signature over {@link callSignable}, 64 bytes. */
  signature: Uint8Array
}

/** An error as recorded and sent: stable code plus `CODE: detail` message. */
export interface ErrorRecord {
  code: string
  message: string
}

/** How a call ended. Exactly one of `result`/`error` is meaningful. */
export interface Outcome {
  ok: boolean
  /** Canonical JSON of the result; null when the method returned undefined or failed. */
  result: string | null
  error: ErrorRecord | null
  /** 'timeout', 'memory' or 'record' (record-too-large) when a host limit ended the call (a host statement replays accept). */
  limit: string | null
}

/** Block 0 of every call log. */
export interface GenesisRecord {
  version: number
  /** Contract name (namespace in the host's storage). */
  name: string
  /** Contract source, UTF-8, exactly as deployed. */
  source: string
  /** BLAKE2b-256 of the source bytes. */
  sourceHash: Uint8Array
  /** Key of the files Hyperdrive. */
  files: Uint8Array
  /** Files drive version when the log was created. */
  filesVersion: number
  /** Deployer's caller key (who `init` runs as). */
  deployer: Uint8Array
  /** Public key that signs the host's root statements (the log's own signer). */
  signer: Uint8Array
  /** Runtime fingerprint of the deploying host, e.g. `vms-node/0.1.0 isolated-vm/5.0.4 v8/...`. */
  runtime: string
  limits: LimitsRecord
  /** Whether System.oracle is on: a contract with oracles is trusted, not trustless. */
  oracles: boolean
  /** Deploy time, ms since the epoch. */
  createdAt: number
  /** BLAKE2b-256 of the deploy request a node's registry log holds (deployed contracts only; trailing extension, genesis-deploy.ts). */
  deployRequest?: Uint8Array | null
}

/** Every block after genesis: one call as the host ran it. */
export interface CallRecord {
  version: number
  request: CallRequest
  /** Recorded call time, ms since the epoch (what Date gives inside the call). */
  timestamp: number
  /** 32 bytes seeding Math.random for the call. */
  seed: Uint8Array
  /**
   * JSON of each System.oracle output, in order. An oracle that failed on the
   * host is recorded as `!` + JSON `[code, detail]` (never valid JSON), so a
   * replay fails the same way without running it.
   */
  oracles: string[]
  outcome: Outcome
  /** Files drive version the call read (before it). */
  filesBefore: number
  /** Files drive version after its writes (equal to filesBefore when it wrote nothing). */
  filesAfter: number
  /** Tree hash of the files drive's database core at filesAfter, 32 bytes. */
  filesHash: Uint8Array
}

/** A host's signed statement about its call log: contract, length, fork, tree hash. */
export interface RootStatement {
  contract: Uint8Array
  length: number
  fork: number
  treeHash: Uint8Array
  /** ed25519 by the genesis `signer` over {@link rootSignable}. */
  signature: Uint8Array
}

/** The host's reply to a call that ran. */
export interface CallResponse {
  outcome: Outcome
  /** Log block index of the call record. */
  index: number
  /** The signed log root that includes the record (length > index): the receipt. */
  root: RootStatement
}

/** What `info` returns. */
export interface ContractInfo {
  contract: Uint8Array
  files: Uint8Array
  name: string
  methods: string[]
  length: number
  fork: number
  runtime: string
  oracles: boolean
  limits: LimitsRecord
}

const optString: Encoder<string | null> = {
  preencode (state, m) { c.bool.preencode(state, m !== null); if (m !== null) c.string.preencode(state, m) },
  encode (state, m) { c.bool.encode(state, m !== null); if (m !== null) c.string.encode(state, m) },
  decode (state) { return c.bool.decode(state) ? c.string.decode(state) : null }
}

/** Codec of {@link ErrorRecord}. */
export const errorRecord: Encoder<ErrorRecord> = {
  preencode (state, m) { c.string.preencode(state, m.code); c.string.preencode(state, m.message) },
  encode (state, m) { c.string.encode(state, m.code); c.string.encode(state, m.message) },
  decode (state) { return { code: c.string.decode(state), message: c.string.decode(state) } }
}

const optError: Encoder<ErrorRecord | null> = {
  preencode (state, m) { c.bool.preencode(state, m !== null); if (m !== null) errorRecord.preencode(state, m) },
  encode (state, m) { c.bool.encode(state, m !== null); if (m !== null) errorRecord.encode(state, m) },
  decode (state) { return c.bool.decode(state) ? errorRecord.decode(state) : null }
}

/** Codec of {@link LimitsRecord}. */
export const limitsRecord: Encoder<LimitsRecord> = {
  preencode (state, m) {
    c.uint.preencode(state, m.timeoutMs); c.uint.preencode(state, m.memoryMb)
    c.uint.preencode(state, m.maxArgsBytes); c.uint.preencode(state, m.maxResultBytes); c.uint.preencode(state, m.maxWriteBytes)
  },
  encode (state, m) {
    c.uint.encode(state, m.timeoutMs); c.uint.encode(state, m.memoryMb)
    c.uint.encode(state, m.maxArgsBytes); c.uint.encode(state, m.maxResultBytes); c.uint.encode(state, m.maxWriteBytes)
  },
  decode (state) {
    return {
      timeoutMs: c.uint.decode(state),
      memoryMb: c.uint.decode(state),
      maxArgsBytes: c.uint.decode(state),
      maxResultBytes: c.uint.decode(state),
      maxWriteBytes: c.uint.decode(state),
      // the extension follows at the end of the enclosing record (see withLimitsExtension)
      maxDepth: 0,
      maxEntries: 0,
      maxPathBytes: 0,
      maxErrorBytes: 0
    }
  }
}

/** Decodes the trailing limits extension (or its defaults) into `limits`. */
function withLimitsExtension (limits: LimitsRecord, state: State): LimitsRecord {
  return { ...limits, ...decodeTrailingLimits(state) }
}

/** Codec of the unsigned part of a {@link CallRequest} (everything but the signature). */
const callBody: Encoder<Omit<CallRequest, 'signature'>> = {
  preencode (state, m) {
    c.fixed32.preencode(state, m.contract); c.fixed32.preencode(state, m.caller)
    c.uint.preencode(state, m.nonce); c.string.preencode(state, m.method); c.string.preencode(state, m.args)
  },
  encode (state, m) {
    c.fixed32.encode(state, m.contract); c.fixed32.encode(state, m.caller)
    c.uint.encode(state, m.nonce); c.string.encode(state, m.method); c.string.encode(state, m.args)
  },
  decode (state) {
    return {
      contract: c.fixed32.decode(state),
      caller: c.fixed32.decode(state),
      nonce: c.uint.decode(state),
      method: c.string.decode(state),
      args: c.string.decode(state)
    }
  }
}

/** Codec of {@link CallRequest}. */
export const callRequest: Encoder<CallRequest> = {
  preencode (state, m) { callBody.preencode(state, m); c.fixed64.preencode(state, m.signature) },
  encode (state, m) { callBody.encode(state, m); c.fixed64.encode(state, m.signature) },
  decode (state) {
    const body = callBody.decode(state)
    return { ...body, signature: c.fixed64.decode(state) }
  }
}

/** Codec of {@link Outcome}. */
export const outcome: Encoder<Outcome> = {
  preencode (state, m) {
    c.bool.preencode(state, m.ok); optString.preencode(state, m.result); optError.preencode(state, m.error); optString.preencode(state, m.limit)
  },
  encode (state, m) {
    c.bool.encode(state, m.ok); optString.encode(state, m.result); optError.encode(state, m.error); optString.encode(state, m.limit)
  },
  decode (state) {
    return { ok: c.bool.decode(state), result: optString.decode(state), error: optError.decode(state), limit: optString.decode(state) }
  }
}

const strings = c.array(c.string)

/** Codec of {@link GenesisRecord} (after the block type byte). */
export const genesisRecord: Encoder<GenesisRecord> = {
  preencode (state, m) {
    c.uint.preencode(state, m.version); c.string.preencode(state, m.name); c.string.preencode(state, m.source)
    c.fixed32.preencode(state, m.sourceHash); c.fixed32.preencode(state, m.files); c.uint.preencode(state, m.filesVersion)
    c.fixed32.preencode(state, m.deployer); c.fixed32.preencode(state, m.signer); c.string.preencode(state, m.runtime)
    limitsRecord.preencode(state, m.limits); c.bool.preencode(state, m.oracles); c.uint.preencode(state, m.createdAt)
    limitsExtension.preencode(state, m.limits)
    deployExtension.preencode(state, m.deployRequest ?? null)
  },
  encode (state, m) {
    c.uint.encode(state, m.version); c.string.encode(state, m.name); c.string.encode(state, m.source)
    c.fixed32.encode(state, m.sourceHash); c.fixed32.encode(state, m.files); c.uint.encode(state, m.filesVersion)
    c.fixed32.encode(state, m.deployer); c.fixed32.encode(state, m.signer); c.string.encode(state, m.runtime)
    limitsRecord.encode(state, m.limits); c.bool.encode(state, m.oracles); c.uint.encode(state, m.createdAt)
    limitsExtension.encode(state, m.limits)
    deployExtension.encode(state, m.deployRequest ?? null)
  },
  decode (state) {
    const g: GenesisRecord = {
      version: c.uint.decode(state),
      name: c.string.decode(state),
      source: c.string.decode(state),
      sourceHash: c.fixed32.decode(state),
      files: c.fixed32.decode(state),
      filesVersion: c.uint.decode(state),
      deployer: c.fixed32.decode(state),
      signer: c.fixed32.decode(state),
      runtime: c.string.decode(state),
      limits: limitsRecord.decode(state),
      oracles: c.bool.decode(state),
      createdAt: c.uint.decode(state)
    }
    g.limits = withLimitsExtension(g.limits, state)
    const deploy = decodeTrailingDeploy(state)
    if (deploy) g.deployRequest = deploy
    return g
  }
}

/** Codec of {@link CallRecord} (after the block type byte). */
export const callRecord: Encoder<CallRecord> = {
  preencode (state, m) {
    c.uint.preencode(state, m.version); callRequest.preencode(state, m.request); c.uint.preencode(state, m.timestamp)
    c.fixed32.preencode(state, m.seed); strings.preencode(state, m.oracles); outcome.preencode(state, m.outcome)
    c.uint.preencode(state, m.filesBefore); c.uint.preencode(state, m.filesAfter); c.fixed32.preencode(state, m.filesHash)
  },
  encode (state, m) {
    c.uint.encode(state, m.version); callRequest.encode(state, m.request); c.uint.encode(state, m.timestamp)
    c.fixed32.encode(state, m.seed); strings.encode(state, m.oracles); outcome.encode(state, m.outcome)
    c.uint.encode(state, m.filesBefore); c.uint.encode(state, m.filesAfter); c.fixed32.encode(state, m.filesHash)
  },
  decode (state) {
    return {
      version: c.uint.decode(state),
      request: callRequest.decode(state),
      timestamp: c.uint.decode(state),
      seed: c.fixed32.decode(state),
      oracles: strings.decode(state),
      outcome: outcome.decode(state),
      filesBefore: c.uint.decode(state),
      filesAfter: c.uint.decode(state),
      filesHash: c.fixed32.decode(state)
    }
  }
}

/** A decoded call log block. */
export type LogBlock =
  | { type: 'genesis', genesis: GenesisRecord }
  | { type: 'call', call: CallRecord }

/**
 * Codec of one call log block: type byte, then the record.
 * Decoding throws on an unknown type or a record version this code does not
 * read; callers turn that into VmsError BAD_RECORD.
 */
export const logBlock: Encoder<LogBlock> = {
  preencode (state, m) {
    c.uint8.preencode(state, 0)
    if (m.type === 'genesis') genesisRecord.preencode(state, m.genesis)
    else callRecord.preencode(state, m.call)
  },
  encode (state, m) {
    if (m.type === 'genesis') { c.uint8.encode(state, BLOCK_GENESIS); genesisRecord.encode(state, m.genesis) } else { c.uint8.encode(state, BLOCK_CALL); callRecord.encode(state, m.call) }
  },
  decode (state) {
    const type = c.uint8.decode(state)
    if (type === BLOCK_GENESIS) return checkVersion({ type: 'genesis', genesis: genesisRecord.decode(state) })
    if (type === BLOCK_CALL) return checkVersion({ type: 'call', call: callRecord.decode(state) })
    throw new Error('unknown block type ' + type)
  }
}

function checkVersion (b: LogBlock): LogBlock {
  const v = b.type === 'genesis' ? b.genesis.version : b.call.version
  if (v !== RECORD_VERSION) throw new Error('unsupported record version ' + v)
  return b
}

/** Codec of {@link RootStatement}. */
export const rootStatement: Encoder<RootStatement> = {
  preencode (state, m) {
    c.fixed32.preencode(state, m.contract); c.uint.preencode(state, m.length); c.uint.preencode(state, m.fork)
    c.fixed32.preencode(state, m.treeHash); c.fixed64.preencode(state, m.signature)
  },
  encode (state, m) {
    c.fixed32.encode(state, m.contract); c.uint.encode(state, m.length); c.uint.encode(state, m.fork)
    c.fixed32.encode(state, m.treeHash); c.fixed64.encode(state, m.signature)
  },
  decode (state) {
    return {
      contract: c.fixed32.decode(state),
      length: c.uint.decode(state),
      fork: c.uint.decode(state),
      treeHash: c.fixed32.decode(state),
      signature: c.fixed64.decode(state)
    }
  }
}

/** Codec of {@link CallResponse}. */
export const callResponse: Encoder<CallResponse> = {
  preencode (state, m) { outcome.preencode(state, m.outcome); c.uint.preencode(state, m.index); rootStatement.preencode(state, m.root) },
  encode (state, m) { outcome.encode(state, m.outcome); c.uint.encode(state, m.index); rootStatement.encode(state, m.root) },
  decode (state) { return { outcome: outcome.decode(state), index: c.uint.decode(state), root: rootStatement.decode(state) } }
}

/** Codec of {@link ContractInfo}. */
export const contractInfo: Encoder<ContractInfo> = {
  preencode (state, m) {
    c.fixed32.preencode(state, m.contract); c.fixed32.preencode(state, m.files); c.string.preencode(state, m.name)
    strings.preencode(state, m.methods); c.uint.preencode(state, m.length); c.uint.preencode(state, m.fork)
    c.string.preencode(state, m.runtime); c.bool.preencode(state, m.oracles); limitsRecord.preencode(state, m.limits)
    limitsExtension.preencode(state, m.limits)
  },
  encode (state, m) {
    c.fixed32.encode(state, m.contract); c.fixed32.encode(state, m.files); c.string.encode(state, m.name)
    strings.encode(state, m.methods); c.uint.encode(state, m.length); c.uint.encode(state, m.fork)
    c.string.encode(state, m.runtime); c.bool.encode(state, m.oracles); limitsRecord.encode(state, m.limits)
    limitsExtension.encode(state, m.limits)
  },
  decode (state) {
    const info: ContractInfo = {
      contract: c.fixed32.decode(state),
      files: c.fixed32.decode(state),
      name: c.string.decode(state),
      methods: strings.decode(state),
      length: c.uint.decode(state),
      fork: c.uint.decode(state),
      runtime: c.string.decode(state),
      oracles: c.bool.decode(state),
      limits: limitsRecord.decode(state)
    }
    info.limits = withLimitsExtension(info.limits, state)
    return info
  }
}

/**
 * Bytes a caller signs: tag `vms/call/v1`, then the request without its signature.
 * @returns the signable bytes
 */
export function callSignable (req: Omit<CallRequest, 'signature'>): Uint8Array {
  return tagged(TAG_CALL_BYTES, callBody, req)
}

/**
 * Bytes a host signs for a root statement: tag `vms/root/v1`, contract key,
 * length, fork and tree hash.
 */
export function rootSignable (s: Omit<RootStatement, 'signature'>): Uint8Array {
  return tagged(TAG_ROOT_BYTES, rootBody, s)
}

const rootBody: Encoder<Omit<RootStatement, 'signature'>> = {
  preencode (state, m) { c.fixed32.preencode(state, m.contract); c.uint.preencode(state, m.length); c.uint.preencode(state, m.fork); c.fixed32.preencode(state, m.treeHash) },
  encode (state, m) { c.fixed32.encode(state, m.contract); c.uint.encode(state, m.length); c.uint.encode(state, m.fork); c.fixed32.encode(state, m.treeHash) },
  decode (state) { return { contract: c.fixed32.decode(state), length: c.uint.decode(state), fork: c.uint.decode(state), treeHash: c.fixed32.decode(state) } }
}

const TAG_CALL_BYTES = Buffer.from(TAG_CALL)
const TAG_ROOT_BYTES = Buffer.from(TAG_ROOT)

/**
 * Encodes `m` with `enc`, prefixed by a length-prefixed domain tag, so that a
 * signature over it can't be valid for another kind of payload.
 */
export function tagged<T> (tag: Uint8Array, enc: Encoder<T>, m: T): Uint8Array {
  const state: State = c.state()
  c.buffer.preencode(state, tag)
  enc.preencode(state, m)
  state.buffer = Buffer.allocUnsafe(state.end)
  c.buffer.encode(state, tag)
  enc.encode(state, m)
  return state.buffer
}

/**
 * The `call` RPC reply: the call ran (a {@link CallResponse}, even when the
 * contract threw), or the host rejected the request before running it
 * (an {@link ErrorRecord}: bad signature, reused nonce, unknown method, ...).
 */
export type CallReply =
  | { accepted: true, response: CallResponse }
  | { accepted: false, error: ErrorRecord }

/** Codec of {@link CallReply}. */
export const callReply: Encoder<CallReply> = {
  preencode (state, m) {
    c.bool.preencode(state, m.accepted)
    if (m.accepted) callResponse.preencode(state, m.response)
    else errorRecord.preencode(state, m.error)
  },
  encode (state, m) {
    c.bool.encode(state, m.accepted)
    if (m.accepted) callResponse.encode(state, m.response)
    else errorRecord.encode(state, m.error)
  },
  decode (state) {
    return c.bool.decode(state)
      ? { accepted: true, response: callResponse.decode(state) }
      : { accepted: false, error: errorRecord.decode(state) }
  }
}
