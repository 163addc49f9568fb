/**
 * What `vms-node host` (one file, or a node with several and deploys) and
 * `vms-node deploy` share: reading a contract file, saying early when no
 * DHT node answers, and a failed start that leaves nothing behind.
 */

import fs from 'node:fs'
import path from 'node:path'
import safetyCatch from 'safety-catch'
import { VmsError } from '../errors.js'
import type { NetOptions } from '../net/swarm.js'
import { BOOTSTRAP_HINT, DHT_PROBE_MS, probeDht } from './dht-check.js'
import type { Output } from './output.js'
import { removeNewStorage, storageError } from './storage.js'

/** A contract read from its file. */
export interface ContractFile {
  file: string
  source: string
  /** `name`, else the file name without `.js`, with characters other than letters, digits, `.`, `_`, `-` made `_`. */
  name: string
}

/**
 * Reads a contract source file.
 * @throws VmsError BAD_ARGUMENT (unreadable file, with its errno code)
 */
export function readContract (file: string, name?: string): ContractFile {
  let source: string
  try {
    source = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw VmsError.BAD_ARGUMENT(`cannot read contract ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return { file, source, name: name ?? path.basename(file).replace(/\.[cm]?js$/, '').replace(/[^\w.-]/g, '_') }
}

/** The DHT probe of a starting host: its result, and `stop()` to silence its warning. */
export interface StartProbe {
  probe: ReturnType<typeof probeDht>
  stop: () => void
}

/**
 * Probes the DHT while the host starts (within DHT_PROBE_MS) and prints a
 * warning naming `--bootstrap` / VMS_BOOTSTRAP when no node answered.
 * @param who what follows for the warning (e.g. `callers will not find this host`)
 */
export function startProbe (opts: NetOptions, out: Output, who: string): StartProbe {
  const stopped = new AbortController()
  const probe = probeDht(opts, DHT_PROBE_MS, stopped.signal).then((p) => {
    if (!p.ok && !stopped.signal.aborted) out.note(`warning: no DHT node answered within ${DHT_PROBE_MS} ms at ${p.dht}; ${who}: ${BOOTSTRAP_HINT}`)
    return p
  })
  return { probe, stop: () => stopped.abort() }
}

/**
 * A start that failed: one line for it (its error, no DHT warning), the node
 * closed, and nothing left behind in a storage folder this start created —
 * only after the contract failed to load or init, when this process held the
 * folder's lock (never one another process holds).
 * @param existed whether the folder existed before (checkStorage)
 * @returns never: throws the error, named for the storage folder (storageError)
 */
export async function failedStart (err: unknown, ctx: { probe: StartProbe, node: { close (): Promise<void> }, storage: string, existed: boolean }): Promise<never> {
  ctx.probe.stop()
  await ctx.node.close().catch(safetyCatch)
  await ctx.probe.probe
  const e = storageError(err, ctx.storage)
  const code = (e as VmsError).code
  if (code === 'CONTRACT_LOAD' || code === 'CONTRACT_INIT') removeNewStorage(ctx.storage, ctx.existed)
  throw e
}
