/**
 * Full-screen views: a contract's detail (its keys and counters, its last
 * calls with callers and results, its callers, and the verdicts on it) and
 * the key help.
 */

import { Box, Text } from 'ink'
import type { ReactElement } from 'react'
import type { CallView, CallerView, ContractView, VerdictView } from './state.js'
import { Table, Title, type Column } from './table.js'
import { clock, cut, duration, rate, shortKey } from './format.js'
import { auditedText, divergence, lagText, verdictColor } from './panels.js'
import { servingText } from './serving.js'

const CALL_COLUMNS: Array<Column<CallView>> = [
  { title: '#', width: 6, align: 'right', text: (c) => String(c.index) },
  { title: 'TIME', width: 8, text: (c) => clock(c.at) },
  { title: 'METHOD', width: 12, text: (c) => c.method },
  { title: 'CALLER', width: 8, text: (c) => shortKey(c.caller) },
  { title: 'RESULT', width: 0, text: (c) => c.ok ? (c.result === null ? 'ok' : `ok ${c.result}`) : (c.error ?? 'error'), color: (c) => c.ok ? undefined : 'red' }
]

const CALLER_COLUMNS = (now: number): Array<Column<CallerView>> => [
  { title: 'CALLER', width: 0, text: (c) => c.caller },
  { title: 'CALLS', width: 6, align: 'right', text: (c) => String(c.calls) },
  { title: 'LAST METHOD', width: 12, text: (c) => c.lastMethod },
  { title: 'AGO', width: 8, align: 'right', text: (c) => duration(now - c.lastAt) }
]

const VERDICT_COLUMNS = (now: number): Array<Column<VerdictView>> => [
  { title: 'WATCHER', width: 8, text: (v) => shortKey(v.watcher) },
  { title: 'LENGTH', width: 6, align: 'right', text: (v) => String(v.length) },
  { title: 'VERDICT', width: 12, text: (v) => v.verdict.toUpperCase(), color: verdictColor },
  { title: 'FIRST DIVERGING CALL', width: 0, text: divergence, color: verdictColor },
  { title: 'AGE', width: 8, align: 'right', text: (v) => duration(now - v.at) }
]

/** Lines each section of the detail view gets, from the total height. */
export function detailLayout (height: number, callers: number, verdicts: number): { calls: number, callers: number, verdicts: number } {
  const rest = Math.max(0, height - 5 - 6) // info block, three titles and three headers
  const bad = Math.min(Math.max(1, verdicts), Math.max(1, Math.floor(rest / 4)))
  const who = Math.min(Math.max(1, callers), Math.max(1, Math.floor(rest / 4)))
  return { calls: Math.max(1, rest - bad - who), callers: who, verdicts: bad }
}

/** Props of {@link ContractDetail}. */
export interface ContractDetailProps {
  contract: ContractView
  /** Verdicts on this contract. */
  verdicts: VerdictView[]
  width: number
  height: number
  now: number
  /** Selected call row (↑↓ move through the last calls). */
  selected?: number
}

/**
 * A contract's detail over `height` lines: full keys, counters, the last
 * calls (newest first) with caller and result, callers, and the verdicts on
 * it, bad ones with their first diverging call.
 */
export function ContractDetail ({ contract: c, verdicts, width, height, now, selected = 0 }: ContractDetailProps): ReactElement {
  const rows = detailLayout(height, c.callers.length, verdicts.length)
  const bad = verdicts.filter((v) => v.verdict !== 'ok')
  const counters = ` log ${c.length} · files v${c.filesVersion} · ${rate(c.callsPerSec)} call/s · audited ${auditedText(c)} · lag ${lagText(c)}` +
    (c.oracles === undefined ? '' : ` · oracles ${c.oracles ? 'on (trusted)' : 'off'}`) + servingText(c, now)
  return (
    <Box flexDirection='column' width={width} height={height}>
      <Title text={`Contract ${c.name || shortKey(c.key)} (${c.role})`} note='esc: back' width={width} focused />
      <Text wrap='truncate'>{' key   '}<Text bold>{c.key}</Text></Text>
      <Text wrap='truncate'>{' files ' + (c.files ?? '-') + (c.deployer ? ' · deployer ' + c.deployer : '')}</Text>
      <Text wrap='truncate'>{cut(counters, width)}</Text>
      <Text wrap='truncate' color={bad.length > 0 ? 'red' : undefined}>
        {cut(bad.length > 0 ? ` FAULT ${divergence(bad[0])}` : ` methods ${(c.methods ?? []).join(', ') || '-'}`, width)}
      </Text>
      <Title text={`Last calls (${c.lastCalls.length})`} width={width} />
      <Table columns={CALL_COLUMNS} rows={c.lastCalls} width={width} height={rows.calls} focused selected={selected} empty='no calls yet' rowKey={(x) => String(x.index)} />
      <Title text={`Callers (${c.callers.length})`} width={width} />
      <Table columns={CALLER_COLUMNS(now)} rows={c.callers} width={width} height={rows.callers} empty='no callers yet' rowKey={(x) => x.caller} />
      <Title text={`Verdicts (${verdicts.length})`} width={width} />
      <Table columns={VERDICT_COLUMNS(now)} rows={verdicts} width={width} height={rows.verdicts} empty='no attestations heard yet' rowKey={(v) => v.watcher} />
    </Box>
  )
}

/** The keys, one per line. */
export const HELP_LINES: Array<[string, string]> = [
  ['tab / →', 'next panel'],
  ['shift+tab / ←', 'previous panel'],
  ['↑ ↓ (or k j)', 'move in the panel; scroll the event log'],
  ['enter', 'open the selected contract (contracts or verdicts panel)'],
  ['esc / backspace', 'back to the main screen'],
  ['?', 'show or hide this help'],
  ['q / ctrl+c', 'quit: close the node and flush storage']
]

/** Props of {@link Help}. */
export interface HelpProps {
  width: number
  height: number
}

/** The help screen: keys and what the panels show. */
export function Help ({ width, height }: HelpProps): ReactElement {
  const lines = [
    ...HELP_LINES.map(([k, what]) => ` ${k.padEnd(17)} ${what}`),
    '',
    ' Panels: node · peers (bytes in/out, RTT, attestations) · contracts (log',
    ' length, files version, calls/s, audited up to, lag) · verdicts (each',
    " watcher's latest: OK green, FAULT/EQUIVOCATION red with the first",
    ' diverging call) · events.',
    '',
    ' Press ? or esc to close.'
  ]
  return (
    <Box flexDirection='column' width={width} height={height}>
      <Title text='Help' note='?: close' width={width} focused />
      {lines.slice(0, Math.max(0, height - 1)).map((l, i) => <Text key={i} wrap='truncate'>{cut(l, width) || ' '}</Text>)}
    </Box>
  )
}
