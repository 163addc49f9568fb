/**
 * Creating, checking and naming attestations (see protocol/attestation.ts).
 * An attestation is valid when the watcher's signature verifies, the signer
 * record hashes to the contract key, and the host's signature over the root
 * (contract, length, fork, tree hash) verifies under that signer.
 */

import c from 'compact-encoding'
import { RECORD_VERSION, VERDICT_FAULT, VERDICT_OK, attestation as attestationCodec, attestationSignable, type Attestation, type FaultRecord, type RootStatement, type SignerRecord } from '../../protocol/index.js'
import { hash, sign, verify } from '../crypto.js'
import type { KeyPair } from '../crypto.js'
import { verifyRoot } from './signer.js'

/** Everything of an attestation but the watcher's key and signature. */
export type AttestationBody = Omit<Attestation, 'signature' | 'watcher' | 'version'>

/** What {@link attestationOver} fills in besides the root and its signer. */
export interface ClaimOptions {
  /** The fault claimed; null or absent: an ok verdict. */
  fault?: FaultRecord | null
  /** Files version and tree hash after the judged calls (default 0 and 32 zero bytes). */
  filesVersion?: number
  filesHash?: Uint8Array
  /** The contract uses host oracles (default false). */
  trusted?: boolean
  /** Runtime fingerprint of the attesting side. */
  runtime: string
  /** ms since the epoch (default now). */
  time?: number
}

/**
 * The body of an attestation over the host-signed `root` of the log whose
 * manifest signer is `signer`: verdict ok, or fault when `opts.fault` is
 * given. For tools and tests that attest a root they hold; a watcher builds
 * its own from what it judged (watch/attester.ts).
 * @returns the body {@link signAttestation} signs
 */
export function attestationOver (root: RootStatement, signer: SignerRecord, opts: ClaimOptions): AttestationBody {
  const fault = opts.fault ?? null
  return {
    contract: root.contract,
    signer,
    length: root.length,
    fork: root.fork,
    treeHash: root.treeHash,
    hostSignature: root.signature,
    filesVersion: opts.filesVersion ?? 0,
    filesHash: opts.filesHash ?? Buffer.alloc(32),
    verdict: fault ? VERDICT_FAULT : VERDICT_OK,
    trusted: opts.trusted ?? false,
    fault,
    runtime: opts.runtime,
    time: opts.time ?? Date.now()
  }
}

/**
 * Signs an attestation with the watcher's key pair.
 * @returns the full attestation
 */
export function signAttestation (body: AttestationBody, watcher: KeyPair): Attestation {
  const unsigned = { ...body, version: RECORD_VERSION, watcher: watcher.publicKey }
  return { ...unsigned, signature: sign(attestationSignable(unsigned), watcher.secretKey) }
}

/** The host root statement an attestation carries. */
export function rootOf (a: Attestation): RootStatement {
  return { contract: a.contract, length: a.length, fork: a.fork, treeHash: a.treeHash, signature: a.hostSignature }
}

/**
 * Checks an attestation completely (watcher signature, signer binding, host
 * root signature). Never throws.
 */
export function verifyAttestation (a: Attestation): boolean {
  try {
    return verify(attestationSignable(a), a.signature, a.watcher) && verifyRoot(rootOf(a), a.signer)
  } catch {
    return false
  }
}

/** Encoded bytes of an attestation. */
export function encodeAttestation (a: Attestation): Uint8Array {
  return c.encode(attestationCodec, a)
}

/** BLAKE2b-256 of the encoded attestation: its id for dedup. */
export function attestationId (a: Attestation): string {
  return hash(encodeAttestation(a)).toString('hex')
}

/** Orders two attestations of one (contract, watcher): true when `a` supersedes `b`. */
export function newer (a: Attestation, b: Attestation): boolean {
  if (a.verdict !== 0 && b.verdict === 0) return true // a fault is never replaced by a later ok
  if (a.verdict === 0 && b.verdict !== 0) return false
  if (a.length !== b.length) return a.length > b.length
  return a.time > b.time
}
