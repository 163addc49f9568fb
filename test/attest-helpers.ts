// Valid attestations made by hand, for tests of the stores that keep them.

import Hypercore from 'hypercore'
import { signAttestation } from '../src/attest/attestation.js'
import { signerOf } from '../src/attest/signer.js'
import { keyPair, randomBytes, sign } from '../src/crypto.js'
import type { KeyPair } from '../src/crypto.js'
import type { ContractHost } from '../src/host/contract-host.js'
import { VERDICT_FAULT, VERDICT_OK, rootSignable, type Attestation } from '../protocol/index.js'

/** A valid attestation by `watcher` about `host`'s current root (`fault` makes it a fault claim). */
export async function attestHost (host: ContractHost, watcher: KeyPair, fault = false): Promise<Attestation> {
  const root = await host.root()
  return signAttestation({
    contract: host.key,
    signer: signerOf(host.log.core)!,
    length: root.length,
    fork: root.fork,
    treeHash: root.treeHash,
    hostSignature: root.signature,
    filesVersion: 0,
    filesHash: Buffer.alloc(32),
    verdict: fault ? VERDICT_FAULT : VERDICT_OK,
    trusted: false,
    fault: fault ? { kind: 'result', index: 1, cause: 'host', message: 'made up', evidence: '{}' } : null,
    runtime: 'test',
    time: Date.now()
  }, watcher)
}

/** Valid attestations about a contract nobody hosts: its key is the hash of a manifest the attacker made. */
export function madeUpContract (n: number): Attestation[] {
  const signerKp = keyPair()
  const signer = { version: 1, publicKey: signerKp.publicKey, namespace: randomBytes(32) }
  const contract = Hypercore.key({ version: 1, signers: [{ signature: 'ed25519', publicKey: signer.publicKey, namespace: signer.namespace }] })
  const root = { contract, length: 5, fork: 0, treeHash: randomBytes(32) }
  const hostSignature = sign(rootSignable(root), signerKp.secretKey)
  return Array.from({ length: n }, () => signAttestation({
    ...root, signer, hostSignature, filesVersion: 0, filesHash: Buffer.alloc(32), verdict: VERDICT_OK, trusted: false, fault: null, runtime: 'test', time: Date.now()
  }, keyPair()))
}
