import { Tooltip } from 'antd'
import { formatDate, fromNow } from './format'

/** A relative time with the exact one on hover. */
export function When({ at, empty = '—' }: { at: string | null | undefined; empty?: string }) {
  if (!at) return <span>{empty}</span>
  return (
    <Tooltip title={formatDate(at)}>
      <span>{fromNow(at)}</span>
    </Tooltip>
  )
}
