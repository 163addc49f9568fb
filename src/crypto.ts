/**
 * The cryptographic primitives vms-node uses, all from hypercore-crypto /
 * sodium: BLAKE2b-256 hashes and ed25519 signatures (RFC 8032).
 */

import crypto from 'hypercore-crypto'

/** An ed25519 key pair: 32-byte public key, 64-byte secret key. */
export interface KeyPair {
  publicKey: Buffer
  secretKey: Buffer
}

/** BLAKE2b-256 of `data` (or of the concatenation of a list). @returns 32 bytes */
export function hash (data: Uint8Array | Uint8Array[]): Buffer {
  return crypto.hash(data)
}

/** Signs `message` with a 64-byte ed25519 secret key. @returns 64-byte signature */
export function sign (message: Uint8Array, secretKey: Uint8Array): Buffer {
  return crypto.sign(message, secretKey)
}

/** Checks an ed25519 signature; false (never throws) for malformed input. */
export function verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return false
  try {
    return crypto.verify(message, signature, publicKey)
  } catch {
    return false
  }
}

/** A new random ed25519 key pair. */
export function keyPair (): KeyPair {
  return crypto.keyPair()
}

/** `n` cryptographically random bytes. */
export function randomBytes (n: number): Buffer {
  return crypto.randomBytes(n)
}

/** Hypercore discovery key of a public key (the DHT topic that reveals nothing of the key). */
export function discoveryKey (key: Uint8Array): Buffer {
  return crypto.discoveryKey(key)
}
