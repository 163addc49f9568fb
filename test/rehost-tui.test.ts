// Rehosting counters in the TUI: a serving watcher shows how many
// peers it served and the bytes it uploaded; a host shows how many replicas
// hold its log. In-process host and watcher on a local testnet.

import test from 'brittle'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { formatKey } from '../src/keys.js'
import { createSwarm } from '../src/net/swarm.js'
import { Watcher } from '../src/watch/watcher.js'
import { NodeState } from '../tui/state.js'
import { attachWatcher } from '../tui/watch-adapter.js'
import { attachHost } from '../tui/host-adapter.js'
import { servingText } from '../tui/serving.js'
import { connectClient, example, hostNode, testnet, tmpdir, until } from './helpers.js'

test('tui: a serving watcher counts peers served and bytes uploaded, and with the host offline shows the state as of call N and when the host was last seen; the host counts replicas holding its log', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const hostState = new NodeState()
  t.teardown(attachHost(node, hostState, { refreshMs: 100 }))
  const watcher = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap })
  t.teardown(() => watcher.close())
  const watchState = new NodeState()
  t.teardown(attachWatcher(watcher, watchState, { refreshMs: 100 }))
  const cw = await watcher.watch(host.key)
  const c = await connectClient(t, net, host.key)
  await c.RSVP('ann', true, 'x')
  await cw.until(host.log.length, 30_000)
  t.ok(await until(() => cw.statements.some((s) => s.length === host.log.length), 15_000), 'the watcher keeps the host-signed root of the whole log')

  const key = formatKey(host.key)
  t.ok(await until(() => (hostState.snapshot.contracts.find((x) => x.key === key)?.replicas ?? 0) >= 1, 15_000), 'the host counts the watcher as a replica of its whole log')
  const length = host.log.length
  await node.close()

  // a stock reader downloads from the watcher alone
  const store = new Corestore(tmpdir(t))
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(async () => { await swarm.destroy(); await store.close() })
  swarm.on('connection', (conn) => store.replicate(conn))
  const drive = new Hyperdrive(store, host.log.drive!.key!)
  await drive.ready()
  swarm.join(drive.discoveryKey!, { server: false, client: true })
  await until(() => drive.core.peers.length > 0, 15_000)
  await drive.update({ wait: true })
  for await (const e of drive.list('/rsvps')) await drive.get(e.key, { wait: true, timeout: 10_000 })

  t.ok(await until(() => {
    const v = watchState.snapshot.contracts.find((x) => x.key === key)
    return !!v && (v.servedPeers ?? 0) >= 1 && (v.uploadedBytes ?? 0) > 0
  }, 15_000), 'the watcher row counts the peer it served and the bytes uploaded')
  const row = watchState.snapshot.contracts.find((x) => x.key === key)!
  t.ok(/ · serving \d+ peers?, \S+ up/.test(servingText(row)), servingText(row))
  t.ok(await until(() => watchState.snapshot.contracts.find((x) => x.key === key)?.hostOnline === false, 15_000), 'the watcher row knows the host is offline')
  const off = watchState.snapshot.contracts.find((x) => x.key === key)!
  t.ok(new RegExp(`host offline: state as of call ${length - 1}, host last seen \\d+:\\d\\d:\\d\\d ago`).test(servingText(off)), servingText(off))
})
