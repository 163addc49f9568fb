// A replay names the paths its record wrote (`statHints`): a sandbox process
// gets their stats with the call instead of asking for each one (an IPC
// round trip). Hints come from the host's drive blocks, so they are
// untrusted: they may save round trips but never change what a call reads.

import test from 'brittle'
import { SandboxProcessPool } from '../src/runtime/sandbox-process.js'
import { MemoryFiles } from '../src/runtime/memory-files.js'
import { DEFAULT_LIMITS, type CallContext, type FilesView } from '../src/runtime/types.js'
import { tmpdir } from './helpers.js'
import { localHost, localWatcher } from './local-helpers.js'

const WRITER = `
exports.put = async (name, v) => {
  await System.files.writeFile('/d/e/' + name + '.json', JSON.stringify(v))
  return (await System.files.readdir('/d/e')).length
}
`

function ctx (files: FilesView, args: unknown[], statHints?: string[]): CallContext {
  return { method: 'put', argsJson: JSON.stringify(args), callerId: 'y'.repeat(52), timestamp: 1, seed: new Uint8Array(32), files, oracle: { mode: 'off' }, ...(statHints ? { statHints } : {}) }
}

/** `files` with its stats counted. */
function counted (files: FilesView): { view: FilesView, stats: () => number } {
  let n = 0
  return {
    view: { read: (p) => files.read(p), readdir: (p) => files.readdir(p), stat: async (p) => { n++; return await files.stat(p) } },
    stats: () => n
  }
}

test('stat hints: the call gets the same outcome with one round trip fewer per hinted path', async (t) => {
  const pool = new SandboxProcessPool({ processes: 1 })
  t.teardown(() => pool.close())
  const sb = await pool.create(WRITER, { limits: DEFAULT_LIMITS })
  t.teardown(() => sb.close())
  const files = new MemoryFiles({ '/d/e/old.json': '1' })

  let before = pool.readsAsked
  const plain = await sb.call(ctx(files, ['a', 1]))
  const plainReads = pool.readsAsked - before
  before = pool.readsAsked
  const hinted = await sb.call(ctx(files, ['a', 1], ['/d/e/a.json']))
  const hintedReads = pool.readsAsked - before

  t.ok(plain.ok, plain.error?.message)
  t.alike(hinted, { ...plain, durationMs: hinted.durationMs }, 'the same outcome, writes and result')
  t.ok(plainReads >= 2, `without hints the child asked ${plainReads} reads`)
  t.is(hintedReads, plainReads - 1, 'with the written path hinted, its stat is not asked for')
})

test('attack: hints naming other paths, malformed paths and thousands of them change nothing the call reads, and at most 32 are read', async (t) => {
  const pool = new SandboxProcessPool({ processes: 1 })
  t.teardown(() => pool.close())
  const sb = await pool.create(WRITER, { limits: DEFAULT_LIMITS })
  t.teardown(() => sb.close())
  const files = new MemoryFiles({ '/d/e/old.json': '1', '/d/e/b.json': '2' })

  const plain = await sb.call(ctx(files, ['b', 3]))
  const lying = ['/d/e', '/d/e/b.json/x', '../etc/passwd', 'd/e/b.json', '/d//e', '/\0', '/' + 'x'.repeat(5000), ...Array.from({ length: 5000 }, (_, i) => `/f${i}`)]
  const c = counted(files)
  const hinted = await sb.call(ctx(c.view, ['b', 3], lying))
  t.alike(hinted, { ...plain, durationMs: hinted.durationMs }, 'the same outcome as without hints')
  t.ok(c.stats() <= 32 + 8, `the view was asked ${c.stats()} stats for 5,007 hints`)
})

test('a watcher replaying in a sandbox process hints each call\'s written paths: the live judge and a rebuild from the log', async (t) => {
  const h = await localHost(t, WRITER)
  for (let i = 0; i < 40; i++) await h.call('put', 'n' + i, i)
  // a first watcher downloads everything; the second judges it from its own storage, the host's drive blocks read ahead
  const dir = tmpdir(t)
  const first = await localWatcher(t, h.store, { storeDir: dir })
  t.is((await (await first.watcher.watch(h.host.key)).until(h.host.log.length, 60_000)).verdict, 'ok')
  await first.close()
  const pool = new SandboxProcessPool({ processes: 1 })
  t.teardown(() => pool.close())
  const { watcher } = await localWatcher(t, h.store, { factory: pool.create, storeDir: dir })
  const cw = await watcher.watch(h.host.key)
  const v = await cw.until(h.host.log.length, 60_000)
  t.is(v.verdict, 'ok', v.fault?.message)
  t.is(cw.stats.judged, 40, 'it judged every call again')
  // each call stats its file and reads its folder: with the file hinted, only the readdir is asked
  t.ok(pool.readsAsked <= 40 + 2, `the watcher's sandbox process asked ${pool.readsAsked} reads for 40 calls`)

  // a host restart replays the whole log through replayRange
  const restarted = new SandboxProcessPool({ processes: 1 })
  t.teardown(() => restarted.close())
  const sb = await restarted.create(WRITER, { limits: h.host.genesis.limits })
  t.teardown(() => sb.close())
  const { replayRange } = await import('../src/replay/replay.js')
  const st = await replayRange(sb, h.host.log, 1, h.host.log.length)
  t.alike(st.mismatches, [], 'every replay matched its record')
  t.ok(restarted.readsAsked <= 40 + 2, `a rebuild of 40 calls asked ${restarted.readsAsked} reads`)
})
