import dayjs from 'dayjs'
import relativeTime from 'dayjs/plugin/relativeTime'

dayjs.extend(relativeTime)

/** A timestamp as a person reads it: "2026-03-01 14:05". */
export function formatDate(iso: string | null | undefined): string {
  return iso ? dayjs(iso).format('YYYY-MM-DD HH:mm') : '—'
}

/** "3 minutes ago", "in 89 days". */
export function fromNow(iso: string | null | undefined): string {
  return iso ? dayjs(iso).fromNow() : '—'
}

export function isPast(iso: string | null | undefined): boolean {
  return !!iso && dayjs(iso).isBefore(dayjs())
}
