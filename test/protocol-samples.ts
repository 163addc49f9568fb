/**
 * One sample of every wire codec in protocol/ (and of every signed byte
 * string), for the golden vectors of test/protocol-vectors.test.ts. The
 * samples are fixed: same input, same bytes, on every machine and with every
 * compact-encoding version the project moves to.
 */

import type { Encoder } from 'compact-encoding'
import {
  LIMITS_EXTENSION_DEFAULTS, attestation, attestationSignable, blockProof, callRecord, callReply, callRequest, callResponse,
  callSignable, contractInfo, contractListing, deployCommit, deployExtension, deployPrepared, deployRequest, deployResult,
  deploySignable, errorRecord, genesisRecord, gossipFrame, headSignable, headStatement, limitsExtension, limitsRecord, logBlock,
  outcome, provenBlock, provenCallReply, provenInfo, registryEntry, rootSignable, rootStatement, signerRecord, treeNodeRecord,
  undeployRequest, undeploySignable,
  type Attestation, type BlockProof, type CallRecord, type CallRequest, type CallResponse, type ContractInfo, type DeployRequest,
  type GenesisRecord, type HeadStatement, type LimitsRecord, type RootStatement, type SignerRecord, type UndeployRequest
} from '../protocol/index.js'

/** `n` bytes of value `fill`. */
const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill)

const limits: LimitsRecord = {
  timeoutMs: 1000, memoryMb: 64, maxArgsBytes: 65536, maxResultBytes: 1048576, maxWriteBytes: 8388608, ...LIMITS_EXTENSION_DEFAULTS, maxDepth: 32
}
const request: CallRequest = { contract: bytes(32, 1), caller: bytes(32, 2), nonce: 1764586000001, method: 'transfer', args: '["bob",5,"é✓"]', signature: bytes(64, 3) }
const genesis: GenesisRecord = {
  version: 1,
  name: 'bank',
  source: 'export function get () { return 1 }\n',
  sourceHash: bytes(32, 4),
  files: bytes(32, 5),
  filesVersion: 1,
  deployer: bytes(32, 6),
  signer: bytes(32, 7),
  runtime: 'vms-node/0.1.0 isolated-vm/5.0.4 v8/12.4',
  limits,
  oracles: false,
  createdAt: 1764586000000
}
const record: CallRecord = {
  version: 1,
  request,
  timestamp: 1764586000123,
  seed: bytes(32, 8),
  oracles: ['{"usd":1.5}', '!["TIMEOUT","slow"]'],
  outcome: { ok: true, result: '{"balance":95}', error: null, limit: null },
  filesBefore: 3,
  filesAfter: 300,
  filesHash: bytes(32, 9)
}
const root: RootStatement = { contract: bytes(32, 1), length: 200, fork: 1, treeHash: bytes(32, 10), signature: bytes(64, 11) }
const response: CallResponse = { outcome: { ok: false, result: null, error: { code: 'LIMIT', message: 'LIMIT: too deep' }, limit: 'timeout' }, index: 199, root }
const info: ContractInfo = { contract: bytes(32, 1), files: bytes(32, 5), name: 'bank', methods: ['get', 'transfer'], length: 200, fork: 0, runtime: genesis.runtime, oracles: true, limits }
const signer: SignerRecord = { version: 1, publicKey: bytes(32, 7), namespace: bytes(32, 12) }
const att: Attestation = {
  version: 1,
  contract: bytes(32, 1),
  signer,
  length: 200,
  fork: 0,
  treeHash: bytes(32, 10),
  hostSignature: bytes(64, 11),
  filesVersion: 300,
  filesHash: bytes(32, 9),
  verdict: 1,
  trusted: false,
  fault: { kind: 'result', index: 17, cause: 'host', message: 'result differs', evidence: '{"index":17}' },
  runtime: 'vms-node/0.1.0',
  time: 1764586000999,
  watcher: bytes(32, 13),
  signature: bytes(64, 14)
}
const okAtt: Attestation = { ...att, verdict: 0, trusted: true, fault: null }
const proof: BlockProof = {
  index: 5,
  block: bytes(40, 15),
  uncles: [{ index: 10, size: 120, hash: bytes(32, 16) }],
  roots: [{ index: 7, size: 1200, hash: bytes(32, 17) }, { index: 17, size: 80, hash: bytes(32, 18) }]
}
const head: HeadStatement = { contract: bytes(32, 1), length: 200, fork: 0, treeHash: bytes(32, 10), filesLength: 300, filesTreeHash: bytes(32, 9), signature: bytes(64, 19) }
const deploy: DeployRequest = {
  node: bytes(32, 20), deployer: bytes(32, 6), nonce: 3, name: 'bank', source: genesis.source, oracles: false, limits: [{ name: 'timeoutMs', value: 500 }, { name: 'memoryMb', value: 32 }], signature: bytes(64, 21)
}
const undeploy: UndeployRequest = { node: bytes(32, 20), contract: bytes(32, 1), requester: bytes(32, 6), nonce: 4, delete: true, signature: bytes(64, 22) }

/** A codec and one value for it. */
export interface Sample { enc: Encoder<any>, value: unknown }

/** Every codec, by name, with its sample (names are the fixture keys). */
export const SAMPLES: Record<string, Sample> = {
  errorRecord: { enc: errorRecord, value: { code: 'BAD_REQUEST', message: 'BAD_REQUEST: no' } },
  errorRecordLong: { enc: errorRecord, value: { code: 'X'.repeat(65), message: 'é'.repeat(40) + 'x'.repeat(100) } },
  limitsRecord: { enc: limitsRecord, value: limits },
  limitsExtension: { enc: limitsExtension, value: limits },
  deployExtension: { enc: deployExtension, value: bytes(32, 23) },
  callRequest: { enc: callRequest, value: request },
  outcome: { enc: outcome, value: record.outcome },
  outcomeEmpty: { enc: outcome, value: { ok: true, result: '', error: null, limit: null } },
  genesisRecord: { enc: genesisRecord, value: genesis },
  genesisRecordDeployed: { enc: genesisRecord, value: { ...genesis, deployRequest: bytes(32, 23) } },
  callRecord: { enc: callRecord, value: record },
  logBlockGenesis: { enc: logBlock, value: { type: 'genesis', genesis } },
  logBlockCall: { enc: logBlock, value: { type: 'call', call: record } },
  rootStatement: { enc: rootStatement, value: root },
  callResponse: { enc: callResponse, value: response },
  contractInfo: { enc: contractInfo, value: info },
  callReplyAccepted: { enc: callReply, value: { accepted: true, response } },
  callReplyRejected: { enc: callReply, value: { accepted: false, error: { code: 'NONCE', message: 'NONCE: old' } } },
  signerRecord: { enc: signerRecord, value: signer },
  attestationFault: { enc: attestation, value: att },
  attestationOk: { enc: attestation, value: okAtt },
  gossipFrame: { enc: gossipFrame, value: { attestations: [okAtt, att] } },
  headStatement: { enc: headStatement, value: head },
  treeNodeRecord: { enc: treeNodeRecord, value: proof.roots[0] },
  blockProof: { enc: blockProof, value: proof },
  blockProofEmpty: { enc: blockProof, value: { index: 0, block: Buffer.alloc(0), uncles: [], roots: [] } },
  provenBlock: { enc: provenBlock, value: { signer, root, proof } },
  provenInfo: { enc: provenInfo, value: { info, genesis: { signer, root, proof } } },
  provenCallReplyAccepted: { enc: provenCallReply, value: { accepted: true, response, signer, proof } },
  provenCallReplyRejected: { enc: provenCallReply, value: { accepted: false, error: { code: 'BUSY', message: 'BUSY: later' } } },
  deployRequest: { enc: deployRequest, value: deploy },
  undeployRequest: { enc: undeployRequest, value: undeploy },
  deployCommitInit: { enc: deployCommit, value: { request: bytes(32, 24), init: request } },
  deployCommitNoInit: { enc: deployCommit, value: { request: bytes(32, 24), init: null } },
  deployPrepared: { enc: deployPrepared, value: { contract: bytes(32, 1), request: bytes(32, 24), init: true } },
  deployResult: { enc: deployResult, value: { contract: bytes(32, 1), files: bytes(32, 5) } },
  registryEntryDeploy: { enc: registryEntry, value: { type: 'deploy', request: deploy, contract: bytes(32, 1), files: bytes(32, 5), init: null } },
  registryEntryUndeploy: { enc: registryEntry, value: { type: 'undeploy', request: undeploy } },
  contractListing: { enc: contractListing, value: { registryLength: 9, contracts: [{ contract: bytes(32, 1), name: 'bank', deployer: bytes(32, 6), length: 200, deployed: true }] } }
}

/** The signed byte strings (tag + body), by name. */
export const SIGNABLES: Record<string, () => Uint8Array> = {
  callSignable: () => callSignable(request),
  rootSignable: () => rootSignable(root),
  attestationSignable: () => attestationSignable(att),
  headSignable: () => headSignable(head),
  deploySignable: () => deploySignable(deploy),
  undeploySignable: () => undeploySignable(undeploy)
}
