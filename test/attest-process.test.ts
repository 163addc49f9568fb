// Attestations across real processes: a `vms-node host`, three `vms-node
// watch` processes and a client; `vms-node attestations` lists all three
// watchers and `vms-node call --quorum 3` returns once they attested.

import test from 'brittle'
import path from 'node:path'
import { parseKey } from '../src/keys.js'
import { bootstrapArg, cli, cliRun, connectClient, examplePath, testnet, tmpdir, until } from './helpers.js'

test('processes: host + 3 watch processes + client; every node gets all 3 attestations; attestations and call --quorum via the CLI', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const bs = bootstrapArg(net)
  const host = cli(t, ['host', examplePath('rsvp.js'), '--storage', path.join(dir, 'host'), '--bootstrap', bs, '--json'])
  const ready = await host.event('ready')
  const key = ready.contract as string
  const watchers = [1, 2, 3].map((i) => cli(t, ['watch', key, '--storage', path.join(dir, 'w' + i), '--bootstrap', bs, '--json']))
  for (const w of watchers) await w.event('watching')

  const client = await connectClient(t, net, parseKey(key))
  for (let i = 0; i < 12; i++) await client.RSVP('guest ' + i, true)
  const length = client.lastReceipt!.root.length
  t.ok(await until(() => client.attestations.latest(client.key).filter((a) => a.length >= length).length === 3, 30_000), 'the client holds all three watchers\' attestations at the final length')

  const listed = await cliRun(['attestations', key, '--bootstrap', bs, '--json', '--wait', '1500', '--identity', path.join(dir, 'reader.json')])
  t.is(listed.code, 0, listed.stderr)
  const out = JSON.parse(listed.stdout)
  t.is(out.attestations.length, 3, 'vms-node attestations lists three watchers')
  t.ok(out.attestations.every((a: { verdict: string, length: number }) => a.verdict === 'ok' && a.length >= length))

  const q = await cliRun(['call', key, 'RSVP', 'late guest', 'true', '--quorum', '3', '--quorum-timeout', '30000', '--bootstrap', bs, '--json', '--identity', path.join(dir, 'late.json')])
  t.is(q.code, 0, q.stderr)
  t.is(JSON.parse(q.stdout).index, length, 'the quorum call ran and returned after three attestations covered it')
})
