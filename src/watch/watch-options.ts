/** The options of a contract watch (contract-watch.ts). */

import type Corestore from 'corestore'
import type { SandboxFactory } from '../runtime/types.js'
import type { ExpectedContract } from './audit.js'
import type { WatchStateStore } from './state.js'

/** Options for a `ContractWatch`. */
export interface ContractWatchOptions {
  key: Buffer
  store: Corestore
  sandboxFactory: SandboxFactory
  /** Our runtime fingerprint (in every verdict). */
  runtime: string
  /** Folder of the state files, or null to keep state in memory (unless `stateStore`). */
  stateDir: string | null
  /** Where the state is kept (wins over `stateDir`; a watcher gives its node's state bee). */
  stateStore?: WatchStateStore
  expected?: ExpectedContract
  /** ms to wait for a block or an answer before giving up (one-shot audits); 0 = wait forever. */
  timeout?: number
  /** ms between root statement requests while following and behind the log (default 250; none while the newest root covers the log). */
  rootInterval?: number
  /** ms a host has to answer a root request (default 10,000). */
  requestTimeout?: number
  /**
   * While following (no `timeout`): after this many ms judging one call
   * without the blocks it needs, and again every as many ms, a `STALLED`
   * warning says so (default 30,000). A host that logs a call but never
   * serves its record or its files would otherwise just look idle.
   */
  stallMs?: number
}
