/**
 * Block 0 of a watched log, read and judged: decoded (contract-log.ts) and
 * checked against the log's manifest signer and what the watcher expects
 * (audit.ts `checkGenesis`).
 */

import type { GenesisRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { decodeBlock, type ContractLog } from '../log/contract-log.js'
import { checkGenesis, type ExpectedContract, type FaultDraft } from './audit.js'

/** Block 0: its bytes, the record (null when it does not decode) and the fault draft against it (null: it passes). */
export interface GenesisRead { raw: Buffer, genesis: GenesisRecord | null, draft: FaultDraft | null }

/**
 * Reads and checks block 0 of `log`.
 * @param wait Hypercore get options (wait, timeout ms)
 * @throws VmsError BAD_RECORD when block 0 is not available; REQUEST_TIMEOUT as Hypercore's get
 */
export async function readGenesis (log: ContractLog, wait: { wait: boolean, timeout?: number }, expected?: ExpectedContract): Promise<GenesisRead> {
  const raw = await log.core.get(0, wait)
  if (!raw) throw VmsError.BAD_RECORD('block 0 is not available')
  let g: GenesisRecord
  try {
    const b = decodeBlock(raw, 0)
    if (b.type !== 'genesis') throw VmsError.BAD_RECORD('block 0 is not a genesis record')
    g = b.genesis
  } catch (err) {
    // the host's bytes: whatever decoding them throws is the host's malformed genesis
    return { raw, genesis: null, draft: { kind: 'malformed', message: (err as Error).message, expected: {}, observed: {} } }
  }
  const manifest = log.core.manifest
  const signer = manifest && manifest.signers && manifest.signers.length === 1 ? manifest.signers[0]!.publicKey ?? null : null
  return { raw, genesis: g, draft: checkGenesis(g, signer, expected) }
}
