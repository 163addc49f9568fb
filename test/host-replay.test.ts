// Every files version a call record names must be a valid checkout: replays
// (host restarts, watchers) read the drive at those versions.

import test from 'brittle'
import { VmsClient } from '../src/client.js'
import { replayRange } from '../src/replay/replay.js'
import { createSandbox } from '../src/runtime/sandbox.js'
import { example, hostNode, identity, testnet } from './helpers.js'

test('group-committed calls replay from their recorded files versions with identical outcomes', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  const client = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => client.close())

  const results = await Promise.all(Array.from({ length: 80 }, () => client.increment()))
  t.alike([...results].sort((a, b) => Number(a) - Number(b)), Array.from({ length: 80 }, (_, i) => i + 1), 'each call saw the writes of the calls before it')
  t.ok(host.stats.batches < 80, `calls were group-committed (${host.stats.batches} log appends for 80 calls)`)

  const sandbox = await createSandbox(host.genesis.source, { limits: host.genesis.limits })
  t.teardown(() => sandbox.close())
  const stats = await replayRange(sandbox, host.log, 1, host.log.length)
  t.is(stats.replayed, 80)
  t.alike(stats.mismatches, [], 'every replay reads the version its record names and gets the recorded result')
})
