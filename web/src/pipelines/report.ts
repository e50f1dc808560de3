// The statistics operator's report (see dais.pipelines.operators.profile), and statistics computed in
// the browser from a node's output sample when there is no report.

export interface ProfileColumn {
  name: string
  dtype: string
  count: number
  nulls: number
  distinct: number | null
  min?: unknown
  max?: unknown
  mean?: number | null
  std?: number | null
  quantiles?: Record<string, number | null>
  histogram?: { edges: (number | null)[]; counts: number[] }
  top?: { value: unknown; count: number }[]
}

export interface ProfileReport {
  rows: number
  columns: ProfileColumn[]
  correlation?: { columns: string[]; matrix: (number | null)[][] }
}

function isProfile(value: unknown): value is ProfileReport {
  if (!value || typeof value !== 'object') return false
  const cols = (value as { columns?: unknown }).columns
  return Array.isArray(cols) && cols.every((c) => c && typeof c === 'object' && typeof (c as { name?: unknown }).name === 'string')
}

/** The profile report among a node's non-table outputs (by port), if it has one. */
export function findProfile(report: Record<string, unknown> | undefined): ProfileReport | null {
  if (!report) return null
  if (isProfile(report)) return report
  for (const value of Object.values(report)) if (isProfile(value)) return value
  return null
}

/** A profile of sample rows: numeric columns get histograms, the others their top values. */
export function profileOfSample(rows: Record<string, unknown>[], bins = 12): ProfileReport {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const columns: ProfileColumn[] = names.map((name) => {
    const values = rows.map((r) => r[name])
    const present = values.filter((v) => v !== null && v !== undefined)
    const numbers = present.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
    const base = { name, count: present.length, nulls: values.length - present.length, distinct: new Set(present.map((v) => JSON.stringify(v))).size }
    if (present.length && numbers.length === present.length) {
      const lo = Math.min(...numbers)
      const hi = Math.max(...numbers)
      const n = lo === hi ? 1 : Math.min(bins, Math.max(1, base.distinct))
      const width = (hi - lo) / n
      const counts = new Array<number>(n).fill(0)
      for (const x of numbers) counts[width > 0 ? Math.min(n - 1, Math.floor((x - lo) / width)) : 0] += 1
      const mean = numbers.reduce((a, b) => a + b, 0) / numbers.length
      const std = Math.sqrt(numbers.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, numbers.length - 1))
      return {
        ...base,
        dtype: 'number',
        min: lo,
        max: hi,
        mean,
        std,
        histogram: { edges: Array.from({ length: n + 1 }, (_, i) => lo + i * width), counts },
      }
    }
    const tally = new Map<string, { value: unknown; count: number }>()
    for (const v of present) {
      const key = JSON.stringify(v)
      tally.set(key, { value: v, count: (tally.get(key)?.count ?? 0) + 1 })
    }
    const top = [...tally.values()].sort((a, b) => b.count - a.count).slice(0, 10)
    return { ...base, dtype: present.length ? typeof present[0] : 'null', top }
  })
  return { rows: rows.length, columns }
}
