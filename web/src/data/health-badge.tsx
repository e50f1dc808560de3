import { Badge, Tooltip } from 'antd'
import { formatDate } from '../common/format'
import type { Health } from './types'

const LOOK: Record<Health, { status: 'success' | 'error' | 'default'; text: string }> = {
  ok: { status: 'success', text: 'healthy' },
  failing: { status: 'error', text: 'failing' },
  unknown: { status: 'default', text: 'not tested' },
}

/** A connection's health from its last test: a coloured dot, the source's message on hover. */
export function HealthBadge({ health, message, checkedAt }: { health: Health; message?: string | null; checkedAt?: string | null }) {
  const look = LOOK[health] ?? LOOK.unknown
  const tip = [message, checkedAt ? `Checked ${formatDate(checkedAt)}` : null].filter(Boolean).join(' · ')
  return (
    <Tooltip title={tip || undefined}>
      <span data-testid="health" data-health={health}>
        <Badge status={look.status} text={look.text} />
      </span>
    </Tooltip>
  )
}
