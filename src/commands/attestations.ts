/**
 * `vms-node attestations <key>`: who attested what about a contract, up to
 * which length, with which verdict, as gossiped by the peers of that
 * contract (collected for `--wait` ms after connecting).
 */

import type { ClientOptions } from '../client.js'
import { connectClient } from './call.js'
import { VERDICT_OK, VERDICT_EQUIVOCATION, type Attestation } from '../../protocol/index.js'
import { formatKey } from '../keys.js'
import type { Output } from './output.js'

/** JSON form of an attestation for people and scripts (keys z-base32, hashes hex). */
export function attestationJSON (a: Attestation): Record<string, unknown> {
  return {
    contract: formatKey(a.contract),
    watcher: formatKey(a.watcher),
    verdict: a.verdict === VERDICT_OK ? 'ok' : a.verdict === VERDICT_EQUIVOCATION ? 'equivocation' : 'fault',
    length: a.length,
    fork: a.fork,
    treeHash: Buffer.from(a.treeHash).toString('hex'),
    filesVersion: a.filesVersion,
    trusted: a.trusted,
    runtime: a.runtime,
    time: a.time,
    fault: a.fault ? { kind: a.fault.kind, index: a.fault.index, cause: a.fault.cause, message: a.fault.message, evidence: JSON.parse(a.fault.evidence) } : null
  }
}

/**
 * Connects, waits `wait` ms for gossip to catch up, prints every watcher's
 * latest attestation and every verified fault.
 * @returns the attestations printed
 */
export async function runAttestations (key: string, opts: ClientOptions & { wait: number }, out: Output): Promise<Attestation[]> {
  const client = await connectClient(key, opts)
  try {
    await new Promise((resolve) => setTimeout(resolve, opts.wait))
    const list = [...client.attestations.latest(client.key), ...client.attestations.faults(client.key).filter((f) => !client.attestations.latest(client.key).includes(f))]
    if (out.json) {
      out.object({ contract: formatKey(client.key), length: client.info.length, attestations: list.map(attestationJSON) })
    } else {
      out.line(`Contract ${formatKey(client.key)}: log length ${client.info.length}, ${list.length} attestation(s)`)
      for (const a of list) {
        const j = attestationJSON(a)
        const fault = a.fault ? `  ${a.fault.kind} at block ${a.fault.index} (${a.fault.cause}): ${a.fault.message}` : ''
        out.line(`  ${String(j.verdict).padEnd(12)} up to ${String(a.length).padStart(6)}  by ${(j.watcher as string).slice(0, 12)}  ${new Date(a.time).toISOString()}${fault}`)
      }
    }
    return list
  } finally {
    await client.close()
  }
}
