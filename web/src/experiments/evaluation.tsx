import { Card, Col, Descriptions, Row, Segmented, Typography } from 'antd'
import { type ReactNode, useMemo, useState } from 'react'
import { EmptyState } from '../common/page-states'
import { EChart } from './charts'
import type { ChartOption } from '../common/echart'
import { metricText, runColor } from './format'
import type { Evaluation } from './types'

const AXIS = { axisLabel: { fontSize: 11 }, nameTextStyle: { color: '#8c8c8c', fontSize: 11 }, splitLine: { lineStyle: { color: '#f0f0f0' } } }

function pairs(xs: (number | null)[], ys: (number | null)[]): [number, number][] {
  const out: [number, number][] = []
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i]
    const y = ys[i]
    if (x !== null && y !== null) out.push([x, y])
  }
  return out
}

function confusionOption(labels: string[], matrix: number[][], normalized: boolean): ChartOption {
  const data: [number, number, number][] = []
  let max = 0
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1
    row.forEach((v, j) => {
      const value = normalized ? v / total : v
      max = Math.max(max, value)
      // x: predicted (column), y: actual (row), the first class at the top.
      data.push([j, i, value])
    })
  })
  const cells = data.map((d) => ({ value: d, label: { color: max && d[2] / max > 0.55 ? '#fff' : '#262626' } }))
  return {
    animation: false,
    grid: { left: 44, right: 16, top: 8, bottom: 40, containLabel: true },
    tooltip: {
      formatter: (p: { value: [number, number, number] }) =>
        `actual <b>${labels[p.value[1]]}</b>, predicted <b>${labels[p.value[0]]}</b>: ${normalized ? `${(p.value[2] * 100).toFixed(1)}%` : p.value[2]}`,
    },
    xAxis: { type: 'category', data: labels, name: 'predicted', nameLocation: 'middle', nameGap: 26, ...AXIS, splitArea: { show: false } },
    yAxis: { type: 'category', data: labels, name: 'actual', inverse: true, nameLocation: 'middle', nameGap: 36, ...AXIS, axisLabel: { fontSize: 11, width: 90, overflow: 'truncate' } },
    visualMap: { min: 0, max: max || 1, show: false, inRange: { color: ['#f0f5ff', '#1d39c4'] } },
    series: [
      {
        type: 'heatmap',
        data: cells,
        label: {
          show: labels.length <= 12,
          fontSize: 13,
          formatter: (p: { value: [number, number, number] }) => (normalized ? `${Math.round(p.value[2] * 100)}%` : String(p.value[2])),
        },
        emphasis: { itemStyle: { borderColor: '#262626', borderWidth: 1 } },
      },
    ],
  }
}

function curveOption(
  curves: { name: string; data: [number, number][] }[],
  x: string,
  y: string,
  diagonal: 'up' | 'none',
): ChartOption {
  return {
    animation: false,
    grid: { left: 36, right: 16, top: curves.length > 1 ? 34 : 14, bottom: 30, containLabel: true },
    legend: curves.length > 1 ? { type: 'scroll', top: 0, textStyle: { fontSize: 11 }, itemHeight: 8 } : undefined,
    tooltip: { trigger: 'item', formatter: (p: { seriesName: string; value: [number, number] }) => `${p.seriesName}<br/>${x} ${p.value[0].toFixed(3)}, ${y} ${p.value[1].toFixed(3)}` },
    xAxis: { type: 'value', min: 0, max: 1, name: x, nameLocation: 'middle', nameGap: 22, ...AXIS },
    yAxis: { type: 'value', min: 0, max: 1, name: y, nameLocation: 'middle', nameGap: 30, ...AXIS },
    series: [
      ...curves.map((c, i) => ({ type: 'line', name: c.name, data: c.data, showSymbol: false, color: runColor(i), lineStyle: { width: 2 } })),
      ...(diagonal === 'up'
        ? [{ type: 'line', name: 'chance', data: [[0, 0], [1, 1]], showSymbol: false, silent: true, color: '#bfbfbf', lineStyle: { type: 'dashed', width: 1 }, tooltip: { show: false } }]
        : []),
    ],
  }
}

function importanceOption(items: { feature: string; importance: number | null }[]): ChartOption {
  const top = items.filter((i) => i.importance !== null).slice(0, 30).reverse()
  return {
    animation: false,
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: unknown) => metricText(v as number) },
    xAxis: { type: 'value', ...AXIS },
    yAxis: { type: 'category', data: top.map((i) => i.feature), axisLabel: { fontSize: 11, width: 160, overflow: 'truncate' } },
    series: [{ type: 'bar', data: top.map((i) => i.importance), color: '#1668dc', barMaxWidth: 18 }],
  }
}

function residualOption(actual: (number | null)[], predicted: (number | null)[]): ChartOption {
  const data = pairs(actual, predicted)
  const values = data.flat()
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  return {
    animation: false,
    grid: { left: 40, right: 16, top: 14, bottom: 30, containLabel: true },
    tooltip: { trigger: 'item', formatter: (p: { value: [number, number] }) => `actual ${metricText(p.value[0])}<br/>predicted ${metricText(p.value[1])}` },
    xAxis: { type: 'value', name: 'actual', nameLocation: 'middle', nameGap: 22, scale: true, ...AXIS },
    yAxis: { type: 'value', name: 'predicted', nameLocation: 'middle', nameGap: 40, scale: true, ...AXIS },
    series: [
      { type: 'scatter', data, symbolSize: 5, color: 'rgba(22,104,220,0.55)', large: data.length > 2000 },
      { type: 'line', data: [[lo, lo], [hi, hi]], showSymbol: false, silent: true, color: '#bfbfbf', lineStyle: { type: 'dashed', width: 1 }, tooltip: { show: false } },
    ],
  }
}

function histogramOption(edges: (number | null)[], counts: number[]): ChartOption {
  const labels = counts.map((_, i) => Number((((edges[i] ?? 0) + (edges[i + 1] ?? 0)) / 2).toPrecision(3)).toLocaleString('en-US'))
  return {
    animation: false,
    grid: { left: 8, right: 16, top: 14, bottom: 30, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: (ps: { dataIndex: number; value: number }[]) => `${metricText(edges[ps[0].dataIndex])} to ${metricText(edges[ps[0].dataIndex + 1])}: ${ps[0].value}` },
    xAxis: { type: 'category', data: labels, name: 'residual (predicted − actual)', nameLocation: 'middle', nameGap: 22, axisLabel: { fontSize: 10, hideOverlap: true } },
    yAxis: { type: 'value', ...AXIS },
    series: [{ type: 'bar', data: counts, color: '#d48806', barCategoryGap: '4%' }],
  }
}

function clusterSizesOption(sizes: number[]): ChartOption {
  return {
    animation: false,
    grid: { left: 8, right: 16, top: 14, bottom: 24, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: sizes.map((_, i) => `cluster ${i}`), axisLabel: { fontSize: 11, hideOverlap: true } },
    yAxis: { type: 'value', ...AXIS },
    series: [{ type: 'bar', data: sizes.map((v, i) => ({ value: v, itemStyle: { color: runColor(i) } })), barMaxWidth: 40 }],
  }
}

function projectionOption(p: { x: (number | null)[]; y: (number | null)[]; cluster: number[] }): ChartOption {
  const groups = new Map<number, [number, number][]>()
  p.cluster.forEach((c, i) => {
    const x = p.x[i]
    const y = p.y[i]
    if (x === null || y === null) return
    groups.set(c, [...(groups.get(c) ?? []), [x, y]])
  })
  const series = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([c, data]) => ({ type: 'scatter', name: `cluster ${c}`, data, symbolSize: 5, color: runColor(c) }))
  return {
    animation: false,
    grid: { left: 8, right: 16, top: 34, bottom: 24, containLabel: true },
    legend: { type: 'scroll', top: 0, textStyle: { fontSize: 11 }, itemHeight: 8 },
    tooltip: { trigger: 'item' },
    xAxis: { type: 'value', name: 'PC 1', scale: true, ...AXIS },
    yAxis: { type: 'value', name: 'PC 2', scale: true, ...AXIS },
    series,
  }
}

function ChartCard({ title, extra, children, testId }: { title: string; extra?: ReactNode; children: ReactNode; testId: string }) {
  return (
    <Col xs={24} xl={12}>
      <Card size="small" title={title} extra={extra} data-testid={testId}>
        {children}
      </Card>
    </Col>
  )
}

/** The charts of a run's `evaluation.json`: whichever parts it has. */
export function EvaluationCharts({ evaluation }: { evaluation: Evaluation }) {
  const [normalized, setNormalized] = useState(false)
  const cm = evaluation.confusion_matrix
  const cmOption = useMemo(() => (cm ? confusionOption(cm.labels.map(String), cm.matrix, normalized) : null), [cm, normalized])
  const rows = evaluation.rows
  const rowItems =
    typeof rows === 'number'
      ? [{ key: 'rows', label: 'Rows evaluated', children: rows.toLocaleString('en-US') }]
      : rows
        ? Object.entries(rows).map(([k, v]) => ({ key: k, label: `${k} rows`, children: typeof v === 'number' ? v.toLocaleString('en-US') : String(v) }))
        : []
  const metrics = Object.entries(evaluation.metrics ?? {})
  const charts: ReactNode[] = []

  if (cm && cmOption)
    charts.push(
      <ChartCard
        key="cm"
        title="Confusion matrix"
        testId="chart-confusion"
        extra={<Segmented size="small" value={normalized ? 'share' : 'count'} onChange={(v) => setNormalized(v === 'share')} options={[{ value: 'count', label: 'Counts' }, { value: 'share', label: 'Row %' }]} />}
      >
        <EChart option={cmOption} style={{ height: Math.min(520, Math.max(300, 140 + cm.labels.length * 34)) }} />
      </ChartCard>,
    )
  if (evaluation.roc_curves?.length)
    charts.push(
      <ChartCard key="roc" title="ROC curve" testId="chart-roc">
        <EChart
          option={curveOption(
            evaluation.roc_curves.map((c) => ({ name: `${String(c.label)}${c.auc !== undefined ? ` (AUC ${c.auc.toFixed(3)})` : ''}`, data: pairs(c.fpr, c.tpr) })),
            'false positive rate',
            'true positive rate',
            'up',
          )}
          style={{ height: 300 }}
        />
      </ChartCard>,
    )
  if (evaluation.pr_curves?.length)
    charts.push(
      <ChartCard key="pr" title="Precision–recall curve" testId="chart-pr">
        <EChart
          option={curveOption(
            evaluation.pr_curves.map((c) => ({ name: `${String(c.label)}${c.average_precision !== undefined ? ` (AP ${c.average_precision.toFixed(3)})` : ''}`, data: pairs(c.recall, c.precision) })),
            'recall',
            'precision',
            'none',
          )}
          style={{ height: 300 }}
        />
      </ChartCard>,
    )
  if (evaluation.residuals)
    charts.push(
      <ChartCard key="res" title="Predicted vs actual" testId="chart-residuals">
        <EChart option={residualOption(evaluation.residuals.actual, evaluation.residuals.predicted)} style={{ height: 300 }} />
      </ChartCard>,
    )
  if (evaluation.residual_histogram)
    charts.push(
      <ChartCard key="hist" title="Residuals" testId="chart-residual-histogram">
        <EChart option={histogramOption(evaluation.residual_histogram.edges, evaluation.residual_histogram.counts)} style={{ height: 300 }} />
      </ChartCard>,
    )
  if (evaluation.clusters?.sizes?.length)
    charts.push(
      <ChartCard key="sizes" title="Cluster sizes" testId="chart-cluster-sizes">
        <EChart option={clusterSizesOption(evaluation.clusters.sizes)} style={{ height: 280 }} />
      </ChartCard>,
    )
  if (evaluation.clusters?.projection)
    charts.push(
      <ChartCard key="proj" title="Clusters on two principal components" testId="chart-projection">
        <EChart option={projectionOption(evaluation.clusters.projection)} style={{ height: 320 }} />
      </ChartCard>,
    )
  const importance = evaluation.feature_importance ?? []
  if (importance.length)
    charts.push(
      <ChartCard key="imp" title="Feature importance" testId="chart-importance">
        <EChart option={importanceOption(importance)} style={{ height: Math.max(160, Math.min(30, importance.length) * 22 + 40) }} />
      </ChartCard>,
    )

  return (
    <div data-testid="evaluation">
      {(metrics.length > 0 || rowItems.length > 0) && (
        <Descriptions
          size="small"
          bordered
          column={{ xs: 1, sm: 2, md: 3, xl: 4 }}
          style={{ marginBottom: 16 }}
          items={[
            ...(evaluation.task ? [{ key: 'task', label: 'Task', children: evaluation.task }] : []),
            ...rowItems,
            ...metrics.map(([k, v]) => ({ key: `m-${k}`, label: k, children: <Typography.Text strong>{metricText(v)}</Typography.Text> })),
          ]}
        />
      )}
      {charts.length ? (
        <Row gutter={[16, 16]}>{charts}</Row>
      ) : (
        <EmptyState description="This evaluation has no chart data (confusion matrix, curves, residuals, clusters or feature importance)." />
      )}
    </div>
  )
}
