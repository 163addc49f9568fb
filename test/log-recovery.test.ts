// Crash safety of the call log and files (undo logging, contract-log.ts):
// the pending marker a group leaves behind after its records were appended
// undoes nothing; drive writes of a group whose records never reached the
// log are undone on open; an edit made outside the host is left for
// watchers to flag.

import test from 'brittle'
import Corestore from 'corestore'
import { NonceClock, signCall } from '../src/caller.js'
import { ContractHost } from '../src/host/contract-host.js'
import { ContractLog } from '../src/log/contract-log.js'
import { canonicalArgs } from '../src/json.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { example, identity, tmpdir } from './helpers.js'
import type { T } from './helpers.js'

const operator = identity()

async function openHost (t: T, dir: string): Promise<{ host: ContractHost, close: () => Promise<void> }> {
  const store = new Corestore(dir)
  const host = new ContractHost({ store: store.namespace('contract/rsvp'), name: 'rsvp', source: example('rsvp.js'), identity: operator, sandboxFactory: createSandbox, runtime: runtimeFingerprint() })
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await host.close()
    await store.close()
  }
  t.teardown(close)
  await host.ready()
  return { host, close }
}

/** Opens the host's own log as the host would, without a host around it. */
async function openLog (dir: string): Promise<{ log: ContractLog, close: () => Promise<void> }> {
  const store = new Corestore(dir)
  const log = new ContractLog(store.namespace('contract/rsvp'))
  await log.ready()
  const close = async (): Promise<void> => { await log.close(); await store.close() }
  return { log, close }
}

test('log recovery: a landed group\'s marker undoes nothing; an interrupted group\'s drive writes are undone; outside edits stay', async (t) => {
  const dir = tmpdir(t)
  const caller = identity()
  const clock = new NonceClock()
  const first = await openHost(t, dir)
  const call = (h: ContractHost, ...args: unknown[]) => h.call(signCall(caller, h.key, clock.next(), 'RSVP', canonicalArgs(args)))
  await call(first.host, 'alice', true)
  await call(first.host, 'bob', false, 'away')
  const length = first.host.log.length
  const version = first.host.log.drive!.version
  await first.close()

  const again = await openHost(t, dir)
  t.is(again.host.log.recovery.undoneBlocks, 0, 'the marker of the last (landed) group undid nothing')
  t.is(again.host.log.drive!.version, version, 'every logged write is still in the drive')
  t.is(again.host.log.length, length)
  await again.close()

  // a group that wrote to the drive and crashed before its records reached the log
  {
    const { log, close } = await openLog(dir)
    await log.beginBatch(log.drive!.version)
    await log.drive!.put('/rsvps/mallory.json', Buffer.from('{"name":"mallory"}'))
    await log.drive!.put('/rsvps/trent.json', Buffer.from('{"name":"trent"}'))
    await close()
  }
  const recovered = await openHost(t, dir)
  t.ok(recovered.host.log.recovery.undoneBlocks >= 2, `undid ${recovered.host.log.recovery.undoneBlocks} unlogged blocks`)
  t.is(recovered.host.log.drive!.version, version, 'the drive is back at the last logged version')
  t.absent(await recovered.host.log.drive!.get('/rsvps/mallory.json'), 'the unlogged write is gone')
  await call(recovered.host, 'carol', true)
  t.ok(recovered.host.log.drive!.version > version && recovered.host.log.length === length + 1, 'the host serves again (one more record and its write)')
  const after = recovered.host.log.drive!.version
  await recovered.close()

  // an operator edit outside the host: no new marker, so it is left for watchers to flag
  {
    const { log, close } = await openLog(dir)
    await log.drive!.put('/rsvps/edited.json', Buffer.from('{}'))
    await close()
  }
  const edited = await openHost(t, dir)
  t.is(edited.host.log.recovery.undoneBlocks, 0, 'an outside edit is not undone')
  t.ok(edited.host.log.recovery.unloggedEdit, 'and is reported')
  t.ok(edited.host.log.drive!.version > after)
})
