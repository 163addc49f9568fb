// Group commit of the files drive (src/log/drive-group.ts): the writes of
// many calls in one blobs append and one database append must give exactly
// the blocks that one drive batch per call gives, so that every version in
// the middle of a group is a valid checkout, with the same tree hashes.

import test from 'brittle'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { DriveCommitter } from '../src/log/drive-committer.js'
import { applyWrites, DriveFiles } from '../src/log/drive-files.js'
import type { FileOp } from '../src/runtime/types.js'
import { tmpdir } from './helpers.js'
import type { T } from './helpers.js'

async function openDrive (t: T, name: string): Promise<Hyperdrive> {
  const store = new Corestore(path.join(tmpdir(t), name))
  const drive = new Hyperdrive(store.namespace('files'))
  await drive.ready()
  await drive.put('/.vms-init', Buffer.alloc(0))
  await drive.del('/.vms-init')
  t.teardown(async () => {
    await drive.close()
    await store.close()
  })
  return drive
}

/** A deterministic mix of calls: new files, overwrites, dirs, deletes, empty and multi-block files. */
function calls (n: number): FileOp[][] {
  const out: FileOp[][] = []
  for (let i = 0; i < n; i++) {
    const ops: FileOp[] = []
    const k = i % 7
    if (k === 0) ops.push({ op: 'mkdir', path: `/d${i % 3}` })
    if (k === 1) ops.push({ op: 'put', path: `/d${i % 3}/f${i % 5}.json`, data: Buffer.from(JSON.stringify({ i })) })
    if (k === 2) ops.push({ op: 'put', path: `/f${i % 11}`, data: Buffer.alloc(0) })
    if (k === 3) ops.push({ op: 'del', path: `/f${(i + 3) % 11}` }, { op: 'del', path: '/never-there' })
    if (k === 4) ops.push({ op: 'put', path: `/big${i % 2}`, data: Buffer.alloc(70_000 + i, i % 251) })
    if (k === 5) ops.push({ op: 'put', path: `/f${i % 11}`, data: Buffer.from('x' + i) }, { op: 'put', path: `/g${i}`, data: Buffer.from('y') })
    // k === 6: a call that writes nothing
    out.push(ops)
  }
  return out
}

const PROBES = ['/', '/d0', '/d1', '/d2', '/d0/f1.json', '/d1/f1.json', '/f3', '/f4', '/big0', '/big1', '/g5', '/nope', '/d0/nope']

async function blocks (core: Hyperdrive['core']): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < core.length; i++) out.push((await core.get(i) as Buffer).toString('hex'))
  return out
}

async function listing (drive: Hyperdrive): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {}
  for await (const e of drive.list('/', { recursive: true })) {
    out[e.key] = e.value.blob ? (await drive.get(e.key) as Buffer).toString('hex') : 'dir'
  }
  return out
}

test('drive group: same blocks as one batch per call, every version a checkout, tree hashes right', async (t) => {
  const plain = await openDrive(t, 'plain')
  const grouped = await openDrive(t, 'grouped')
  const all = calls(60)
  const plainVersions = await batchPerCall(plain, all)

  // one database append per op: what the eager group encoding must reproduce byte for byte
  const unbatched = await openUnbatched(t, 'unbatched', all)

  const committer = new DriveCommitter(grouped)
  const groupedVersions: number[] = []
  const hashes = new Map<number, Buffer>()
  const mismatches: string[] = []
  for (let g = 0; g < all.length; g += 13) {
    const group = committer.begin()
    const seen: number[] = []
    for (const ops of all.slice(g, g + 13)) {
      await group.apply(ops)
      seen.push(group.version)
      // what the next call reads must be what one batch per call left
      const co = plain.checkout(plainVersions[groupedVersions.length + seen.length - 1]!)
      const want = new DriveFiles(co)
      for (const probe of PROBES) {
        const read = probe !== '/' // the runtime never reads the root
        const same = JSON.stringify([await group.view.stat(probe), read && await group.view.read(probe)]) === JSON.stringify([await want.stat(probe), read && await want.read(probe)])
        if (!same) mismatches.push(`${probe} after call ${groupedVersions.length + seen.length - 1}`)
      }
      await co.close()
    }
    await group.flush()
    for (const v of seen) hashes.set(v, await group.hashAt(v))
    groupedVersions.push(...seen)
  }
  t.alike(committer.stats, { groups: 5, perCall: 0, slowHashes: 0 }, 'one append per group, hashes computed from the blocks')
  t.alike(mismatches, [], 'the group view (cached, pending) reads like the drive at every call')
  t.alike(groupedVersions, plainVersions, 'the same version after every call')
  t.alike(await blocks(grouped.core), await blocks(unbatched.core), 'byte-identical database blocks (as one put after another)')
  const pb = await plain.getBlobs()
  const gb = await grouped.getBlobs()
  if (pb === null || gb === null) throw new Error('both drives have blobs after their writes')
  t.alike(await blocks(gb.core), await blocks(pb.core), 'byte-identical blob blocks')
  t.alike(await grouped.core.treeHash(), await unbatched.core.treeHash(), 'same tree hash as one put after another')

  let bad = 0
  for (const v of new Set(plainVersions)) {
    const h = await grouped.core.treeHash(v)
    if (!h.equals(hashes.get(v)!)) bad++
    const a = plain.checkout(v)
    const b = grouped.checkout(v)
    const same = JSON.stringify(await listing(a)) === JSON.stringify(await listing(b))
    await a.close()
    await b.close()
    if (!same) bad++
  }
  t.is(bad, 0, 'every version reads the same, and its tree hash is the one the group gave')
})

test('drive group: the next call reads the writes of the earlier calls of its group', async (t) => {
  const drive = await openDrive(t, 'reads')
  await drive.put('/old', Buffer.from('old'))
  const group = new DriveCommitter(drive).begin()
  await group.apply([{ op: 'mkdir', path: '/dir' }, { op: 'put', path: '/dir/a', data: Buffer.from('A') }])
  await group.apply([{ op: 'put', path: '/big', data: Buffer.alloc(150_000, 7) }, { op: 'del', path: '/old' }])
  const view = group.view
  t.alike(await view.read('/dir/a'), Buffer.from('A'))
  t.alike(await view.read('/big'), Buffer.alloc(150_000, 7), 'a staged multi-block blob')
  t.is(await view.read('/old'), null, 'a deleted file')
  t.alike(await view.stat('/dir'), { type: 'directory', size: 0 })
  t.alike(await view.readdir('/'), ['big', 'dir'])
  t.is(drive.version, group.startVersion, 'nothing reached the drive before flush')
  await group.flush()
  t.alike(await new DriveFiles(drive).read('/big'), Buffer.alloc(150_000, 7), 'flushed')
  t.alike(await group.view.read('/dir/a'), Buffer.from('A'), 'the view reads the drive after flush')
})

test('drive group: cached reads follow every change (implicit directories, deletes, later groups)', async (t) => {
  const drive = await openDrive(t, 'cache')
  const committer = new DriveCommitter(drive)
  let g = committer.begin()
  await g.apply([{ op: 'put', path: '/imp/a', data: Buffer.from('a') }, { op: 'mkdir', path: '/exp' }])
  t.alike(await g.view.stat('/imp'), { type: 'directory', size: 0 }, 'implied by a pending put')
  await g.flush()

  g = committer.begin()
  t.alike(await g.view.stat('/imp'), { type: 'directory', size: 0 }, 'implied by a flushed file')
  t.alike(await g.view.read('/imp/a'), Buffer.from('a'))
  t.alike(await g.view.read('/imp/a'), Buffer.from('a'), 'again (cached)')
  t.is(await g.view.stat('/nothing'), null)
  await g.apply([{ op: 'del', path: '/imp/a' }, { op: 'put', path: '/nothing/x', data: Buffer.alloc(0) }])
  t.is(await g.view.stat('/imp'), null, 'a pending delete of its only file')
  t.is(await g.view.read('/imp/a'), null)
  t.alike(await g.view.stat('/nothing'), { type: 'directory', size: 0 }, 'a cached absence then a pending put below')
  t.alike(await g.view.stat('/nothing/x'), { type: 'file', size: 0 })
  await g.flush()

  g = committer.begin()
  t.is(await g.view.stat('/imp'), null, 'after the flush')
  t.is(await g.view.read('/imp/a'), null)
  t.alike(await g.view.stat('/nothing'), { type: 'directory', size: 0 })
  t.alike(await g.view.read('/nothing/x'), Buffer.alloc(0), 'an empty file')
  await g.apply([{ op: 'rmdir', path: '/exp' }])
  t.is(await g.view.stat('/exp'), null, 'a pending rmdir')
  await g.discard()
  t.alike(await committer.begin().view.stat('/exp'), { type: 'directory', size: 0 }, 'a discarded group changed nothing')
})

test('drive group: writes applied without waiting are read by the next call at once; versions are known after the flush', async (t) => {
  const plain = await openDrive(t, 'plain-soon')
  const grouped = await openDrive(t, 'grouped-soon')
  const all = calls(40)
  const plainVersions = await batchPerCall(plain, all)
  const committer = new DriveCommitter(grouped)
  const mismatches: string[] = []
  const versions: number[] = []
  let n = 0
  for (let g = 0; g < all.length; g += 9) {
    const group = committer.begin()
    const ks: number[] = []
    for (const ops of all.slice(g, g + 9)) {
      ks.push(await group.applySoon(ops))
      const co = plain.checkout(plainVersions[n++]!)
      const want = new DriveFiles(co)
      for (const probe of PROBES) {
        const read = probe !== '/'
        const same = JSON.stringify([await group.view.stat(probe), read && await group.view.read(probe)]) === JSON.stringify([await want.stat(probe), read && await want.read(probe)])
        if (!same) mismatches.push(`${probe} after call ${n - 1}`)
      }
      await co.close()
    }
    await group.flush()
    for (const k of ks) {
      const v = group.versionsOf(k)
      versions.push(v.after)
      if (!(await group.hashAt(v.after)).equals(await grouped.core.treeHash(v.after))) mismatches.push(`hash at ${v.after}`)
    }
  }
  t.alike(mismatches, [], 'reads right after each call, tree hashes right')
  t.alike(versions, plainVersions, 'the same version after every call')
  t.alike(await blocks(grouped.core), await blocks((await openUnbatched(t, 'unbatched-soon', all)).core), 'the same blocks as one put after another')
})

/** A drive with `all` written one put after another (one database append per op). */
async function openUnbatched (t: T, name: string, all: FileOp[][]): Promise<Hyperdrive> {
  const d = await openDrive(t, name)
  for (const ops of all) await applyWrites(d, ops)
  return d
}

/** Writes each call of `all` in its own drive batch. @returns the drive version after each call */
async function batchPerCall (drive: Hyperdrive, all: FileOp[][]): Promise<number[]> {
  const versions: number[] = []
  for (const ops of all) {
    if (ops.length > 0) {
      const b = drive.batch()
      await applyWrites(b, ops)
      await b.flush()
    }
    versions.push(drive.version)
  }
  return versions
}
