/** Tables and number formats shared by the benches' terminal output and docs sections. */

export type Cell = string | number | null | undefined
export type Align = 'left' | 'right'

/** A GitHub-flavoured markdown table; `|` and line breaks inside cells are escaped. */
export function markdownTable(headers: string[], rows: Cell[][], align: Align[] = []): string {
  const escape = (cell: Cell): string =>
    cell === null || cell === undefined || cell === ''
      ? '—'
      : String(cell).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
  const rule = headers.map((_, i) => (align[i] === 'right' ? '---:' : '---'))
  return [headers.map(escape), rule, ...rows.map((row) => headers.map((_, i) => escape(row[i])))]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n')
}

/** 11172 → "11 172": a space groups thousands, as in the rest of the docs. */
export function formatInteger(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return ''
  return Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ')
}

/** A number with `digits` decimals, or '' when missing. */
export function formatFixed(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return ''
  return value.toFixed(digits)
}

/** 2.1 → "2.10×". */
export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : `${value.toFixed(2)}×`
}

/** Bytes in MiB with one decimal: 314572800 → "300.0 MiB". */
export function formatMiB(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes)
    ? ''
    : `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

/** Milliseconds as a human duration: 950 → "950 ms", 61_500 → "1 min 1.5 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const minutes = Math.floor(ms / 60_000)
  return `${minutes} min ${((ms - minutes * 60_000) / 1000).toFixed(1)} s`
}
