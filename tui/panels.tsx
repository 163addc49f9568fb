/**
 * The main screen's panels: node, peers, contracts, verdicts and the event
 * log. Each takes plain data from a {@link NodeSnapshot}, a width and a
 * height (total lines, title included) and renders exactly that many lines.
 */

import { Box, Text } from 'ink'
import type { ReactElement } from 'react'
import type { ContractView, EventLevel, EventLine, NodeView, PeerView, VerdictView } from './state.js'
import { Table, Title, type Column } from './table.js'
import { bytes, clock, cut, duration, rate, shortKey } from './format.js'

/** Props shared by the list panels. */
export interface PanelProps {
  width: number
  /** Total lines, title and column header included. */
  height: number
  focused?: boolean
  /** Selected row (list panels) or lines scrolled back (event log). */
  selected?: number
  /** Clock for ages and durations, ms since the epoch. */
  now: number
}

/** Props of {@link NodePanel}. */
export interface NodePanelProps {
  node: NodeView
  peers: number
  contracts: number
  width: number
  now: number
}

/**
 * Two lines about this node: role, node key, identity, uptime, counts; then
 * storage and DHT bootstrap.
 */
export function NodePanel ({ node, peers, contracts, width, now }: NodePanelProps): ReactElement {
  const state = node.closing ? 'closing…' : `up ${duration(now - node.startedAt)}`
  const counts = `${peers} peer${peers === 1 ? '' : 's'} · ${contracts} contract${contracts === 1 ? '' : 's'}`
  const id = node.identity ? `  id ${shortKey(node.identity)}` : ''
  const dht = node.bootstrap || 'public DHT'
  return (
    <Box flexDirection='column' width={width} height={2}>
      <Text wrap='truncate'>
        <Text bold color='cyan'> vms-node </Text>
        <Text inverse bold> {node.role.toUpperCase()} </Text>
        <Text>{`  node ${shortKey(node.key)}${id}  `}</Text>
        <Text color={node.closing ? 'yellow' : 'green'}>{state}</Text>
        <Text>{'  ' + counts}</Text>
      </Text>
      <Text dimColor wrap='truncate'>{cut(` storage ${node.storage || '-'}  dht ${dht}`, width)}</Text>
    </Box>
  )
}

const PEER_COLUMNS = (now: number): Array<Column<PeerView>> => [
  { title: 'PEER', width: 0, text: (p) => p.key },
  { title: 'ROLE', width: 7, text: (p) => p.role === 'unknown' ? '-' : p.role },
  { title: 'CONNECTED', width: 9, align: 'right', text: (p) => duration(now - p.since) },
  { title: 'IN', width: 6, align: 'right', text: (p) => bytes(p.bytesIn) },
  { title: 'OUT', width: 6, align: 'right', text: (p) => bytes(p.bytesOut) },
  { title: 'RTT', width: 6, align: 'right', text: (p) => p.rtt === undefined ? '-' : `${Math.round(p.rtt)}ms` },
  { title: 'ATTEST', width: 6, align: 'right', text: (p) => String(p.attestations) }
]

/** Props of {@link PeersPanel}. */
export interface PeersPanelProps extends PanelProps {
  peers: PeerView[]
}

/** Connected peers: key, role, connected time, bytes in/out, RTT, attestations received. */
export function PeersPanel ({ peers, width, height, focused, selected = -1, now }: PeersPanelProps): ReactElement {
  return (
    <Box flexDirection='column' width={width} height={height}>
      <Title text={`Peers (${peers.length})`} width={width} focused={focused} />
      <Table columns={PEER_COLUMNS(now)} rows={peers} width={width} height={height - 2} focused={focused} selected={selected} empty='no peers connected yet' rowKey={(p) => p.key} />
    </Box>
  )
}

/** "Audited up to" of a contract, or '-'. */
export function auditedText (c: ContractView): string {
  return c.audited === undefined ? '-' : String(c.audited)
}

/** How far the audit is behind the host's log, or '-' when nobody judged it yet. */
export function lagText (c: ContractView): string {
  if (c.audited === undefined) return '-'
  const head = c.role === 'host' ? c.length : c.hostLength
  return head === undefined ? '-' : String(Math.max(0, head - c.audited))
}

const CONTRACT_COLUMNS: Array<Column<ContractView>> = [
  { title: 'CONTRACT', width: 0, text: (c) => c.key },
  { title: 'NAME', width: 10, text: (c) => c.name },
  { title: 'ROLE', width: 7, text: (c) => c.role },
  { title: 'LOG', width: 6, align: 'right', text: (c) => String(c.length) },
  { title: 'FILES', width: 5, align: 'right', text: (c) => String(c.filesVersion) },
  { title: 'CALL/S', width: 6, align: 'right', text: (c) => rate(c.callsPerSec), color: (c) => c.callsPerSec > 0 ? 'green' : undefined },
  { title: 'AUDITED', width: 7, align: 'right', text: auditedText },
  { title: 'LAG', width: 4, align: 'right', text: lagText, color: (c) => lagText(c) !== '-' && lagText(c) !== '0' ? 'yellow' : undefined }
]

/** Props of {@link ContractsPanel}. */
export interface ContractsPanelProps extends PanelProps {
  contracts: ContractView[]
}

/** Hosted and watched contracts: key, name, role, log length, files version, calls/s, audited up to, lag. */
export function ContractsPanel ({ contracts, width, height, focused, selected = -1 }: ContractsPanelProps): ReactElement {
  // the full key of the selected (or first) contract in the title: 52 characters fit at 80 columns
  const title = `Contracts (${contracts.length})`
  const shown = contracts[selected] ?? contracts[0]
  const hint = focused ? 'enter: detail' : ''
  const fits = (note: string): boolean => title.length + note.length + 8 <= width
  const full = shown && hint ? `${shown.key} · ${hint}` : ''
  const note = full && fits(full) ? full : shown && fits(shown.key) ? shown.key : hint || undefined
  return (
    <Box flexDirection='column' width={width} height={height}>
      <Title text={title} note={note} width={width} focused={focused} />
      <Table columns={CONTRACT_COLUMNS} rows={contracts} width={width} height={height - 2} focused={focused} selected={selected} empty='no contracts yet' rowKey={(c) => c.key} />
    </Box>
  )
}

/** Ink colour of a verdict. */
export function verdictColor (v: VerdictView): string {
  return v.verdict === 'ok' ? 'green' : 'red'
}

/** `#12 result: message` for a bad verdict, '' for ok. */
export function divergence (v: VerdictView): string {
  if (v.verdict === 'ok') return ''
  const at = v.firstBadCall === undefined ? '' : `#${v.firstBadCall} `
  const what = [v.kind, v.message].filter(Boolean).join(': ')
  return (at + what).trim() || '-'
}

const VERDICT_COLUMNS = (now: number): Array<Column<VerdictView>> => [
  { title: 'CONTRACT', width: 8, text: (v) => shortKey(v.contract) },
  { title: 'WATCHER', width: 8, text: (v) => shortKey(v.watcher) },
  { title: 'LENGTH', width: 6, align: 'right', text: (v) => String(v.length) },
  { title: 'VERDICT', width: 12, text: (v) => v.verdict.toUpperCase(), color: verdictColor },
  { title: 'FIRST DIVERGING CALL', width: 0, text: divergence, color: verdictColor },
  { title: 'AGE', width: 8, align: 'right', text: (v) => duration(now - v.at) }
]

/** Props of {@link VerdictsPanel}. */
export interface VerdictsPanelProps extends PanelProps {
  verdicts: VerdictView[]
}

/** Each watcher's latest verdict per contract: ok in green, fault and equivocation in red with the first diverging call. */
export function VerdictsPanel ({ verdicts, width, height, focused, selected = -1, now }: VerdictsPanelProps): ReactElement {
  const bad = verdicts.filter((v) => v.verdict !== 'ok').length
  return (
    <Box flexDirection='column' width={width} height={height}>
      <Title text={`Verdicts (${verdicts.length})`} note={bad > 0 ? `${bad} FAULT${bad === 1 ? '' : 'S'}` : undefined} width={width} focused={focused} />
      <Table columns={VERDICT_COLUMNS(now)} rows={verdicts} width={width} height={height - 2} focused={focused} selected={selected} empty='no attestations heard yet' rowKey={(v) => v.contract + v.watcher} />
    </Box>
  )
}

const LEVEL_COLOR: Record<EventLevel, string | undefined> = {
  info: undefined,
  call: 'white',
  peer: 'blue',
  verdict: 'magenta',
  warn: 'yellow',
  error: 'red'
}

/** Props of {@link EventLogPanel}. */
export interface EventLogPanelProps extends PanelProps {
  events: EventLine[]
}

/** First line shown of the event log, `back` lines scrolled up from the newest. */
export function eventWindow (count: number, height: number, back: number): number {
  const maxBack = Math.max(0, count - height)
  return Math.max(0, count - height - Math.min(back, maxBack))
}

/** The newest event log lines (or older ones, `selected` lines scrolled back), coloured by level. */
export function EventLogPanel ({ events, width, height, focused, selected = 0 }: EventLogPanelProps): ReactElement {
  const body = Math.max(0, height - 1)
  const start = eventWindow(events.length, body, selected)
  const shown = events.slice(start, start + body)
  const newer = events.length - start - shown.length
  const note = newer > 0 ? `↓ ${newer} newer` : (focused ? '↑↓ scroll' : undefined)
  const lines = shown.map((e) => (
    <Text key={e.id} wrap='truncate'>
      <Text dimColor>{' ' + clock(e.at) + ' '}</Text>
      <Text color={LEVEL_COLOR[e.level]}>{cut(e.text, Math.max(1, width - 10))}</Text>
    </Text>
  ))
  while (lines.length < body) lines.push(<Text key={'pad' + lines.length}> </Text>)
  return (
    <Box flexDirection='column' width={width} height={height}>
      <Title text='Events' note={note} width={width} focused={focused} />
      {lines}
    </Box>
  )
}
