import {
  CheckCircleFilled,
  ClockCircleOutlined,
  CloseCircleFilled,
  ExclamationCircleFilled,
  HourglassOutlined,
  MinusCircleFilled,
  StopOutlined,
  SyncOutlined,
} from '@ant-design/icons'
import { Progress, Tag, Tooltip } from 'antd'
import type { ReactNode } from 'react'
import type { JobRead, JobState } from '../api/types'
import { STATE_LOOK, waitReasonText } from './states'

const ICONS: Record<JobState, ReactNode> = {
  pending: <ClockCircleOutlined />,
  queued: <HourglassOutlined />,
  running: <SyncOutlined spin />,
  retrying: <SyncOutlined />,
  succeeded: <CheckCircleFilled />,
  failed: <CloseCircleFilled />,
  cancelled: <StopOutlined />,
  upstream_failed: <MinusCircleFilled />,
}

export function StateTag({ state }: { state: JobState }) {
  const look = STATE_LOOK[state]
  return (
    <Tag color={look.color} icon={ICONS[state]} data-testid="job-state" data-state={state} style={{ marginInlineEnd: 0 }}>
      {look.label}
    </Tag>
  )
}

export function WaitReason({ reason }: { reason: string | null | undefined }) {
  const text = waitReasonText(reason)
  if (!text) return null
  return (
    <Tooltip title={text}>
      <ExclamationCircleFilled style={{ color: '#d48806', marginLeft: 6 }} aria-label={text} />
    </Tooltip>
  )
}

/** A job's progress: a bar while it has one; finished jobs show full or stopped bars. */
export function JobProgress({ job, size = 'small' }: { job: Pick<JobRead, 'state' | 'progress' | 'progress_message'>; size?: 'small' | 'default' }) {
  if (job.progress === null || job.progress === undefined) {
    if (job.state === 'succeeded') return <Progress percent={100} size={size} status="success" />
    return <span style={{ color: 'rgba(0,0,0,0.35)' }}>—</span>
  }
  const percent = Math.round(Math.max(0, Math.min(1, job.progress)) * 1000) / 10
  const status =
    job.state === 'failed' || job.state === 'upstream_failed'
      ? 'exception'
      : job.state === 'succeeded'
        ? 'success'
        : job.state === 'running'
          ? 'active'
          : 'normal'
  return (
    <Tooltip title={job.progress_message ?? undefined}>
      <Progress percent={percent} size={size} status={status} data-testid="job-progress" />
    </Tooltip>
  )
}
