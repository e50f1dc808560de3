import type { JobState } from '../api/types'

export const JOB_STATES: JobState[] = [
  'pending',
  'queued',
  'running',
  'retrying',
  'succeeded',
  'failed',
  'cancelled',
  'upstream_failed',
]

const ACTIVE = new Set<JobState>(['pending', 'queued', 'running', 'retrying'])

/** Still waiting or running: its page keeps reading it. */
export function isActive(state: JobState): boolean {
  return ACTIVE.has(state)
}

interface StateLook {
  label: string
  /** Ant Design tag colour. */
  color: string
  /** The same colour as CSS, for the graph view. */
  hex: string
}

export const STATE_LOOK: Record<JobState, StateLook> = {
  pending: { label: 'pending', color: 'default', hex: '#8c8c8c' },
  queued: { label: 'queued', color: 'gold', hex: '#d48806' },
  running: { label: 'running', color: 'processing', hex: '#1668dc' },
  retrying: { label: 'retrying', color: 'orange', hex: '#d46b08' },
  succeeded: { label: 'succeeded', color: 'success', hex: '#389e0d' },
  failed: { label: 'failed', color: 'error', hex: '#cf1322' },
  cancelled: { label: 'cancelled', color: 'default', hex: '#595959' },
  upstream_failed: { label: 'upstream failed', color: 'volcano', hex: '#d4380d' },
}

const WAIT_REASONS: Record<string, string> = {
  dependency: 'Waiting for the jobs it depends on to succeed.',
  quota: 'Waiting for room in the workspace quota (concurrent jobs, CPUs, memory or GPUs).',
  capacity: 'Waiting for a worker with enough free CPUs, memory or GPUs.',
  backoff: 'Waiting out the backoff before the next attempt.',
  priority: 'Waiting behind jobs of higher priority.',
}

/** Why a job waits, in words (the API's reason may carry details after a colon). */
export function waitReasonText(reason: string | null | undefined): string | null {
  if (!reason) return null
  const [code, ...rest] = reason.split(':')
  const known = WAIT_REASONS[code.trim()]
  if (!known) return reason
  const extra = rest.join(':').trim()
  return extra ? `${known} (${extra})` : known
}
