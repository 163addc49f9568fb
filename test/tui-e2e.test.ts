// End to end: a real `vms-node host` on a local testnet, in a pseudo-terminal
// (a private tmux server, 80x24). The test reads the screen: the contract
// row, its full key from the detail view, then after calls made with
// VmsClient a peer and the calls in the event log; `q` closes the node and
// gives the terminal back. `--no-tui` keeps plain output on the terminal.
// A `vms-node watch` in a terminal shows the verdict on a host's log.

import test from 'brittle'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { VmsClient } from '../src/client.js'
import { formatKey } from '../src/keys.js'
import { CLI, bootstrapArg, cli, cliRun, examplePath, identity, testnet, tmpdir } from './helpers.js'
import type { T } from './helpers.js'
import { sleep } from './tui-fixtures.js'

const HAS_TMUX = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0
const SKIP = HAS_TMUX ? '' : ' (skipped: tmux is not installed; install it, e.g. apt-get install -y tmux, to run this test)'

function quote (s: string): string {
  return `'${s.replace(/'/g, '\'\\\'\'')}'`
}

/** A private tmux server with one 80x24 window running `command`, killed at teardown. */
function terminal (t: T, command: string): { screen (): string, keys (...keys: string[]): void } {
  const socket = `vms-tui-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' })
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'vms', '-x', '80', '-y', '24', command)
  const socketPath = tmux('display-message', '-p', '#{socket_path}').trim()
  t.teardown(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' })
    if (socketPath) fs.rmSync(socketPath, { force: true })
  })
  return {
    screen: () => tmux('capture-pane', '-p', '-t', 'vms'),
    keys: (...keys: string[]) => { tmux('send-keys', '-t', 'vms', ...keys) }
  }
}

/** Runs a test body, turning a throw into a failed assertion (so the other tests still run). */
async function failOnThrow (t: { fail (m?: string): void }, body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (err) {
    t.fail((err as Error).message)
  }
}

/** Waits until the screen matches `re`; fails with the screen when it does not. */
async function waitFor (term: { screen (): string }, re: RegExp, what: string, ms = 30_000): Promise<RegExpMatchArray> {
  const end = Date.now() + ms
  let text = ''
  while (Date.now() < end) {
    text = term.screen()
    const m = text.match(re)
    if (m) return m
    if (/Waiting for calls/.test(text) && !/Waiting for calls/.test(re.source)) {
      throw new Error('the host printed plain output on a terminal: is runHostTui wired into the host command?\n' + text)
    }
    await sleep(100)
  }
  throw new Error(`no ${what} on the screen after ${ms} ms:\n${text}`)
}

/** A shell command running `vms-node <args>`, then printing its exit code and staying (so the screen can be read). */
function vmsCommand (args: string[]): string {
  return `${quote(process.execPath)} --no-node-snapshot ${quote(CLI)} ${args.map(quote).join(' ')}; echo VMS_EXIT=$?; sleep 600`
}

function hostCommand (net: Parameters<typeof bootstrapArg>[0], storage: string, extra: string[] = []): string {
  return vmsCommand(['host', examplePath('rsvp.js'), '--storage', storage, '--bootstrap', bootstrapArg(net), ...extra])
}

test('tui e2e: a host in a terminal shows its contract, a peer and the calls; q closes it' + SKIP, { skip: !HAS_TMUX }, (t) => failOnThrow(t, async () => {
  const net = await testnet(t)
  const storage = path.join(tmpdir(t), 'host')
  const term = terminal(t, hostCommand(net, storage))

  const row = await waitFor(term, /›([a-z0-9]{20,})… rsvp +host +(\d+)/, 'contract row')
  t.is(row[2], '2', 'log: genesis and init')
  const screen = term.screen()
  t.ok(screen.includes('HOST') && screen.includes('Peers (0)') && screen.includes('Verdicts (0)'), 'node, peers and verdicts panels drawn')
  t.ok(screen.split('\n').every((l) => [...l].length <= 80), 'fits 80 columns')
  const titled = /Contracts \(1\) ─+ ([a-z0-9]{52})/.exec(screen)
  t.ok(titled && titled[1].startsWith(row[1]), 'the full contract key is visible at 80 columns')

  term.keys('Enter')
  const full = await waitFor(term, / key {3}([a-z0-9]{52})/, 'contract key in the detail view')
  const key = full[1]
  t.ok(key.startsWith(row[1]), 'the detail shows the full key of the selected row')
  term.keys('Escape')
  await waitFor(term, /Peers \(0\)/, 'main screen again')

  const caller = identity()
  const who = formatKey(caller.publicKey).slice(0, 8)
  const client = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: caller, timeout: 15_000 })
  t.teardown(() => client.close())
  await client.call('RSVP', 'bob', false, 'Washing my hair, sorry!')
  await client.call('RSVP', 'bob', true)

  await waitFor(term, new RegExp(`#3 RSVP by ${who} → ok`), 'the second call in the event log')
  const after = term.screen()
  t.ok(after.includes(`#2 RSVP by ${who} → ok`), 'the first call in the event log')
  t.ok(/Peers \(1\)/.test(after), 'peers panel counts the client')
  t.ok(/peer [a-z0-9]{8} connected/.test(after), 'the connection in the event log')
  const peerRow = await waitFor(term, /^ [a-z0-9]{20,}… +client +\d:\d\d:\d\d +\S+ +\S+ +\S+ +0$/m, 'a peer row with its role, connected time, bytes and RTT', 5000)
  t.ok(peerRow, 'a peer row with its role (client), connected time, bytes and RTT')
  await waitFor(term, /›[a-z0-9]{20,}… rsvp +host +4 /, 'log length 4 in the contracts panel', 5000)

  term.keys('Enter')
  const detail = await waitFor(term, /Callers \(2\)[\s\S]*CALLER/, 'the detail with its callers (the operator\'s init and the client)')
  const lines = (detail.input ?? '').split('\n')
  t.ok(lines.some((l) => /^[› ] +3 \d\d:\d\d:\d\d RSVP +[a-z0-9]{8} ok$/.test(l) && l.includes(who)), 'the last call with its caller and result')
  t.ok(lines.some((l) => /^[› ] +1 \d\d:\d\d:\d\d init /.test(l)), 'the init call logged at deploy is read back')
  term.keys('q')
  await waitFor(term, /VMS_EXIT=0/, 'a clean exit after q', 30_000)
  t.absent(/Contracts \(/.test(term.screen()), 'the terminal is given back (the UI is gone from the screen)')
  t.ok(term.screen().includes(`Contract: ${key}`), 'the full contract key is printed on exit')
}))

test('tui e2e: --no-tui keeps plain output on a terminal' + SKIP, { skip: !HAS_TMUX }, (t) => failOnThrow(t, async () => {
  const net = await testnet(t)
  const storage = path.join(tmpdir(t), 'host')
  const term = terminal(t, hostCommand(net, storage, ['--no-tui']))
  await waitFor(term, /Waiting for calls/, 'plain output')
  t.absent(term.screen().includes('Contracts ('), 'no UI drawn')
}))

test('tui e2e: a watcher in a terminal shows the host\'s contract judged and its ok verdict' + SKIP, { skip: !HAS_TMUX }, (t) => failOnThrow(t, async () => {
  if (!/^ +watch\b/m.test((await cliRun(['--help'])).stdout)) {
    t.comment('skipped: this build has no `vms-node watch` command yet')
    return
  }
  const net = await testnet(t)
  const dir = tmpdir(t)
  const host = cli(t, ['host', examplePath('rsvp.js'), '--storage', path.join(dir, 'host'), '--bootstrap', bootstrapArg(net), '--json'])
  const key = (await host.event('ready')).contract as string
  const client = await VmsClient.connect(key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => client.close())
  await client.call('RSVP', 'alice', true)
  await client.call('RSVP', 'bob', false)

  const term = terminal(t, vmsCommand(['watch', key, '--storage', path.join(dir, 'watcher'), '--bootstrap', bootstrapArg(net)]))
  await waitFor(term, new RegExp(`›${key.slice(0, 20)}[a-z0-9]*… rsvp +watched +4 +\\d+ +\\S+ +4 +0`), 'the contract judged to 4, lag 0')
  const screen = term.screen()
  t.ok(screen.includes('WATCHER'), 'the node panel says watcher')
  t.ok(new RegExp(` ${key.slice(0, 8)} [a-z0-9]{8} +4 OK `).test(screen), 'the ok verdict at length 4')
  await waitFor(term, /Peers \([1-9]\)/, 'a peer (the host)')

  await client.call('RSVP', 'carol', true)
  await waitFor(term, new RegExp(` ${key.slice(0, 8)} [a-z0-9]{8} +5 OK `), 'the verdict follows the new call')
  term.keys('q')
  await waitFor(term, /VMS_EXIT=0/, 'a clean exit after q')
}))
