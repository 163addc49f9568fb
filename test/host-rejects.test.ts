// Bad input at the host: forged signatures, replayed nonces, unknown methods,
// oversized or non-canonical arguments, malformed frames, and contracts that
// loop or eat memory. Each gets a clear code, nothing bad is logged, and the
// host keeps serving (state included).

import test from 'brittle'
import c from 'compact-encoding'
import { signCall } from '../src/caller.js'
import { VmsClient } from '../src/client.js'
import { hostNode, identity, rawRpc, testnet } from './helpers.js'

const ECHO = `
let calls = 0
exports.echo = async (x) => { calls++; return x }
exports.calls = () => calls
exports.spin = () => { calls++; while (true) {} }
exports.hang = () => new Promise(() => {})
exports.bomb = () => { calls++; const a = []; while (true) a.push(new Array(1e6).fill(calls)) }
exports.big = (n) => 'x'.repeat(n)
`

test('rejected requests: forged signature, replayed nonce, unknown method, wrong contract, bad args, malformed frame', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(ECHO, { name: 'echo', limits: { maxArgsBytes: 64 } })
  const rpc = await rawRpc(t, net, host.key)
  const me = identity()
  const length = host.log.length

  const good = signCall(me, host.key, 10, 'echo', '["hi"]')
  const forged = { ...good, signature: Buffer.from(good.signature) }
  forged.signature[0] ^= 1
  const expectReject = async (req: typeof good, code: string, msg: string): Promise<void> => {
    const reply = await rpc.call(req, 10_000)
    t.is(reply.accepted ? 'accepted' : reply.error.code, code, msg)
  }
  await expectReject(forged, 'BAD_SIGNATURE', 'a flipped signature bit is rejected')
  await expectReject({ ...good, args: '["ho"]' }, 'BAD_SIGNATURE', 'args changed after signing are rejected')

  const ok = await rpc.call(good, 10_000)
  t.ok(ok.accepted, 'the genuine request runs')
  await expectReject(good, 'NONCE_REUSED', 'the same signed request again is a replay')
  await expectReject(signCall(me, host.key, 9, 'echo', '["hi"]'), 'NONCE_REUSED', 'an older nonce is a replay')
  await expectReject(signCall(me, host.key, 11, 'nope', '[]'), 'UNKNOWN_METHOD', 'unknown method')
  await expectReject(signCall(me, Buffer.alloc(32, 7), 12, 'echo', '[]'), 'WRONG_CONTRACT', 'signed for another contract')
  await expectReject(signCall(me, host.key, 13, 'echo', JSON.stringify(['x'.repeat(100)])), 'ARGS_TOO_LARGE', 'arguments over the limit')
  await expectReject(signCall(me, host.key, 14, 'echo', '[ 1 ]'), 'BAD_ARGUMENTS', 'non-canonical JSON')
  await expectReject(signCall(me, host.key, 15, 'echo', '{"a":1}'), 'BAD_ARGUMENTS', 'not an array')

  const garbage = await rpc.rpc.request<{ accepted: boolean, error?: { code: string } }>('call', Buffer.from('definitely not a call request'), { requestEncoding: c.raw, responseEncoding: (await import('../protocol/index.js')).callReply, timeout: 10_000 })
  t.is(garbage.error?.code, 'BAD_REQUEST', 'malformed frame gets BAD_REQUEST')

  const after = await rpc.call(signCall(me, host.key, 16, 'echo', '["still here"]'), 10_000)
  t.ok(after.accepted && after.response.outcome.result === '"still here"', 'the channel keeps serving')
  t.is(host.log.length, length + 2, 'only the two genuine calls were logged')
  t.is(host.stats.rejected, 9)
})

test('limits: a loop, an unsettled promise, a memory bomb and a huge result fail clearly; the host keeps serving with its state', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(ECHO, { name: 'limits', limits: { timeoutMs: 300, memoryMb: 32, maxResultBytes: 1000 } })
  const client = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: identity(), timeout: 30_000 })
  t.teardown(() => client.close())

  t.is(await client.echo(1), 1)
  t.is(await client.echo(2), 2)
  t.is(await client.calls(), 2)

  const codeOf = async (p: Promise<unknown>): Promise<string> => await p.then(() => 'ok', (e: { code: string }) => e.code)
  t.is(await codeOf(client.spin()), 'TIMEOUT', 'an endless loop hits the deadline')
  t.is(await client.calls(), 2, 'state after the rebuild is the state before the limited call')
  t.is(await codeOf(client.hang()), 'TIMEOUT', 'a promise that never settles hits the deadline')
  t.is(await codeOf(client.bomb()), 'MEMORY_LIMIT', 'a memory bomb hits the memory limit')
  t.is(await client.calls(), 2, 'state survives the disposed isolate')
  t.is(await codeOf(client.big(5000)), 'RESULT_TOO_LARGE', 'a result over the limit')
  t.is(await client.echo('after'), 'after', 'the host keeps serving')
  t.ok(host.stats.rebuilds >= 3, 'the sandbox was rebuilt after each limit')

  const limited = []
  for (let i = 1; i < host.log.length; i++) {
    const rec = await host.log.call(i)
    if (rec.outcome.limit) limited.push(rec.outcome.limit)
  }
  t.alike(limited, ['timeout', 'timeout', 'memory'], 'limit hits are recorded as host statements')
})
