// Golden vectors of the wire format: every codec in protocol/ encodes its
// sample (test/protocol-samples.ts) to exactly the bytes recorded in
// test/protocol-vectors.hex.ts, and decodes them back to a value that encodes
// the same again. Stored logs, signatures and peers of other versions depend
// on these bytes; an upgrade of compact-encoding or an edit of a codec that
// changes one fails here.

import test from 'brittle'
import c from 'compact-encoding'
import { LIMITS_EXTENSION_DEFAULTS, genesisRecord, limitsExtension, type GenesisRecord } from '../protocol/index.js'
import { SAMPLES, SIGNABLES } from './protocol-samples.js'
import { VECTORS } from './protocol-vectors.hex.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

test('protocol vectors: every codec writes the recorded bytes and reads them back', (t) => {
  for (const [name, { enc, value }] of Object.entries(SAMPLES)) {
    const want = VECTORS[name]
    t.ok(want, `${name}: has a vector`)
    t.is(hex(c.encode(enc, value)), want, `${name}: encodes to the vector`)
    t.is(hex(c.encode(enc, c.decode(enc, Buffer.from(want!, 'hex')))), want, `${name}: decodes to what encodes the same`)
  }
})

test('protocol vectors: the signed byte strings are the recorded ones', (t) => {
  for (const [name, bytes] of Object.entries(SIGNABLES)) t.is(hex(bytes()), VECTORS[name], name)
})

test('protocol vectors: a genesis without its trailing extensions (an older log) decodes with the default limits', (t) => {
  const full = Buffer.from(VECTORS.genesisRecord!, 'hex')
  const sample = SAMPLES.genesisRecord!.value as GenesisRecord
  const ext = c.encode(limitsExtension, sample.limits).byteLength
  const old = c.decode(genesisRecord, full.subarray(0, full.byteLength - ext)) as GenesisRecord
  t.alike({ ...old.limits }, { ...sample.limits, ...LIMITS_EXTENSION_DEFAULTS }, 'limits extension defaulted')
  t.absent(old.deployRequest, 'no deploy request')
})
