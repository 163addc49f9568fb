/**
 * `vms-node contracts <node key>`: what a node hosts (contract, name,
 * deployer, log length), checked against its signed registry log.
 */

import { formatKey } from '../keys.js'
import { NodeClient, type NodeClientOptions } from '../deploy-client.js'
import type { Output } from './output.js'

/**
 * Prints the node's contracts (`--json`: `{"node","registry":{key,length},"contracts":[{contract,name,deployer,length,deployed}]}`).
 * @throws VmsError REGISTRY_MISMATCH (listing and registry differ), BAD_RECORD, NOT_FOUND, BAD_KEY
 */
export async function runContracts (nodeKey: string, opts: NodeClientOptions, out: Output): Promise<void> {
  const node = await NodeClient.connect(nodeKey, opts)
  try {
    const v = await node.contracts()
    const contracts = v.contracts.map((l) => ({ contract: formatKey(l.contract), name: l.name, deployer: formatKey(l.deployer), length: l.length, deployed: l.deployed }))
    if (out.json) out.object({ node: formatKey(node.nodeKey), registry: { key: formatKey(v.registry.key), length: v.registry.length }, contracts })
    else {
      out.line(`Node ${formatKey(node.nodeKey)}: ${contracts.length} ${contracts.length === 1 ? 'contract' : 'contracts'} (registry log: ${v.registry.length} ${v.registry.length === 1 ? 'block' : 'blocks'}, checked)`)
      for (const c of contracts) out.line(`${c.contract}  ${c.name}  by ${c.deployer}${c.deployed ? '' : ' (operator)'}  ${c.length} blocks`)
    }
  } finally {
    await node.close()
  }
}
