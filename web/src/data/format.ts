// How data sizes and values read.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** "1.5 MiB", "820 B"; "—" when unknown. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—'
  let value = n
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit += 1
  }
  return `${value.toLocaleString(undefined, { maximumFractionDigits: unit === 0 ? 0 : 1 })} ${UNITS[unit]}`
}

/** "12,345"; "—" when unknown. */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString()
}

/** "1.2M", "45k", for tight places. */
export function compact(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—'
  return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(n)
}

/** A sample cell as text: null stays visible, objects as JSON, long texts cut. */
export function cellText(value: unknown, max = 200): string {
  if (value === null || value === undefined) return 'null'
  let text: string
  if (typeof value === 'object') text = JSON.stringify(value)
  else text = String(value)
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/** A statistic (min, max, mean) as text, numbers rounded to what a person reads. */
export function statText(value: unknown): string {
  if (value === null || value === undefined) return '—'
  if (typeof value === 'number') {
    return Number.isInteger(value) ? value.toLocaleString() : value.toLocaleString(undefined, { maximumSignificantDigits: 6 })
  }
  return cellText(value, 60)
}

/** "12.5%". */
export function percent(part: number, whole: number): string {
  if (!whole) return '—'
  return `${((part / whole) * 100).toLocaleString(undefined, { maximumFractionDigits: 1 })}%`
}

export const FORMAT_LABELS: Record<string, string> = {
  auto: 'Detect',
  parquet: 'Parquet',
  csv: 'CSV',
  json: 'JSON',
  jsonl: 'JSON lines',
  text: 'Text lines',
  arrow: 'Arrow / Feather',
  table: 'SQL table',
  query: 'SQL query',
  images: 'Images',
  video: 'Video',
}

export function formatLabel(format: string | null | undefined): string {
  return format ? (FORMAT_LABELS[format] ?? format) : '—'
}

export const MEDIA_FORMATS = new Set(['images', 'video'])

export function isMedia(format: string | null | undefined): boolean {
  return !!format && MEDIA_FORMATS.has(format)
}

/** "Test connection": what the source answered, and how long it took. */
export function checkText(result: { message: string; latency_ms: number }): string {
  return `${result.message} (${Math.round(result.latency_ms).toLocaleString()} ms)`
}

/** Where a dataset's data is, in short: the connection and its path, table or query. */
export function sourceText(d: { connection: string | null; source: { path?: string | null; table?: string | null; query?: string | null } }): string {
  const where = d.source.path ?? d.source.table ?? (d.source.query ? 'query' : '')
  return `${d.connection ?? 'uploads'}${where ? `: ${where}` : ''}`
}
