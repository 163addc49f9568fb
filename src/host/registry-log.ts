/**
 * A node's registry log: an append-only Hypercore of the signed deploy and
 * undeploy requests it agreed to, so what a public node hosts is itself
 * auditable. The core is signed by the node key (its manifest's only signer
 * is the node's swarm public key), so its key is derived from the node key
 * alone ({@link registryKey}) and anyone who knows the node key can
 * replicate it and check every block's signature (Hypercore does, on
 * replication) and every request in it ({@link foldRegistry}).
 */

import c from 'compact-encoding'
import Hypercore from 'hypercore'
import type Corestore from 'corestore'
import { deploySignable, registryEntry, undeploySignable, deployRequest, type DeployRequest, type RegistryEntry } from '../../protocol/index.js'
import { hash, verify, type KeyPair } from '../crypto.js'
import { VmsError } from '../errors.js'

/** Manifest version of the registry core (corestore's default). */
const MANIFEST_VERSION = 1

/**
 * The registry log's key for a node key: the hash of the single-signer
 * manifest naming it.
 * @param nodeKey the node's swarm public key, 32 bytes
 */
export function registryKey (nodeKey: Uint8Array): Buffer {
  return Hypercore.key({ version: MANIFEST_VERSION, signers: [{ publicKey: Buffer.from(nodeKey) }] }) as Buffer
}

/** BLAKE2b-256 of an encoded deploy request: what the genesis names and `commit` refers to. */
export function deployRequestHash (req: DeployRequest): Buffer {
  return hash(c.encode(deployRequest, req))
}

/** A deploy the registry holds and no undeploy ended. */
export type DeployEntry = Extract<RegistryEntry, { type: 'deploy' }>

/** The registry folded: what is hosted, and the last nonce of every signer. */
export interface RegistryState {
  /** Contract key (hex) -> its deploy entry, for every contract deployed and not undeployed. */
  active: Map<string, DeployEntry>
  /** Deploy entries of undeployed contracts, by contract key (hex) (their storage may remain). */
  ended: Map<string, DeployEntry>
  /** Signer key (hex) -> the last nonce the registry holds for it. */
  nonces: Map<string, number>
}

/** An empty {@link RegistryState}. */
export function emptyRegistry (): RegistryState {
  return { active: new Map(), ended: new Map(), nonces: new Map() }
}

/**
 * Checks one registry entry against the state so far and applies it. The
 * rules: every request is signed by its signer under its own domain tag, names
 * this node, and carries a nonce above the last one of that signer; a deploy
 * names a contract not hosted yet; an undeploy names a hosted contract and is
 * signed by its deployer or by the node key (the operator).
 * @throws VmsError BAD_SIGNATURE, WRONG_NODE, NONCE_REUSED, NOT_DEPLOYER, BAD_RECORD
 */
export function applyEntry (state: RegistryState, nodeKey: Uint8Array, entry: RegistryEntry): void {
  const node = Buffer.from(nodeKey)
  if (entry.type === 'deploy') {
    const r = entry.request
    checkSigned(state, node, r.node, r.deployer, r.nonce, verify(deploySignable(r), r.signature, r.deployer))
    const id = Buffer.from(entry.contract).toString('hex')
    if (state.active.has(id) || state.ended.has(id)) throw VmsError.BAD_RECORD('a deploy names a contract the registry already holds')
    state.nonces.set(hex(r.deployer), r.nonce)
    state.active.set(id, entry)
    return
  }
  const r = entry.request
  checkSigned(state, node, r.node, r.requester, r.nonce, verify(undeploySignable(r), r.signature, r.requester))
  const id = Buffer.from(r.contract).toString('hex')
  const deployed = state.active.get(id)
  if (!deployed) throw VmsError.NOT_FOUND('this node hosts no deployed contract of that key')
  if (!Buffer.from(r.requester).equals(deployed.request.deployer) && !Buffer.from(r.requester).equals(node)) {
    throw VmsError.NOT_DEPLOYER('only the contract\'s deployer or the node\'s operator may undeploy it')
  }
  state.nonces.set(hex(r.requester), r.nonce)
  state.active.delete(id)
  state.ended.set(id, deployed)
}

function checkSigned (state: RegistryState, node: Buffer, named: Uint8Array, signer: Uint8Array, nonce: number, signed: boolean): void {
  if (!signed) throw VmsError.BAD_SIGNATURE('the request signature does not verify for its signer')
  if (!node.equals(named)) throw VmsError.WRONG_NODE('the request names another node key')
  const last = state.nonces.get(hex(signer)) ?? 0
  if (nonce <= last) throw VmsError.NONCE_REUSED(`nonce ${nonce} is not above ${last}, the last this node's registry holds for that key`)
}

/**
 * Folds a whole registry (block order) into its state, checking every entry.
 * @throws VmsError BAD_RECORD naming the first block that breaks a rule
 */
export function foldRegistry (nodeKey: Uint8Array, entries: RegistryEntry[]): RegistryState {
  const state = emptyRegistry()
  entries.forEach((e, i) => {
    try {
      applyEntry(state, nodeKey, e)
    } catch (err) {
      throw VmsError.BAD_RECORD(`registry block ${i}: ${(err as Error).message}`)
    }
  })
  return state
}

/**
 * Decodes one registry block.
 * @throws VmsError BAD_RECORD
 */
export function decodeRegistryBlock (buf: Uint8Array, index: number): RegistryEntry {
  try {
    return c.decode(registryEntry, buf)
  } catch (err) {
    throw VmsError.BAD_RECORD(`registry block ${index}: ${(err as Error).message}`)
  }
}

/** The node's own registry log (writable: signed by the node key pair). */
export class RegistryLog {
  readonly core: Hypercore
  readonly nodeKey: Buffer
  state: RegistryState = emptyRegistry()

  /**
   * @param store the node's Corestore
   * @param nodeKeyPair the node key pair (swarm key pair)
   */
  constructor (store: Corestore, nodeKeyPair: KeyPair) {
    this.nodeKey = Buffer.from(nodeKeyPair.publicKey)
    this.core = store.get({ keyPair: nodeKeyPair, manifest: { version: MANIFEST_VERSION, signers: [{ publicKey: this.nodeKey }] } })
  }

  /** Opens the core and folds every block. @throws VmsError BAD_RECORD */
  async ready (): Promise<void> {
    await this.core.ready()
    if (!(this.core.key as Buffer).equals(registryKey(this.nodeKey))) throw VmsError.INTERNAL('registry core key is not derived from the node key')
    const entries: RegistryEntry[] = []
    for (let i = 0; i < this.core.length; i++) entries.push(decodeRegistryBlock(await this.core.get(i) as Buffer, i))
    this.state = foldRegistry(this.nodeKey, entries)
  }

  /** Registry length (blocks). */
  get length (): number {
    return this.core.length
  }

  /**
   * Checks `entry` against the registry (see {@link applyEntry}) without applying it.
   * @throws as applyEntry
   */
  check (entry: RegistryEntry): void {
    applyEntry(cloneState(this.state), this.nodeKey, entry)
  }

  /**
   * Checks, appends (durably) and applies one entry.
   * @throws as applyEntry
   */
  async append (entry: RegistryEntry): Promise<void> {
    const next = cloneState(this.state)
    applyEntry(next, this.nodeKey, entry)
    await this.core.append(c.encode(registryEntry, entry))
    this.state = next
  }

  /** The last nonce the registry holds for `key` (0 when none). */
  lastNonce (key: Uint8Array): number {
    return this.state.nonces.get(hex(key)) ?? 0
  }

  /** Closes the core. */
  async close (): Promise<void> {
    await this.core.close()
  }
}

function cloneState (s: RegistryState): RegistryState {
  return { active: new Map(s.active), ended: new Map(s.ended), nonces: new Map(s.nonces) }
}

function hex (key: Uint8Array): string {
  return Buffer.from(key).toString('hex')
}
