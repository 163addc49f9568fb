// The whole terminal UI with fixed data: the 80x24 layout, the keys (tab
// and arrows between panels, enter for a contract's detail, esc back, ?
// help, q quit), throttled re-rendering, and stray logs caught in the event log.

import test from 'brittle'
import { render, cleanup } from 'ink-testing-library'
import { App, mainLayout } from '../tui/app.js'
import { captureLogs } from '../tui/capture.js'
import { NodeState } from '../tui/state.js'
import { KEYS, T0, fixtureState, plain, sleep } from './tui-fixtures.js'

const KEY = { tab: '\t', shiftTab: '\u001b[Z', up: '\u001b[A', down: '\u001b[B', right: '\u001b[C', left: '\u001b[D', enter: '\r', esc: '\u001b' }

function mount (t: { teardown (fn: () => unknown): void }, state: NodeState, onQuit: () => void = () => {}) {
  const r = render(<App state={state} onQuit={onQuit} width={80} height={23} tickMs={0} throttleMs={20} />)
  t.teardown(() => { r.unmount(); cleanup() })
  const screen = (): string[] => plain(r.lastFrame()).split('\n')
  // waits for the frame to change (up to 1.5 s: a loaded machine renders late), then lets it settle
  const press = async (key: string): Promise<void> => {
    const before = r.lastFrame()
    r.stdin.write(key)
    const end = Date.now() + 1500
    while (r.lastFrame() === before && Date.now() < end) await sleep(10)
    await sleep(40)
  }
  return { r, screen, press }
}

/** The title line of the focused panel. */
function focusedTitle (lines: string[]): string | undefined {
  return lines.find((l) => l.startsWith('▶'))
}

test('tui app: the main screen fits 80x24 with every panel', async (t) => {
  const { screen } = mount(t, fixtureState())
  await sleep(250)
  const lines = screen()
  t.is(lines.length, 23, 'one line short of 24, so the renderer never clears the screen')
  t.ok(lines.every((l) => [...l].length <= 80), 'no line wider than 80')
  const text = lines.join('\n')
  for (const title of ['Peers (2)', 'Contracts (1)', 'Verdicts (2)', 'Events']) t.ok(text.includes(title), title)
  t.ok(text.includes(KEYS.contract.slice(0, 20)), 'contract key')
  t.ok(text.includes('event number 29'), 'newest event')
  t.ok(lines[22].includes('q quit'), 'key footer on the last line')
  t.ok(focusedTitle(lines)?.includes('Contracts'), 'contracts have focus at start')
})

test('tui app: a narrow, short terminal (60x16) still draws every panel within its width', async (t) => {
  const r = render(<App state={fixtureState()} onQuit={() => {}} width={60} height={15} tickMs={0} throttleMs={20} />)
  t.teardown(() => { r.unmount(); cleanup() })
  await sleep(250)
  const lines = plain(r.lastFrame()).split('\n')
  t.is(lines.length, 15)
  t.ok(lines.every((l) => [...l].length <= 60), 'no line wider than 60')
  for (const title of ['Peers (2)', 'Contracts (1)', 'Verdicts (2)', 'Events']) t.ok(lines.some((l) => l.includes(title)), title)
})

test('tui app: the layout gives the event log what the lists leave', (t) => {
  const small = mainLayout(23, { peers: 0, contracts: 1, verdicts: 0 })
  t.is(small.peers + small.contracts + small.verdicts + small.events, 20)
  t.is(small.peers, 3, 'an empty list keeps one line for its "none" text')
  t.is(small.events, 11)
  const busy = mainLayout(23, { peers: 40, contracts: 10, verdicts: 80 })
  t.is(busy.peers + busy.contracts + busy.verdicts + busy.events, 20)
  t.ok(busy.events >= 4, 'long lists are capped so events stay visible')
  const tall = mainLayout(59, { peers: 40, contracts: 10, verdicts: 80 })
  t.ok(tall.peers > busy.peers, 'a taller terminal shows more rows')
})

test('tui app: tab, shift+tab and arrows move the focus; up/down move the selection', async (t) => {
  const { screen, press } = mount(t, fixtureState())
  await sleep(250)
  await press(KEY.tab)
  t.ok(focusedTitle(screen())?.includes('Verdicts'), 'tab: next panel')
  await press(KEY.right)
  t.ok(focusedTitle(screen())?.includes('Events'), 'right: next panel')
  await press(KEY.tab)
  t.ok(focusedTitle(screen())?.includes('Peers'), 'tab wraps around')
  await press(KEY.shiftTab)
  t.ok(focusedTitle(screen())?.includes('Events'), 'shift+tab: previous panel')
  await press(KEY.left)
  await press(KEY.left)
  await press(KEY.left)
  t.ok(focusedTitle(screen())?.includes('Peers'), 'left: previous panel')
  t.ok(screen().some((l) => l.startsWith('›' + KEYS.watcher.slice(0, 8))), 'first peer selected')
  await press(KEY.down)
  t.ok(screen().some((l) => l.startsWith('›' + KEYS.evil.slice(0, 8))), 'down selects the next peer')
  await press(KEY.down)
  t.ok(screen().some((l) => l.startsWith('›' + KEYS.evil.slice(0, 8))), 'the selection stops at the last row')
  await press(KEY.up)
  t.ok(screen().some((l) => l.startsWith('›' + KEYS.watcher.slice(0, 8))), 'up selects the previous peer')
})

test('tui app: enter opens the contract detail, esc goes back, ? toggles help', async (t) => {
  const { screen, press } = mount(t, fixtureState())
  await sleep(250)
  await press(KEY.enter)
  let text = screen().join('\n')
  t.ok(text.includes('Contract rsvp (host)'), 'detail opened')
  t.ok(text.includes('key   ' + KEYS.contract), 'full contract key')
  t.ok(text.includes('Last calls (4)') && text.includes('Callers (2)'))
  t.is(screen().length, 23)
  await press(KEY.esc)
  t.ok(screen().join('\n').includes('Peers (2)'), 'esc: back to the main screen')

  await press(KEY.tab) // verdicts
  await press(KEY.down) // the fault verdict
  await press(KEY.enter)
  t.ok(screen().join('\n').includes('Contract rsvp (host)'), 'enter on a verdict opens its contract')
  await press(KEY.esc)

  await press('?')
  text = screen().join('\n')
  t.ok(text.includes('Help') && text.includes('shift+tab'), 'help shown')
  await press('?')
  t.ok(screen().join('\n').includes('Peers (2)'), '? again closes the help')
})

test('tui app: q calls onQuit once; ctrl+c too', async (t) => {
  let quits = 0
  const { press } = mount(t, fixtureState(), () => { quits++ })
  await sleep(250)
  await press('q')
  await press('q')
  await press('\u0003')
  t.is(quits, 1, 'onQuit called exactly once')
  let again = 0
  const other = mount(t, fixtureState(), () => { again++ })
  await sleep(250)
  await other.press('\u0003')
  t.is(again, 1, 'ctrl+c quits the same way')
})

test('tui app: a burst of writes re-renders a few times, not once per write', async (t) => {
  const state = new NodeState({ role: 'host', startedAt: T0 }, { now: () => T0 })
  const { r, screen } = mount(t, state)
  await sleep(250)
  const before = r.frames.length
  state.upsertContract(KEYS.contract, { name: 'counter' })
  for (let i = 1; i <= 2000; i++) {
    state.recordCall(KEYS.contract, { index: i, method: 'increment', caller: KEYS.bob, at: T0, ok: true, result: String(i), error: null })
    state.log('call', `#${i} increment`)
  }
  await sleep(100)
  const renders = r.frames.length - before
  t.ok(renders >= 1 && renders <= 5, `${renders} renders for 4001 writes`)
  const lines = screen()
  t.ok(lines.some((l) => l.includes('counter') && /\s2001\s/.test(l)), 'the contract row shows the last length')
  t.ok(lines.some((l) => l.endsWith('#2000 increment')), 'the newest event is shown')
})

test('tui app: the node panel shows closing while quitting', async (t) => {
  const state = fixtureState()
  const { screen } = mount(t, state)
  state.setNode({ closing: true })
  await sleep(250)
  const lines = screen()
  t.ok(lines[0].includes('closing…'))
  t.ok(lines[22].includes('flushing storage'))
})

test('tui capture: console and stderr writes land in the event log, and are restored', (t) => {
  const state = new NodeState({}, { now: () => T0 })
  const write = process.stderr.write
  const log = console.log
  const restore = captureLogs(state)
  try {
    console.log('hello %s', 'world')
    console.error(new Error('boom').message)
    process.stderr.write('partial ')
    process.stderr.write('line\nsecond\n')
  } finally {
    restore()
  }
  t.is(process.stderr.write, write, 'stderr restored')
  t.is(console.log, log, 'console restored')
  const events = state.snapshot.events.map((e) => [e.level, e.text])
  t.alike(events, [['info', 'hello world'], ['error', 'boom'], ['warn', 'partial line'], ['warn', 'second']])
})
