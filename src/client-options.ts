/**
 * Options and result shapes of `VmsClient` (src/client.ts).
 */

import type { RootStatement } from '../protocol/index.js'
import type { NetOptions } from './net/swarm.js'
import type { LookupOptions } from './net/lookup.js'
import type { KeyPair } from './crypto.js'
import type { SandboxFactory } from './runtime/types.js'

/** Options for {@link VmsClient.connect}. */
export interface ClientOptions extends NetOptions {
  /** Caller identity: a key pair, or an identity file path (default `~/.vms-node/identity.json`). */
  identity?: KeyPair | string
  /** Per-request and connect timeout, ms (default 5,000, as in the seeds). */
  timeout?: number
  /** Folder for the client's Corestore (default: a temporary folder removed on close). */
  storage?: string
  /**
   * Trust policy: resolve a call only after this many distinct watchers
   * attested ok over a log containing its receipt's tree (default 0: don't
   * wait); `openFiles()` and `read()` then read at a version that many attested.
   * Calls to a contract with a known fault are refused either way (see `faultQuorum`).
   */
  quorum?: number
  /** How long a call waits for its quorum, ms (default 30,000). */
  quorumTimeout?: number
  /**
   * Distinct watchers whose replay faults make calls fail with
   * CONTRACT_FAULTY (default 1). Split-view evidence (two host signatures
   * that disagree) is checked and refuses the contract whatever this is.
   */
  faultQuorum?: number
  /**
   * Replay and judge the contract in the background (a watcher on this
   * client's store and connection): see `client.verdict` and the
   * `verdict`/`fault` events of `client.auditor`.
   */
  audit?: boolean
  /** Sandbox factory of the background audit (default: supervised sandbox processes). */
  sandboxFactory?: SandboxFactory
  /** How often to look the contract's peers up again while no proven peer is connected (see net/lookup.ts). */
  lookup?: LookupOptions
}

/** What the host signed for the last call: the call's place in the log (verified before it is kept). */
export interface Receipt {
  /** Log block index of the call record. */
  index: number
  /** The host's signed root of the log including that record. */
  root: RootStatement
}

/** A proven point read: see {@link VmsClient.read}. */
export interface ProvenRead {
  /** The file's bytes at `filesVersion` (null: no such file there). */
  value: Buffer | null
  /** The files drive version read: the one the log's record at `length - 1` names. */
  filesVersion: number
  /** Log length of the verified root (and, with `quorum`, attested) that covers the read. */
  length: number
  /** Watchers (hex keys) whose ok attestations cover that log length. */
  attestations: string[]
}

/** A contract method on the client: takes JSON arguments, resolves to the JSON result. */
export type ContractMethod = (...args: unknown[]) => Promise<unknown>

/**
 * `target` with one function per contract method: a property that is not a
 * member of `target` and is in `target.info.methods` calls that method
 * (`client.RSVP('bob', true)` is `client.call('RSVP', 'bob', true)`);
 * `then` never is one (the client is not a thenable).
 */
export function withMethods<T extends { info: { methods: string[] }, call: (method: string, ...args: unknown[]) => Promise<unknown> }> (target: T): T & { [method: string]: ContractMethod } {
  return new Proxy(target, {
    get (t, prop, receiver) {
      if (typeof prop === 'string' && !(prop in t) && prop !== 'then' && t.info.methods.includes(prop)) {
        return (...args: unknown[]) => t.call(prop, ...args)
      }
      return Reflect.get(t, prop, receiver)
    }
  }) as T & { [method: string]: ContractMethod }
}
