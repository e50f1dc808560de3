import { DeleteOutlined, PauseCircleOutlined, PlayCircleOutlined, PlusOutlined, ThunderboltOutlined } from '@ant-design/icons'
import { App, Button, Card, Flex, Popconfirm, Table, Tag, Tooltip, Typography } from 'antd'
import { useState } from 'react'
import { Link } from 'react-router'
import { errorMessage } from '../api/client'
import { canEdit, type ScheduleRead, type ScheduleRunRead } from '../api/types'
import { useMe } from '../auth/queries'
import { useCursorPages } from '../common/cursor-pages'
import { formatDate } from '../common/format'
import { EmptyState, ErrorState, InlineError } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useWorkspace } from '../workspaces/queries'
import { inZone, timing } from './format'
import { useDeleteSchedule, usePauseSchedule, useScheduleRuns, useSchedules, useTriggerSchedule } from './queries'
import { ScheduleDrawer } from './schedule-drawer'

function what(s: ScheduleRead): string {
  const t = s.template as { job?: { kind?: string; name?: string | null }; dag?: { name?: string; nodes?: unknown[] } }
  if (t.dag) return `DAG ${t.dag.name ?? ''} (${t.dag.nodes?.length ?? 0} jobs)`
  if (t.job) return `${t.job.kind ?? 'job'}${t.job.name ? ` · ${t.job.name}` : ''}`
  return '—'
}

function NextRuns({ s }: { s: ScheduleRead }) {
  if (s.paused) return <Typography.Text type="secondary">Paused: no runs until resumed.</Typography.Text>
  const runs = s.next_runs ?? []
  if (!runs.length) return <Typography.Text type="secondary">None</Typography.Text>
  return (
    <Flex vertical gap={0} data-testid="next-runs">
      {runs.slice(0, 3).map((r, i) => (
        <Typography.Text key={r} type={i ? 'secondary' : undefined} style={{ fontSize: i ? 12 : 14 }}>
          {inZone(r, s.timezone)}
          {i === 0 && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {' '}
              (<When at={r} />)
            </Typography.Text>
          )}
        </Typography.Text>
      ))}
    </Flex>
  )
}

function Runs({ slug, s }: { slug: string; s: ScheduleRead }) {
  const runs = useScheduleRuns(slug, s.id)
  if (runs.isError) return <InlineError error={runs.error} />
  return (
    <Table
      rowKey="id"
      size="small"
      loading={runs.isPending}
      dataSource={runs.data?.items}
      pagination={false}
      locale={{ emptyText: 'It has not fired yet.' }}
      columns={[
        { title: 'Logical date', key: 'ld', render: (_: unknown, r: ScheduleRunRead) => inZone(r.logical_date, s.timezone) },
        { title: 'Fired', key: 'fired', render: (_: unknown, r: ScheduleRunRead) => formatDate(r.fired_at) },
        {
          title: 'Submitted',
          key: 'what',
          render: (_: unknown, r: ScheduleRunRead) =>
            r.error ? (
              <Typography.Text type="danger">{r.error}</Typography.Text>
            ) : r.dag_id ? (
              <Link to={`/w/${slug}/jobs/dags/${r.dag_id}`}>DAG {r.dag_id}</Link>
            ) : r.job_id ? (
              <Link to={`/w/${slug}/jobs/${r.job_id}`}>Job {r.job_id}</Link>
            ) : (
              '—'
            ),
        },
      ]}
    />
  )
}

/** Schedules of the workspace: when each fires next, pause and resume, run now, create. */
export default function SchedulesPage() {
  const slug = useWorkspaceSlug()!
  const me = useMe()
  const ws = useWorkspace(slug)
  const pages = useCursorPages()
  const list = useSchedules(slug, pages.cursor)
  const pause = usePauseSchedule(slug)
  const trigger = useTriggerSchedule(slug)
  const remove = useDeleteSchedule(slug)
  const { message } = App.useApp()
  const [creating, setCreating] = useState(false)
  const editor = canEdit(ws.data?.role, !!me.data?.user.is_admin)

  const fail = (err: unknown) => void message.error(errorMessage(err))

  const columns = [
    {
      title: 'Schedule',
      key: 'name',
      width: 220,
      render: (_: unknown, s: ScheduleRead) => (
        <Flex vertical gap={2}>
          <Typography.Text strong>{s.name}</Typography.Text>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {s.description || what(s)}
          </Typography.Text>
        </Flex>
      ),
    },
    {
      title: 'Timing',
      key: 'timing',
      width: 200,
      render: (_: unknown, s: ScheduleRead) => (
        <Flex vertical gap={2}>
          <Typography.Text code>{timing(s)}</Typography.Text>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {s.cron ? s.timezone : 'interval'} · catch-up: {s.catchup === 'all' ? 'every run' : 'latest'}
          </Typography.Text>
        </Flex>
      ),
    },
    {
      title: 'State',
      key: 'state',
      width: 110,
      render: (_: unknown, s: ScheduleRead) =>
        s.paused ? (
          <Tag color="default" icon={<PauseCircleOutlined />} data-testid="schedule-state">
            paused
          </Tag>
        ) : (
          <Tag color="green" icon={<PlayCircleOutlined />} data-testid="schedule-state">
            active
          </Tag>
        ),
    },
    { title: 'Next runs', key: 'next', width: 260, render: (_: unknown, s: ScheduleRead) => <NextRuns s={s} /> },
    {
      title: 'Last run',
      key: 'last',
      width: 140,
      render: (_: unknown, s: ScheduleRead) =>
        s.last_error ? (
          <Tooltip title={s.last_error}>
            <Typography.Text type="danger">
              <When at={s.last_run_at} empty="failed" />
            </Typography.Text>
          </Tooltip>
        ) : (
          <When at={s.last_run_at} empty="Never" />
        ),
    },
    ...(editor
      ? [
          {
            title: '',
            key: 'actions',
            width: 260,
            align: 'right' as const,
            render: (_: unknown, s: ScheduleRead) => (
              <Flex gap={4} justify="flex-end">
                <Button
                  size="small"
                  icon={s.paused ? <PlayCircleOutlined /> : <PauseCircleOutlined />}
                  onClick={() =>
                    pause.mutate(
                      { id: s.id, paused: !s.paused },
                      { onSuccess: (x) => void message.success(`${x.name} ${x.paused ? 'paused' : 'resumed'}.`), onError: fail },
                    )
                  }
                >
                  {s.paused ? 'Resume' : 'Pause'}
                </Button>
                <Popconfirm
                  title={`Run ${s.name} now?`}
                  description="It fires once with today's logical date."
                  okText="Run now"
                  onConfirm={() =>
                    trigger.mutateAsync(s.id).then(
                      (run) => void message.success(run.error ? `It fired, but: ${run.error}` : `${s.name} fired.`),
                      fail,
                    )
                  }
                >
                  <Button size="small" icon={<ThunderboltOutlined />}>
                    Run now
                  </Button>
                </Popconfirm>
                <Popconfirm
                  title={`Delete ${s.name}?`}
                  description="The jobs it submitted stay."
                  okText="Delete"
                  okButtonProps={{ danger: true }}
                  onConfirm={() => remove.mutateAsync(s.id).then(() => void message.success(`${s.name} deleted.`), fail)}
                >
                  <Button size="small" danger type="text" icon={<DeleteOutlined />} aria-label={`Delete ${s.name}`} />
                </Popconfirm>
              </Flex>
            ),
          },
        ]
      : []),
  ]

  return (
    <>
      <PageHeader
        title="Schedules"
        subtitle="Jobs and DAGs submitted on a cron expression (in a time zone) or an interval."
        extra={
          editor && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
              New schedule
            </Button>
          )
        }
      />
      {list.isError && list.data === undefined ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : (
        <Card styles={{ body: { padding: 0 } }}>
          <Table
            rowKey="id"
            size="middle"
            columns={columns}
            dataSource={list.data?.items}
            loading={list.isPending}
            pagination={false}
            scroll={{ x: 1180 }}
            expandable={{ expandedRowRender: (s: ScheduleRead) => <Runs slug={slug} s={s} /> }}
            locale={{
              emptyText: (
                <EmptyState description="No schedules yet.">
                  {editor && (
                    <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
                      New schedule
                    </Button>
                  )}
                </EmptyState>
              ),
            }}
          />
        </Card>
      )}
      <Pager
        page={pages.page}
        hasPrevious={pages.hasPrevious}
        nextCursor={list.data?.next_cursor}
        onPrevious={pages.previous}
        onNext={() => pages.next(list.data?.next_cursor)}
      />
      {editor && <ScheduleDrawer slug={slug} open={creating} onClose={() => setCreating(false)} onCreated={() => setCreating(false)} />}
    </>
  )
}
