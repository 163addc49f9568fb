/**
 * The building blocks every panel uses: a one-line panel title (highlighted
 * when the panel has focus) and a fixed-width table whose body scrolls to
 * keep the selected row in view. Rows are padded strings, so a panel always
 * takes exactly the lines it was given and the layout never jumps.
 */

import { Box, Text } from 'ink'
import type { ReactElement } from 'react'
import { cell } from './format.js'

/** One table column. */
export interface Column<Row> {
  title: string
  /** Width in columns; 0 means "the rest" (one such column per table). */
  width: number
  align?: 'left' | 'right'
  /** Cell text. */
  text: (row: Row) => string
  /** Cell colour (an Ink colour name), if any. */
  color?: (row: Row) => string | undefined
}

/** Props of {@link Title}. */
export interface TitleProps {
  text: string
  /** Right-hand note (counts, hints). */
  note?: string
  width: number
  focused?: boolean
}

/**
 * A panel title: `── Peers (2) ─────────── note` over the full width, bold
 * cyan when focused.
 * @returns one line
 */
export function Title ({ text, note, width, focused }: TitleProps): ReactElement {
  const head = `${focused ? '▶' : '─'}─ ${text} `
  const tail = note ? ` ${note} ─` : ''
  const fill = Math.max(0, width - head.length - tail.length)
  const line = (head + '─'.repeat(fill) + tail).slice(0, width)
  return <Text bold={focused} color={focused ? 'cyan' : 'gray'} wrap='truncate'>{line}</Text>
}

/** Props of {@link Table}. */
export interface TableProps<Row> {
  columns: Array<Column<Row>>
  rows: Row[]
  width: number
  /** Body lines (the header line comes on top of these). */
  height: number
  /** Selected row index, or -1. */
  selected?: number
  /** Draw the selection (the panel has focus). */
  focused?: boolean
  /** Shown (dim) when there are no rows. */
  empty?: string
  /** React key of a row. */
  rowKey: (row: Row, i: number) => string
}

/** Widths of `columns` filling `width` (one space between columns, one before the first). */
export function columnWidths<Row> (columns: Array<Column<Row>>, width: number): number[] {
  const fixed = columns.reduce((sum, c) => sum + c.width, 0) + columns.length
  return columns.map((c) => c.width > 0 ? c.width : Math.max(4, width - fixed))
}

/** First row shown so that `selected` stays within a window of `height` rows. */
export function scrollTop (count: number, height: number, selected: number): number {
  if (count <= height || selected < 0) return 0
  return Math.min(Math.max(0, selected - height + 1), count - height)
}

/**
 * A header line and `height` body lines (always exactly, padded with blank
 * lines), the selected row shown inverse when focused.
 * @returns height + 1 lines
 */
export function Table<Row> ({ columns, rows, width, height, selected = -1, focused = false, empty = 'none', rowKey }: TableProps<Row>): ReactElement {
  const widths = columnWidths(columns, width)
  const header = ' ' + columns.map((c, i) => cell(c.title, widths[i], c.align)).join(' ')
  const top = scrollTop(rows.length, height, selected)
  const shown = rows.slice(top, top + height)
  const lines: ReactElement[] = shown.map((row, k) => {
    const i = top + k
    const on = focused && i === selected
    return (
      <Text key={rowKey(row, i)} inverse={on} wrap='truncate'>
        {on ? '›' : ' '}
        {columns.map((c, j) => (
          <Text key={j} color={c.color?.(row)}>{cell(c.text(row), widths[j], c.align) + (j < columns.length - 1 ? ' ' : '')}</Text>
        ))}
      </Text>
    )
  })
  if (rows.length === 0 && height > 0) lines.push(<Text key='empty' dimColor wrap='truncate'>{' ' + empty}</Text>)
  while (lines.length < height) lines.push(<Text key={'pad' + lines.length}> </Text>)
  return (
    <Box flexDirection='column' width={width} height={height + 1}>
      <Text dimColor wrap='truncate'>{header}</Text>
      {lines}
    </Box>
  )
}
