/**
 * `vms-node host <contract.js>`: deploy (or reopen) a contract and serve it
 * on the swarm until stopped.
 */

import path from 'node:path'
import { formatKey } from '../keys.js'
import { HostNode } from '../host/host-node.js'
import type { ContractHost } from '../host/contract-host.js'
import type { CallRecord } from '../../protocol/index.js'
import { runtimeFingerprint } from '../runtime/sandbox.js'
import { describeExit, sharedSandboxProcesses, type ChildExit } from '../runtime/sandbox-process.js'
import type { Limits } from '../runtime/types.js'
import { formatBootstrap, type NetOptions } from '../net/swarm.js'
import type { Output } from './output.js'
import { checkStorage } from './storage.js'
import { summary } from './host-public.js'
import { failedStart, readContract, startProbe } from './host-start.js'

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
  const { source, name } = readContract(file, opts.name)
  const existed = checkStorage(opts.storage)
  // says early (within DHT_PROBE_MS) when no DHT node answers, while the deploy goes on
  const probe = startProbe(opts, out, 'callers will not find this host')
  const node = new HostNode({ ...opts, runtime: runtimeFingerprint() })
  let contract: ContractHost
  try {
    contract = await node.deploy(source, { name, limits: opts.limits, oracles: opts.oracles })
  } catch (err) {
    return await failedStart(err, { probe, node, storage: opts.storage, existed })
  }
  const dht = await probe.probe
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
    out.note(`warning: ${describeExit(e)}; its contracts are rebuilt on their next call`)
  })
  return { node, contract }
}
