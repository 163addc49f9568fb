// Replays read the log and the drive ahead in storage batches, and every
// checkout of a drive's fork looks its index nodes up in one shared cache
// (replay/replay-ahead.ts, replay/checkouts.ts). Neither may change what a
// replayed call reads.

import test from 'brittle'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { readLocalBlocks } from '../src/log/local-blocks.js'
import { Checkouts } from '../src/replay/checkouts.js'
import { replayRange } from '../src/replay/replay.js'
import { createSandbox } from '../src/runtime/sandbox.js'
import { example, tmpdir } from './helpers.js'
import { localHost } from './local-helpers.js'

test('a replay of many chunks reads each call at its own version, its records from storage batches', async (t) => {
  const h = await localHost(t, example('persistent-counter-fixed.js'))
  const results: unknown[] = []
  for (let i = 0; i < 300; i++) results.push(Number((await h.call('increment')).outcome.result))
  t.alike(results, Array.from({ length: 300 }, (_, i) => i + 1), 'the host counted')

  const log = h.host.log
  let gets = 0
  const get = log.core.get.bind(log.core)
  log.core.get = (async (...args: Parameters<typeof get>) => { gets++; return await get(...args) }) as typeof get
  t.teardown(() => { log.core.get = get })

  const sandbox = await createSandbox(h.host.genesis.source, { limits: h.host.genesis.limits })
  t.teardown(() => sandbox.close())
  const stats = await replayRange(sandbox, log, 1, log.length)
  t.is(stats.replayed, 300)
  t.alike(stats.mismatches, [], 'every replayed call read the counter its record says it read')
  t.is(gets, 0, 'no record was read one block at a time')
})

test('attack: a drive truncated and rewritten under a replay: no checkout of the new fork reads a node of the old one', async (t) => {
  const store = new Corestore(tmpdir(t))
  t.teardown(() => store.close())
  const drive = new Hyperdrive(store)
  await drive.ready()
  t.teardown(() => drive.close())
  await drive.put('/a', Buffer.from('a'))
  await drive.put('/b', Buffer.from('old'))
  const v = drive.version
  const checkouts = new Checkouts(drive)
  t.teardown(() => checkouts.close())

  // the read-ahead of a replay at the old fork fills the cache with every block
  const oldFork = drive.core.fork
  const idx = Array.from({ length: drive.core.length }, (_, i) => i)
  const oldBlocks = (await readLocalBlocks(drive.core, idx)) as Buffer[]
  checkouts.cacheNodes(oldFork, 0, oldBlocks)
  t.is(String(await checkouts.at(v).get('/b')), 'old', 'the old fork reads its own value')

  // the host rewrites its last block: same index, another node (another file)
  await drive.truncate(v - 1)
  await drive.put('/c', Buffer.from('new'))
  t.is(drive.version, v, 'the rewritten drive has the old version number')
  t.not(drive.core.fork, oldFork, 'on another fork')

  // a read-ahead started at the old fork lands after the truncation: dropped
  checkouts.cacheNodes(oldFork, 0, oldBlocks)
  const fresh = new Checkouts(drive)
  t.teardown(() => fresh.close())
  t.is(String(await fresh.at(v).get('/c')), 'new', 'a new checkout reads the new fork')
  await checkouts.close()
  const after = checkouts.at(v)
  t.is(await after.entry('/b'), null, 'the same cache owner, asked again after the fork, does not see the old fork\'s file')
  t.is(String(await after.get('/c')), 'new', 'and reads the new fork\'s')
})
