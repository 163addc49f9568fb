/**
 * The deep-nesting warm-up framing: a caller warms the host's JIT with
 * rejected requests full of deeply nested arrays, then sends one signed call
 * nested 7,500 deep, hoping the host logs it ok where a cold replay
 * overflows its stack and blames the host. With a recorded, iteratively
 * checked depth limit the host refuses such a call before logging it, and
 * whatever it logs a cold `verify` replays alike. A replay that fails for a
 * reason of its own machine says "could not judge" (cause `unknown`).
 */

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { signCall } from '../src/caller.js'
import { VmsClient } from '../src/client.js'
import { createSandbox } from '../src/runtime/sandbox.js'
import type { CallOutcome } from '../src/runtime/types.js'
import { bootstrapArg, cliRun, identity, rawRpc, testnet, tmpdir, until } from './helpers.js'
import { cliJson, nextFault } from './fault-helpers.js'
import { factoryWithCall, localHost, localWatcher } from './local-helpers.js'
import { parseKey } from '../src/keys.js'

const SRC = `
exports.echo = (x) => x
exports.nest = (n) => { let v = 1; for (let i = 0; i < n; i++) v = [v]; return v }
`

function nested (n: number): string {
  return '['.repeat(n) + '1' + ']'.repeat(n)
}

test('deep-nesting warm-up framing: JIT warmed by rejected deep requests, then a signed call nested 7,500 deep -> refused before the log (TOO_DEEP); a cold verify finds no host fault', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const file = path.join(dir, 'nest.js')
  fs.writeFileSync(file, SRC)
  const host = cliJson(t, ['host', file, '--storage', path.join(dir, 'host'), '--bootstrap', bootstrapArg(net), '--json'])
  const ready = await host.event('ready')
  const key = parseKey(ready.contract as string)
  const rpc = await rawRpc(t, net, key)
  const attacker = identity()

  // 40 requests with bad signatures and deeply nested arguments
  const codes = new Set<string>()
  for (let i = 0; i < 40; i++) {
    const req = signCall(attacker, key, 1000 + i, 'echo', '[' + nested(5000 + i * 100) + ']')
    const reply = await rpc.call({ ...req, signature: Buffer.alloc(64, 7) }, 15_000)
    codes.add(reply.accepted ? 'accepted' : reply.error.code)
  }
  t.alike([...codes], ['TOO_DEEP'], 'refused on depth, before the signature is checked or anything parsed')

  const deep = await rpc.call(signCall(attacker, key, 2000, 'echo', '[' + nested(7500) + ']'), 15_000)
  t.is(deep.accepted ? 'accepted' : deep.error.code, 'TOO_DEEP', 'the signed call nested 7,500 deep is refused, not logged')
  t.ok(!deep.accepted && deep.error.message.includes('deeper than 64'), 'the limit is named')

  const atLimit = await rpc.call(signCall(attacker, key, 2001, 'echo', '[' + nested(63) + ']'), 15_000)
  t.ok(atLimit.accepted && atLimit.response.outcome.ok, 'arguments of depth 64 (the list counts) run')
  const built = await rpc.call(signCall(attacker, key, 2002, 'nest', '[7500]'), 15_000)
  t.ok(built.accepted, 'a contract that builds a 7,500-deep result is logged')
  t.is(built.accepted ? built.response.outcome.error?.code : null, 'TOO_DEEP', 'as a recorded TOO_DEEP error, whatever the stack')

  const client = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => client.close())
  let value: unknown = 1
  for (let i = 0; i < 7500; i++) value = [value]
  await t.exception(client.call('echo', value), /TOO_DEEP/, 'the caller side refuses it before sending')
  t.alike(await client.call('echo', [[1]]), [[1]])

  const logged = (): number => host.lines.filter((l) => l.event === 'call').length
  await until(() => logged() >= 3, 10_000)
  t.is(logged(), 3, 'only the three accepted calls are in the log')
  const verify = await cliRun(['verify', ready.contract as string, '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  t.is(verify.code, 0, verify.stderr + verify.stdout)
  const out = JSON.parse(verify.stdout.trim().split('\n').pop()!)
  t.is(out.verdict, 'ok')
  t.is(out.fault, null, 'no host fault, ever')
  t.is(out.length, 4)
})

test('a replay that fails for a reason of its own machine (stack overflow, sandbox failure) is "could not judge": cause unknown, never the host', async (t) => {
  for (const [name, error] of [
    ['stack overflow', { code: 'CONTRACT_ERROR', message: 'CONTRACT_ERROR: RangeError: Maximum call stack size exceeded' }],
    ['sandbox failure', { code: 'INTERNAL', message: 'INTERNAL: sandbox failure: Isolate was disposed' }]
  ] as const) {
    // the watcher's machine: every replay of the call that returned 2 fails its own way
    const failing = factoryWithCall(createSandbox, async (sb, ctx): Promise<CallOutcome> => {
      const out = await sb.call(ctx)
      return out.ok && out.resultJson === '[2]' ? { ...out, ok: false, resultJson: undefined, error, writes: [] } : out
    })
    const h = await localHost(t, SRC)
    await h.call('echo', [1])
    await h.call('echo', [2])
    const { watcher } = await localWatcher(t, h.store, { factory: failing })
    const v = await nextFault(await watcher.watch(h.host.key))
    t.is(v.fault?.index, 2, name)
    t.is(v.fault?.cause, 'unknown', `${name}: could not judge (${v.fault?.message})`)
  }
})

test('the new limits come from the host flags, are recorded in the genesis and shown by info', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const file = path.join(dir, 'nest.js')
  fs.writeFileSync(file, SRC)
  const host = cliJson(t, ['host', file, '--storage', path.join(dir, 'host'), '--bootstrap', bootstrapArg(net), '--json',
    '--max-depth', '8', '--max-entries', '5', '--max-path-bytes', '100', '--max-error-bytes', '300'])
  const ready = await host.event('ready')
  const key = parseKey(ready.contract as string)
  const rpc = await rawRpc(t, net, key)
  const info = await rpc.info(15_000)
  const { limits } = info.info
  t.alike([limits.maxDepth, limits.maxEntries, limits.maxPathBytes, limits.maxErrorBytes], [8, 5, 100, 300])
  const deep = await rpc.call(signCall(identity(), key, 1, 'echo', '[' + nested(8) + ']'), 15_000)
  t.is(deep.accepted ? 'accepted' : deep.error.code, 'TOO_DEEP', 'the recorded depth limit applies')
})
