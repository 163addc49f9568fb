// The private Holepunch fields vms-node touches (src/log/holepunch-internals.ts)
// are where it expects them in the installed versions. An upgrade of
// hypercore, hyperbee or hyperdrive that moves one fails here, naming it,
// instead of silently sending drive groups or proofs down a slower path.

import test from 'brittle'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import type Hypercore from 'hypercore'
import flat from 'flat-tree'
import { batchMissingNodes, checkCore, checkDrive, checkDriveBatch, checkPeers, coreRoots, driveBatchBee, hyperbeeMessages, loadedBlobsCore, missingNodesInBatches, readTreeNodes, releaseClosedSession, replicationPeers } from '../src/log/holepunch-internals.js'
import { currentRoots, treeHashOf } from '../src/log/merkle.js'
import { groupsAppendOnce, makeEager } from '../src/log/bee-eager.js'
import { tmpdir, type T } from './helpers.js'

/** A ready Hyperdrive on a fresh Corestore in a temporary folder, closed (drive, then store) at teardown. */
async function openDrive (t: T): Promise<Hyperdrive> {
  const store = new Corestore(path.join(tmpdir(t), 'store'))
  const drive = new Hyperdrive(store.namespace('files'))
  await drive.ready()
  t.teardown(async () => {
    await drive.close()
    await store.close()
  })
  return drive
}

test('holepunch internals: hypercore core.state (roots, tree storage) and replicator are where they were', async (t) => {
  const store = new Corestore(path.join(tmpdir(t), 'store'))
  t.teardown(() => store.close())
  const core = store.get({ name: 'log' })
  await core.ready()
  await core.append([Buffer.from('a'), Buffer.from('bc'), Buffer.from('def')])
  await checkCore(core)
  const roots = coreRoots(core)
  t.ok(roots && roots.length > 0, 'roots readable')
  t.alike(treeHashOf(currentRoots(core)!), await core.treeHash(), 'roots give the core tree hash')
  const [leaf] = await readTreeNodes(core, [0])!
  t.is(leaf!.size, 1, 'a stored leaf node reads back')
})

test('holepunch internals: hyperdrive batch.db and the hyperbee batch hooks are where they were', async (t) => {
  const drive = await openDrive(t)
  t.ok(hyperbeeMessages(), 'hyperbee block codecs load')
  const batch = drive.batch()
  checkDriveBatch(batch)
  const raws: Uint8Array[] = []
  t.ok(makeEager(driveBatchBee(batch), raws), 'a drive batch can be made eager')
  await batch.put('/a', Buffer.from('x'))
  await batch.put('/b', Buffer.from('y'))
  t.is(raws.length, 2, 'every block encoded as it was made')
  await batch.flush()
  t.ok(groupsAppendOnce(), 'groups still append once')
  t.alike(await drive.get('/b'), Buffer.from('y'), 'the eager blocks read back')
})

test('holepunch internals: a moved field is a clear INTERNAL error naming the module', async (t) => {
  const fake = { length: 1, state: { length: 1 } } as unknown as Hypercore
  await t.exception(() => checkCore(fake), /INTERNAL: hypercore 11\.37\.1 moved core\.state\.roots/)
  t.is(coreRoots(fake), null, 'the hot-path helper returns null instead')
  t.exception(() => checkDriveBatch({}), /INTERNAL: hyperdrive \S+ moved batch\.db/)
})

test('holepunch internals: hyperdrive drive.blobs is where it was', async (t) => {
  const drive = await openDrive(t)
  await drive.put('/a', Buffer.from('xyz'))
  await checkDrive(drive)
  t.is(loadedBlobsCore(drive)!.byteLength, 3, 'the loaded blobs core counts the file bytes')
})

/** A core of `blocks` on one store and an empty replica of it on another, replicating; both stores closed at teardown. */
async function replicaPair (t: T, blocks: Buffer[]): Promise<{ core: Hypercore, replica: Hypercore }> {
  const a = new Corestore(path.join(tmpdir(t), 'a'))
  const b = new Corestore(path.join(tmpdir(t), 'b'))
  t.teardown(async () => {
    await a.close()
    await b.close()
  })
  const core = a.get({ name: 'log' })
  await core.ready()
  await core.append(blocks)
  const replica = b.get({ key: core.key! })
  await replica.ready()
  const s1 = a.replicate(true) as NodeJS.ReadWriteStream
  const s2 = b.replicate(false) as NodeJS.ReadWriteStream
  s1.pipe(s2).pipe(s1)
  return { core, replica }
}

test('holepunch internals: hypercore replication peers have remoteContiguousLength', async (t) => {
  const { core, replica } = await replicaPair(t, [Buffer.from('a'), Buffer.from('b')])
  await replica.get(0)
  await replica.get(1)
  while (replicationPeers(core)[0]?.remoteContiguousLength !== 2) await new Promise((resolve) => setTimeout(resolve, 20))
  checkPeers(core)
  t.is(replicationPeers(core)[0].remoteContiguousLength, 2, 'the host sees the replica\'s whole copy')
})

test('holepunch internals: a closed hypercore session lets go of its core and state', async (t) => {
  const store = new Corestore(path.join(tmpdir(t), 'store'))
  t.teardown(() => store.close())
  const core = store.get({ name: 'log' })
  await core.ready()
  await core.append(Buffer.from('a'))
  t.absent(releaseClosedSession(core), 'an open session is left alone')
  t.is(core.length, 1)
  await core.close()
  t.ok(releaseClosedSession(core), 'core and state are where they were')
  t.is(core.length, 0, 'getters answer as before the open')
  t.is(core.key, null)
  t.alike(core.peers, [])
  const again = store.get({ name: 'log' })
  await again.ready()
  t.is(again.length, 1, 'the core reopens with its data')
  await again.close()
})

test('holepunch internals: missingNodes read in batches gives what one read per level gives, on a partial replica', async (t) => {
  const length = 300
  const { replica } = await replicaPair(t, Array.from({ length }, (_, i) => Buffer.from('block ' + i)))
  // a replica holding scattered blocks and runs: its stored tree has holes of every size
  const held = [0, 1, 2, 7, 8, 9, 10, 11, 12, 13, 14, 15, 40, 63, 64, 100, 101, 150, 199, 255, 256, 290, 299]
  for (const i of held) await replica.get(i)
  const state = (replica as unknown as { state: { storage: { read (): { hasTreeNode (i: number): Promise<boolean>, tryFlush (): void } } } }).state
  // Hypercore 11.37.1's own loop, one read batch per level
  const reference = async (index: number, len: number): Promise<number> => {
    const head = 2 * len
    const ite = flat.iterator(index)
    if (ite.index + ite.factor / 2 - 1 >= head) return 0
    let cnt = 0
    for (;;) {
      if (ite.contains(head)) return cnt
      const rx = state.storage.read()
      const has = rx.hasTreeNode(ite.index)
      rx.tryFlush()
      if (await has) return cnt
      cnt++
      ite.parent()
    }
  }
  let differ = 0
  let nonzero = 0
  for (let i = 0; i < 2 * length + 40; i++) {
    for (const len of [replica.length, 150, 1]) {
      const want = await reference(i, len)
      if (want > 0) nonzero++
      if (await missingNodesInBatches(state, i, len) !== want) differ++
    }
  }
  t.is(differ, 0, 'the same count for every tree index, at three lengths')
  t.ok(nonzero > 100, 'the replica misses nodes at many places (' + nonzero + ')')
  t.ok(batchMissingNodes(), 'Hypercore\'s missingNodes is where it was')
  let viaCore = 0
  for (let i = 0; i < length; i++) if (await replica.missingNodes(i) !== await reference(2 * i, replica.length)) viaCore++
  t.is(viaCore, 0, 'Hypercore itself now answers the same through it')
  await replica.get(5)
  t.is(await replica.missingNodes(5), 0, 'a block just downloaded needs no nodes')
})
