/**
 * Attestations: a verdict signed by a watcher, and the gossip messages that
 * carry them. Pure encodings, no I/O.
 *
 * An attestation binds the watcher's verdict to exactly what it judged: the
 * contract's log at (length, fork, tree hash) with the host's own signature
 * over that root (so a third party can check the root came from the host's
 * log key), and the files drive version and hash there.
 */

import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import { RECORD_VERSION, TAG_ATTEST } from './constants.js'
import { tagged } from './messages.js'

/** Verdict codes in an attestation. */
export const VERDICT_OK = 0
export const VERDICT_FAULT = 1
export const VERDICT_EQUIVOCATION = 2

/** The hypercore manifest fields that make a contract key (version-1, single ed25519 signer). */
export interface SignerRecord {
  /** Manifest version (1). */
  version: number
  /** The signer's ed25519 public key: it signs the log and the host's root statements. */
  publicKey: Uint8Array
  /** The signer's manifest namespace, 32 bytes. */
  namespace: Uint8Array
}

/** A fault in an attestation: what diverged, and evidence as canonical JSON. */
export interface FaultRecord {
  /** Fault kind: malformed, signature, genesis, files, result, error, fork, equivocation. */
  kind: string
  /** First diverging log block. */
  index: number
  /** host, nondeterministic or unknown. */
  cause: string
  message: string
  /** Canonical JSON of the evidence (see src/watch/verdict.ts `Evidence`). */
  evidence: string
}

/** A signed verdict. */
export interface Attestation {
  version: number
  contract: Uint8Array
  /** The contract's log signer (lets anyone check `hostSignature` offline). */
  signer: SignerRecord
  /** Log length judged (blocks, genesis included). */
  length: number
  fork: number
  /** Hypercore tree hash of the log at `length`. */
  treeHash: Uint8Array
  /** The host's signature over the root statement (contract, length, fork, treeHash). */
  hostSignature: Uint8Array
  filesVersion: number
  filesHash: Uint8Array
  /** VERDICT_OK, VERDICT_FAULT or VERDICT_EQUIVOCATION. */
  verdict: number
  /** True when the contract runs with oracles (trusted, not trustless). */
  trusted: boolean
  fault: FaultRecord | null
  /** Runtime fingerprint of the watcher. */
  runtime: string
  /** ms since the epoch. */
  time: number
  /** The watcher's public key. */
  watcher: Uint8Array
  /** ed25519 by `watcher` over {@link attestationSignable}. */
  signature: Uint8Array
}

/** Codec of {@link SignerRecord}. */
export const signerRecord: Encoder<SignerRecord> = {
  preencode (state, m) { c.uint.preencode(state, m.version); c.fixed32.preencode(state, m.publicKey); c.fixed32.preencode(state, m.namespace) },
  encode (state, m) { c.uint.encode(state, m.version); c.fixed32.encode(state, m.publicKey); c.fixed32.encode(state, m.namespace) },
  decode (state) { return { version: c.uint.decode(state), publicKey: c.fixed32.decode(state), namespace: c.fixed32.decode(state) } }
}

const faultRecord: Encoder<FaultRecord> = {
  preencode (state, m) {
    c.string.preencode(state, m.kind); c.uint.preencode(state, m.index); c.string.preencode(state, m.cause)
    c.string.preencode(state, m.message); c.string.preencode(state, m.evidence)
  },
  encode (state, m) {
    c.string.encode(state, m.kind); c.uint.encode(state, m.index); c.string.encode(state, m.cause)
    c.string.encode(state, m.message); c.string.encode(state, m.evidence)
  },
  decode (state) {
    return { kind: c.string.decode(state), index: c.uint.decode(state), cause: c.string.decode(state), message: c.string.decode(state), evidence: c.string.decode(state) }
  }
}

const optFault: Encoder<FaultRecord | null> = {
  preencode (state, m) { c.bool.preencode(state, m !== null); if (m) faultRecord.preencode(state, m) },
  encode (state, m) { c.bool.encode(state, m !== null); if (m) faultRecord.encode(state, m) },
  decode (state) { return c.bool.decode(state) ? faultRecord.decode(state) : null }
}

type Body = Omit<Attestation, 'signature'>

const attestationBody: Encoder<Body> = {
  preencode (state, m) {
    c.uint.preencode(state, m.version); c.fixed32.preencode(state, m.contract); signerRecord.preencode(state, m.signer)
    c.uint.preencode(state, m.length); c.uint.preencode(state, m.fork); c.fixed32.preencode(state, m.treeHash)
    c.fixed64.preencode(state, m.hostSignature); c.uint.preencode(state, m.filesVersion); c.fixed32.preencode(state, m.filesHash)
    c.uint.preencode(state, m.verdict); c.bool.preencode(state, m.trusted); optFault.preencode(state, m.fault)
    c.string.preencode(state, m.runtime); c.uint.preencode(state, m.time); c.fixed32.preencode(state, m.watcher)
  },
  encode (state, m) {
    c.uint.encode(state, m.version); c.fixed32.encode(state, m.contract); signerRecord.encode(state, m.signer)
    c.uint.encode(state, m.length); c.uint.encode(state, m.fork); c.fixed32.encode(state, m.treeHash)
    c.fixed64.encode(state, m.hostSignature); c.uint.encode(state, m.filesVersion); c.fixed32.encode(state, m.filesHash)
    c.uint.encode(state, m.verdict); c.bool.encode(state, m.trusted); optFault.encode(state, m.fault)
    c.string.encode(state, m.runtime); c.uint.encode(state, m.time); c.fixed32.encode(state, m.watcher)
  },
  decode (state) {
    return {
      version: c.uint.decode(state),
      contract: c.fixed32.decode(state),
      signer: signerRecord.decode(state),
      length: c.uint.decode(state),
      fork: c.uint.decode(state),
      treeHash: c.fixed32.decode(state),
      hostSignature: c.fixed64.decode(state),
      filesVersion: c.uint.decode(state),
      filesHash: c.fixed32.decode(state),
      verdict: c.uint.decode(state),
      trusted: c.bool.decode(state),
      fault: optFault.decode(state),
      runtime: c.string.decode(state),
      time: c.uint.decode(state),
      watcher: c.fixed32.decode(state)
    }
  }
}

/** Codec of {@link Attestation}. Decoding rejects versions other than RECORD_VERSION. */
export const attestation: Encoder<Attestation> = {
  preencode (state, m) { attestationBody.preencode(state, m); c.fixed64.preencode(state, m.signature) },
  encode (state, m) { attestationBody.encode(state, m); c.fixed64.encode(state, m.signature) },
  decode (state) {
    const body = attestationBody.decode(state)
    if (body.version !== RECORD_VERSION) throw new Error('unsupported attestation version ' + body.version)
    return { ...body, signature: c.fixed64.decode(state) }
  }
}

const TAG_ATTEST_BYTES = Buffer.from(TAG_ATTEST)

/** Bytes a watcher signs: tag `vms/attest/v1`, then the attestation without its signature. */
export function attestationSignable (a: Body): Uint8Array {
  return tagged(TAG_ATTEST_BYTES, attestationBody, a)
}

/** One gossip message: a batch of attestations (at most a few per frame). */
export interface GossipFrame {
  attestations: Attestation[]
}

/** Codec of {@link GossipFrame}. */
export const gossipFrame: Encoder<GossipFrame> = {
  preencode (state, m) { c.array(attestation).preencode(state, m.attestations) },
  encode (state, m) { c.array(attestation).encode(state, m.attestations) },
  decode (state) { return { attestations: c.array(attestation).decode(state) } }
}
