// Valid attestations made by hand, for tests of the stores that keep them.

import Hypercore from 'hypercore'
import { attestationOver, signAttestation } from '../src/attest/attestation.js'
import { signerOf } from '../src/attest/signer.js'
import { keyPair, randomBytes, sign } from '../src/crypto.js'
import type { KeyPair } from '../src/crypto.js'
import type { ContractHost } from '../src/host/contract-host.js'
import { rootSignable, type Attestation } from '../protocol/index.js'

/** A valid attestation by `watcher` about `host`'s current root (`fault` makes it a fault claim, blaming the host or the cause named). */
export async function attestHost (host: ContractHost, watcher: KeyPair, fault: boolean | string = false): Promise<Attestation> {
  const claim = fault ? { kind: 'result', index: 1, cause: typeof fault === 'string' ? fault : 'host', message: 'made up', evidence: '{}' } : null
  return signAttestation(attestationOver(await host.root(), signerOf(host.log.core)!, { fault: claim, runtime: 'test' }), watcher)
}

/** Valid attestations about a contract nobody hosts: its key is the hash of a manifest the attacker made. */
export function madeUpContract (n: number): Attestation[] {
  const signerKp = keyPair()
  const signer = { version: 1, publicKey: signerKp.publicKey, namespace: randomBytes(32) }
  const contract = Hypercore.key({ version: 1, signers: [{ signature: 'ed25519', publicKey: signer.publicKey, namespace: signer.namespace }] })
  const root = { contract, length: 5, fork: 0, treeHash: randomBytes(32) }
  const signed = { ...root, signature: sign(rootSignable(root), signerKp.secretKey) }
  return Array.from({ length: n }, () => signAttestation(attestationOver(signed, signer, { runtime: 'test' }), keyPair()))
}
