/**
 * `vms-node host <contract.js>`: deploy (or reopen) a contract and serve it
 * on the swarm until stopped.
 */

import fs from 'node:fs'
import path from 'node:path'
import { VmsError } from '../errors.js'
import { formatKey } from '../keys.js'
import { HostNode } from '../host/host-node.js'
import type { ContractHost } from '../host/contract-host.js'
import type { CallRecord } from '../../protocol/index.js'
import { runtimeFingerprint } from '../runtime/sandbox.js'
import { sharedSandboxProcesses, type ChildExit } from '../runtime/sandbox-process.js'
import type { Limits } from '../runtime/types.js'
import { formatBootstrap, type NetOptions } from '../net/swarm.js'
import type { Output } from './output.js'
import { BOOTSTRAP_HINT, DHT_PROBE_MS, probeDht } from './dht-check.js'
import { checkStorage, removeNewStorage, storageError } from './storage.js'
import safetyCatch from 'safety-catch'
import { summary } from './host-public.js'

/** Options for {@link runHost}. */
export interface HostOptions extends NetOptions {
  storage: string
  /** Contract name (default: the file name without extension). */
  name?: string
  limits?: Partial<Limits>
  oracles?: boolean
}

/** What {@link runHost} started. */
export interface RunningHost {
  node: HostNode
  contract: ContractHost
}

/**
 * Reads the contract file, deploys or reopens it, prints where it is, and
 * prints one line per call as calls are logged.
 * Warns within ~3 s when no DHT node answers. A start that fails removes the
 * storage folder when it created it.
 * @throws VmsError BAD_ARGUMENT (no such file, storage is a file), CONTRACT_LOAD,
 *   CONTRACT_INIT (init threw: nothing deployed), CONTRACT_MISMATCH, STORAGE_IN_USE
 */
export async function runHost (file: string, opts: HostOptions, out: Output): Promise<RunningHost> {
  let source: string
  try {
    source = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw VmsError.BAD_ARGUMENT(`cannot read contract ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const name = opts.name ?? path.basename(file).replace(/\.[cm]?js$/, '').replace(/[^\w.-]/g, '_')
  const existed = checkStorage(opts.storage)
  // says early (within DHT_PROBE_MS) when no DHT node answers, while the deploy goes on
  const stopProbe = new AbortController()
  const probe = probeDht(opts, DHT_PROBE_MS, stopProbe.signal).then((p) => {
    if (!p.ok && !stopProbe.signal.aborted) out.note(`warning: no DHT node answered within ${DHT_PROBE_MS} ms at ${p.dht}; callers will not find this host: ${BOOTSTRAP_HINT}`)
    return p
  })
  const node = new HostNode({ ...opts, runtime: runtimeFingerprint() })
  let contract: ContractHost
  try {
    contract = await node.deploy(source, { name, limits: opts.limits, oracles: opts.oracles })
  } catch (err) {
    stopProbe.abort() // one line for a failed start: its error, no DHT warning
    await node.close().catch(safetyCatch)
    await probe
    const e = storageError(err, opts.storage)
    // a start that failed leaves nothing behind in a folder it created: only after the contract
    // failed to load or init, when this process held the folder's lock (never one another process holds)
    const code = (e as VmsError).code
    if (code === 'CONTRACT_LOAD' || code === 'CONTRACT_INIT') removeNewStorage(opts.storage, existed)
    throw e
  }
  const dht = await probe
  const info = contract.info()
  const ready = {
    event: 'ready',
    node: node.swarm ? formatKey(node.swarm.keyPair.publicKey) : null,
    contract: formatKey(contract.key),
    files: formatKey(info.files),
    name,
    methods: info.methods,
    length: info.length,
    oracles: info.oracles,
    storage: path.resolve(opts.storage),
    bootstrap: formatBootstrap(opts.bootstrap ?? []),
    dht: dht.dht,
    dhtNodes: dht.nodes,
    runtime: info.runtime,
    operator: node.identity.id,
    contracts: [...node.contracts.values()].map((h) => summary(node, h))
  }
  if (out.json) out.object(ready)
  else {
    out.line(`vms-node hosting "${name}"`)
    out.line(`Node:     ${ready.node}`)
    out.line(`Contract: ${ready.contract}`)
    out.line(`Files:    ${ready.files}`)
    out.line(`Methods:  ${info.methods.join(', ') || '(none)'}`)
    out.line(`Log:      ${info.length} ${info.length === 1 ? 'block' : 'blocks'}${contract.stats.replayedAtOpen ? ` (replayed ${contract.stats.replayedAtOpen} calls to rebuild state)` : ''}`)
    out.line(`Storage:  ${ready.storage}`)
    out.line(`DHT:      ${dht.dht}${dht.ok ? '' : ' (no node answered)'}`)
    if (contract.log.recovery.undoneBlocks) out.line(`Recovery: undid ${contract.log.recovery.undoneBlocks} unlogged drive blocks from an interrupted batch`)
    if (contract.log.recovery.unloggedEdit) out.note('warning: the files drive was changed outside the call log; watchers will flag it')
    out.line(`Oracles:  ${info.oracles ? 'on (trusted contract)' : 'off (trustless)'}`)
    out.line('Waiting for calls. Ctrl+C to exit.')
  }
  contract.on('call', ({ index, record }: { index: number, record: CallRecord }) => {
    const caller = formatKey(record.request.caller)
    const o = record.outcome
    if (out.json) {
      out.object({ event: 'call', index, method: record.request.method, caller, ok: o.ok, error: o.error?.code ?? null })
    } else {
      out.line(`#${index} ${record.request.method} by ${caller.slice(0, 8)} -> ${o.ok ? 'ok' : o.error?.message ?? 'error'}`)
    }
  })
  contract.on('warning', (err: Error) => out.note('warning: ' + err.message))
  // contract code ended a sandbox process (the node keeps serving): say so once per process
  sharedSandboxProcesses().on('exit', (e: ChildExit) => {
    out.note(`warning: sandbox process ${e.pid ?? '?'} ended by ${e.signal ?? `exit code ${e.code}`}${e.outOfMemory ? ' (V8 out of memory)' : ''}; its contracts are rebuilt on their next call`)
  })
  return { node, contract }
}
