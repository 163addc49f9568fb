/**
 * Public hosting on the wire: deploy and undeploy requests (signed by the
 * deployer, domain-tagged `vms/deploy/v1` / `vms/undeploy/v1`, naming the
 * node key, so a signature is good for one node and one purpose only), the
 * node's registry log blocks (what it agreed to host), the `contracts`
 * listing, and the genesis extension that names the deploy request's hash.
 * No I/O here.
 *
 * Node RPC (protomux-rpc, protocol {@link NODE_PROTOCOL}, channel id = node key):
 * `prepare` (DeployRequest -> DeployPrepared: policy checked, init tried,
 * nothing stored), `commit` (DeployCommit -> DeployResult: the contract is
 * created, its init call is the deployer's signed call), `undeploy`
 * (UndeployRequest -> empty), `contracts` (empty -> ContractListing).
 */

import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import { callRequest, tagged, type CallRequest } from './messages.js'

/** Domain tag of a deploy request signed by its deployer. */
export const TAG_DEPLOY = 'vms/deploy/v1'
/** Domain tag of an undeploy request signed by the deployer or the operator. */
export const TAG_UNDEPLOY = 'vms/undeploy/v1'
/** protomux-rpc protocol name of a node's deploy channel (channel id: the node key). */
export const NODE_PROTOCOL = 'vms/node/v1'

/** One limit a deployer asks for (a `Limits` field name and its value). */
export interface LimitEntry {
  name: string
  value: number
}

/** What a deployer signs: deploy this source onto the node `node`. */
export interface DeployRequest {
  /** Node key (the node's swarm public key), 32 bytes. */
  node: Uint8Array
  /** Deployer's caller key, 32 bytes: `init` runs as it. */
  deployer: Uint8Array
  /** Per-deployer nonce on this node; must grow with every request the registry holds for that deployer. */
  nonce: number
  /** Contract name (letters, digits, `.`, `_`, `-`; at most 64). */
  name: string
  /** Contract source, UTF-8. */
  source: string
  /** Whether System.oracle is on (a trusted contract). */
  oracles: boolean
  /** Limits asked for (each at most the operator's maximum). */
  limits: LimitEntry[]
  /** ed25519 by `deployer` over {@link deploySignable}, 64 bytes. */
  signature: Uint8Array
}

/** What an undeployer signs: stop hosting `contract` on `node`. */
export interface UndeployRequest {
  node: Uint8Array
  contract: Uint8Array
  /** Who asks: the contract's deployer or the node's operator, 32 bytes. */
  requester: Uint8Array
  nonce: number
  /** Also delete the log and files from the node's storage. */
  delete: boolean
  /** ed25519 by `requester` over {@link undeploySignable}, 64 bytes. */
  signature: Uint8Array
}

/** Second step of a deploy: the prepared request and the deployer's signed init call (null without `init`). */
export interface DeployCommit {
  /** BLAKE2b-256 of the encoded deploy request (as `prepare` answered). */
  request: Uint8Array
  init: CallRequest | null
}

/** `prepare` reply: the contract key the deploy will create, and whether the deployer must sign an init call. */
export interface DeployPrepared {
  contract: Uint8Array
  request: Uint8Array
  init: boolean
}

/** `commit` reply. */
export interface DeployResult {
  contract: Uint8Array
  files: Uint8Array
}

/** A registry log block: a deploy the node agreed to (with the keys it created) or an undeploy. */
export type RegistryEntry =
  | { type: 'deploy', request: DeployRequest, contract: Uint8Array, files: Uint8Array, init: CallRequest | null }
  | { type: 'undeploy', request: UndeployRequest }

/** One contract in a node's listing (lengths are the node's word, names and deployers are proven by the registry). */
export interface ListedContract {
  contract: Uint8Array
  name: string
  /** Deployer key; the operator's key for contracts the operator hosts from local files. */
  deployer: Uint8Array
  length: number
  /** True when a deploy request in the registry log covers it; false for the operator's own local contracts. */
  deployed: boolean
}

/** `contracts` reply: the listing and the registry log length it was taken at. */
export interface ContractListing {
  registryLength: number
  contracts: ListedContract[]
}

const limitEntry: Encoder<LimitEntry> = {
  preencode (state, m) { c.string.preencode(state, m.name); c.uint.preencode(state, m.value) },
  encode (state, m) { c.string.encode(state, m.name); c.uint.encode(state, m.value) },
  decode (state) { return { name: c.string.decode(state), value: c.uint.decode(state) } }
}
const limitEntries = c.array(limitEntry)

const deployBody: Encoder<Omit<DeployRequest, 'signature'>> = {
  preencode (state, m) {
    c.fixed32.preencode(state, m.node); c.fixed32.preencode(state, m.deployer); c.uint.preencode(state, m.nonce)
    c.string.preencode(state, m.name); c.string.preencode(state, m.source); c.bool.preencode(state, m.oracles); limitEntries.preencode(state, m.limits)
  },
  encode (state, m) {
    c.fixed32.encode(state, m.node); c.fixed32.encode(state, m.deployer); c.uint.encode(state, m.nonce)
    c.string.encode(state, m.name); c.string.encode(state, m.source); c.bool.encode(state, m.oracles); limitEntries.encode(state, m.limits)
  },
  decode (state) {
    return {
      node: c.fixed32.decode(state),
      deployer: c.fixed32.decode(state),
      nonce: c.uint.decode(state),
      name: c.string.decode(state),
      source: c.string.decode(state),
      oracles: c.bool.decode(state),
      limits: limitEntries.decode(state)
    }
  }
}

/** Codec of {@link DeployRequest}. */
export const deployRequest: Encoder<DeployRequest> = {
  preencode (state, m) { deployBody.preencode(state, m); c.fixed64.preencode(state, m.signature) },
  encode (state, m) { deployBody.encode(state, m); c.fixed64.encode(state, m.signature) },
  decode (state) { return { ...deployBody.decode(state), signature: c.fixed64.decode(state) } }
}

const undeployBody: Encoder<Omit<UndeployRequest, 'signature'>> = {
  preencode (state, m) {
    c.fixed32.preencode(state, m.node); c.fixed32.preencode(state, m.contract); c.fixed32.preencode(state, m.requester)
    c.uint.preencode(state, m.nonce); c.bool.preencode(state, m.delete)
  },
  encode (state, m) {
    c.fixed32.encode(state, m.node); c.fixed32.encode(state, m.contract); c.fixed32.encode(state, m.requester)
    c.uint.encode(state, m.nonce); c.bool.encode(state, m.delete)
  },
  decode (state) {
    return { node: c.fixed32.decode(state), contract: c.fixed32.decode(state), requester: c.fixed32.decode(state), nonce: c.uint.decode(state), delete: c.bool.decode(state) }
  }
}

/** Codec of {@link UndeployRequest}. */
export const undeployRequest: Encoder<UndeployRequest> = {
  preencode (state, m) { undeployBody.preencode(state, m); c.fixed64.preencode(state, m.signature) },
  encode (state, m) { undeployBody.encode(state, m); c.fixed64.encode(state, m.signature) },
  decode (state) { return { ...undeployBody.decode(state), signature: c.fixed64.decode(state) } }
}

const optCall: Encoder<CallRequest | null> = {
  preencode (state, m) { c.bool.preencode(state, m !== null); if (m !== null) callRequest.preencode(state, m) },
  encode (state, m) { c.bool.encode(state, m !== null); if (m !== null) callRequest.encode(state, m) },
  decode (state) { return c.bool.decode(state) ? callRequest.decode(state) : null }
}

/** Codec of {@link DeployCommit}. */
export const deployCommit: Encoder<DeployCommit> = {
  preencode (state, m) { c.fixed32.preencode(state, m.request); optCall.preencode(state, m.init) },
  encode (state, m) { c.fixed32.encode(state, m.request); optCall.encode(state, m.init) },
  decode (state) { return { request: c.fixed32.decode(state), init: optCall.decode(state) } }
}

/** Codec of {@link DeployPrepared}. */
export const deployPrepared: Encoder<DeployPrepared> = {
  preencode (state, m) { c.fixed32.preencode(state, m.contract); c.fixed32.preencode(state, m.request); c.bool.preencode(state, m.init) },
  encode (state, m) { c.fixed32.encode(state, m.contract); c.fixed32.encode(state, m.request); c.bool.encode(state, m.init) },
  decode (state) { return { contract: c.fixed32.decode(state), request: c.fixed32.decode(state), init: c.bool.decode(state) } }
}

/** Codec of {@link DeployResult}. */
export const deployResult: Encoder<DeployResult> = {
  preencode (state, m) { c.fixed32.preencode(state, m.contract); c.fixed32.preencode(state, m.files) },
  encode (state, m) { c.fixed32.encode(state, m.contract); c.fixed32.encode(state, m.files) },
  decode (state) { return { contract: c.fixed32.decode(state), files: c.fixed32.decode(state) } }
}

const REGISTRY_DEPLOY = 1
const REGISTRY_UNDEPLOY = 2

/** Codec of one registry log block ({@link RegistryEntry}): a type byte, then the entry. */
export const registryEntry: Encoder<RegistryEntry> = {
  preencode (state, m) {
    c.uint8.preencode(state, 0)
    if (m.type === 'deploy') {
      deployRequest.preencode(state, m.request); c.fixed32.preencode(state, m.contract); c.fixed32.preencode(state, m.files); optCall.preencode(state, m.init)
    } else undeployRequest.preencode(state, m.request)
  },
  encode (state, m) {
    if (m.type === 'deploy') {
      c.uint8.encode(state, REGISTRY_DEPLOY)
      deployRequest.encode(state, m.request); c.fixed32.encode(state, m.contract); c.fixed32.encode(state, m.files); optCall.encode(state, m.init)
    } else {
      c.uint8.encode(state, REGISTRY_UNDEPLOY)
      undeployRequest.encode(state, m.request)
    }
  },
  decode (state) {
    const type = c.uint8.decode(state)
    if (type === REGISTRY_DEPLOY) {
      return { type: 'deploy', request: deployRequest.decode(state), contract: c.fixed32.decode(state), files: c.fixed32.decode(state), init: optCall.decode(state) }
    }
    if (type === REGISTRY_UNDEPLOY) return { type: 'undeploy', request: undeployRequest.decode(state) }
    throw new Error('unknown registry entry type ' + type)
  }
}

const listedContract: Encoder<ListedContract> = {
  preencode (state, m) {
    c.fixed32.preencode(state, m.contract); c.string.preencode(state, m.name); c.fixed32.preencode(state, m.deployer)
    c.uint.preencode(state, m.length); c.bool.preencode(state, m.deployed)
  },
  encode (state, m) {
    c.fixed32.encode(state, m.contract); c.string.encode(state, m.name); c.fixed32.encode(state, m.deployer)
    c.uint.encode(state, m.length); c.bool.encode(state, m.deployed)
  },
  decode (state) {
    return { contract: c.fixed32.decode(state), name: c.string.decode(state), deployer: c.fixed32.decode(state), length: c.uint.decode(state), deployed: c.bool.decode(state) }
  }
}
const listedContracts = c.array(listedContract)

/** Codec of {@link ContractListing}. */
export const contractListing: Encoder<ContractListing> = {
  preencode (state, m) { c.uint.preencode(state, m.registryLength); listedContracts.preencode(state, m.contracts) },
  encode (state, m) { c.uint.encode(state, m.registryLength); listedContracts.encode(state, m.contracts) },
  decode (state) { return { registryLength: c.uint.decode(state), contracts: listedContracts.decode(state) } }
}

/** Bytes a deployer signs: tag `vms/deploy/v1`, then the request without its signature. */
export function deploySignable (req: Omit<DeployRequest, 'signature'>): Uint8Array {
  return tagged(TAG_DEPLOY_BYTES, deployBody, req)
}

/** Bytes an undeployer signs: tag `vms/undeploy/v1`, then the request without its signature. */
export function undeploySignable (req: Omit<UndeployRequest, 'signature'>): Uint8Array {
  return tagged(TAG_UNDEPLOY_BYTES, undeployBody, req)
}

const TAG_DEPLOY_BYTES = Buffer.from(TAG_DEPLOY)
const TAG_UNDEPLOY_BYTES = Buffer.from(TAG_UNDEPLOY)
