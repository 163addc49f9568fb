/**
 * Benchmark child: the raw pipeline of a signed, logged write call with no
 * RPC and no sandbox, as issue 6 defines `baseline`: for every group of
 * calls, verify each signature, put each call's file inside one
 * `drive.batch()`, then append all the call records in one log append.
 * Emits `{ event: 'result', callsPerSec, calls, seconds, naive }` (calls/s, s).
 *
 * With `naive: true` it is the `naive` figure instead: the seeds' own 2017
 * design, one call at a time, each call's signature check, drive write (a
 * Hyperdrive `put` of its own) and log append (one record) awaited in turn,
 * no group commit; the same requests and files as the write section.
 *
 * Config: `{ calls: number, group: number, naive?: boolean }` (defaults 20,000, 64, false).
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
  naive?: boolean
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

/** The call record of `req`, as the host writes it, encoded as a log block. */
function recordBlock (req: CallRequest, filesBefore: number, filesAfter: number): Uint8Array {
  const rec: CallRecord = {
    version: RECORD_VERSION,
    request: req,
    timestamp: Date.now(),
    seed: randomBytes(32),
    oracles: [],
    outcome: { ok: true, result: null, error: null, limit: null },
    filesBefore,
    filesAfter,
    filesHash: Buffer.alloc(32)
  }
  return c.encode(logBlock, { type: 'call', call: rec })
}

/** The file the benchmark contract's `rsvp` writes for `req`: path and bytes. */
function rsvpFile (req: CallRequest): [string, Buffer] {
  const name = JSON.parse(req.args)[0] as string
  return [`/rsvps/${name}.json`, Buffer.from(JSON.stringify({ id: formatKey(req.caller), name, isAttending: true, reason: 'bench' }))]
}

const t0 = now()
for (let i = 0; config.naive && i < calls; i++) {
  const req = reqs[i]!
  if (!verifyCall(req)) throw new Error('signature does not verify')
  const filesBefore = drive.version
  const [file, bytes] = rsvpFile(req)
  await drive.put(file, bytes)
  await log.append(recordBlock(req, filesBefore, drive.version))
}
for (let i = 0; !config.naive && i < calls; i += group) {
  const batch = drive.batch()
  const blocks: Uint8Array[] = []
  for (let j = i; j < Math.min(calls, i + group); j++) {
    const req = reqs[j]!
    if (!verifyCall(req)) throw new Error('signature does not verify')
    const filesBefore = batch.version
    const [file, bytes] = rsvpFile(req)
    await batch.put(file, bytes)
    blocks.push(recordBlock(req, filesBefore, batch.version))
  }
  await batch.flush()
  await log.append(blocks)
}
const seconds = (now() - t0) / 1000

emit({ event: 'result', callsPerSec: Math.round(calls / seconds), calls, seconds, naive: config.naive ?? false })
await drive.close()
await store.close()
fs.rmSync(dir, { recursive: true, force: true })
process.exit(0)
