// Stable node identity: a host keeps its swarm key pair (the node key) in
// its storage, so every restart announces under the same key and replaces
// its DHT records instead of adding one more. With a fresh key per start,
// 20 restarts on one DHT left a fresh client 32 s to connect (15 s timeouts
// failed with NOT_FOUND).

import test from 'brittle'
import path from 'node:path'
import { VmsClient } from '../src/client.js'
import { bootstrapArg, cli, examplePath, identity, testnet, tmpdir } from './helpers.js'

test('20 host restarts (SIGKILL, real processes) on one testnet, then a fresh client connects in about a second under the same node key', async (t) => {
  const net = await testnet(t)
  const storage = path.join(tmpdir(t), 'host')
  const args = ['host', examplePath('counter.js'), '--storage', storage, '--bootstrap', bootstrapArg(net), '--json']
  const nodeKeys = new Set<unknown>()
  let contract = ''
  for (let i = 0; i < 20; i++) {
    const proc = cli(t, args)
    const ready = await proc.event('ready', 60_000)
    contract = ready.contract as string
    nodeKeys.add(ready.node)
    if (i < 19) {
      proc.child.kill('SIGKILL') // no goodbye: its announcement stays on the DHT
      await proc.exited
    }
  }
  t.is(nodeKeys.size, 1, 'every start announced under the same node key')
  t.ok(typeof [...nodeKeys][0] === 'string', 'printed in the ready line')
  const t0 = Date.now()
  const client = await VmsClient.connect(contract, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => client.close())
  t.is(await client.call('increment'), 1)
  const ms = Date.now() - t0
  t.ok(ms < 2500, `a fresh client connected and called in ${ms} ms (bound 2.5 s; with a fresh key per start it took 4-32 s)`)
})
