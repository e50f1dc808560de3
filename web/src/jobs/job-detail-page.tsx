import { ApartmentOutlined, ArrowLeftOutlined, RedoOutlined, StopOutlined } from '@ant-design/icons'
import { Alert, App, Button, Card, Col, Descriptions, Flex, Popconfirm, Row, Table, Tag, Typography } from 'antd'
import { Link, useParams } from 'react-router'
import { errorMessage } from '../api/client'
import { type AttemptRead, canEdit, type JobDetail } from '../api/types'
import { useMe } from '../auth/queries'
import { formatDate } from '../common/format'
import { ErrorState, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useWorkspace } from '../workspaces/queries'
import { duration, resources } from './format'
import { JobLog } from './job-log'
import { useCancelJob, useJob, useRetryJob } from './queries'
import { JobProgress, StateTag } from './state-tag'
import { isActive, waitReasonText } from './states'

const RETRYABLE = new Set(['failed', 'cancelled', 'upstream_failed'])

const ATTEMPT_COLORS: Record<string, string> = {
  running: 'processing',
  succeeded: 'success',
  failed: 'error',
  timed_out: 'error',
  cancelled: 'default',
  lost: 'warning',
  handed_back: 'warning',
}

const attemptColumns = [
  { title: '#', dataIndex: 'number', key: 'number', width: 50 },
  {
    title: 'State',
    dataIndex: 'state',
    key: 'state',
    width: 120,
    render: (s: string) => <Tag color={ATTEMPT_COLORS[s] ?? 'default'}>{s.replace(/_/g, ' ')}</Tag>,
  },
  {
    title: 'Worker',
    dataIndex: 'worker_id',
    key: 'worker',
    render: (w: string) => (
      <Typography.Text code style={{ fontSize: 12 }}>
        {w}
      </Typography.Text>
    ),
  },
  { title: 'Started', key: 'started', width: 150, render: (_: unknown, a: AttemptRead) => formatDate(a.started_at) },
  { title: 'Took', key: 'took', width: 100, render: (_: unknown, a: AttemptRead) => duration(a.started_at, a.finished_at) },
  { title: 'Exit', dataIndex: 'exit_code', key: 'exit', width: 60, render: (c: number | null) => c ?? '—' },
  {
    title: 'Error',
    dataIndex: 'error',
    key: 'error',
    render: (e: string | null) =>
      e ? (
        <Typography.Text type="danger" ellipsis={{ tooltip: e }} style={{ maxWidth: 260 }}>
          {e}
        </Typography.Text>
      ) : (
        '—'
      ),
  },
]

function Actions({ slug, job }: { slug: string; job: JobDetail }) {
  const cancel = useCancelJob(slug)
  const retry = useRetryJob(slug)
  const { message } = App.useApp()
  const done = (verb: string) => ({
    onSuccess: () => void message.success(`Job ${job.name} ${verb}.`),
    onError: (err: unknown) => void message.error(errorMessage(err)),
  })
  return (
    <>
      {isActive(job.state) && (
        <Popconfirm
          title="Cancel this job?"
          description={job.state === 'running' ? 'Its process and everything it started are stopped.' : 'It will not run.'}
          okText="Cancel job"
          cancelText="Keep it"
          okButtonProps={{ danger: true }}
          onConfirm={() => cancel.mutateAsync(job.id).then(done('cancelled').onSuccess, done('cancelled').onError)}
        >
          <Button danger icon={<StopOutlined />} loading={cancel.isPending} disabled={job.cancel_requested}>
            {job.cancel_requested ? 'Cancelling…' : 'Cancel'}
          </Button>
        </Popconfirm>
      )}
      {RETRYABLE.has(job.state) && (
        <Popconfirm
          title="Run this job again?"
          description={job.dag_id ? 'Its DAG continues from here once it succeeds.' : 'It starts a new attempt.'}
          okText="Retry"
          onConfirm={() => retry.mutateAsync(job.id).then(done('queued again').onSuccess, done('queued again').onError)}
        >
          <Button icon={<RedoOutlined />} loading={retry.isPending}>
            Retry
          </Button>
        </Popconfirm>
      )}
    </>
  )
}

function ResultView({ job }: { job: JobDetail }) {
  if (job.state === 'failed' || job.state === 'upstream_failed' || (job.error && job.state === 'retrying')) {
    return (
      <Alert
        type={job.state === 'retrying' ? 'warning' : 'error'}
        showIcon
        title={
          job.state === 'upstream_failed'
            ? 'A job it depends on failed'
            : job.state === 'retrying'
              ? 'The last attempt failed; it will be tried again'
              : 'The job failed'
        }
        description={<pre style={{ margin: 0, whiteSpace: 'pre-wrap', fontSize: 12 }}>{job.error ?? 'No error message.'}</pre>}
        data-testid="job-error"
      />
    )
  }
  if (job.state === 'succeeded') {
    const text = job.result && Object.keys(job.result).length ? JSON.stringify(job.result, null, 2) : null
    return text ? (
      <pre data-testid="job-result" style={{ margin: 0, fontSize: 12, background: '#fafafa', padding: 12, borderRadius: 6, overflow: 'auto', maxHeight: 240 }}>
        {text}
      </pre>
    ) : (
      <Typography.Text type="secondary">The job succeeded without a result.</Typography.Text>
    )
  }
  if (job.state === 'cancelled') return <Typography.Text type="secondary">The job was cancelled.</Typography.Text>
  return <Typography.Text type="secondary">The result appears here when the job finishes.</Typography.Text>
}

/** One job: its state and why it waits, progress, attempts, result or error, and its live log. */
export default function JobDetailPage() {
  const slug = useWorkspaceSlug()!
  const { jobId = '' } = useParams()
  const me = useMe()
  const ws = useWorkspace(slug)
  const query = useJob(slug, jobId)
  const editor = canEdit(ws.data?.role, !!me.data?.user.is_admin)

  const back = (
    <Link to={`/w/${slug}/jobs`}>
      <ArrowLeftOutlined /> Jobs
    </Link>
  )
  if (query.isPending) return <LoadingState />
  if (query.isError)
    return (
      <>
        {back}
        <ErrorState error={query.error} onRetry={() => void query.refetch()} />
      </>
    )
  const job = query.data
  const waiting = job.state === 'queued' || job.state === 'pending' || job.state === 'retrying'
  const reason = waitReasonText(job.wait_reason)

  return (
    <>
      <div style={{ marginBottom: 8 }}>{back}</div>
      <PageHeader
        title={
          <Flex align="center" gap={12} wrap>
            <span>{job.name}</span>
            <span data-testid="detail-state">
              <StateTag state={job.state} />
            </span>
          </Flex>
        }
        subtitle={
          <>
            <Typography.Text code copyable style={{ fontSize: 12 }}>
              {job.id}
            </Typography.Text>{' '}
            · {job.kind}
            {job.dag_id && (
              <>
                {' · '}
                <Link to={`/w/${slug}/jobs/dags/${job.dag_id}`}>
                  <ApartmentOutlined /> DAG {job.dag_node ? `node ${job.dag_node}` : ''}
                </Link>
              </>
            )}
          </>
        }
        extra={editor ? <Actions slug={slug} job={job} /> : undefined}
      />
      {waiting && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          data-testid="wait-reason"
          title={job.state === 'pending' ? 'Pending' : job.state === 'retrying' ? 'Retrying soon' : 'Queued'}
          description={reason ?? 'Waiting for a worker to pick it up.'}
        />
      )}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={14}>
          <Card title="Status" style={{ height: '100%' }}>
            {(job.progress !== null || job.state === 'running' || job.state === 'succeeded') && (
              <div style={{ marginBottom: 16 }}>
                <JobProgress job={job} size="default" />
                <Typography.Text type="secondary" data-testid="progress-message">
                  {job.progress_message ?? (job.state === 'running' ? 'No progress reported yet.' : '')}
                </Typography.Text>
              </div>
            )}
            <Descriptions
              column={2}
              size="small"
              items={[
                { key: 'submitted', label: 'Submitted', children: <When at={job.created_at} /> },
                { key: 'started', label: 'Started', children: <When at={job.started_at} /> },
                { key: 'finished', label: 'Finished', children: <When at={job.finished_at} /> },
                { key: 'duration', label: 'Duration', children: duration(job.started_at, job.finished_at) },
                { key: 'attempt', label: 'Attempt', children: `${job.attempt} of ${job.max_attempts}` },
                { key: 'priority', label: 'Priority', children: job.priority },
                { key: 'resources', label: 'Resources', children: resources(job) },
                { key: 'timeout', label: 'Timeout', children: job.timeout_s ? `${job.timeout_s} s` : 'None' },
                ...(job.gpu_ids?.length ? [{ key: 'gpus', label: 'GPU ids', children: job.gpu_ids.join(', ') }] : []),
                ...(job.depends_on?.length
                  ? [
                      {
                        key: 'deps',
                        label: 'Depends on',
                        children: (
                          <Flex gap={4} wrap>
                            {(job.depends_on ?? []).map((d) => (
                              <Link key={d} to={`/w/${slug}/jobs/${d}`}>
                                <Typography.Text code style={{ fontSize: 12 }}>
                                  {d}
                                </Typography.Text>
                              </Link>
                            ))}
                          </Flex>
                        ),
                      },
                    ]
                  : []),
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Card title="Spec" style={{ height: '100%' }}>
            <pre style={{ margin: 0, fontSize: 12, background: '#fafafa', padding: 12, borderRadius: 6, overflow: 'auto', maxHeight: 220 }}>
              {JSON.stringify(job.spec, null, 2)}
            </pre>
          </Card>
        </Col>
        <Col xs={24}>
          <Card title="Result">
            <ResultView job={job} />
          </Card>
        </Col>
        <Col xs={24}>
          <JobLog slug={slug} job={job} />
        </Col>
        <Col xs={24}>
          <Card title="Attempts" styles={{ body: { padding: 0 } }}>
            <Table
              rowKey="number"
              size="small"
              columns={attemptColumns}
              dataSource={job.attempts}
              pagination={false}
              scroll={{ x: 760 }}
              locale={{ emptyText: <Typography.Text type="secondary">No attempt has started yet.</Typography.Text> }}
            />
          </Card>
        </Col>
      </Row>
    </>
  )
}
