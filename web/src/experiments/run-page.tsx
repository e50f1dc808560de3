import { ArrowLeftOutlined, DeleteOutlined, StopOutlined, UndoOutlined } from '@ant-design/icons'
import { Alert, App, Button, Card, Col, Descriptions, Empty, Flex, Input, Popconfirm, Row, Table, Tabs, Tag, Typography } from 'antd'
import { useMemo, useState } from 'react'
import { Link, useNavigate, useParams, useSearchParams } from 'react-router'
import { errorMessage } from '../api/client'
import { EmptyState, ErrorState, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { JobLog } from '../jobs/job-log'
import { useCancelJob, useJob } from '../jobs/queries'
import { StateTag } from '../jobs/state-tag'
import type { JobState } from '../api/types'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { ArtifactBrowser } from './artifact-browser'
import { EvaluationCharts } from './evaluation'
import { duration, isRunActive, metricText } from './format'
import { links, useEditor } from './links'
import { RunStatusTag, WhenMs } from './parts'
import { useNow } from './now'
import { RunCharts } from './run-charts'
import { useDeleteRuns, useEvaluation, useRestoreRun, useRun, useUpdateRun } from './queries'
import type { LatestMetric, RunBrief, RunDetail } from './types'

/** Tags MLflow and Dais set for their own bookkeeping: listed apart from the user's. */
const SYSTEM_TAG = /^(mlflow\.|dais\.)/
/** Tags too long or too internal to show as a row. */
const HIDDEN_TAG = /^(mlflow\.log-model\.history|mlflow\.note\.content)$/

function KeyValueTable({ rows, testId, empty }: { rows: [string, string][]; testId: string; empty: string }) {
  const [q, setQ] = useState('')
  const shown = q ? rows.filter(([k, v]) => k.toLowerCase().includes(q.toLowerCase()) || v.toLowerCase().includes(q.toLowerCase())) : rows
  return (
    <>
      {rows.length > 12 && <Input.Search size="small" placeholder="Search" allowClear onChange={(e) => setQ(e.target.value)} style={{ marginBottom: 8, maxWidth: 260 }} />}
      <Table<[string, string]>
        rowKey={(r) => r[0]}
        size="small"
        dataSource={shown}
        pagination={shown.length > 50 ? { pageSize: 50, size: 'small' } : false}
        columns={[
          { title: 'Key', key: 'k', width: '42%', render: (_: unknown, r: [string, string]) => <Typography.Text style={{ wordBreak: 'break-all' }}>{r[0]}</Typography.Text> },
          {
            title: 'Value',
            key: 'v',
            render: (_: unknown, r: [string, string]) => (
              <Typography.Text copyable={r[1].length > 24 ? { text: r[1] } : false} ellipsis={{ tooltip: r[1] }} style={{ maxWidth: 320, fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', fontSize: 12 }}>
                {r[1]}
              </Typography.Text>
            ),
          },
        ]}
        locale={{ emptyText: empty }}
        data-testid={testId}
      />
    </>
  )
}

function MetricsTable({ metrics }: { metrics: LatestMetric[] }) {
  return (
    <Table<LatestMetric>
      rowKey="key"
      size="small"
      dataSource={metrics}
      pagination={metrics.length > 50 ? { pageSize: 50, size: 'small' } : false}
      columns={[
        { title: 'Metric', dataIndex: 'key', key: 'key' },
        { title: 'Latest', key: 'value', align: 'right', render: (_: unknown, m: LatestMetric) => <Typography.Text strong>{metricText(m.value)}</Typography.Text> },
        { title: 'Step', dataIndex: 'step', key: 'step', align: 'right', width: 80 },
      ]}
      locale={{ emptyText: 'No metrics logged.' }}
      data-testid="run-metrics"
    />
  )
}

function RunLinks({ slug, runs }: { slug: string; runs: RunBrief[] }) {
  return (
    <Table<RunBrief>
      rowKey="id"
      size="small"
      dataSource={runs}
      pagination={runs.length > 20 ? { pageSize: 20, size: 'small' } : false}
      columns={[
        { title: 'Run', key: 'name', render: (_: unknown, r: RunBrief) => <Link to={links.run(slug, r.id)}>{r.name}</Link> },
        { title: 'Status', key: 'status', width: 110, render: (_: unknown, r: RunBrief) => <RunStatusTag status={r.status} /> },
        { title: 'Started', key: 'start', width: 140, render: (_: unknown, r: RunBrief) => <WhenMs ms={r.start_time} /> },
      ]}
      data-testid="child-runs"
    />
  )
}

function Overview({ slug, run }: { slug: string; run: RunDetail }) {
  const params = useMemo(() => Object.entries(run.params).sort((a, b) => a[0].localeCompare(b[0])), [run.params])
  const tags = Object.entries(run.tags).filter(([k]) => !HIDDEN_TAG.test(k))
  const userTags = tags.filter(([k]) => !SYSTEM_TAG.test(k)).sort((a, b) => a[0].localeCompare(b[0]))
  const systemTags = tags.filter(([k]) => SYSTEM_TAG.test(k)).sort((a, b) => a[0].localeCompare(b[0]))
  const source = run.tags['mlflow.source.name']
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} xl={10}>
        <Flex vertical gap={16}>
          <Card size="small" title="Run">
            <Descriptions
              column={1}
              size="small"
              items={[
                { key: 'id', label: 'Run id', children: <Typography.Text code copyable style={{ fontSize: 12 }}>{run.id}</Typography.Text> },
                { key: 'exp', label: 'Experiment', children: <Link to={links.experiment(slug, run.experiment_id)}>{run.experiment_name}</Link> },
                { key: 'start', label: 'Started', children: <WhenMs ms={run.start_time} /> },
                { key: 'end', label: 'Ended', children: <WhenMs ms={run.end_time} /> },
                { key: 'dur', label: 'Duration', children: duration(run.duration_ms) },
                { key: 'user', label: 'User', children: run.user_id || '—' },
                ...(source ? [{ key: 'src', label: 'Source', children: source }] : []),
                ...(run.job
                  ? [
                      {
                        key: 'job',
                        label: 'Job',
                        children: (
                          <Flex gap={8} align="center">
                            <Link to={links.job(slug, run.job.id)}>{run.job.name}</Link>
                            <StateTag state={run.job.state as JobState} />
                          </Flex>
                        ),
                      },
                    ]
                  : []),
                ...(run.parent ? [{ key: 'parent', label: 'Parent run', children: <Link to={links.run(slug, run.parent.id)}>{run.parent.name}</Link> }] : []),
                { key: 'art', label: 'Artifacts', children: <Typography.Text code style={{ fontSize: 12, wordBreak: 'break-all' }}>{run.artifact_uri}</Typography.Text> },
              ]}
            />
          </Card>
          <Card size="small" title={`Metrics (${run.metrics.length})`} styles={{ body: { padding: run.metrics.length ? 0 : undefined } }}>
            <MetricsTable metrics={run.metrics} />
          </Card>
          {(run.inputs.length > 0 || (run.logged_models ?? []).length > 0 || (run.registered_versions ?? []).length > 0) && (
            <Card size="small" title="Data and models">
              <Descriptions
                column={1}
                size="small"
                items={[
                  ...run.inputs.map((i, n) => ({
                    key: `in-${n}`,
                    label: `Input${i.context ? ` (${i.context})` : ''}`,
                    children: (
                      <span>
                        {i.name ?? i.source ?? 'dataset'}
                        {i.digest && <Typography.Text type="secondary" style={{ fontSize: 12 }}> · {i.digest}</Typography.Text>}
                        {i.model_id && <Typography.Text type="secondary" style={{ fontSize: 12 }}> · model {i.model_id}</Typography.Text>}
                      </span>
                    ),
                  })),
                  ...(run.logged_models ?? []).map((m) => ({
                    key: `lm-${m.id}`,
                    label: 'Logged model',
                    children: (
                      <span>
                        {m.name} <Tag>{m.status.toLowerCase()}</Tag>
                        {m.model_type && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{m.model_type}</Typography.Text>}
                      </span>
                    ),
                  })),
                  ...(run.registered_versions ?? []).map((v) => ({ key: `rv-${v.model}-${v.version}`, label: 'Registered as', children: `${v.model} version ${v.version}` })),
                ]}
              />
            </Card>
          )}
        </Flex>
      </Col>
      <Col xs={24} xl={14}>
        <Flex vertical gap={16}>
          <Card size="small" title={`Params (${params.length})`}>
            <KeyValueTable rows={params} testId="run-params" empty="No params logged." />
          </Card>
          <Card size="small" title={`Tags (${userTags.length})`}>
            <KeyValueTable rows={userTags} testId="run-tags" empty="No tags of your own." />
            {systemTags.length > 0 && (
              <details style={{ marginTop: 8 }}>
                <summary style={{ cursor: 'pointer', color: '#8c8c8c', fontSize: 12 }}>{systemTags.length} system tags (mlflow.*, dais.*)</summary>
                <KeyValueTable rows={systemTags} testId="run-system-tags" empty="" />
              </details>
            )}
          </Card>
          {run.child_count > 0 && (
            <Card size="small" title={`Child runs (${run.child_count})`}>
              <RunLinks slug={slug} runs={run.children ?? []} />
            </Card>
          )}
        </Flex>
      </Col>
    </Row>
  )
}

function Logs({ slug, jobId }: { slug: string; jobId: string }) {
  const job = useJob(slug, jobId)
  if (job.isError) return <ErrorState error={job.error} onRetry={() => void job.refetch()} />
  if (!job.data) return <LoadingState />
  return <JobLog slug={slug} job={job.data} />
}

function Actions({ slug, run }: { slug: string; run: RunDetail }) {
  const { message } = App.useApp()
  const navigate = useNavigate()
  const cancel = useCancelJob(slug)
  const update = useUpdateRun(slug, run.id)
  const remove = useDeleteRuns(slug)
  const restore = useRestoreRun(slug)
  const jobActive = run.job && ['pending', 'queued', 'running', 'retrying'].includes(run.job.state)
  const fail = (err: unknown) => void message.error(errorMessage(err))
  return (
    <>
      {isRunActive(run.status) && (
        <Popconfirm
          title="Stop this run?"
          description={jobActive ? 'Its job is cancelled; the metrics logged so far stay.' : 'It is marked killed; a client still logging to it gets errors.'}
          okText="Stop"
          okButtonProps={{ danger: true }}
          onConfirm={() =>
            jobActive && run.job
              ? cancel.mutateAsync(run.job.id).then(() => void message.success('The job is being cancelled.'), fail)
              : update.mutateAsync({ status: 'KILLED' }).then(() => void message.success('Run stopped.'), fail)
          }
        >
          <Button danger icon={<StopOutlined />} data-testid="stop-run">
            Stop
          </Button>
        </Popconfirm>
      )}
      {run.lifecycle_stage === 'deleted' ? (
        <Button icon={<UndoOutlined />} onClick={() => restore.mutateAsync(run.id).then(() => void message.success('Run restored.'), fail)}>
          Restore
        </Button>
      ) : (
        <Popconfirm
          title="Delete this run?"
          description="It moves to the experiment's deleted view; its metrics and artifacts stay."
          okText="Delete"
          okButtonProps={{ danger: true }}
          onConfirm={() => remove.mutateAsync([run.id]).then(() => navigate(links.experiment(slug, run.experiment_id)), fail)}
        >
          <Button danger icon={<DeleteOutlined />} aria-label="Delete run" />
        </Popconfirm>
      )}
    </>
  )
}

/** One run: overview (params, metrics, tags), live charts, its job's log, artifacts and evaluation. */
export default function RunPage() {
  const slug = useWorkspaceSlug()!
  const { run: runId = '' } = useParams()
  const editor = useEditor(slug)
  const [params, setParams] = useSearchParams()
  const run = useRun(slug, runId)
  const update = useUpdateRun(slug, runId)
  const finished = !!run.data && !isRunActive(run.data.status)
  const evaluation = useEvaluation(slug, runId, finished)
  const now = useNow(run.data?.status === 'RUNNING')

  if (run.isError) return <ErrorState error={run.error} onRetry={() => void run.refetch()} />
  if (!run.data) return <LoadingState />
  const r = run.data
  const hasEvaluation = !!evaluation.data
  const tab = params.get('tab') ?? 'overview'
  const tabs = [
    { key: 'overview', label: 'Overview', children: <Overview slug={slug} run={r} /> },
    { key: 'charts', label: `Charts${r.metrics.length ? ` (${r.metrics.length})` : ''}`, children: <RunCharts slug={slug} run={r} /> },
    {
      key: 'logs',
      label: 'Logs',
      children: r.job_id ? (
        <Logs slug={slug} jobId={r.job_id} />
      ) : (
        <EmptyState description="This run was logged from outside Dais (an MLflow client elsewhere): its output stays where it ran." />
      ),
    },
    { key: 'artifacts', label: 'Artifacts', children: <ArtifactBrowser slug={slug} run={r.id} /> },
    {
      key: 'evaluation',
      label: 'Evaluation',
      children: hasEvaluation ? (
        <EvaluationCharts evaluation={evaluation.data!} />
      ) : evaluation.isError ? (
        <ErrorState error={evaluation.error} onRetry={() => void evaluation.refetch()} />
      ) : !finished ? (
        <EmptyState description="The evaluation appears when the run has finished." />
      ) : evaluation.isPending ? (
        <LoadingState />
      ) : (
        <Empty
          image={Empty.PRESENTED_IMAGE_SIMPLE}
          description="No evaluation.json: Dais's presets write one (confusion matrix, ROC and PR curves, residuals, feature importance); your own code can log one at the root of the run's artifacts."
        />
      ),
    },
  ]

  return (
    <>
      <Link to={links.experiment(slug, r.experiment_id)} style={{ display: 'inline-block', marginBottom: 8 }}>
        <ArrowLeftOutlined /> {r.experiment_name}
      </Link>
      <PageHeader
        title={
          <Flex gap={12} align="center" wrap>
            <Typography.Text
              style={{ fontSize: 'inherit', fontWeight: 'inherit' }}
              editable={editor ? { onChange: (name) => name.trim() && name !== r.name && update.mutate({ name: name.trim() }), triggerType: ['icon'], tooltip: 'Rename' } : false}
              data-testid="run-name"
            >
              {r.name}
            </Typography.Text>
            <RunStatusTag status={r.status} />
            {r.lifecycle_stage === 'deleted' && <Tag color="red">deleted</Tag>}
          </Flex>
        }
        subtitle={
          <>
            {r.description ? `${r.description} · ` : ''}
            {r.status === 'RUNNING' ? 'Running for ' : r.status === 'SCHEDULED' ? 'Waiting for its job' : 'Took '}
            {r.status === 'SCHEDULED' ? '' : duration(r.duration_ms ?? (r.start_time ? Math.max(0, now - r.start_time) : null))}
            {r.parent && (
              <>
                {' · child of '}
                <Link to={links.run(slug, r.parent.id)}>{r.parent.name}</Link>
              </>
            )}
          </>
        }
        extra={editor && <Actions slug={slug} run={r} />}
      />
      {r.status === 'FAILED' && r.job && (
        <Alert
          type="error"
          showIcon
          style={{ marginBottom: 16 }}
          title="The run failed"
          description={
            <>
              Its job ended {r.job.state}. The <a onClick={() => setParams({ tab: 'logs' }, { replace: true })}>log</a> says why.
            </>
          }
        />
      )}
      <Card styles={{ body: { paddingTop: 4 } }}>
        <Tabs
          activeKey={tab}
          onChange={(key) => setParams(key === 'overview' ? {} : { tab: key }, { replace: true })}
          items={tabs}
          destroyOnHidden
          data-testid="run-tabs"
        />
      </Card>
    </>
  )
}
