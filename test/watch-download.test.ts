// A watcher behind its log asks its peers for each core in windows just
// ahead of its judge, then for the whole cores once it caught up
// (src/watch/download-window.ts).

import test from 'brittle'
import Corestore from 'corestore'
import { DownloadWindows } from '../src/watch/download-window.js'
import { tmpdir, until } from './helpers.js'

test('download windows: blocks come in windows ahead of the judge (none past them), the whole core once caught up', async (t) => {
  const a = new Corestore(tmpdir(t))
  const b = new Corestore(tmpdir(t))
  t.teardown(async () => { await a.close(); await b.close() })
  const source = a.get({ name: 'log' })
  await source.ready()
  await source.append(Array.from({ length: 2000 }, (_, i) => Buffer.from('block ' + i)))
  const replica = b.get({ key: source.key! })
  await replica.ready()
  const s1 = a.replicate(true) as NodeJS.ReadWriteStream & { destroy: () => void }
  const s2 = b.replicate(false) as NodeJS.ReadWriteStream & { destroy: () => void }
  s1.pipe(s2).pipe(s1)
  t.teardown(() => { s1.destroy(); s2.destroy() })
  await replica.update({ wait: true })
  t.is(replica.length, 2000, 'the length is known')

  const windows = new DownloadWindows(replica, 100)
  t.teardown(() => windows.destroy())
  windows.advance(0)
  t.ok(await until(() => replica.contiguousLength >= 100), 'the first window arrives')
  t.absent(await replica.has(100, 2000), 'nothing past it was asked for')
  windows.advance(40)
  t.is(replica.contiguousLength, 100, 'not yet past half of the window: no new one')
  windows.advance(60)
  t.ok(await until(() => replica.contiguousLength >= 200), 'past half: the next window arrives')
  t.absent(await replica.has(200, 2000))
  t.absent(windows.caughtUp)
  windows.catchUp()
  t.ok(windows.caughtUp)
  t.ok(await until(() => replica.contiguousLength === 2000), 'caught up: the whole core')
})
