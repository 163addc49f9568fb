// Inclusion proofs of log blocks in Hypercore's own Merkle tree: every block
// of every length proves under core.treeHash(length); a changed byte, a
// wrong node, a missing root or another length does not.

import test from 'brittle'
import Corestore from 'corestore'
import { proveBlock, verifyBlockProof } from '../src/log/block-proof.js'
import { randomBytes } from '../src/crypto.js'
import { tmpdir } from './helpers.js'

test('block proofs: every block of lengths 1..33 proves under Hypercore\'s tree hash; tampered proofs do not', async (t) => {
  const store = new Corestore(tmpdir(t))
  t.teardown(() => store.close())
  const core = store.get({ name: 'log' })
  await core.ready()
  let checked = 0
  let bad = 0
  for (let length = 1; length <= 33; length++) {
    await core.append(randomBytes(1 + (length * 7) % 50))
    const hash = await core.treeHash(length)
    for (let i = 0; i < length; i++) {
      const p = await proveBlock(core, i, length)
      if (!verifyBlockProof(p, length, hash)) bad++
      checked++
      if (i === (length >> 1)) {
        const flipped = Buffer.from(p.block)
        flipped[0] ^= 1
        if (verifyBlockProof({ ...p, block: flipped }, length, hash)) bad++
        if (p.uncles.length > 0 && verifyBlockProof({ ...p, uncles: p.uncles.slice(1) }, length, hash)) bad++
        if (p.roots.length > 1 && verifyBlockProof({ ...p, roots: p.roots.slice(0, -1) }, length, hash)) bad++
        if (verifyBlockProof({ ...p, index: (i + 1) % length }, length, hash) && length > 1) bad++
        if (length > 1 && verifyBlockProof(p, length - 1, await core.treeHash(length - 1))) bad++
      }
    }
  }
  t.is(bad, 0, `${checked} proofs checked, tampered ones rejected`)
  // a reply may be proven at a root older than the log (the next group appended meanwhile)
  let old = 0
  for (let length = 1; length <= 33; length += 4) {
    const hash = await core.treeHash(length)
    for (let i = 0; i < length; i += 3) if (!verifyBlockProof(await proveBlock(core, i, length), length, hash)) old++
  }
  t.is(old, 0, 'proofs at older lengths of a longer log verify')
  await t.exception(proveBlock(core, 5, 34), /BAD_ARGUMENT/, 'no proof past the log')
})
