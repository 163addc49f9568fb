/**
 * The options and counters of a ContractHost (contract-host.ts; no import back, so the two do not form a cycle).
 */

import type Corestore from 'corestore'
import type { KeyPair } from '../crypto.js'
import type { CallRequest } from '../../protocol/index.js'
import type { Limits, SandboxFactory } from '../runtime/types.js'
import type { SandboxPool } from './sandbox-pool.js'
import type { SignatureVerifier } from '../sig/verify-pool.js'

/** Options for a ContractHost (contract-host.ts). */
export interface ContractHostOptions {
  /** Corestore namespace of this contract. */
  store: Corestore
  /** Contract name (shown in info). */
  name: string
  /** Contract source; required to deploy, checked against the genesis on restart. */
  source?: string
  /** The host operator's identity: signs `init` at deploy. */
  identity: KeyPair
  sandboxFactory: SandboxFactory
  /** Runtime fingerprint written in the genesis. */
  runtime: string
  /** Limits for a new deploy (a restart uses the genesis limits). */
  limits?: Partial<Limits>
  /** Turn System.oracle on for a new deploy. */
  oracles?: boolean
  /** Largest number of calls in one group commit (default 256). */
  maxBatch?: number
  /** Largest number of queued calls before HOST_BUSY (default 10,000). */
  maxQueue?: number
  /** Bound on live sandboxes shared with other hosts (default: the process's pool). */
  pool?: SandboxPool
  /**
   * Bound on open contracts shared with other hosts (host-node.ts): past it
   * the least recently used idle ones are closed (ContractHost.sleep in
   * contract-host.ts) and a restart opens the rest without replaying them.
   * Default: none (never closed for idleness).
   */
  openPool?: SandboxPool
  /** Checks request signatures (default: the process's worker pool). */
  verifier?: SignatureVerifier
  /**
   * A deploy by someone else (public hosting, deploy-service.ts): the
   * deployer's key (genesis `deployer`, who `init` runs as), the hash of its
   * signed deploy request (genesis extension), and its signed `init` call
   * (required when the contract exports `init`; must name this contract).
   */
  remote?: { deployer: Uint8Array, request: Uint8Array, init: CallRequest | null }
  /**
   * Runs before each call request is checked; throwing refuses the call
   * unlogged (the node's per-contract storage cap, deploy-service.ts; the
   * caller binds it to its host, so this file needs no ContractHost type).
   */
  admit?: () => void
}

/** Counters a UI or benchmark reads. */
export interface HostStats {
  /** Calls logged since open. */
  calls: number
  /** Requests rejected before the sandbox (bad signature, nonce, ...). */
  rejected: number
  /** Group commits done. */
  batches: number
  /** Sandbox rebuilds after a limit. */
  rebuilds: number
  /** Calls replayed to rebuild state at open. */
  replayedAtOpen: number
  /** Sandboxes rebuilt after the pool evicted them. */
  evictions: number
}
