// The Statistics tab: loaded on its own (React.lazy) with the chart library.
import { Card, Col, Descriptions, Flex, Row, Tag, Typography } from 'antd'
import { useMemo } from 'react'
import { EmptyState } from '../common/page-states'
import { BarChart, HeatmapChart } from 'echarts/charts'
import { GridComponent, TooltipComponent, VisualMapComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { type ChartOption, EChart } from '../common/echart'
import type { ProfileColumn, ProfileReport } from './report'

echarts.use([BarChart, HeatmapChart, GridComponent, TooltipComponent, VisualMapComponent, CanvasRenderer])

const BLUE = '#1668dc'
const GREEN = '#389e0d'

function short(n: unknown): string {
  if (typeof n !== 'number') return n === null || n === undefined ? '—' : String(n)
  return Math.abs(n) >= 10000 || (Math.abs(n) > 0 && Math.abs(n) < 0.01)
    ? n.toLocaleString(undefined, { notation: 'compact', maximumFractionDigits: 2 } as Intl.NumberFormatOptions)
    : n.toLocaleString(undefined, { maximumFractionDigits: 2 })
}

function histogramOption(h: NonNullable<ProfileColumn['histogram']>): ChartOption {
  const edges = h.edges.map((e) => Number(e))
  return {
    animation: false,
    grid: { left: 40, right: 8, top: 8, bottom: 24 },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (params: unknown) => {
        const i = (params as { dataIndex: number }[])[0].dataIndex
        return `${short(edges[i])} – ${short(edges[i + 1])}<br/><b>${h.counts[i].toLocaleString()}</b> rows`
      },
    },
    xAxis: { type: 'category', data: h.counts.map((_, i) => short(edges[i])), axisLabel: { fontSize: 10, hideOverlap: true } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: { fontSize: 10 }, splitLine: { lineStyle: { color: '#f0f0f0' } } },
    series: [{ type: 'bar', data: h.counts, barCategoryGap: '4%', itemStyle: { color: BLUE } }],
  }
}

function topOption(top: NonNullable<ProfileColumn['top']>): ChartOption {
  const data = [...top].slice(0, 10).reverse()
  return {
    animation: false,
    grid: { left: 8, right: 36, top: 4, bottom: 4, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', show: false },
    yAxis: {
      type: 'category',
      data: data.map((t) => (t.value === null ? 'null' : String(t.value).slice(0, 24))),
      axisLabel: { fontSize: 11, width: 120, overflow: 'truncate' },
      axisTick: { show: false },
    },
    series: [{ type: 'bar', data: data.map((t) => t.count), itemStyle: { color: GREEN }, barMaxWidth: 16, label: { show: true, position: 'right', fontSize: 10 } }],
  }
}

function correlationOption(c: NonNullable<ProfileReport['correlation']>): ChartOption {
  const data: [number, number, number | null][] = []
  c.matrix.forEach((row, i) => row.forEach((v, j) => data.push([j, i, v === null ? null : Math.round(v * 100) / 100])))
  return {
    animation: false,
    grid: { left: 8, right: 8, top: 8, bottom: 50, containLabel: true },
    tooltip: {
      formatter: (p: unknown) => {
        const [x, y, v] = (p as { value: [number, number, number | null] }).value
        return `${c.columns[y]} × ${c.columns[x]}<br/><b>${v ?? '—'}</b>`
      },
    },
    xAxis: { type: 'category', data: c.columns, axisLabel: { fontSize: 10, rotate: 40, width: 80, overflow: 'truncate' }, splitArea: { show: true } },
    yAxis: { type: 'category', data: c.columns, axisLabel: { fontSize: 10, width: 90, overflow: 'truncate' }, splitArea: { show: true } },
    visualMap: { min: -1, max: 1, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, itemWidth: 10, textStyle: { fontSize: 10 }, inRange: { color: ['#1668dc', '#f5f5f5', '#cf1322'] } },
    series: [{ type: 'heatmap', data, label: { show: c.columns.length <= 8, fontSize: 10 } }],
  }
}

function ColumnCard({ column }: { column: ProfileColumn }) {
  const option = useMemo(() => {
    if (column.histogram?.counts.length) return histogramOption(column.histogram)
    if (column.top?.length) return topOption(column.top)
    return null
  }, [column])
  const total = column.count + column.nulls
  return (
    <Card
      size="small"
      title={
        <Flex align="center" gap={8}>
          <Typography.Text strong ellipsis style={{ maxWidth: 180 }}>
            {column.name}
          </Typography.Text>
          <Tag bordered={false} style={{ fontFamily: 'monospace', fontWeight: 400 }}>
            {column.dtype}
          </Tag>
        </Flex>
      }
      data-testid="stats-column"
      data-column={column.name}
    >
      {option ? (
        <EChart option={option} style={{ height: column.histogram ? 140 : Math.max(70, Math.min(column.top?.length ?? 0, 10) * 20 + 8) }} testId={column.histogram ? 'histogram' : 'top-values'} />
      ) : (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          No chart for this column.
        </Typography.Text>
      )}
      <Descriptions
        size="small"
        column={3}
        style={{ marginTop: 6 }}
        items={[
          { key: 'nulls', label: 'Nulls', children: total ? `${Math.round((column.nulls / total) * 1000) / 10}%` : '—' },
          { key: 'distinct', label: 'Distinct', children: short(column.distinct) },
          ...(column.mean !== undefined && column.mean !== null
            ? [
                { key: 'mean', label: 'Mean', children: short(column.mean) },
                { key: 'std', label: 'Std', children: short(column.std) },
              ]
            : []),
          ...(column.min !== undefined ? [{ key: 'min', label: 'Min', children: short(column.min) }] : []),
          ...(column.max !== undefined ? [{ key: 'max', label: 'Max', children: short(column.max) }] : []),
        ]}
      />
    </Card>
  )
}

/** Charts of a profile report: one card per column, and the correlation matrix. */
export default function NodeStats({ report, source }: { report: ProfileReport; source: string }) {
  if (!report.columns.length) return <EmptyState description="No columns to chart." />
  return (
    <div data-testid="node-stats">
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {source} · {report.rows.toLocaleString()} rows
      </Typography.Paragraph>
      <Row gutter={[12, 12]}>
        {report.columns.map((c) => (
          <Col xs={24} md={12} xl={8} xxl={6} key={c.name}>
            <ColumnCard column={c} />
          </Col>
        ))}
        {report.correlation && report.correlation.columns.length > 1 && (
          <Col xs={24} xl={12}>
            <Card size="small" title="Correlation (Pearson)">
              <EChart option={correlationOption(report.correlation)} style={{ height: Math.min(420, 120 + report.correlation.columns.length * 28) }} testId="correlation" />
            </Card>
          </Col>
        )}
      </Row>
    </div>
  )
}
