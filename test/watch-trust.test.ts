// Watchers and `verify` trust nothing but the contract key: a peer that
// answers forged roots never sets what is audited, a fault found before any
// root still leaves the watcher, and files written behind the log are caught
// at the drive's head, with evidence `check` accepts offline. See
// docs/threat-model.md.

import test from 'brittle'
import type { Test } from 'brittle'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { HostNode } from '../src/host/host-node.js'
import type { ContractHost } from '../src/host/contract-host.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import type { Testnet } from 'hyperdht/testnet.js'
import { VERDICT_FAULT } from '../protocol/index.js'
import { bootstrapArg, cliRun, example, testnet, tmpdir } from './helpers.js'
import { connect, nextFault, until, watcherOn, type FT } from './fault-helpers.js'
import { impostorRoots } from './impostor-roots.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

async function startHost (t: FT, net: Testnet, storage: string): Promise<{ node: HostNode, host: ContractHost }> {
  const node = new HostNode({ storage, sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: net.bootstrap })
  t.teardown(() => node.close())
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  return { node, host }
}

/** The operator's edit: a stock Corestore + Hyperdrive on the stopped host's storage. */
async function editBehindLog (storage: string, file: string, data: string): Promise<void> {
  const store = new Corestore(path.join(storage, 'corestore'))
  const drive = new Hyperdrive(store.namespace('contract/pc').namespace('files'))
  await drive.ready()
  await drive.put(file, Buffer.from(data))
  await drive.close()
  await store.close()
}

/** A host whose log holds a real files fault: 3 calls, an edit behind the log, a 4th call (the fault). */
async function faultyHost (t: FT & Test, net: Testnet): Promise<{ node: HostNode, host: ContractHost, faultAt: number }> {
  const storage = tmpdir(t)
  const first = await startHost(t, net, storage)
  const c1 = await connect(t, net, first.host.key)
  for (let i = 0; i < 3; i++) await c1.increment()
  await c1.close()
  await first.node.close()
  await editBehindLog(storage, '/counter', '100')
  const again = await startHost(t, net, storage)
  const c2 = await connect(t, net, again.host.key)
  t.is(await c2.increment(), 101, 'the host served the edited state')
  await c2.close()
  return { ...again, faultAt: again.host.log.length - 1 }
}

test('verify with an impostor answering forged roots still finds the files fault', async (t) => {
  const net = await testnet(t)
  const { host, faultAt } = await faultyHost(t, net)
  const impostor = await impostorRoots(t, net, host.key, 2)
  const r = await cliRun(['verify', host.key.toString('hex'), '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
  t.comment(`impostor answered ${impostor.roots} root requests`)
  t.is(r.code, 1, 'verify exits 1 (fault): ' + r.stdout.slice(0, 300) + r.stderr)
  t.is(out.verdict, 'fault')
  t.is(out.fault?.kind, 'files')
  t.is(out.fault?.index, faultAt, 'the call after the edit')
})

test('a fault found before any root is attested once a root is fetched, gossiped, and a fresh client refuses the contract (CONTRACT_FAULTY)', async (t) => {
  const net = await testnet(t)
  const { node, host, faultAt } = await faultyHost(t, net)
  const w = await watcherOn(t, net)
  const cw = await w.watch(host.key, { start: false })
  t.ok(await until(() => cw.connected && cw.log.core.length === host.log.length), 'the watcher replicated the log and reached the host RPC')
  t.is(cw.statements.length, 0, 'no root held yet')
  cw.start()
  const v = await nextFault(cw)
  t.is(v.fault?.kind, 'files')
  t.is(v.fault?.index, faultAt)
  const mine = (a: { verdict: number, watcher: Uint8Array }): boolean => a.verdict === VERDICT_FAULT && hex(a.watcher) === hex(w.identity.publicKey)
  t.ok(await until(() => node.attestations.faults(host.key).some(mine), 20_000), 'the fault attestation reached the host')
  const fresh = await connect(t, net, host.key)
  t.ok(await until(() => fresh.attestations.faults(host.key).some(mine), 20_000), 'and a fresh client')
  await t.exception(fresh.increment(), /CONTRACT_FAULTY/, 'which refuses the contract')
})
