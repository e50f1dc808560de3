// The registration wizard's rules, kept apart from its page: what the source step's values mean as
// a SourceSpec, which partitions are chosen, and a name to suggest.
import type { CsvOptions, DataFormat, SourceSpec } from './types'

/** The workspace's own upload area in the connection picker (the API's `connection: null`). */
export const UPLOADS = '__uploads__'

export type SourceMode = 'path' | 'table' | 'query'
export type PartitionMode = 'all' | 'pinned' | 'dynamic'

export interface SourceValues {
  connection?: string
  mode: SourceMode
  path?: string
  table?: string
  query?: string
  format: DataFormat
  csv_delimiter?: string
  csv_header?: 'detect' | 'yes' | 'no'
  csv_encoding?: string
  csv_quote_char?: string
}

export const SOURCE_DEFAULTS: SourceValues = { mode: 'path', format: 'auto', csv_header: 'detect' }

/** File formats offered for a path (table and query are chosen by the source mode). */
export const FILE_FORMATS: DataFormat[] = ['auto', 'parquet', 'csv', 'json', 'jsonl', 'text', 'arrow', 'images', 'video']

export const DELIMITERS = [
  { value: ',', label: 'Comma ,' },
  { value: ';', label: 'Semicolon ;' },
  { value: '\t', label: 'Tab' },
  { value: '|', label: 'Pipe |' },
]

export function connectionName(values: Pick<SourceValues, 'connection'>): string | null {
  return !values.connection || values.connection === UPLOADS ? null : values.connection
}

function csvOptions(values: SourceValues): CsvOptions | null {
  const csv: CsvOptions = {}
  if (values.csv_delimiter) csv.delimiter = values.csv_delimiter
  if (values.csv_header === 'yes') csv.header = true
  if (values.csv_header === 'no') csv.header = false
  if (values.csv_encoding?.trim()) csv.encoding = values.csv_encoding.trim()
  if (values.csv_quote_char) csv.quote_char = values.csv_quote_char
  return Object.keys(csv).length ? csv : null
}

/** Whether the CSV options apply to this format (CSV, or detection that may find CSV). */
export function csvApplies(format: DataFormat | undefined): boolean {
  return format === 'csv' || format === 'auto' || format === undefined
}

/** The source as the API takes it, with the partitions chosen so far. */
export function sourceSpec(values: SourceValues, partitionFilter: string[] | string | null = null): SourceSpec {
  if (values.mode === 'table') return { table: values.table?.trim(), format: 'table' }
  if (values.mode === 'query') return { query: values.query?.trim(), format: 'query' }
  const spec: SourceSpec = { path: values.path?.trim() ?? '', format: values.format }
  const csv = csvApplies(values.format) ? csvOptions(values) : null
  if (csv) spec.csv = csv
  if (partitionFilter !== null && !(Array.isArray(partitionFilter) && partitionFilter.length === 0)) {
    spec.partition_filter = partitionFilter
  }
  return spec
}

/** What the partitions step chose: nothing (all), a pinned list, or one dynamic expression. */
export function partitionFilter(mode: PartitionMode, pinned: string[], expression: string): string[] | string | null {
  if (mode === 'pinned') return pinned.length ? pinned : null
  if (mode === 'dynamic') return expression.trim() || null
  return null
}

/** A problem with the partitions step's choice, or null. */
export function partitionProblem(mode: PartitionMode, pinned: string[], expression: string): string | null {
  if (mode === 'pinned' && pinned.length === 0) return 'Pick at least one partition, or keep them all.'
  if (mode === 'dynamic' && !expression.trim()) return 'Enter an expression such as dt=${ds}.'
  if (mode === 'dynamic' && !/\$\{[^}]+\}/.test(expression)) return 'A dynamic expression names a variable, such as ${ds}.'
  return null
}

/** A starting expression from the partition keys: `dt=${ds}` for a date-like key, else `key=${ds}`. */
export function suggestExpression(keys: string[]): string {
  const dateKey = keys.find((k) => /^(dt|ds|date|day|event_date|partition_date)$/i.test(k)) ?? keys[0]
  return dateKey ? `${dateKey}=\${ds}` : '${ds}'
}

/** A dataset name from the source: the last meaningful part of the path, or the table name. */
export function suggestName(values: SourceValues): string {
  let base = ''
  if (values.mode === 'table') base = (values.table ?? '').split('.').pop() ?? ''
  else if (values.mode === 'query') base = 'query'
  else {
    const parts = (values.path ?? '').split('/').filter((p) => p && !/[*?[\]]/.test(p) && !p.includes('='))
    base = (parts.pop() ?? '').replace(/\.(parquet|csv|tsv|jsonl?|txt|arrow|feather|ipc)(\.gz)?$/i, '')
  }
  const slug = base
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63)
  return slug
}

export const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/

/** Today as the `ds` a run would pass (YYYY-MM-DD, local time). */
export function today(): string {
  const d = new Date()
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}
