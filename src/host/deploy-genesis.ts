/**
 * The first block of a newly deployed contract: its files drive is
 * created, then the genesis record naming that drive, the source's hash and
 * the log's signer is appended (block 0, protocol/messages.ts).
 */

import { RECORD_VERSION } from '../../protocol/index.js'
import type { GenesisRecord } from '../../protocol/index.js'
import { hash } from '../crypto.js'
import { VmsError } from '../errors.js'
import type { ContractLog } from '../log/contract-log.js'

/** What the deploy decides; {@link writeGenesis} adds the rest (hashes, keys, versions, time). */
export type GenesisFields = Pick<GenesisRecord, 'name' | 'source' | 'deployer' | 'runtime' | 'limits' | 'oracles' | 'deployRequest'>

/**
 * Creates the files drive of an empty, writable `log` and appends its genesis record.
 * @param fields the deploy's choices; `deployRequest` (32-byte hash) only for a contract deployed by request
 * @returns the genesis record as written
 * @throws VmsError INTERNAL when the log or its files drive is not writable
 */
export async function writeGenesis (log: ContractLog, fields: GenesisFields): Promise<GenesisRecord> {
  const { name, source, deployer, runtime, limits, oracles, deployRequest } = fields
  const filesVersion = await log.initFiles()
  const kp = log.core.keyPair
  if (!log.drive?.key || !kp) throw VmsError.INTERNAL('log or files not writable')
  const genesis: GenesisRecord = {
    version: RECORD_VERSION,
    name,
    source,
    sourceHash: hash(Buffer.from(source)),
    files: log.drive.key,
    filesVersion,
    deployer,
    signer: kp.publicKey,
    runtime,
    limits,
    oracles,
    createdAt: Date.now(),
    ...(deployRequest !== undefined ? { deployRequest } : {})
  }
  await log.create(genesis)
  return genesis
}
