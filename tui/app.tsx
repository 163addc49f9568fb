/**
 * The terminal UI's root component: reads a {@link NodeState} through a
 * throttled subscription (one re-render per `throttleMs` at most, however
 * fast the node writes), lays the panels out to fit the terminal exactly,
 * and handles the keys (see HELP_LINES in detail.tsx).
 */

import { Box, Text, useInput, useStdout } from 'ink'
import { useEffect, useRef, useState, type ReactElement } from 'react'
import type { NodeSnapshot, NodeState } from './state.js'
import { ContractsPanel, EventLogPanel, NodePanel, PeersPanel, VerdictsPanel } from './panels.js'
import { ContractDetail, Help } from './detail.js'
import { cut } from './format.js'

/** Panels that take focus, in tab order. */
export const FOCUS_ORDER = ['peers', 'contracts', 'verdicts', 'events'] as const
/** A focusable panel. */
export type Focus = typeof FOCUS_ORDER[number]

/** Props of {@link App}. */
export interface AppProps {
  state: NodeState
  /** Called once when the user asks to quit (q, ctrl+c). */
  onQuit: () => void
  /** Fixed size (tests); by default the terminal's, following resizes. */
  width?: number
  height?: number
  /** Least time between two re-renders caused by state writes, ms (default 150). */
  throttleMs?: number
  /** Clock refresh for uptimes and ages, ms (default 1000; 0: never). */
  tickMs?: number
  /** Clock (default: the state's). */
  now?: () => number
  /** Focused panel at start (default contracts). */
  initialFocus?: Focus
}

/**
 * The latest snapshot of `state`, re-read at most once per `ms` however
 * often the state changes.
 */
export function useThrottledSnapshot (state: NodeState, ms: number): NodeSnapshot {
  const [snap, setSnap] = useState(() => state.snapshot)
  useEffect(() => {
    let timer: NodeJS.Timeout | null = null
    const unsubscribe = state.subscribe(() => {
      if (timer !== null) return
      timer = setTimeout(() => {
        timer = null
        setSnap(state.snapshot)
      }, ms)
    })
    setSnap(state.snapshot)
    return () => {
      unsubscribe()
      if (timer !== null) clearTimeout(timer)
    }
  }, [state, ms])
  return snap
}

/** The terminal size (columns, rows), following resizes. */
function useTerminalSize (): { columns: number, rows: number } {
  const { stdout } = useStdout()
  const read = (): { columns: number, rows: number } => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 })
  const [size, setSize] = useState(read)
  useEffect(() => {
    const onresize = (): void => setSize(read())
    stdout.on('resize', onresize)
    return () => { stdout.off('resize', onresize) }
  }, [stdout])
  return size
}

/** Heights of the main screen's parts for a terminal of `height` lines. */
export function mainLayout (height: number, counts: { peers: number, contracts: number, verdicts: number }): { peers: number, contracts: number, verdicts: number, events: number } {
  const body = Math.max(0, height - 3) // node panel (2) and footer (1)
  const available = Math.max(3, body - 7) // titles (4) and column headers (3)
  const cap = Math.max(1, Math.floor((available - 3) / 3))
  const rows = (n: number): number => Math.min(Math.max(1, n), cap)
  const p = rows(counts.peers)
  const c = rows(counts.contracts)
  const v = rows(counts.verdicts)
  return { peers: p + 2, contracts: c + 2, verdicts: v + 2, events: Math.max(2, available - p - c - v + 1) }
}

function clamp (i: number, count: number): number {
  return Math.max(0, Math.min(i, count - 1))
}

/**
 * The whole UI: node panel, then peers, contracts, verdicts and events, and
 * a footer of keys; or a contract's detail; or the help.
 */
export function App ({ state, onQuit, width, height, throttleMs = 150, tickMs = 1000, now: clockFn, initialFocus = 'contracts' }: AppProps): ReactElement {
  const snap = useThrottledSnapshot(state, throttleMs)
  const term = useTerminalSize()
  const W = width ?? term.columns
  const H = height ?? Math.max(10, term.rows - 1) // a frame as tall as the terminal makes the renderer clear the screen each time
  const clock = clockFn ?? state.now
  const [now, setNow] = useState(clock)
  const [focus, setFocus] = useState<Focus>(initialFocus)
  const [sel, setSel] = useState<Record<Focus, number>>({ peers: 0, contracts: 0, verdicts: 0, events: 0 })
  const [view, setView] = useState<'main' | 'detail' | 'help'>('main')
  const [detailKey, setDetailKey] = useState<string | null>(null)
  const [detailSel, setDetailSel] = useState(0)
  const quitting = useRef(false)

  useEffect(() => {
    if (!(tickMs > 0)) return
    const timer = setInterval(() => setNow(clock()), tickMs)
    return () => clearInterval(timer)
  }, [tickMs, clock])
  useEffect(() => { setNow(clock()) }, [snap, clock])

  const counts: Record<Focus, number> = {
    peers: snap.peers.length,
    contracts: snap.contracts.length,
    verdicts: snap.verdicts.length,
    events: snap.events.length
  }

  const quit = (): void => {
    if (quitting.current) return
    quitting.current = true
    onQuit()
  }
  const move = (delta: number): void => {
    const i = FOCUS_ORDER.indexOf(focus)
    setFocus(FOCUS_ORDER[(i + delta + FOCUS_ORDER.length) % FOCUS_ORDER.length])
  }
  const openDetail = (key: string | undefined): void => {
    if (key === undefined || !snap.contracts.some((c) => c.key === key)) return
    setDetailKey(key)
    setDetailSel(0)
    setView('detail')
  }

  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) return quit()
    if (input === '?') return setView(view === 'help' ? 'main' : 'help')
    if (view !== 'main') {
      if (key.escape || key.backspace || key.delete || (view === 'help' && key.return)) return setView('main')
      if (view === 'detail' && (key.upArrow || input === 'k')) return setDetailSel((s) => Math.max(0, s - 1))
      if (view === 'detail' && (key.downArrow || input === 'j')) return setDetailSel((s) => s + 1)
      return
    }
    if (key.tab) return move(key.shift ? -1 : 1)
    if (key.rightArrow) return move(1)
    if (key.leftArrow) return move(-1)
    const up = key.upArrow || input === 'k'
    const down = key.downArrow || input === 'j'
    if (up || down) {
      // the event log scrolls back (up) and forward (down); lists move their selection
      const step = focus === 'events' ? (up ? 1 : -1) : (up ? -1 : 1)
      const limit = focus === 'events' ? Math.max(0, counts.events - 1) : Math.max(0, counts[focus] - 1)
      setSel((s) => ({ ...s, [focus]: Math.max(0, Math.min(limit, clamp(s[focus], counts[focus]) + step)) }))
      return
    }
    if (key.return) {
      if (focus === 'contracts') openDetail(snap.contracts[clamp(sel.contracts, counts.contracts)]?.key)
      else if (focus === 'verdicts') openDetail(snap.verdicts[clamp(sel.verdicts, counts.verdicts)]?.contract)
    }
  })

  const footer = snap.node.closing
    ? ' closing: flushing storage…'
    : view === 'main'
      ? ' tab/←→ panel · ↑↓ move · enter detail · ? help · q quit'
      : ' esc back · ↑↓ move · ? help · q quit'

  let body: ReactElement
  const detail = view === 'detail' ? snap.contracts.find((c) => c.key === detailKey) : undefined
  if (view === 'help') {
    body = <Help width={W} height={H - 3} />
  } else if (detail) {
    const verdicts = snap.verdicts.filter((v) => v.contract === detail.key)
    body = <ContractDetail contract={detail} verdicts={verdicts} width={W} height={H - 3} now={now} selected={clamp(detailSel, detail.lastCalls.length)} />
  } else {
    const h = mainLayout(H, counts)
    const s = (f: Focus): number => f === 'events' ? sel.events : clamp(sel[f], counts[f])
    body = (
      <Box flexDirection='column' width={W} height={H - 3}>
        <PeersPanel peers={snap.peers} width={W} height={h.peers} focused={focus === 'peers'} selected={s('peers')} now={now} />
        <ContractsPanel contracts={snap.contracts} width={W} height={h.contracts} focused={focus === 'contracts'} selected={s('contracts')} now={now} />
        <VerdictsPanel verdicts={snap.verdicts} width={W} height={h.verdicts} focused={focus === 'verdicts'} selected={s('verdicts')} now={now} />
        <EventLogPanel events={snap.events} width={W} height={h.events} focused={focus === 'events'} selected={s('events')} now={now} />
      </Box>
    )
  }

  return (
    <Box flexDirection='column' width={W} height={H}>
      <NodePanel node={snap.node} peers={counts.peers} contracts={counts.contracts} width={W} now={now} />
      {body}
      <Text dimColor={!snap.node.closing} color={snap.node.closing ? 'yellow' : undefined} wrap='truncate'>{cut(footer, W)}</Text>
    </Box>
  )
}
