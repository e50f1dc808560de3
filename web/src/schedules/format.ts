import type { ScheduleRead } from '../api/types'

/** "every 90 s", "every 15 min", "every 6 h", "every 2 d". */
export function every(seconds: number): string {
  const units: [number, string][] = [
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'min'],
  ]
  for (const [size, unit] of units) {
    if (seconds >= size && seconds % size === 0) return `every ${seconds / size} ${unit}`
  }
  return `every ${seconds.toLocaleString()} s`
}

/** How a schedule's timing reads: its cron expression, or its interval. */
export function timing(s: Pick<ScheduleRead, 'cron' | 'interval_s'>): string {
  if (s.cron) return s.cron
  if (s.interval_s) return every(s.interval_s)
  return '—'
}

/** A moment as a clock in a time zone: "Mar 1, 2026, 03:00". */
export function inZone(iso: string, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso))
  } catch {
    return new Date(iso).toLocaleString()
  }
}

/** Every IANA time zone the browser knows, UTC first. */
export function timeZones(): string[] {
  try {
    return ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')]
  } catch {
    return ['UTC']
  }
}

/** `key=value` lines into variables; lines without `=` are ignored by the form's validator. */
export function parseVariables(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of (text ?? '').split('\n')) {
    const at = line.indexOf('=')
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim()
  }
  return out
}
