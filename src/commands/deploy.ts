/**
 * `vms-node deploy <contract.js> --to <node key>` and
 * `vms-node undeploy <contract key> --to <node key>`: public hosting, the
 * deployer's side (deploy-client.ts).
 */

import { formatKey } from '../keys.js'
import { NodeClient, type NodeClientOptions } from '../deploy-client.js'
import type { Limits } from '../runtime/types.js'
import type { Output } from './output.js'
import { readContract } from './host-start.js'

/** Options for {@link runDeploy}. */
export interface DeployCommandOptions extends NodeClientOptions {
  to: string
  /** Contract name (default: the file name without extension). */
  name?: string
  limits?: Partial<Limits>
  oracles?: boolean
}

/**
 * Deploys a file onto the node `opts.to` and prints the contract and files
 * keys (`--json`: `{"contract":...,"files":...,"node":...,"deployer":...,"request":...}`).
 * @throws VmsError BAD_ARGUMENT (no such file), BAD_KEY, NOT_FOUND, and what the node refuses with
 *   (DEPLOY_REFUSED, DEPLOY_QUOTA, DEPLOY_RATE, LIMITS_TOO_HIGH, CONTRACT_LOAD, CONTRACT_INIT)
 */
export async function runDeploy (file: string, opts: DeployCommandOptions, out: Output): Promise<{ contract: string, files: string }> {
  const { source, name } = readContract(file, opts.name)
  const node = await NodeClient.connect(opts.to, opts)
  try {
    const d = await node.deploy(source, { name, limits: opts.limits, oracles: opts.oracles })
    const res = { contract: formatKey(d.contract), files: formatKey(d.files), name, node: formatKey(node.nodeKey), deployer: node.identity.id, request: d.request.toString('hex') }
    if (out.json) out.object(res)
    else {
      out.line(`Deployed "${name}" onto ${res.node}`)
      out.line(`Contract: ${res.contract}`)
      out.line(`Files:    ${res.files}`)
      out.line(`Deployer: ${res.deployer}`)
    }
    return res
  } finally {
    await node.close()
  }
}

/**
 * Asks the node `opts.to` to stop hosting `contract` (signed by the identity:
 * the deployer, or the node key file for the operator).
 * @throws VmsError NOT_DEPLOYER, NOT_FOUND, BAD_KEY
 */
export async function runUndeploy (contract: string, opts: NodeClientOptions & { to: string, delete?: boolean }, out: Output): Promise<void> {
  const node = await NodeClient.connect(opts.to, opts)
  try {
    await node.undeploy(contract, { delete: opts.delete })
    if (out.json) out.object({ undeployed: contract, node: formatKey(node.nodeKey), deleted: !!opts.delete })
    else out.line(`Undeployed ${contract}${opts.delete ? ' (log and files deleted)' : ''}`)
  } finally {
    await node.close()
  }
}
