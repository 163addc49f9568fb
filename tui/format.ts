/**
 * Text helpers of the terminal UI: short keys, durations, byte counts,
 * clock times, and fixed-width cells. Pure functions.
 */

/** First `n` characters of a z-base32 key (default 8), or '-' when empty. */
export function shortKey (key: string | undefined, n = 8): string {
  return key ? key.slice(0, n) : '-'
}

/** `h:mm:ss` (or `Nd hh:mm` past a day) of a duration in ms. */
export function duration (ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  const two = (n: number): string => String(n).padStart(2, '0')
  if (d > 0) return `${d}d ${two(h)}:${two(m)}`
  return `${h}:${two(m)}:${two(sec)}`
}

/** `512B`, `12.3k`, `4.1M`, `2.0G`; '-' when unknown. */
export function bytes (n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-'
  if (n < 1000) return `${n}B`
  const units = ['k', 'M', 'G', 'T']
  let v = n
  let u = -1
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[u]}`
}

/** `HH:MM:SS` local time of an epoch time in ms. */
export function clock (at: number): string {
  const d = new Date(at)
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
}

/** A rate as text: `0`, `0.4`, `12`, `1.2k`. */
export function rate (perSec: number): string {
  if (!(perSec > 0)) return '0'
  if (perSec < 10) return perSec.toFixed(1)
  if (perSec < 1000) return String(Math.round(perSec))
  return (perSec / 1000).toFixed(1) + 'k'
}

/** `text` cut to `width` columns (ending in '…' when cut). */
export function cut (text: string, width: number): string {
  if (width <= 0) return ''
  if (text.length <= width) return text
  if (width === 1) return '…'
  return text.slice(0, width - 1) + '…'
}

/** `text` cut or padded with spaces to exactly `width` columns. */
export function cell (text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const t = cut(text, width)
  return align === 'right' ? t.padStart(width) : t.padEnd(width)
}

/** A one-line form of a JSON text or error message. */
export function oneLine (text: string, max = 200): string {
  return cut(text.replace(/\s+/g, ' ').trim(), max)
}
