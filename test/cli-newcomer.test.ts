// A newcomer's first hour, through the CLI: a missing DHT is named within
// ~3 s, malformed call arguments are refused before anything is signed, a
// throwing init deploys nothing, `call` prints results and receipts (and
// JSON errors with --json), storage errors name the folder and the cause.

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { formatKey } from '../src/keys.js'
import { spawn } from 'node:child_process'
import { CLI, bootstrapArg, cli, cliRun, examplePath, testnet, tmpdir, until } from './helpers.js'
import type { T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'

const ECHO = `
exports.echo = async (...args) => args
exports.nothing = async () => {}
exports.fail = async () => { throw new Error('it broke') }
`

/** A host (CLI process) of `source` (default: the echo contract) written to `dir/name`, and the caller args to reach it. */
async function echoHost (t: T, net: Testnet, dir: string, source = ECHO, name = 'echo.js') {
  const file = path.join(dir, name)
  fs.writeFileSync(file, source)
  const host = cli(t, ['host', file, '--storage', path.join(dir, 'host'), '--bootstrap', bootstrapArg(net), '--json', '--no-tui'])
  const ready = await host.event('ready')
  const args = ['--bootstrap', bootstrapArg(net), '--identity', path.join(dir, 'id.json'), '--timeout', '15000']
  return { host, key: ready.contract as string, args }
}

async function logLength (key: string, args: string[]): Promise<number> {
  const info = await cliRun(['info', key, '--json', ...args])
  return JSON.parse(info.stdout).length as number
}

test('no DHT: call, info and verify say so within ~3 s, naming --bootstrap and VMS_BOOTSTRAP', async (t) => {
  const key = formatKey(randomBytes(32))
  for (const cmd of [['call', key, 'm', 'x'], ['info', key], ['verify', key]]) {
    const start = Date.now()
    const r = await cliRun([...cmd, '--bootstrap', '127.0.0.1:1'])
    const ms = Date.now() - start
    t.is(r.code, 2, `${cmd[0]}: exit 2`)
    t.ok(r.stderr.includes('NO_DHT') && r.stderr.includes('--bootstrap') && r.stderr.includes('VMS_BOOTSTRAP'), `${cmd[0]}: ${r.stderr.trim()}`)
    t.ok(ms < 8000, `${cmd[0]} reported in ${ms} ms`)
  }
  const j = await cliRun(['call', key, 'm', '--bootstrap', '127.0.0.1:1', '--json'])
  t.is(JSON.parse(j.stdout).error.code, 'NO_DHT', '--json: the error as JSON on stdout')
})

test('no DHT: host names its DHT and warns within ~3 s instead of only "Waiting for calls"', async (t) => {
  const dir = tmpdir(t)
  const start = Date.now()
  const host = cli(t, ['host', examplePath('counter.js'), '--storage', path.join(dir, 'h'), '--bootstrap', '127.0.0.1:1', '--json', '--no-tui'])
  const warned = await new Promise<number>((resolve) => {
    const timer = setInterval(() => { if (host.stderr().includes('no DHT node answered')) { clearInterval(timer); resolve(Date.now() - start) } }, 50)
    t.teardown(() => clearInterval(timer))
  })
  t.ok(warned < 8000, `warned after ${warned} ms`)
  t.ok(host.stderr().includes('--bootstrap') && host.stderr().includes('VMS_BOOTSTRAP'), host.stderr())
  const ready = await host.event('ready', 60_000)
  t.is(ready.dht, '127.0.0.1:1', 'ready names the DHT')
  t.is(ready.dhtNodes, 0)
})

test('devnet on a taken port says it took another one', async (t) => {
  const sock = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve))
  t.teardown(() => sock.close())
  const taken = sock.address().port
  const dn = cli(t, ['devnet', '--port', String(taken), '--json'])
  const ready = await dn.event('ready')
  t.is(ready.portTaken, true)
  t.not(ready.port, taken, `moved to ${String(ready.port)}`)
  t.ok(dn.stderr().includes(`port ${taken} is taken`), dn.stderr())
})

test('call arguments that look like JSON must parse, or nothing is signed; plain words stay strings', async (t) => {
  const net = await testnet(t)
  const { key, args } = await echoHost(t, net, tmpdir(t))
  const before = await logLength(key, args)
  for (const bad of ['{"name":', 'tru', 'nul', 'Fals', '[1,', '"open', '12abc', '-1x']) {
    const r = await cliRun(['call', key, 'echo', 'ok', bad, ...args])
    t.is(r.code, 1, `${bad}: exit 1`)
    t.ok(r.stderr.includes('BAD_ARGUMENT') && r.stderr.includes('argument 2'), `${bad}: ${r.stderr.trim()}`)
  }
  t.is(await logLength(key, args), before, 'nothing malformed was logged')
  const good = await cliRun(['call', key, 'echo', 'bob', 'hello world', 'true', '-1.5', '{"a":[1]}', '"tru"', 'null', ...args, '--json'])
  t.is(good.code, 0, good.stderr)
  t.alike(JSON.parse(good.stdout).result, ['bob', 'hello world', true, -1.5, { a: [1] }, 'tru', null])
  const opt = await cliRun(['call', key, 'echo', '--bogus', ...args])
  t.ok(opt.code === 1 && opt.stderr.includes('unknown option --bogus'), opt.stderr.trim())
})

test('deploy = genesis + init: a throwing init keeps nothing, prints the error, exits 1', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const file = path.join(dir, 'bad-init.js')
  fs.writeFileSync(file, "exports.init = async () => { throw new Error('no seed data') }\nexports.hello = async () => 'hi'\n")
  const storage = path.join(dir, 'host')
  const r = await cliRun(['host', file, '--storage', storage, '--bootstrap', bootstrapArg(net), '--no-tui'])
  t.is(r.code, 1)
  t.ok(r.stderr.includes('CONTRACT_INIT') && r.stderr.includes('no seed data'), r.stderr.trim())
  t.absent(r.stdout.includes('Waiting for calls'), 'no banner')
  t.absent(fs.existsSync(storage), 'no storage folder left behind')
})

test('call prints JSON results, nothing for undefined, a receipt line, and the index of failed calls', async (t) => {
  const net = await testnet(t)
  const { key, args } = await echoHost(t, net, tmpdir(t))
  const r = await cliRun(['call', key, 'echo', 'a', ...args])
  t.is(r.code, 0, r.stderr)
  t.alike(JSON.parse(r.stdout), ['a'], 'the result as JSON on stdout')
  t.ok(/#\d+, log length \d+/.test(r.stderr), `receipt: ${r.stderr.trim()}`)
  const none = await cliRun(['call', key, 'nothing', ...args])
  t.is(none.stdout, '', 'nothing printed for undefined')
  const failed = await cliRun(['call', key, 'fail', ...args])
  t.is(failed.code, 1)
  t.ok(failed.stderr.includes('CONTRACT_ERROR') && /in the log at index \d+/.test(failed.stderr), failed.stderr.trim())
  const fj = await cliRun(['call', key, 'fail', '--json', ...args])
  t.is(fj.code, 1, 'exit code unchanged with --json')
  const e = JSON.parse(fj.stdout)
  t.is(e.error.code, 'CONTRACT_ERROR')
  t.ok(e.error.message.includes('it broke'))
  t.is(typeof e.index, 'number', 'a failed call shows its index')
  const rej = await cliRun(['call', key, 'nope', '--json', ...args])
  t.alike(JSON.parse(rej.stdout), { error: { code: 'UNKNOWN_METHOD', message: JSON.parse(rej.stdout).error.message }, index: null }, 'a rejected call has no index')
})

test('call --quorum timeout says the call is in the log at index N', async (t) => {
  const net = await testnet(t)
  const { key, args } = await echoHost(t, net, tmpdir(t))
  const r = await cliRun(['call', key, 'echo', 'q', '--quorum', '1', '--quorum-timeout', '500', ...args])
  t.is(r.code, 1)
  t.ok(r.stderr.includes('QUORUM_TIMEOUT') && /in the log at index \d+/.test(r.stderr), r.stderr.trim())
  const j = await cliRun(['call', key, 'echo', 'q', '--quorum', '1', '--quorum-timeout', '500', '--json', ...args])
  const e = JSON.parse(j.stdout)
  t.is(e.error.code, 'QUORUM_TIMEOUT')
  t.is(typeof e.index, 'number')
})

test('call to a key no host serves: NOT_FOUND names the key in z-base32', async (t) => {
  const net = await testnet(t)
  const key = formatKey(randomBytes(32))
  const r = await cliRun(['call', key, 'm', '--bootstrap', bootstrapArg(net), '--timeout', '1000', '--identity', path.join(tmpdir(t), 'id.json')])
  t.is(r.code, 2)
  t.ok(r.stderr.includes('NOT_FOUND') && r.stderr.includes(key), r.stderr.trim())
})

test('storage: a folder in use names the folder and the cause; a file is one clear error; a failed start leaves nothing', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const storage = path.join(dir, 'host')
  const first = cli(t, ['host', examplePath('counter.js'), '--storage', storage, '--bootstrap', bootstrapArg(net), '--json', '--no-tui'])
  await first.event('ready')
  const second = await cliRun(['host', examplePath('counter.js'), '--storage', storage, '--bootstrap', bootstrapArg(net), '--no-tui'])
  t.is(second.code, 1)
  t.ok(second.stderr.includes('STORAGE_IN_USE') && second.stderr.includes(storage) && second.stderr.includes('in use by another vms-node process'), second.stderr.trim())
  t.is(second.stderr.trim().split('\n').length, 1, 'one line')
  t.ok(fs.existsSync(storage), 'the running host keeps its folder')

  const file = path.join(dir, 'a-file')
  fs.writeFileSync(file, 'x')
  const asFile = await cliRun(['host', examplePath('counter.js'), '--storage', file, '--bootstrap', bootstrapArg(net), '--no-tui'])
  t.is(asFile.code, 1)
  t.ok(asFile.stderr.includes('BAD_ARGUMENT') && asFile.stderr.includes('is a file, not a folder'), asFile.stderr.trim())
  t.is(asFile.stderr.trim().split('\n').length, 1, 'one line')

  const broken = path.join(dir, 'broken.js')
  fs.writeFileSync(broken, 'exports.x = async () => {\n')
  const fresh = path.join(dir, 'fresh')
  const load = await cliRun(['host', broken, '--storage', fresh, '--bootstrap', bootstrapArg(net), '--no-tui'])
  t.is(load.code, 1)
  t.ok(load.stderr.includes('CONTRACT_LOAD'), load.stderr.trim())
  t.absent(fs.existsSync(fresh), 'no corestore/, identity.json or attestations.json left behind')
  const mine = path.join(dir, 'mine')
  fs.mkdirSync(mine)
  fs.writeFileSync(path.join(mine, 'keep.txt'), 'x')
  const load2 = await cliRun(['host', broken, '--storage', mine, '--bootstrap', bootstrapArg(net), '--no-tui'])
  t.is(load2.code, 1)
  t.ok(fs.existsSync(path.join(mine, 'keep.txt')), 'a folder that existed before is never removed')
})

test('repl: top-level await, errors by their codes, a short client, piped input ends cleanly', async (t) => {
  const net = await testnet(t)
  const { key, args } = await echoHost(t, net, tmpdir(t))
  const child = spawn(process.execPath, ['--no-node-snapshot', CLI, 'repl', key, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdin.end('await client.echo(2)\nclient.nope()\nconst x = await client.echo(3)\nx\nclient\nclient.echo(4)\n')
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  const all = stdout + stderr
  t.is(code, 0, 'exit 0')
  t.ok(stdout.includes('[ 2 ]'), 'top-level await')
  t.ok(all.includes('UNKNOWN_METHOD'), 'an unknown method fails with UNKNOWN_METHOD, as call does')
  t.ok(stdout.includes('[ 3 ]'), 'const x = await ... keeps x')
  t.ok(stdout.includes('[ 4 ]'), 'a call still running when the input ends is awaited')
  t.ok(/VmsClient \S+ \{ methods: echo\(\), fail\(\), nothing\(\)/.test(stdout), 'client prints its key and methods')
  t.ok(all.split('\n').length < 20, `short output (${all.split('\n').length} lines)`)
  t.absent(all.includes('CLOSED'), 'no CLOSED at the end of piped input')
  t.absent(/\n\s+at /.test(all), 'no stack traces')
})

test('watch without --storage signs with the same default identity on every run, and peers see that one key', async (t) => {
  const net = await testnet(t)
  const { key } = await echoHost(t, net, tmpdir(t))
  const env = { VMS_NODE_WATCHER_IDENTITY: path.join(tmpdir(t), 'watcher.json') }
  const ids: unknown[] = []
  for (let run = 0; run < 2; run++) {
    const w = cli(t, ['watch', key, '--bootstrap', bootstrapArg(net), '--json', '--no-tui'], { env })
    const watching = await w.event('watching')
    ids.push(watching.watcher)
    t.is(watching.node, watching.watcher, 'one key for this watcher as peer (node key) and as attestation signer')
    w.child.kill('SIGTERM')
    await w.exited
  }
  t.is(typeof ids[0], 'string')
  t.is(ids[0], ids[1], 'one watcher key across runs')
})

test('verify --source of another contract: says so, shows the source the log runs as text (no hex dump, control characters escaped), does not blame the host', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  // a host's source is untrusted text: escapes that clear the screen, retitle the terminal or reverse the text must not reach it
  const { key } = await echoHost(t, net, dir, "exports.hi = async () => 'hi' // \u001b[2J\u001b]0;owned\u0007 \u202e\nexports.bye = async () => 'bye'\n", 'shown.js')
  const other = path.join(dir, 'other.js')
  fs.writeFileSync(other, "exports.hi = async () => 'hi'\nexports.bye = async () => 'goodbye'\n")
  const r = await cliRun(['verify', key, '--source', other, '--bootstrap', bootstrapArg(net)])
  t.is(r.code, 1, 'exit code unchanged: the log does not run the expected contract')
  t.ok(r.stdout.includes("exports.bye = async () => 'bye'"), `the source the log runs, as text: ${r.stdout}`)
  t.ok(r.stdout.includes('other.js') && /line 1\b/.test(r.stdout), 'names the --source file and the first line that differs')
  t.absent(/[0-9a-f]{80}/.test(r.stdout), 'no hex dump')
  t.absent(r.stdout.includes('(host)'), 'the host is not blamed')
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  t.absent(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(r.stdout), 'no control or bidi characters of the source reach the terminal')
  t.ok(r.stdout.trim().split('\n').length < 15, `a few lines, not ~70 (${r.stdout.trim().split('\n').length})`)
  const byHash = await cliRun(['verify', key, '--source-hash', '00'.repeat(32), '--bootstrap', bootstrapArg(net)])
  t.is(byHash.code, 1)
  t.ok(byHash.stdout.includes("exports.bye = async () => 'bye'") && !/[0-9a-f]{80}/.test(byHash.stdout), `--source-hash too: ${byHash.stdout}`)
  const json = await cliRun(['verify', key, '--source', other, '--json', '--bootstrap', bootstrapArg(net)])
  t.is(JSON.parse(json.stdout).fault.kind, 'genesis', '--json keeps the verdict and its evidence')
  const watch = cli(t, ['watch', key, '--source', other, '--storage', path.join(dir, 'watcher'), '--bootstrap', bootstrapArg(net), '--no-tui'])
  const text = (): string => watch.lines.map((l) => String(l.text ?? '')).join('\n')
  t.ok(await until(() => text().includes("exports.bye = async () => 'bye'")), `watch says it the same way: ${text()}`)
  t.absent(/[0-9a-f]{80}/.test(text()) || text().includes('(host)'), 'no hex dump, no blame')
})

test('a syntax error is reported at its place in the contract file: columns on line 1 are the file\'s, an unclosed brace is the end of the file', async (t) => {
  const net = await testnet(t)
  const dir = tmpdir(t)
  const cases = [
    ['one.js', 'exports.hello = async () => { return 1 +* 2 }\n', "SyntaxError: Unexpected token '*' [one.js:1:41]"],
    ['third.js', '\nexports.x = 1\nexports.hello = async () => { return 1 +* 2 }\n', "SyntaxError: Unexpected token '*' [third.js:3:41]"],
    ['open.js', 'exports.hello = async () => {\n  return 1\n', 'SyntaxError: Unexpected end of input [open.js:3:1]'],
    ['open1.js', 'exports.hello = async () => { return 1', 'SyntaxError: Unexpected end of input [open1.js:1:39]']
  ]
  for (const [name, source, expected] of cases) {
    const file = path.join(dir, name!)
    fs.writeFileSync(file, source!)
    const r = await cliRun(['host', file, '--storage', path.join(dir, name + '-storage'), '--bootstrap', bootstrapArg(net), '--no-tui'])
    t.is(r.code, 1)
    t.ok(r.stderr.includes(expected!), r.stderr.trim())
  }
})
