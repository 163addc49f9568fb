/**
 * The link between a contract key and the key that signs its log: a
 * hypercore (v11) key is the hash of its manifest, and a version-1 manifest
 * with one ed25519 signer names that signer's public key. So a root
 * statement signed by the manifest's signer provably comes from the log of
 * that contract key, offline.
 */

import Hypercore from 'hypercore'
import type { SignerRecord } from '../../protocol/index.js'
import { rootSignable, type RootStatement } from '../../protocol/index.js'
import { verify } from '../crypto.js'

/** hypercore's default manifest namespace (hypercore/lib/caps.js DEFAULT_NAMESPACE): the one corestore cores use. */
export const DEFAULT_NAMESPACE = Buffer.from('4144eea531e483d54e0c14f4ca68e0644f355343ff6fcb0f005200e12cd747cb', 'hex')

/** Manifest fields of a hypercore's single signer (null when it has another shape). */
export function signerOf (core: Hypercore): SignerRecord | null {
  const m = core.manifest
  if (!m || !m.signers || m.signers.length !== 1 || (m.quorum ?? 1) !== 1) return null
  return { version: m.version ?? 1, publicKey: m.signers[0].publicKey, namespace: m.signers[0].namespace }
}

/** True when `signer` is the manifest that hashes to `contract` (the contract key). */
export function signerMatches (contract: Uint8Array, signer: SignerRecord): boolean {
  try {
    const key = Hypercore.key({
      version: signer.version,
      signers: [{ signature: 'ed25519', publicKey: Buffer.from(signer.publicKey), namespace: Buffer.from(signer.namespace) }]
    })
    return Buffer.from(contract).equals(key)
  } catch {
    return false
  }
}

/**
 * True when `s` is a root statement of `s.contract` signed by `signer`, and
 * `signer` belongs to that contract. Without a signer record (a watcher that
 * knows only the genesis `signer` key, checked against the log's manifest
 * elsewhere) pass the public key: then only the signature is checked.
 */
export function verifyRoot (s: RootStatement, signer: SignerRecord | Uint8Array): boolean {
  if (signer instanceof Uint8Array) return verify(rootSignable(s), s.signature, signer)
  return signerMatches(s.contract, signer) && verify(rootSignable(s), s.signature, signer.publicKey)
}
