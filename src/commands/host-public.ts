/**
 * `vms-node host [contract.js ...] [--accept-deploys]`: one node hosting any
 * number of local contracts and, with `--accept-deploys`, the contracts
 * others deploy onto it (public hosting). Prints the node key deployers use.
 */

import path from 'node:path'
import { VmsError } from '../errors.js'
import { formatKey } from '../keys.js'
import { HostNode } from '../host/host-node.js'
import type { ContractHost } from '../host/contract-host.js'
import type { CallRecord } from '../../protocol/index.js'
import { runtimeFingerprint } from '../runtime/sandbox.js'
import { formatBootstrap, type NetOptions } from '../net/swarm.js'
import type { Output } from './output.js'
import { checkStorage } from './storage.js'
import type { Limits } from '../runtime/types.js'
import type { DeployPolicyOptions } from '../host/deploy-policy.js'
import { failedStart, readContract, startProbe } from './host-start.js'

/** Options for {@link runHostNode}: those of `host`, and the deploy policy. */
export interface HostNodeCommandOptions extends NetOptions {
  storage: string
  /** Limits of the local contracts (and the maxima a deploy may ask for, via `policy.maxLimits`). */
  limits?: Partial<Limits>
  oracles?: boolean
  /** Accept contracts others deploy. */
  acceptDeploys?: boolean
  policy?: DeployPolicyOptions
}

/** One contract as the ready line and the TUI show it. */
export interface HostedSummary {
  contract: string
  files: string
  name: string
  deployer: string
  deployed: boolean
  length: number
}

/** Summary of one hosted contract. */
export function summary (node: HostNode, host: ContractHost): HostedSummary {
  const g = host.genesis
  return { contract: formatKey(host.key), files: formatKey(g.files), name: g.name, deployer: formatKey(g.deployer), deployed: !!node.deployService?.deployed(host.key), length: host.length }
}

/**
 * Starts the node, deploys (or reopens) every file, reopens every contract
 * deployed onto it before, and prints the ready line: `{"event":"ready",
 * "node":<node key>,"contracts":[...],...}` (plain: `Node: <key>` and one line
 * per contract). Then one line per call, deploy and undeploy.
 * @param files contract source files (may be empty with `acceptDeploys`)
 * @throws VmsError BAD_ARGUMENT (no file and no --accept-deploys, unreadable file, two files of one name),
 *   CONTRACT_LOAD, CONTRACT_INIT, CONTRACT_MISMATCH, STORAGE_IN_USE
 */
export async function runHostNode (files: string[], opts: HostNodeCommandOptions, out: Output): Promise<{ node: HostNode }> {
  if (files.length === 0 && !opts.acceptDeploys) throw VmsError.BAD_ARGUMENT('give a contract file, or --accept-deploys to host contracts others deploy')
  const sources = files.map((file) => readContract(file))
  const names = new Set<string>()
  for (const s of sources) {
    if (names.has(s.name)) throw VmsError.BAD_ARGUMENT(`two contracts named "${s.name}": rename one file`)
    names.add(s.name)
  }
  const existed = checkStorage(opts.storage)
  const probe = startProbe(opts, out, 'deployers and callers will not find this node')
  const node = new HostNode({ ...opts, runtime: runtimeFingerprint(), deploys: { ...opts.policy, acceptDeploys: !!opts.acceptDeploys } })
  try {
    await node.ready()
    for (const s of sources) await node.deploy(s.source, { name: s.name, limits: opts.limits, oracles: opts.oracles })
  } catch (err) {
    return await failedStart(err, { probe, node, storage: opts.storage, existed })
  }
  const dht = await probe.probe
  if (dht.ok) await node.listening
  const nodeKey = formatKey(node.swarm!.keyPair.publicKey)
  const contracts = [...node.contracts.values()].map((h) => summary(node, h))
  if (out.json) {
    out.object({
      event: 'ready',
      node: nodeKey,
      contracts,
      acceptDeploys: !!opts.acceptDeploys,
      registry: node.deployService ? formatKey(node.deployService.registry.core.key as Buffer) : null,
      storage: path.resolve(opts.storage),
      bootstrap: formatBootstrap(opts.bootstrap ?? []),
      dht: dht.dht,
      dhtNodes: dht.nodes,
      operator: node.identity.id
    })
  } else {
    out.line(`vms-node hosting ${contracts.length} ${contracts.length === 1 ? 'contract' : 'contracts'}${opts.acceptDeploys ? ', accepting deploys' : ''}`)
    out.line(`Node:     ${nodeKey}`)
    for (const c of contracts) out.line(`Contract: ${c.contract} "${c.name}" by ${c.deployer.slice(0, 8)}${c.deployed ? ' (deployed)' : ''}`)
    out.line(`Storage:  ${path.resolve(opts.storage)}`)
    out.line(`DHT:      ${dht.dht}${dht.ok ? '' : ' (no node answered)'}`)
    out.line('Waiting for calls. Ctrl+C to exit.')
  }
  const follow = (host: ContractHost): void => {
    const name = host.genesis.name
    host.on('call', ({ index, record }: { index: number, record: CallRecord }) => {
      const caller = formatKey(record.request.caller)
      const o = record.outcome
      if (out.json) out.object({ event: 'call', contract: formatKey(host.key), index, method: record.request.method, caller, ok: o.ok, error: o.error?.code ?? null })
      else out.line(`${name} #${index} ${record.request.method} by ${caller.slice(0, 8)} -> ${o.ok ? 'ok' : o.error?.message ?? 'error'}`)
    })
    host.on('warning', (err: Error) => out.note(`warning: ${name}: ${err.message}`))
  }
  for (const h of node.contracts.values()) follow(h)
  node.on('contract', (host: ContractHost) => {
    follow(host)
    const s = summary(node, host)
    if (out.json) out.object({ event: 'deploy', ...s })
    else out.line(`deployed "${s.name}" ${s.contract} by ${s.deployer.slice(0, 8)}`)
  })
  node.on('undeploy', (host: ContractHost) => {
    if (out.json) out.object({ event: 'undeploy', contract: formatKey(host.key), name: host.name })
    else out.line(`undeployed "${host.name}" ${formatKey(host.key)}`)
  })
  return { node }
}
