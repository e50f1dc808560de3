import type { DeliveryState, RuleEvent } from '../api/types'

export const EVENT_LABELS: Record<RuleEvent, string> = {
  failed: 'failed',
  succeeded: 'succeeded',
  cancelled: 'cancelled',
  running_longer: 'running longer than…',
}

export const EVENT_COLORS: Record<string, string> = {
  failed: 'error',
  succeeded: 'success',
  cancelled: 'default',
  running_longer: 'warning',
  test: 'blue',
}

export const DELIVERY_COLORS: Record<DeliveryState, string> = {
  pending: 'processing',
  sent: 'success',
  failed: 'error',
}
