// How quota numbers read: null means no limit.

export function limit(value: number | null | undefined, unit = ''): string {
  return value === null || value === undefined ? 'Unlimited' : `${value.toLocaleString()}${unit}`
}

export function memory(mb: number | null | undefined): string {
  if (mb === null || mb === undefined) return 'Unlimited'
  return mb >= 1024 ? `${(mb / 1024).toLocaleString(undefined, { maximumFractionDigits: 1 })} GiB` : `${mb} MiB`
}
