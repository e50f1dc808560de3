import { ArrowLeftOutlined } from '@ant-design/icons'
import { Card, Col, Empty, Flex, Row, Select, Switch, Table, Tag, Tooltip, Typography } from 'antd'
import { useMemo, useState } from 'react'
import { Link, useSearchParams } from 'react-router'
import type { ChartOption } from '../common/echart'
import { ErrorState, InlineError, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { CurveChart, CurveControls, EChart } from './charts'
import { type Curve, type CurveSettings, DEFAULT_CURVES } from './curves'
import { chartGroups, duration, metricText, numeric, runColor } from './format'
import { links } from './links'
import { RunStatusTag } from './parts'
import { MAX_HISTORY_KEYS, useCompare, useHistories } from './queries'
import type { MetricCompare, MetricSeries, ParamDiff, RunRead, RunsComparison } from './types'

/** Points per series when many runs are overlaid. */
const COMPARE_POINTS = 400

type Dimension = { kind: 'param' | 'metric'; key: string }

const dimId = (d: Dimension) => `${d.kind}:${d.key}`
const fromId = (id: string): Dimension => {
  const i = id.indexOf(':')
  return { kind: id.slice(0, i) as Dimension['kind'], key: id.slice(i + 1) }
}

/** Each run's value of a dimension: numbers where every present value is one, else the text. */
function column(cmp: RunsComparison, d: Dimension): { numeric: boolean; values: Map<string, number | string | null> } {
  const values = new Map<string, number | string | null>()
  if (d.kind === 'metric') {
    const m = cmp.metrics.find((x) => x.key === d.key)
    for (const r of cmp.runs) values.set(r.id, m?.values[r.id] ?? null)
    return { numeric: true, values }
  }
  const p = cmp.params.find((x) => x.key === d.key)
  const raw = cmp.runs.map((r) => p?.values[r.id] ?? null)
  const allNumeric = raw.every((v) => v === null || numeric(v) !== null)
  cmp.runs.forEach((r, i) => values.set(r.id, raw[i] === null ? null : allNumeric ? numeric(raw[i]) : raw[i]))
  return { numeric: allNumeric, values }
}

function parallelOption(cmp: RunsComparison, dims: Dimension[]): ChartOption {
  const cols = dims.map((d) => column(cmp, d))
  const axes = dims.map((d, i) => {
    const c = cols[i]
    const name = d.key.length > 18 ? `${d.key.slice(0, 17)}…` : d.key
    if (c.numeric) return { dim: i, name, type: 'value', scale: true, nameTextStyle: { fontSize: 11, color: d.kind === 'metric' ? '#1668dc' : '#595959' } }
    const cats = [...new Set([...c.values.values()].filter((v) => v !== null).map(String))].sort()
    return { dim: i, name, type: 'category', data: cats, nameTextStyle: { fontSize: 11, color: '#595959' } }
  })
  return {
    animation: false,
    parallel: { left: 48, right: 72, top: 48, bottom: 28, parallelAxisDefault: { nameLocation: 'end', nameGap: 14, axisLabel: { fontSize: 10 } } },
    parallelAxis: axes,
    tooltip: { trigger: 'item', formatter: (p: { seriesName: string }) => p.seriesName },
    series: cmp.runs.map((r, i) => ({
      type: 'parallel',
      name: r.name,
      data: [dims.map((_, j) => cols[j].values.get(r.id) ?? null)],
      lineStyle: { width: 2, opacity: 0.85, color: runColor(i) },
      emphasis: { lineStyle: { width: 4, opacity: 1 } },
    })),
  }
}

function scatterOption(cmp: RunsComparison, x: Dimension, y: Dimension): ChartOption {
  const cx = column(cmp, x)
  const cy = column(cmp, y)
  const cats = cx.numeric ? null : [...new Set([...cx.values.values()].filter((v) => v !== null).map(String))].sort()
  return {
    animation: false,
    grid: { left: 8, right: 40, top: 36, bottom: 36, containLabel: true },
    tooltip: {
      trigger: 'item',
      formatter: (p: { seriesName: string; value: [number | string, number] }) => `<b>${p.seriesName}</b><br/>${x.key}: ${typeof p.value[0] === 'number' ? metricText(p.value[0]) : p.value[0]}<br/>${y.key}: ${metricText(p.value[1])}`,
    },
    xAxis: cats
      ? { type: 'category', data: cats, name: x.key, nameLocation: 'middle', nameGap: 24, axisLabel: { fontSize: 11 } }
      : { type: 'value', scale: true, name: x.key, nameLocation: 'middle', nameGap: 24, axisLabel: { fontSize: 11 }, splitLine: { lineStyle: { color: '#f0f0f0' } } },
    yAxis: { type: 'value', scale: true, name: y.key, nameTextStyle: { align: 'left' }, axisLabel: { fontSize: 11, formatter: (v: number) => metricText(v) }, splitLine: { lineStyle: { color: '#f0f0f0' } } },
    series: cmp.runs.map((r, i) => {
      const vx = cx.values.get(r.id)
      const vy = cy.values.get(r.id)
      return {
        type: 'scatter',
        name: r.name,
        symbolSize: 12,
        color: runColor(i),
        data: vx === null || vx === undefined || vy === null || vy === undefined ? [] : [[cats ? String(vx) : vx, vy]],
        label: { show: cmp.runs.length <= 12, position: 'top', formatter: r.name, fontSize: 10, color: '#595959' },
      }
    }),
  }
}

function RunHeader({ run, index, slug }: { run: RunRead; index: number; slug: string }) {
  return (
    <Flex vertical gap={2} style={{ minWidth: 0 }}>
      <Flex gap={6} align="center">
        <span style={{ width: 10, height: 10, borderRadius: 5, background: runColor(index), flex: 'none' }} />
        <Link to={links.run(slug, run.id)} style={{ minWidth: 0 }}>
          <Typography.Text ellipsis={{ tooltip: run.name }} style={{ color: 'inherit', maxWidth: 150 }} strong>
            {run.name}
          </Typography.Text>
        </Link>
      </Flex>
    </Flex>
  )
}

function DiffTable({ cmp, slug }: { cmp: RunsComparison; slug: string }) {
  const [onlyDiff, setOnlyDiff] = useState(true)
  const params = onlyDiff ? cmp.params.filter((p) => p.differs) : cmp.params
  const runColumns = cmp.runs.map((r, i) => ({
    title: <RunHeader run={r} index={i} slug={slug} />,
    key: r.id,
    width: 170,
    onCell: (p: ParamDiff) => ({ style: p.differs ? { background: '#fffbe6' } : undefined }),
    render: (_: unknown, p: ParamDiff) => {
      const v = p.values[r.id]
      return v === null || v === undefined ? (
        <Typography.Text type="secondary">—</Typography.Text>
      ) : (
        <Typography.Text ellipsis={{ tooltip: v }} style={{ maxWidth: 150 }} strong={p.differs}>
          {v}
        </Typography.Text>
      )
    },
  }))
  const differing = cmp.params.filter((p) => p.differs).length
  return (
    <Card
      size="small"
      title={`Params (${differing} of ${cmp.params.length} differ)`}
      extra={
        <Flex gap={6} align="center">
          <Switch size="small" checked={onlyDiff} onChange={setOnlyDiff} aria-label="Only differences" />
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            Only differences
          </Typography.Text>
        </Flex>
      }
      styles={{ body: { padding: 0 } }}
    >
      <Table<ParamDiff>
        rowKey="key"
        size="small"
        bordered
        dataSource={params}
        pagination={params.length > 100 ? { pageSize: 100, size: 'small' } : false}
        scroll={{ x: 'max-content' }}
        columns={[{ title: 'Param', dataIndex: 'key', key: 'key', fixed: 'left', width: 200, render: (k: string) => <Typography.Text style={{ wordBreak: 'break-all' }}>{k}</Typography.Text> }, ...runColumns]}
        locale={{ emptyText: onlyDiff ? 'The runs share every param.' : 'No params.' }}
        data-testid="param-diff"
      />
    </Card>
  )
}

function MetricTable({ cmp, slug }: { cmp: RunsComparison; slug: string }) {
  const runColumns = cmp.runs.map((r, i) => ({
    title: <RunHeader run={r} index={i} slug={slug} />,
    key: r.id,
    width: 170,
    align: 'right' as const,
    render: (_: unknown, m: MetricCompare) => {
      const v = m.values[r.id]
      if (v === null || v === undefined) return <Typography.Text type="secondary">—</Typography.Text>
      const top = m.differs && v === m.max
      const bottom = m.differs && v === m.min
      return (
        <Tooltip title={top ? 'The highest of these runs' : bottom ? 'The lowest of these runs' : undefined}>
          <Typography.Text strong={top || bottom}>
            {metricText(v)}
            {(top || bottom) && <span style={{ color: '#8c8c8c', fontSize: 10, marginLeft: 4 }}>{top ? '▲' : '▼'}</span>}
          </Typography.Text>
        </Tooltip>
      )
    },
  }))
  return (
    <Card size="small" title={`Metrics (${cmp.metrics.length})`} styles={{ body: { padding: 0 } }}>
      <Table<MetricCompare>
        rowKey="key"
        size="small"
        bordered
        dataSource={cmp.metrics}
        pagination={cmp.metrics.length > 100 ? { pageSize: 100, size: 'small' } : false}
        scroll={{ x: 'max-content' }}
        columns={[{ title: 'Metric (latest)', dataIndex: 'key', key: 'key', fixed: 'left', width: 200 }, ...runColumns]}
        data-testid="metric-compare"
      />
    </Card>
  )
}

function Curves({ slug, cmp }: { slug: string; cmp: RunsComparison }) {
  const allKeys = useMemo(() => cmp.metrics.map((m) => m.key), [cmp.metrics])
  const [picked, setPicked] = useState<string[] | null>(null)
  const [settings, setSettings] = useState<CurveSettings>(DEFAULT_CURVES)
  const keys = useMemo(() => picked ?? allKeys.slice(0, MAX_HISTORY_KEYS), [picked, allKeys])
  const runIds = useMemo(() => cmp.runs.map((r) => r.id), [cmp.runs])
  const live = cmp.runs.some((r) => r.status === 'RUNNING')
  const history = useHistories(slug, runIds, keys, live, COMPARE_POINTS)
  const series = useMemo(() => {
    const m = new Map<string, MetricSeries>()
    for (const s of history.data?.series ?? []) m.set(`${s.run_id}\u0000${s.key}`, s)
    return m
  }, [history.data])
  // Only keys logged at several steps make curves; single values are in the tables below.
  const curveKeys = keys.filter((k) => cmp.runs.some((r) => (series.get(`${r.id}\u0000${k}`)?.points.length ?? 0) > 1))
  const groups = chartGroups(curveKeys)
  return (
    <Card size="small" title="Metric curves" data-testid="compare-curves">
      <Flex gap={16} align="center" wrap style={{ marginBottom: 12 }}>
        <Select
          mode="multiple"
          value={keys}
          onChange={(v: string[]) => setPicked(v.slice(0, MAX_HISTORY_KEYS))}
          options={allKeys.map((k) => ({ value: k, label: k }))}
          maxTagCount="responsive"
          style={{ minWidth: 260, flex: 1, maxWidth: 520 }}
          aria-label="Metrics to overlay"
        />
        <CurveControls value={settings} onChange={setSettings} />
      </Flex>
      <InlineError error={history.error} />
      {history.isPending ? (
        <LoadingState label="Reading the curves…" />
      ) : groups.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="None of these metrics was logged at more than one step: compare their values in the table below." />
      ) : (
        <Row gutter={[16, 16]}>
          {groups.map((g) => {
            const curves: Curve[] = []
            cmp.runs.forEach((r, i) =>
              g.keys.forEach((k) => {
                const s = series.get(`${r.id}\u0000${k}`)
                if (s && s.points.length) curves.push({ name: r.name, detail: g.keys.length > 1 ? k : undefined, color: runColor(i), points: s.points, dashed: /^(valid|val|test|eval)/i.test(k), start: r.start_time })
              }),
            )
            return (
              <Col key={g.name} xs={24} xl={groups.length === 1 ? 24 : 12}>
                <Typography.Text strong>{g.name}</Typography.Text>
                {g.keys.length > 1 && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {' '}
                    ({g.keys.join(', ')}; dashed: validation)
                  </Typography.Text>
                )}
                <CurveChart curves={curves} settings={settings} height={groups.length === 1 ? 320 : 260} testId={`compare-chart-${g.name}`} />
              </Col>
            )
          })}
        </Row>
      )}
    </Card>
  )
}

function Parallel({ cmp }: { cmp: RunsComparison }) {
  const options = useMemo(
    () => [
      { label: 'Params', options: cmp.params.map((p) => ({ value: dimId({ kind: 'param', key: p.key }), label: p.key })) },
      { label: 'Metrics', options: cmp.metrics.map((m) => ({ value: dimId({ kind: 'metric', key: m.key }), label: m.key })) },
    ],
    [cmp],
  )
  const initial = useMemo(() => {
    const params = cmp.params.filter((p) => p.differs).slice(0, 6)
    const metrics = cmp.metrics.filter((m) => m.differs).slice(0, 3)
    return [...params.map((p) => dimId({ kind: 'param', key: p.key })), ...metrics.map((m) => dimId({ kind: 'metric', key: m.key }))]
  }, [cmp])
  const [picked, setPicked] = useState<string[] | null>(null)
  const dims = useMemo(() => (picked ?? initial).map(fromId), [picked, initial])
  const option = useMemo(() => parallelOption(cmp, dims), [cmp, dims])
  return (
    <Card size="small" title="Parallel coordinates" data-testid="compare-parallel">
      <Select
        mode="multiple"
        value={picked ?? initial}
        onChange={(v: string[]) => setPicked(v)}
        options={options}
        placeholder="Axes: params and metrics"
        style={{ width: '100%', marginBottom: 8 }}
        maxTagCount="responsive"
        aria-label="Parallel coordinates axes"
      />
      {dims.length >= 2 ? (
        <EChart option={option} style={{ height: 340 }} testId="parallel-chart" />
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="Choose two axes or more." style={{ padding: 40 }} />
      )}
    </Card>
  )
}

function Scatter({ cmp }: { cmp: RunsComparison }) {
  const paramOptions = cmp.params.map((p) => ({ value: dimId({ kind: 'param', key: p.key }), label: p.key }))
  const metricOptions = cmp.metrics.map((m) => ({ value: dimId({ kind: 'metric', key: m.key }), label: m.key }))
  const firstParam = cmp.params.find((p) => p.differs) ?? cmp.params[0]
  const firstMetric = cmp.metrics.find((m) => m.differs) ?? cmp.metrics[0]
  const [x, setX] = useState<string | undefined>(firstParam ? dimId({ kind: 'param', key: firstParam.key }) : undefined)
  const [y, setY] = useState<string | undefined>(firstMetric ? dimId({ kind: 'metric', key: firstMetric.key }) : undefined)
  const option = useMemo(() => (x && y ? scatterOption(cmp, fromId(x), fromId(y)) : null), [cmp, x, y])
  return (
    <Card size="small" title="Param vs metric" data-testid="compare-scatter">
      <Flex gap={8} align="center" style={{ marginBottom: 8 }} wrap>
        <Select
          value={x}
          onChange={setX}
          options={[{ label: 'Params', options: paramOptions }, { label: 'Metrics', options: metricOptions }]}
          placeholder="X axis"
          style={{ flex: 1, minWidth: 140 }}
          showSearch
          aria-label="Scatter x axis"
        />
        <Typography.Text type="secondary">vs</Typography.Text>
        <Select value={y} onChange={setY} options={metricOptions} placeholder="Y axis" style={{ flex: 1, minWidth: 140 }} showSearch aria-label="Scatter y axis" />
      </Flex>
      {option ? (
        <EChart option={option} style={{ height: 340 }} testId="scatter-chart" />
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="The runs have no params or metrics to plot." style={{ padding: 40 }} />
      )}
    </Card>
  )
}

/** Runs side by side: overlaid curves, parallel coordinates, a param-vs-metric scatter, and what differs. */
export default function ComparePage() {
  const slug = useWorkspaceSlug()!
  const [params] = useSearchParams()
  const runIds = useMemo(() => [...new Set((params.get('runs') ?? '').split(',').filter(Boolean))], [params])
  const cmp = useCompare(slug, runIds)

  if (runIds.length < 2)
    return <ErrorState title="Nothing to compare" error={new Error('Pick two runs or more in an experiment’s runs table, then press Compare.')} />
  if (cmp.isError) return <ErrorState error={cmp.error} onRetry={() => void cmp.refetch()} />
  if (!cmp.data) return <LoadingState />
  const data = cmp.data
  const experiments = [...new Set(data.runs.map((r) => r.experiment_id))]

  return (
    <>
      {experiments.length === 1 && (
        <Link to={links.experiment(slug, experiments[0])} style={{ display: 'inline-block', marginBottom: 8 }}>
          <ArrowLeftOutlined /> Back to the runs
        </Link>
      )}
      <PageHeader title={`Compare ${data.runs.length} runs`} subtitle="Curves overlaid, params against metrics, and the params that differ." />
      <Flex gap={8} wrap style={{ marginBottom: 16 }} data-testid="compare-runs">
        {data.runs.map((r, i) => (
          <Tag key={r.id} style={{ padding: '4px 8px', background: '#fff' }}>
            <Flex gap={6} align="center">
              <span style={{ width: 10, height: 10, borderRadius: 5, background: runColor(i) }} />
              <Link to={links.run(slug, r.id)}>{r.name}</Link>
              <RunStatusTag status={r.status} />
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {duration(r.duration_ms)}
              </Typography.Text>
            </Flex>
          </Tag>
        ))}
      </Flex>
      <Flex vertical gap={16}>
        <Curves slug={slug} cmp={data} />
        <Row gutter={[16, 16]}>
          <Col xs={24} xl={14}>
            <Parallel cmp={data} />
          </Col>
          <Col xs={24} xl={10}>
            <Scatter cmp={data} />
          </Col>
        </Row>
        <DiffTable cmp={data} slug={slug} />
        <MetricTable cmp={data} slug={slug} />
      </Flex>
    </>
  )
}
