// The Stats tab: loaded on its own (React.lazy) with the chart library, so other pages stay light.
import { Card, Col, Descriptions, Flex, Progress, Row, Tag, Typography } from 'antd'
import { useMemo } from 'react'
import { EmptyState } from '../common/page-states'
import { BarChart } from 'echarts/charts'
import { GridComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { type ChartOption, EChart } from '../common/echart'
import { cellText, percent, statText } from './format'
import type { ColumnSchema, ColumnStats } from './types'

echarts.use([BarChart, GridComponent, TooltipComponent, CanvasRenderer])

const BLUE = '#1668dc'
const GREEN = '#389e0d'
const ORANGE = '#d46b08'

function short(n: number): string {
  return Math.abs(n) >= 1000 || (Math.abs(n) > 0 && Math.abs(n) < 0.01)
    ? n.toLocaleString(undefined, { notation: 'compact', maximumFractionDigits: 2 } as Intl.NumberFormatOptions)
    : n.toLocaleString(undefined, { maximumFractionDigits: 2 })
}

function histogramOption(bins: readonly (readonly unknown[])[]): ChartOption {
  const data = bins.map((b) => ({ low: Number(b[0]), high: Number(b[1]), count: Number(b[2]) }))
  return {
    animation: false,
    grid: { left: 44, right: 8, top: 8, bottom: 28 },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (params: unknown) => {
        const p = (params as { dataIndex: number }[])[0]
        const d = data[p.dataIndex]
        return `${short(d.low)} – ${short(d.high)}<br/><b>${d.count.toLocaleString()}</b> rows`
      },
    },
    xAxis: {
      type: 'category',
      data: data.map((d) => short(d.low)),
      axisLabel: { fontSize: 10, hideOverlap: true },
      axisTick: { alignWithLabel: true },
    },
    yAxis: { type: 'value', minInterval: 1, axisLabel: { fontSize: 10 }, splitLine: { lineStyle: { color: '#f0f0f0' } } },
    series: [{ type: 'bar', data: data.map((d) => d.count), barCategoryGap: '4%', itemStyle: { color: BLUE } }],
  }
}

function topOption(top: readonly (readonly unknown[])[]): ChartOption {
  const data = [...top].slice(0, 10).reverse()
  return {
    animation: false,
    grid: { left: 8, right: 40, top: 4, bottom: 4, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', show: false },
    yAxis: {
      type: 'category',
      data: data.map((t) => cellText(t[0], 24)),
      axisLabel: { fontSize: 11, width: 140, overflow: 'truncate' },
      axisTick: { show: false },
    },
    series: [
      {
        type: 'bar',
        data: data.map((t) => Number(t[1])),
        itemStyle: { color: GREEN },
        barMaxWidth: 18,
        label: { show: true, position: 'right', fontSize: 10 },
      },
    ],
  }
}

function nullsOption(stats: ColumnStats[]): ChartOption {
  const data = stats.map((s) => ({ name: s.name, ratio: s.rows ? s.nulls / s.rows : 0, nulls: s.nulls, rows: s.rows }))
  return {
    animation: false,
    grid: { left: 8, right: 48, top: 4, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (params: unknown) => {
        const p = (params as { dataIndex: number }[])[0]
        const d = data[data.length - 1 - p.dataIndex]
        return `${d.name}<br/><b>${percent(d.nulls, d.rows)}</b> null (${d.nulls.toLocaleString()} of ${d.rows.toLocaleString()})`
      },
    },
    xAxis: { type: 'value', max: 1, show: false },
    yAxis: {
      type: 'category',
      data: [...data].reverse().map((d) => d.name),
      axisLabel: { fontSize: 11, width: 160, overflow: 'truncate' },
      axisTick: { show: false },
    },
    series: [
      {
        type: 'bar',
        data: [...data].reverse().map((d) => d.ratio),
        itemStyle: { color: ORANGE },
        barMaxWidth: 14,
        showBackground: true,
        backgroundStyle: { color: '#fafafa' },
        label: { show: true, position: 'right', fontSize: 10, formatter: (p: unknown) => `${Math.round(Number((p as { value: number }).value) * 1000) / 10}%` },
      },
    ],
  }
}

function ColumnCard({ stats, column }: { stats: ColumnStats; column?: ColumnSchema }) {
  const nullShare = stats.rows ? (stats.nulls / stats.rows) * 100 : 0
  const option = useMemo(() => {
    if (stats.histogram?.length) return histogramOption(stats.histogram)
    if (stats.top?.length) return topOption(stats.top)
    return null
  }, [stats.histogram, stats.top])
  const histogram = stats.histogram ?? []
  const top = stats.top ?? []
  return (
    <Card
      size="small"
      title={
        <Flex align="center" gap={8}>
          <Typography.Text strong ellipsis style={{ maxWidth: 220 }}>
            {stats.name}
          </Typography.Text>
          {column && (
            <Tag style={{ fontFamily: 'monospace', fontWeight: 400 }} bordered={false}>
              {column.type}
            </Tag>
          )}
        </Flex>
      }
      style={{ height: '100%' }}
      data-testid="column-stats"
      data-column={stats.name}
    >
      <Flex align="center" gap={8} style={{ marginBottom: 8 }}>
        <Typography.Text type="secondary" style={{ fontSize: 12, whiteSpace: 'nowrap' }}>
          Nulls {percent(stats.nulls, stats.rows)}
        </Typography.Text>
        <Progress percent={nullShare} showInfo={false} size="small" strokeColor={ORANGE} style={{ margin: 0 }} />
      </Flex>
      {option ? (
        <EChart option={option} style={{ height: histogram.length ? 160 : Math.max(80, Math.min(top.length, 10) * 22 + 8) }} testId={histogram.length ? 'histogram' : 'top-values'} />
      ) : (
        <Typography.Text type="secondary" style={{ display: 'block', padding: '12px 0', fontSize: 12 }}>
          No chart for this type.
        </Typography.Text>
      )}
      <Descriptions
        size="small"
        column={2}
        style={{ marginTop: 8 }}
        items={[
          { key: 'distinct', label: 'Distinct', children: statText(stats.distinct) },
          { key: 'min', label: 'Min', children: statText(stats.min) },
          { key: 'max', label: 'Max', children: statText(stats.max) },
          ...(stats.mean !== null && stats.mean !== undefined
            ? [
                { key: 'mean', label: 'Mean', children: statText(stats.mean) },
                { key: 'std', label: 'Std', children: statText(stats.std) },
              ]
            : []),
        ]}
      />
    </Card>
  )
}

/** Per-column statistics of the sample: null ratios, histograms for numbers, top values for the rest. */
export default function StatsCharts({ stats, schema, sampleRows }: { stats: ColumnStats[]; schema: ColumnSchema[]; sampleRows: number }) {
  const columns = useMemo(() => new Map(schema.map((c) => [c.name, c])), [schema])
  const nulls = useMemo(() => nullsOption(stats), [stats])
  if (!stats.length) return <EmptyState description="No statistics were computed for this dataset." />
  return (
    <>
      <Typography.Paragraph type="secondary">
        Computed over the sample of {sampleRows.toLocaleString()} rows kept at registration.
      </Typography.Paragraph>
      <Card size="small" title="Null ratio per column" style={{ marginBottom: 16 }}>
        <EChart option={nulls} style={{ height: Math.max(60, stats.length * 24 + 8) }} testId="null-ratios" />
      </Card>
      <Row gutter={[16, 16]}>
        {stats.map((s) => (
          <Col xs={24} md={12} xl={8} key={s.name}>
            <ColumnCard stats={s} column={columns.get(s.name)} />
          </Col>
        ))}
      </Row>
    </>
  )
}
