// How runs, metrics and params read on the experiments pages. Pure functions only.

/** Run statuses (MLflow's). */
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED'

const RUN_LOOKS: Record<string, { color: string; label: string }> = {
  RUNNING: { color: 'processing', label: 'running' },
  SCHEDULED: { color: 'default', label: 'scheduled' },
  FINISHED: { color: 'success', label: 'finished' },
  FAILED: { color: 'error', label: 'failed' },
  KILLED: { color: 'warning', label: 'killed' },
}

export function runLook(status: string): { color: string; label: string } {
  return RUN_LOOKS[status] ?? { color: 'default', label: status.toLowerCase() }
}

/** A run still moving: its page and charts are read again while it is. */
export function isRunActive(status: string | undefined): boolean {
  return status === 'RUNNING' || status === 'SCHEDULED'
}

const STUDY_LOOKS: Record<string, { color: string; label: string }> = {
  queued: { color: 'default', label: 'queued' },
  running: { color: 'processing', label: 'running' },
  completed: { color: 'success', label: 'completed' },
  stopped: { color: 'warning', label: 'stopped' },
  failed: { color: 'error', label: 'failed' },
  complete: { color: 'success', label: 'complete' },
  pruned: { color: 'warning', label: 'pruned' },
}

export function studyLook(state: string): { color: string; label: string } {
  return STUDY_LOOKS[state] ?? { color: 'default', label: state }
}

export function isStudyActive(state: string | undefined): boolean {
  return state === 'queued' || state === 'running'
}

/** Epoch milliseconds (MLflow's times) as ISO text, for the shared date helpers. */
export function msToIso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString()
}

/** "850 ms", "12.4 s", "3 min 05 s", "2 h 04 min". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`
  const h = Math.floor(m / 60)
  return `${h} h ${String(m % 60).padStart(2, '0')} min`
}

/** A metric value for a table cell: 4 significant digits, compact for large ones; `null` is NaN. */
export function metricText(v: number | null | undefined): string {
  if (v === undefined) return '—'
  if (v === null) return 'NaN'
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞'
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return v.toLocaleString('en-US')
  const a = Math.abs(v)
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(3)
  return Number(v.toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 6 })
}

/** A key as MLflow's grammar takes it in a filter or an order: always back-quoted (dots and spaces are fine). */
export function quotedKey(entity: 'metrics' | 'params' | 'tags', key: string): string {
  return `${entity}.\`${key.replace(/`/g, '')}\``
}

/** A column of the runs table, as an `order_by` entry and back. */
export type ColumnRef = { entity: 'metrics' | 'params' | 'tags'; key: string } | { entity: 'attributes'; key: string }

export function orderBy(ref: ColumnRef, descending: boolean): string {
  const base = ref.entity === 'attributes' ? `attributes.${ref.key}` : quotedKey(ref.entity, ref.key)
  return `${base} ${descending ? 'DESC' : 'ASC'}`
}

/** `metrics.\`acc\` DESC` -> the column and its direction (null: not a simple one-column order). */
export function parseOrder(order: string | undefined): { ref: ColumnRef; descending: boolean } | null {
  if (!order) return null
  const m = /^(attributes|metrics|params|tags)\.(?:`([^`]+)`|(\S+))\s+(ASC|DESC)$/i.exec(order.trim())
  if (!m) return null
  const entity = m[1].toLowerCase() as ColumnRef['entity']
  return { ref: { entity, key: m[2] ?? m[3] } as ColumnRef, descending: m[4].toUpperCase() === 'DESC' }
}

const SPLIT_PREFIX = /^(train|training|valid|validation|val|test|eval)[_./-](.+)$/i

/**
 * Metric keys grouped for charts: `train_loss` and `valid_loss` share the chart "loss" (so do
 * `loss` itself and `val/loss`). Groups keep the keys' first order.
 */
export function chartGroups(keys: string[]): { name: string; keys: string[] }[] {
  const groups = new Map<string, string[]>()
  for (const key of keys) {
    const m = SPLIT_PREFIX.exec(key)
    const name = m ? m[2] : key
    groups.set(name, [...(groups.get(name) ?? []), key])
  }
  return [...groups.entries()].map(([name, ks]) => ({ name, keys: ks }))
}

/** A number from a param's text, when it is one ("0.1", "3", "1e-4"); else null. */
export function numeric(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value.trim() === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/** Distinct colours for overlaid runs (antd's palette, in an order that keeps neighbours apart). */
export const RUN_COLORS = [
  '#1668dc',
  '#d4380d',
  '#389e0d',
  '#9254de',
  '#d48806',
  '#08979c',
  '#c41d7f',
  '#7cb305',
  '#531dab',
  '#0958d9',
  '#fa8c16',
  '#13c2c2',
]

export function runColor(i: number): string {
  return RUN_COLORS[i % RUN_COLORS.length]
}
