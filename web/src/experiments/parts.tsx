// Small pieces the experiments pages share: status tags, links, times in epoch milliseconds.
import { Tag } from 'antd'
import { When } from '../common/when'
import { msToIso, runLook, studyLook } from './format'

export function RunStatusTag({ status }: { status: string }) {
  const look = runLook(status)
  return (
    <Tag color={look.color} data-testid="run-status" data-status={status} style={{ marginInlineEnd: 0 }}>
      {look.label}
    </Tag>
  )
}

export function StudyStateTag({ state }: { state: string }) {
  const look = studyLook(state)
  return (
    <Tag color={look.color} data-testid="study-state" data-state={state} style={{ marginInlineEnd: 0 }}>
      {look.label}
    </Tag>
  )
}

/** A time kept in epoch milliseconds, relative with the exact one on hover. */
export function WhenMs({ ms }: { ms: number | null | undefined }) {
  return <When at={msToIso(ms)} />
}
