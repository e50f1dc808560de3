import { Progress, Table, Typography } from 'antd'
import { Link } from 'react-router'
import { useCursorPages } from '../common/cursor-pages'
import { EmptyState, ErrorState } from '../common/page-states'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { metricText } from './format'
import { links } from './links'
import { StudyStateTag } from './parts'
import { useStudies } from './queries'
import type { StudyRead } from './types'

/** Trials done of the study's budget (or just the count when it has a time budget only). */
export function TrialProgress({ study }: { study: StudyRead }) {
  const counts = study.trials
  const done = (counts.complete ?? 0) + (counts.pruned ?? 0) + (counts.failed ?? 0)
  const running = counts.running ?? 0
  if (!study.max_trials)
    return (
      <Typography.Text>
        {done} done{running ? `, ${running} running` : ''}
      </Typography.Text>
    )
  return (
    <Progress
      percent={Math.round((100 * done) / study.max_trials)}
      success={{ percent: Math.round((100 * (counts.complete ?? 0)) / study.max_trials) }}
      size="small"
      format={() => `${done}/${study.max_trials}`}
      style={{ width: 140, margin: 0 }}
    />
  )
}

/** The workspace's tuning studies, newest first. */
export function StudiesTable({ slug }: { slug: string }) {
  const pages = useCursorPages()
  const studies = useStudies(slug, pages.cursor)
  if (studies.isError) return <ErrorState error={studies.error} onRetry={() => void studies.refetch()} />
  if (studies.data && studies.data.items.length === 0 && !pages.cursor)
    return (
      <EmptyState description="No tuning studies yet. A study tries a preset's params again and again (random, grid or TPE search) and keeps the best; start one from the launcher's last step, the SDK or `dais tune`." />
    )
  const columns = [
    {
      title: 'Study',
      key: 'name',
      render: (_: unknown, s: StudyRead) => (
        <div>
          <Link to={links.study(slug, s.name)} data-testid="study-link">
            <Typography.Text strong style={{ color: 'inherit' }}>
              {s.name}
            </Typography.Text>
          </Link>
          <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
            {s.kind === 'auto' ? 'auto model' : (s.algorithm ?? 'script')}
            {s.dataset ? ` on ${s.dataset}` : ''} · {s.sampler}
          </Typography.Text>
        </div>
      ),
    },
    { title: 'State', key: 'state', width: 110, render: (_: unknown, s: StudyRead) => <StudyStateTag state={s.state} /> },
    { title: 'Trials', key: 'trials', width: 170, render: (_: unknown, s: StudyRead) => <TrialProgress study={s} /> },
    {
      title: 'Best',
      key: 'best',
      width: 190,
      render: (_: unknown, s: StudyRead) =>
        s.best_value === null ? (
          <Typography.Text type="secondary">—</Typography.Text>
        ) : (
          <span>
            <Typography.Text strong>{metricText(s.best_value)}</Typography.Text>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {' '}
              {s.metric} ({s.direction === 'maximize' ? 'max' : 'min'}) · #{s.best_trial}
            </Typography.Text>
          </span>
        ),
    },
    { title: 'Created', key: 'created', width: 140, render: (_: unknown, s: StudyRead) => <When at={s.created_at} /> },
  ]
  return (
    <>
      <Table<StudyRead>
        rowKey="id"
        loading={studies.isPending || (studies.isFetching && studies.isPlaceholderData)}
        columns={columns}
        dataSource={studies.data?.items ?? []}
        pagination={false}
        data-testid="studies-table"
      />
      <div style={{ padding: '0 16px 16px' }}>
        <Pager
          page={pages.page}
          hasPrevious={pages.hasPrevious}
          nextCursor={studies.data?.next_cursor}
          onPrevious={pages.previous}
          onNext={() => pages.next(studies.data?.next_cursor)}
        />
      </div>
    </>
  )
}
