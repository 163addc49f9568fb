/**
 * Benchmark child: the raw pipeline of a signed, logged write call with no
 * RPC and no sandbox, as issue 6 defines `baseline`: for every group of
 * calls, verify each signature, put each call's file inside one
 * `drive.batch()`, then append all the call records in one log append.
 * Emits `{ event: 'result', callsPerSec, calls, seconds }` (calls/s, s).
 *
 * Config: `{ calls: number, group: number }` (defaults 20,000 and 64).
 */

import fs from 'node:fs'
import path from 'node:path'
import c from 'compact-encoding'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { RECORD_VERSION, logBlock, type CallRecord, type CallRequest } from '../protocol/index.js'
import { signCall, verifyCall } from '../src/caller.js'
import { keyPair, randomBytes } from '../src/crypto.js'
import { formatKey } from '../src/keys.js'
import { canonicalArgs } from '../src/json.js'
import { childIO, now, tempDir } from './bench-lib.js'

interface Config {
  calls?: number
  group?: number
}

const { config, emit } = childIO<Config>(() => {})
const calls = config.calls ?? 20_000
const group = config.group ?? 64

const dir = tempDir()
const store = new Corestore(path.join(dir, 'corestore'))
const log = store.get({ name: 'call-log' })
const drive = new Hyperdrive(store.namespace('files'))
await log.ready()
await drive.ready()
await log.append(Buffer.from('genesis'))
await drive.put('/.init', Buffer.alloc(0))

const contract = log.key as Buffer
const callers = [keyPair(), keyPair(), keyPair(), keyPair()]
const reqs: CallRequest[] = []
for (let i = 0; i < calls; i++) {
  const id = callers[i % callers.length]!
  reqs.push(signCall(id, contract, i + 1, 'rsvp', canonicalArgs([`guest-${i % 1000}`, true, 'bench'])))
}

const t0 = now()
for (let i = 0; i < calls; i += group) {
  const batch = drive.batch()
  const blocks: Uint8Array[] = []
  for (let j = i; j < Math.min(calls, i + group); j++) {
    const req = reqs[j]!
    if (!verifyCall(req)) throw new Error('signature does not verify')
    const filesBefore = batch.version
    const name = JSON.parse(req.args)[0] as string
    await batch.put(`/rsvps/${name}.json`, Buffer.from(JSON.stringify({ id: formatKey(req.caller), name, isAttending: true, reason: 'bench' })))
    const rec: CallRecord = {
      version: RECORD_VERSION,
      request: req,
      timestamp: Date.now(),
      seed: randomBytes(32),
      oracles: [],
      outcome: { ok: true, result: null, error: null, limit: null },
      filesBefore,
      filesAfter: batch.version,
      filesHash: Buffer.alloc(32)
    }
    blocks.push(c.encode(logBlock, { type: 'call', call: rec }))
  }
  await batch.flush()
  await log.append(blocks)
}
const seconds = (now() - t0) / 1000

emit({ event: 'result', callsPerSec: Math.round(calls / seconds), calls, seconds })
await drive.close()
await store.close()
fs.rmSync(dir, { recursive: true, force: true })
process.exit(0)
