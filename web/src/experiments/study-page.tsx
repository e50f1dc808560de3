import { ArrowLeftOutlined, CrownOutlined, StopOutlined, TrophyOutlined } from '@ant-design/icons'
import { Alert, App, Button, Card, Col, Descriptions, Empty, Form, Input, Modal, Popconfirm, Row, Select, Table, Tag, Tooltip, Typography } from 'antd'
import { useMemo, useState } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { errorMessage } from '../api/client'
import type { ChartOption } from '../common/echart'
import { formatDate } from '../common/format'
import { ErrorState, InlineError, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { EChart } from './charts'
import { duration, isStudyActive, metricText, studyLook } from './format'
import { links, useEditor } from './links'
import { StudyStateTag } from './parts'
import { usePromoteTrial, useStopStudy, useStudy } from './queries'
import { TrialProgress } from './studies-table'
import type { LeaderboardRow, StudyDetail, TrialRead } from './types'

const STATE_COLORS: Record<string, string> = { complete: '#1668dc', pruned: '#d48806', failed: '#cf1322', running: '#8c8c8c' }

function paramText(v: unknown): string {
  if (typeof v === 'number') return metricText(v)
  if (v === null || v === undefined) return '—'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

function historyOption(study: StudyDetail): ChartOption {
  const states = [...new Set(study.history.map((p) => p.state))]
  return {
    animation: false,
    grid: { left: 8, right: 16, top: 34, bottom: 30, containLabel: true },
    legend: { top: 0, textStyle: { fontSize: 11 }, itemHeight: 8 },
    tooltip: {
      trigger: 'item',
      formatter: (p: { seriesName: string; value: [number, number] }) => `trial #${p.value[0]}<br/>${p.seriesName === 'best so far' ? 'best so far' : study.metric}: ${metricText(p.value[1])}`,
    },
    xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 22, minInterval: 1, axisLabel: { fontSize: 11 }, splitLine: { show: false } },
    yAxis: { type: 'value', scale: true, name: study.metric, axisLabel: { fontSize: 11, formatter: (v: number) => metricText(v) }, splitLine: { lineStyle: { color: '#f0f0f0' } } },
    series: [
      ...states.map((state) => ({
        type: 'scatter',
        name: state,
        data: study.history.filter((p) => p.state === state && p.value !== null).map((p) => [p.number, p.value]),
        symbolSize: 9,
        color: STATE_COLORS[state] ?? '#8c8c8c',
      })),
      {
        type: 'line',
        name: 'best so far',
        step: 'end',
        data: study.history.filter((p) => p.best !== null).map((p) => [p.number, p.best]),
        showSymbol: false,
        color: '#389e0d',
        lineStyle: { width: 2 },
      },
    ],
  }
}

function importanceOption(importance: Record<string, number>): ChartOption {
  const items = Object.entries(importance).sort((a, b) => a[1] - b[1])
  return {
    animation: false,
    grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: unknown) => `${((v as number) * 100).toFixed(1)}%` },
    xAxis: { type: 'value', max: 1, axisLabel: { show: false }, splitLine: { lineStyle: { color: '#f0f0f0' } } },
    yAxis: { type: 'category', data: items.map((i) => i[0]), axisLabel: { fontSize: 11, width: 140, overflow: 'truncate' } },
    series: [
      {
        type: 'bar',
        data: items.map((i) => i[1]),
        color: '#1668dc',
        barMaxWidth: 20,
        label: { show: true, position: 'right', fontSize: 11, formatter: (p: { value: number }) => `${(p.value * 100).toFixed(0)}%` },
      },
    ],
  }
}

/** Each complete trial's value against one param (Optuna's slice plot); a log axis where the space is log-scaled. */
function sliceOption(study: StudyDetail, param: string): ChartOption {
  const space = study.space[param] as { type?: string; log?: boolean } | undefined
  const trials = study.trial_list.filter((t) => t.value !== null && t.params[param] !== undefined && t.params[param] !== null)
  const numericParam = trials.every((t) => typeof t.params[param] === 'number')
  const cats = numericParam ? null : [...new Set(trials.map((t) => String(t.params[param])))].sort()
  return {
    animation: false,
    grid: { left: 8, right: 24, top: 24, bottom: 30, containLabel: true },
    tooltip: { trigger: 'item', formatter: (p: { value: [number | string, number, number] }) => `trial #${p.value[2]}<br/>${param}: ${paramText(p.value[0])}<br/>${study.metric}: ${metricText(p.value[1])}` },
    xAxis: cats
      ? { type: 'category', data: cats, name: param, nameLocation: 'middle', nameGap: 22, axisLabel: { fontSize: 11 } }
      : { type: space?.log ? 'log' : 'value', scale: true, name: param, nameLocation: 'middle', nameGap: 22, axisLabel: { fontSize: 11, formatter: (v: number) => metricText(v) }, splitLine: { show: false } },
    yAxis: { type: 'value', scale: true, name: study.metric, axisLabel: { fontSize: 11, formatter: (v: number) => metricText(v) }, splitLine: { lineStyle: { color: '#f0f0f0' } } },
    visualMap: { show: false, dimension: 2, min: 0, max: Math.max(1, study.trial_list.length - 1), inRange: { color: ['#bae0ff', '#0958d9'] } },
    series: [
      {
        type: 'scatter',
        symbolSize: 10,
        data: trials.map((t) => [cats ? String(t.params[param]) : (t.params[param] as number), t.value as number, t.number]),
      },
    ],
  }
}

function intermediateOption(study: StudyDetail): ChartOption {
  const trials = study.trial_list.filter((t) => Object.keys(t.intermediate).length > 0)
  return {
    animation: false,
    grid: { left: 8, right: 16, top: 14, bottom: 30, containLabel: true },
    tooltip: { trigger: 'item', formatter: (p: { seriesName: string; value: [number, number] }) => `${p.seriesName}<br/>step ${p.value[0]}: ${metricText(p.value[1])}` },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 22, axisLabel: { fontSize: 11 }, splitLine: { show: false } },
    yAxis: { type: 'value', scale: true, axisLabel: { fontSize: 11 }, splitLine: { lineStyle: { color: '#f0f0f0' } } },
    series: trials.map((t) => ({
      type: 'line',
      name: `trial #${t.number} (${t.state})`,
      data: Object.entries(t.intermediate)
        .map(([step, v]) => [Number(step), v])
        .sort((a, b) => a[0] - b[0]),
      showSymbol: false,
      color: t.state === 'pruned' ? '#d48806' : t.number === study.best_trial ? '#389e0d' : 'rgba(22,104,220,0.5)',
      lineStyle: { width: t.number === study.best_trial ? 2.5 : 1.2, type: t.state === 'pruned' ? 'dashed' : 'solid' },
    })),
  }
}

function PromoteModal({ slug, study, trial, onClose }: { slug: string; study: StudyDetail; trial: number | null; onClose: () => void }) {
  const { message } = App.useApp()
  const [form] = Form.useForm<{ name: string }>()
  const promote = usePromoteTrial(slug, study.id)
  const close = () => {
    promote.reset()
    onClose()
  }
  return (
    <Modal
      title={`Register trial #${trial ?? study.best_trial}'s model`}
      open={trial !== null}
      onCancel={close}
      okText="Register"
      onOk={() => form.submit()}
      confirmLoading={promote.isPending}
      destroyOnHidden
    >
      <InlineError error={promote.error} />
      <Form
        form={form}
        layout="vertical"
        initialValues={{ name: study.promote_to ?? study.name }}
        onFinish={(v) =>
          promote.mutate(
            { name: v.name.trim(), trial: trial ?? undefined },
            {
              onSuccess: (p) => {
                void message.success(`Registered as ${p.name} version ${p.version}.`)
                close()
              },
            },
          )
        }
      >
        <Form.Item name="name" label="Registered model" rules={[{ required: true, whitespace: true, message: 'Name the registered model.' }]} extra="A new version of it is made from the trial's model package.">
          <Input maxLength={256} />
        </Form.Item>
      </Form>
    </Modal>
  )
}

/** A tuning study: its trials, the optimisation history, parameter importance and the leaderboard. */
export default function StudyPage() {
  const slug = useWorkspaceSlug()!
  const { study: studyId = '' } = useParams()
  const editor = useEditor(slug)
  const navigate = useNavigate()
  const { message } = App.useApp()
  const study = useStudy(slug, studyId)
  const stop = useStopStudy(slug, studyId)
  const [promoting, setPromoting] = useState<number | null>(null)
  const [sliceParam, setSliceParam] = useState<string | undefined>()
  const paramKeys = useMemo(() => Object.keys(study.data?.space ?? {}), [study.data?.space])
  const historyChart = useMemo(() => (study.data ? historyOption(study.data) : null), [study.data])
  const importanceChart = useMemo(() => (study.data && Object.keys(study.data.importance).length ? importanceOption(study.data.importance) : null), [study.data])
  const hasIntermediate = !!study.data?.trial_list.some((t) => Object.keys(t.intermediate).length > 0)
  const intermediateChart = useMemo(() => (study.data && hasIntermediate ? intermediateOption(study.data) : null), [study.data, hasIntermediate])

  if (study.isError) return <ErrorState error={study.error} onRetry={() => void study.refetch()} />
  if (!study.data) return <LoadingState />
  const s = study.data
  const auto = s.kind === 'auto'
  const keys = paramKeys.length ? paramKeys : [...new Set(s.trial_list.flatMap((t) => Object.keys(t.params)))]
  const slice = sliceParam ?? Object.entries(s.importance).sort((a, b) => b[1] - a[1])[0]?.[0] ?? keys[0]

  const trialColumns = [
    {
      title: '#',
      key: 'n',
      width: 64,
      fixed: 'left' as const,
      sorter: (a: TrialRead, b: TrialRead) => a.number - b.number,
      render: (_: unknown, t: TrialRead) => (
        <span>
          {t.number}
          {t.number === s.best_trial && (
            <Tooltip title="The best trial">
              <TrophyOutlined style={{ color: '#d48806', marginLeft: 6 }} />
            </Tooltip>
          )}
        </span>
      ),
    },
    { title: 'State', key: 'state', width: 100, render: (_: unknown, t: TrialRead) => <Tag color={studyLook(t.state).color}>{t.state}</Tag> },
    {
      title: s.metric,
      key: 'value',
      width: 120,
      align: 'right' as const,
      sorter: (a: TrialRead, b: TrialRead) => (a.value ?? -Infinity) - (b.value ?? -Infinity),
      render: (_: unknown, t: TrialRead) => <Typography.Text strong={t.number === s.best_trial}>{t.value === null ? '—' : metricText(t.value)}</Typography.Text>,
    },
    ...(auto ? [{ title: 'Algorithm', key: 'algo', width: 170, render: (_: unknown, t: TrialRead) => t.algorithm ?? '—' }] : []),
    ...keys.map((k) => ({
      title: k,
      key: `p:${k}`,
      width: 120,
      render: (_: unknown, t: TrialRead) => (
        <Typography.Text ellipsis={{ tooltip: paramText(t.params[k]) }} style={{ maxWidth: 110 }}>
          {paramText(t.params[k])}
        </Typography.Text>
      ),
    })),
    { title: 'Took', key: 'took', width: 90, align: 'right' as const, render: (_: unknown, t: TrialRead) => duration(t.duration_s === null ? null : t.duration_s * 1000) },
    {
      title: 'Run',
      key: 'run',
      width: 90,
      render: (_: unknown, t: TrialRead) =>
        t.run_id ? (
          <Link to={links.run(slug, t.run_id)} data-testid="trial-run">
            open
          </Link>
        ) : (
          '—'
        ),
    },
    {
      title: 'Error',
      key: 'error',
      render: (_: unknown, t: TrialRead) =>
        t.error ? (
          <Typography.Text type="danger" ellipsis={{ tooltip: t.error }} style={{ maxWidth: 240 }}>
            {t.error}
          </Typography.Text>
        ) : null,
    },
  ]

  const boardColumns = [
    { title: 'Rank', dataIndex: 'rank', key: 'rank', width: 64 },
    { title: 'Trial', key: 'trial', width: 70, render: (_: unknown, r: LeaderboardRow) => (r.run_id ? <Link to={links.run(slug, r.run_id)}>#{r.number}</Link> : `#${r.number}`) },
    { title: 'Algorithm', key: 'algo', width: 180, render: (_: unknown, r: LeaderboardRow) => r.algorithm ?? '—' },
    { title: s.metric, key: 'value', width: 110, align: 'right' as const, render: (_: unknown, r: LeaderboardRow) => <Typography.Text strong>{metricText(r.value)}</Typography.Text> },
    {
      title: 'Params',
      key: 'params',
      render: (_: unknown, r: LeaderboardRow) => (
        <Typography.Text type="secondary" ellipsis={{ tooltip: true }} style={{ maxWidth: 420, fontSize: 12 }}>
          {Object.entries(r.params)
            .map(([k, v]) => `${k}=${paramText(v)}`)
            .join(', ')}
        </Typography.Text>
      ),
    },
    { title: 'Took', key: 'took', width: 90, align: 'right' as const, render: (_: unknown, r: LeaderboardRow) => duration(r.duration_s === null ? null : r.duration_s * 1000) },
    ...(editor && s.kind !== 'script'
      ? [{ key: 'promote', width: 100, render: (_: unknown, r: LeaderboardRow) => <Button size="small" onClick={() => setPromoting(r.number)}>Register</Button> }]
      : []),
  ]

  return (
    <>
      <Link to={links.studies(slug)} style={{ display: 'inline-block', marginBottom: 8 }}>
        <ArrowLeftOutlined /> Tuning studies
      </Link>
      <PageHeader
        title={
          <>
            {s.name} <StudyStateTag state={s.state} />
          </>
        }
        subtitle={`${auto ? 'Auto model' : `Tuning ${s.algorithm ?? 'a script'}`}${s.dataset ? ` on ${s.dataset}` : ''}: ${s.direction} ${s.metric} with ${s.sampler} search${s.pruner.kind && s.pruner.kind !== 'none' ? `, ${String(s.pruner.kind)} pruning` : ''}.`}
        extra={
          <>
            {s.parent_run_id && (
              <Button onClick={() => navigate(links.experiment(slug, s.experiment_id))}>Runs</Button>
            )}
            {editor && isStudyActive(s.state) && (
              <Popconfirm
                title="Stop this study?"
                description="No new trials start; running ones are cancelled. Completed trials stay."
                okText="Stop"
                okButtonProps={{ danger: true }}
                onConfirm={() => stop.mutateAsync().then(() => void message.success('Stopping.'), (err: unknown) => void message.error(errorMessage(err)))}
              >
                <Button danger icon={<StopOutlined />} disabled={s.stop_requested}>
                  {s.stop_requested ? 'Stopping…' : 'Stop'}
                </Button>
              </Popconfirm>
            )}
            {editor && s.best_trial !== null && s.kind !== 'script' && (
              <Button type="primary" icon={<CrownOutlined />} onClick={() => setPromoting(s.best_trial!)}>
                Register the best
              </Button>
            )}
          </>
        }
      />
      {s.error && <Alert type="error" showIcon title="The study failed" description={s.error} style={{ marginBottom: 16 }} />}
      {s.promoted && (
        <Alert
          type="success"
          showIcon
          style={{ marginBottom: 16 }}
          title={`Trial #${s.promoted.trial}'s model is registered as ${s.promoted.name} version ${s.promoted.version}.`}
        />
      )}
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={8}>
          <Card size="small" title="Study" style={{ height: '100%' }}>
            <Descriptions
              column={1}
              size="small"
              items={[
                { key: 'best', label: 'Best', children: s.best_value === null ? '—' : <Typography.Text strong data-testid="study-best">{`${metricText(s.best_value)} (trial #${s.best_trial})`}</Typography.Text> },
                { key: 'trials', label: 'Trials', children: <TrialProgress study={s} /> },
                { key: 'budget', label: 'Budget', children: [s.max_trials ? `${s.max_trials} trials` : null, s.max_wall_time_s ? duration(s.max_wall_time_s * 1000) : null].filter(Boolean).join(', ') || '—' },
                { key: 'conc', label: 'At once', children: s.concurrency },
                { key: 'created', label: 'Created', children: <When at={s.created_at} /> },
                { key: 'took', label: 'Ran', children: s.started_at ? `${formatDate(s.started_at)}${s.ended_at ? ` for ${duration(new Date(s.ended_at).getTime() - new Date(s.started_at).getTime())}` : ''}` : '—' },
                ...(s.parent_run_id ? [{ key: 'parent', label: 'Parent run', children: <Link to={links.run(slug, s.parent_run_id)}>open</Link> }] : []),
                ...(s.coordinator_job_id ? [{ key: 'job', label: 'Coordinator', children: <Link to={links.job(slug, s.coordinator_job_id)}>job</Link> }] : []),
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} xl={10}>
          <Card size="small" title="Optimisation history" data-testid="study-history">
            {s.history.length && historyChart ? (
              <EChart option={historyChart} style={{ height: 280 }} />
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="No finished trial yet." style={{ height: 248, paddingTop: 60 }} />
            )}
          </Card>
        </Col>
        <Col xs={24} xl={6}>
          <Card size="small" title="Parameter importance" data-testid="study-importance">
            {importanceChart ? (
              <EChart option={importanceChart} style={{ height: Math.max(120, Object.keys(s.importance).length * 34 + 30) }} />
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={s.importance_note ?? 'Not enough complete trials yet.'} style={{ paddingTop: 40 }} />
            )}
          </Card>
        </Col>
        {slice && s.trial_list.some((t) => t.value !== null) && (
          <Col xs={24} xl={intermediateChart ? 12 : 24}>
            <Card
              size="small"
              title="Objective by param"
              extra={<Select size="small" value={slice} onChange={setSliceParam} options={keys.map((k) => ({ value: k, label: k }))} style={{ width: 180 }} aria-label="Param" />}
              data-testid="study-slice"
            >
              <EChart option={sliceOption(s, slice)} style={{ height: 260 }} />
            </Card>
          </Col>
        )}
        {intermediateChart && (
          <Col xs={24} xl={12}>
            <Card size="small" title={`Intermediate values (${String(s.pruner.metric ?? 'pruning metric')})`}>
              <EChart option={intermediateChart} style={{ height: 260 }} />
            </Card>
          </Col>
        )}
        {s.leaderboard.length > 0 && (
          <Col xs={24}>
            <Card size="small" title="Leaderboard" styles={{ body: { padding: 0 } }}>
              <Table<LeaderboardRow>
                rowKey="number"
                size="small"
                dataSource={s.leaderboard}
                columns={boardColumns}
                pagination={s.leaderboard.length > 20 ? { pageSize: 20, size: 'small' } : false}
                scroll={{ x: 'max-content' }}
                data-testid="study-leaderboard"
              />
            </Card>
          </Col>
        )}
        <Col xs={24}>
          <Card size="small" title={`Trials (${s.trial_list.length})`} styles={{ body: { padding: 0 } }}>
            <Table<TrialRead>
              rowKey="number"
              size="small"
              dataSource={s.trial_list}
              columns={trialColumns}
              pagination={s.trial_list.length > 50 ? { pageSize: 50, size: 'small' } : false}
              scroll={{ x: 'max-content' }}
              locale={{ emptyText: isStudyActive(s.state) ? 'The first trials are starting…' : 'No trials.' }}
              data-testid="study-trials"
            />
          </Card>
        </Col>
      </Row>
      <PromoteModal slug={slug} study={s} trial={promoting} onClose={() => setPromoting(null)} />
    </>
  )
}

