// Public hosting end to end with real processes: one
// `host --accept-deploys` node, two deployers deploying the seeds'
// secure-counter and RSVP with `vms-node deploy`, then `contracts`, `call`,
// `verify`, `undeploy`, a quota, a restart, and a stock Hyperdrive reader.

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { createSwarm } from '../src/net/swarm.js'
import { parseKey } from '../src/keys.js'
import { bootstrapArg, cli, cliRun, examplePath, testnet, tmpdir } from './helpers.js'
import type { T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'

function json (stdout: string): Record<string, any> {
  const lines = stdout.trim().split('\n').filter(Boolean)
  return JSON.parse(lines[lines.length - 1] as string)
}

async function readDir (t: T, net: Testnet, files: string, dir: string): Promise<string[]> {
  const store = new Corestore(tmpdir(t))
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(async () => { await swarm.destroy(); await store.close() })
  swarm.on('connection', (conn: unknown) => store.replicate(conn))
  const drive = new Hyperdrive(store, parseKey(files))
  await drive.ready()
  swarm.join(drive.discoveryKey as Buffer, { server: false, client: true })
  const done = drive.findingPeers()
  swarm.flush().then(done, done)
  await drive.update({ wait: true })
  const names: string[] = []
  for await (const name of drive.readdir(dir)) names.push(name)
  return names
}

test('public hosting CLI: two deployers on one --accept-deploys node; owner, contracts, undeploy rights, quota, restart, verify, stock Hyperdrive', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const storage = path.join(dir, 'node')
  const alice = path.join(dir, 'alice.json')
  const bob = path.join(dir, 'bob.json')
  const b = ['--bootstrap', bootstrapArg(net)]
  const hostArgs = ['host', '--accept-deploys', '--max-per-deployer', '1', '--storage', storage, ...b, '--json']

  let host = cli(t, hostArgs)
  const ready = await host.event('ready')
  const node = ready.node as string
  t.ok(typeof node === 'string' && node.length === 52, 'the ready line names the node key')
  t.alike(ready.contracts, [], 'no contract yet')

  const d1 = await cliRun(['deploy', examplePath('secure-counter.js'), '--to', node, '--identity', alice, ...b, '--json'])
  t.is(d1.code, 0, 'alice deploys secure-counter: ' + d1.stderr + d1.stdout)
  const counter = json(d1.stdout)
  const d2 = await cliRun(['deploy', examplePath('rsvp.js'), '--to', node, '--identity', bob, ...b, '--json'])
  t.is(d2.code, 0, 'bob deploys rsvp: ' + d2.stderr + d2.stdout)
  const rsvp = json(d2.stdout)
  t.ok(counter.contract && counter.files && rsvp.contract && rsvp.files, 'deploy prints contract and files keys')

  // the owner of the secure counter is its deployer
  const inc = await cliRun(['call', counter.contract, 'increment', '--identity', alice, ...b, '--json'])
  t.is(json(inc.stdout).result, 0, 'the deployer owns the secure counter')
  const notOwner = await cliRun(['call', counter.contract, 'increment', '--identity', bob, ...b, '--json'])
  t.is(json(notOwner.stdout).error?.code, 'CONTRACT_ERROR', 'anyone else is refused by the contract')
  const r = await cliRun(['call', rsvp.contract, 'RSVP', 'bob', 'true', '--identity', bob, ...b, '--json'])
  t.is(r.code, 0, 'bob RSVPs')

  const list = await cliRun(['contracts', node, ...b, '--json'])
  t.is(list.code, 0, 'contracts: ' + list.stderr)
  const listing = json(list.stdout)
  const byName = new Map<string, any>(listing.contracts.map((c: any) => [c.name, c]))
  t.is(listing.contracts.length, 2, 'contracts lists both')
  t.is(byName.get('secure-counter').deployer, json(d1.stdout).deployer, 'with alice as deployer')
  t.is(byName.get('rsvp').deployer, json(d2.stdout).deployer, 'and bob')
  t.is(listing.registry.length, 2, 'two deploys in the registry log')

  for (const key of [counter.contract, rsvp.contract]) {
    const v = await cliRun(['verify', key, ...b, '--json'])
    t.is(json(v.stdout).verdict, 'ok', 'verify is ok for ' + key.slice(0, 8))
  }
  const names = await readDir(t, net, rsvp.files, '/rsvps')
  t.is(names.length, 1, 'a stock Hyperdrive reads the rsvp files')

  const quota = await cliRun(['deploy', examplePath('counter.js'), '--to', node, '--identity', alice, ...b, '--json'])
  t.is(quota.code, 1)
  t.is(json(quota.stdout).error?.code, 'DEPLOY_QUOTA', 'a deploy over the quota is refused cleanly')

  const steal = await cliRun(['undeploy', rsvp.contract, '--to', node, '--identity', alice, ...b, '--json'])
  t.is(json(steal.stdout).error?.code, 'NOT_DEPLOYER', "a non-deployer's undeploy is refused")
  const own = await cliRun(['undeploy', rsvp.contract, '--to', node, '--identity', bob, ...b, '--json'])
  t.is(own.code, 0, "the deployer's undeploy succeeds: " + own.stdout)
  const after = json((await cliRun(['contracts', node, ...b, '--json'])).stdout)
  t.alike(after.contracts.map((c: any) => c.name), ['secure-counter'], 'rsvp is no longer served')

  // restart: the rest is reopened
  host.child.kill('SIGTERM')
  await host.exited
  host = cli(t, hostArgs)
  const again = await host.event('ready')
  t.is(again.node, node, 'same node key after a restart')
  t.alike((again.contracts as any[]).map((c) => c.contract), [counter.contract], 'the restarted node reopened the deployed contract')
  const inc2 = await cliRun(['call', counter.contract, 'increment', '--identity', alice, ...b, '--json'])
  t.is(json(inc2.stdout).result, 1, 'state and owner survived the restart')
  const v2 = await cliRun(['verify', counter.contract, ...b, '--json'])
  t.is(json(v2.stdout).verdict, 'ok', 'verify is still ok')
})

test('public hosting CLI: host of several local files with an allowlist; plain output names the node', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const b = ['--bootstrap', bootstrapArg(net)]
  const alice = path.join(dir, 'alice.json')
  const bob = path.join(dir, 'bob.json')
  // make alice's key, then allow only her
  const idx = await cliRun(['deploy', examplePath('counter.js'), '--to', 'a'.repeat(64), '--identity', alice, ...b, '--timeout', '500', '--json'])
  t.is(json(idx.stdout).error?.code, 'NOT_FOUND', 'no such node')
  const aliceKey = JSON.parse(fs.readFileSync(alice, 'utf8')).publicKey as string
  const allow = path.join(dir, 'deployers.txt')
  fs.writeFileSync(allow, `# who may deploy here\n${aliceKey}\n`)

  const none = await cliRun(['host', '--storage', path.join(dir, 'x'), ...b, '--no-tui'])
  t.is(none.code, 1)
  t.ok(none.stderr.includes('BAD_ARGUMENT') && none.stderr.includes('--accept-deploys'), none.stderr.trim())

  const host = cli(t, ['host', examplePath('counter.js'), examplePath('rsvp.js'), '--accept-deploys', '--deployers', allow, '--storage', path.join(dir, 'n'), ...b, '--no-tui'])
  const started = Date.now()
  while (!host.lines.some((l) => typeof l.text === 'string' && l.text.startsWith('Waiting')) && Date.now() - started < 30_000) await new Promise((resolve) => setTimeout(resolve, 50))
  const nodeLine = host.lines.find((l) => typeof l.text === 'string' && l.text.startsWith('Node:'))
  t.ok(nodeLine, 'plain output prints Node: <key>')
  const node = String(nodeLine?.text).split(/\s+/)[1] as string
  t.is(host.lines.filter((l) => typeof l.text === 'string' && l.text.startsWith('Contract:')).length, 2, 'both local contracts in one process')

  const refused = await cliRun(['deploy', examplePath('counter.js'), '--to', node, '--identity', bob, ...b, '--json'])
  t.is(json(refused.stdout).error?.code, 'DEPLOY_REFUSED', 'a deployer off the allowlist is refused')
  const ok = await cliRun(['deploy', examplePath('counter.js'), '--to', node, '--identity', alice, '--name', 'mine', ...b])
  t.is(ok.code, 0, ok.stderr)
  t.ok(ok.stdout.includes('Contract: '), ok.stdout)
  const list = json((await cliRun(['contracts', node, ...b, '--json'])).stdout)
  t.alike(list.contracts.map((c: any) => [c.name, c.deployed]), [['counter', false], ['rsvp', false], ['mine', true]], 'local contracts are the operator\'s, the deployed one is in the registry')
})
