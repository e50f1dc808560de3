// How run and node statuses, and port types, look on the canvas and in lists.
import type { NodeStatus, PortType, PipelineRunStatus } from './types'

export interface Look {
  label: string
  /** Ant Design tag colour. */
  color: string
  /** The same colour as CSS, for the canvas. */
  hex: string
}

const RUN_LOOK: Record<PipelineRunStatus, Look> = {
  queued: { label: 'queued', color: 'gold', hex: '#d48806' },
  running: { label: 'running', color: 'processing', hex: '#1668dc' },
  succeeded: { label: 'succeeded', color: 'success', hex: '#389e0d' },
  failed: { label: 'failed', color: 'error', hex: '#cf1322' },
  cancelled: { label: 'cancelled', color: 'default', hex: '#595959' },
}

const NODE_LOOK: Record<string, Look> = {
  pending: { label: 'pending', color: 'default', hex: '#8c8c8c' },
  running: { label: 'running', color: 'processing', hex: '#1668dc' },
  succeeded: { label: 'succeeded', color: 'success', hex: '#389e0d' },
  failed: { label: 'failed', color: 'error', hex: '#cf1322' },
  skipped: { label: 'skipped', color: 'default', hex: '#bfbfbf' },
  cached: { label: 'cached', color: 'cyan', hex: '#08979c' },
}

export function runLook(status: PipelineRunStatus | string): Look {
  return RUN_LOOK[status as PipelineRunStatus] ?? { label: status, color: 'default', hex: '#8c8c8c' }
}

export function nodeLook(status: NodeStatus): Look {
  return NODE_LOOK[status] ?? { label: status, color: 'default', hex: '#8c8c8c' }
}

export function isRunActive(status: PipelineRunStatus | string): boolean {
  return status === 'queued' || status === 'running'
}

const PORT_COLOURS: Record<string, string> = {
  table: '#1668dc',
  transform: '#722ed1',
  model: '#389e0d',
  metrics: '#d46b08',
  report: '#08979c',
}

/** The colour of a port's handle (and of edges from it), by the port's type. */
export function portColour(type: PortType): string {
  return PORT_COLOURS[type] ?? '#8c8c8c'
}

export const PORT_TYPES = Object.keys(PORT_COLOURS)

/** "0.4 s", "2 min 5 s". */
export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return '—'
  if (s < 1) return `${Math.round(s * 1000)} ms`
  if (s < 60) return `${s.toFixed(1)} s`
  const m = Math.floor(s / 60)
  return `${m} min ${Math.round(s - m * 60)} s`
}

/** "1,234"; "—" when unknown. */
export function rows(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString()
}
