// Metric curves as chart options: the x axis (step or time), a log scale, MLflow's smoothing.
import type { ChartOption } from '../common/echart'
import { metricText } from './format'
import type { MetricPointRead } from './types'

/** What the x axis of metric charts shows. */
export type XAxisKind = 'step' | 'relative' | 'wall'

export interface CurveSettings {
  x: XAxisKind
  logY: boolean
  /** Exponential moving average weight, 0 (raw) to 0.99. */
  smoothing: number
}

export const DEFAULT_CURVES: CurveSettings = { x: 'step', logY: false, smoothing: 0 }

export interface Curve {
  /** The legend's name (a run's name, or a metric key); curves sharing one toggle together. */
  name: string
  /** Told apart in the tooltip when curves share a name (the metric key of a run's curve). */
  detail?: string
  color: string
  points: MetricPointRead[]
  dashed?: boolean
  /** The run's start (epoch ms), for a relative time axis. */
  start?: number | null
}

/** MLflow's smoothing (a debiased exponential moving average), NaN points left as gaps. */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values
  let last = 0
  let n = 0
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v
    last = last * weight + (1 - weight) * v
    n += 1
    return last / (1 - weight ** n)
  })
}

function xOf(p: MetricPointRead, kind: XAxisKind, start: number): number {
  if (kind === 'step') return p.step
  if (kind === 'wall') return p.timestamp
  return (p.timestamp - start) / 1000
}

/** The option of a line chart of metric curves. */
export function curvesOption(curves: Curve[], settings: CurveSettings): ChartOption {
  const many = new Set(curves.map((c) => c.name)).size > 1
  const series = curves.map((c, i) => {
    const start = c.start ?? c.points[0]?.timestamp ?? 0
    const ys = smooth(
      c.points.map((p) => p.value),
      settings.smoothing,
    )
    const data = c.points.map((p, i) => {
      const y = ys[i]
      return [xOf(p, settings.x, start), settings.logY && y !== null && y <= 0 ? null : y]
    })
    return {
      type: 'line',
      id: `${i}`,
      name: c.name,
      data,
      color: c.color,
      showSymbol: c.points.length <= 1,
      symbolSize: 6,
      lineStyle: { width: 1.6, type: c.dashed ? 'dashed' : 'solid' },
      emphasis: { focus: 'series' },
      sampling: 'lttb',
      connectNulls: false,
    }
  })
  return {
    animation: false,
    grid: { left: 8, right: 16, top: many ? 34 : 14, bottom: 24, containLabel: true },
    legend: many ? { type: 'scroll', top: 0, left: 0, right: 0, textStyle: { fontSize: 11 }, itemHeight: 8 } : undefined,
    tooltip: {
      trigger: 'axis',
      confine: true,
      formatter: (items: { seriesIndex: number; marker: string; value: [number, number | null] }[]) => {
        if (!items.length) return ''
        const x = items[0].value[0]
        const head = settings.x === 'wall' ? new Date(x).toLocaleString() : settings.x === 'step' ? `step ${x}` : `${x.toFixed(1)} s`
        const rows = items.map((it) => {
          const c = curves[it.seriesIndex]
          const label = c.detail ? `${c.name} · ${c.detail}` : c.name
          return `${it.marker}${label} <b style="float:right;margin-left:16px">${it.value[1] === null ? '—' : metricText(it.value[1])}</b>`
        })
        return [head, ...rows].join('<br/>')
      },
    },
    xAxis: {
      type: settings.x === 'wall' ? 'time' : 'value',
      min: 'dataMin',
      max: 'dataMax',
      axisLabel: { fontSize: 11, hideOverlap: true, formatter: settings.x === 'relative' ? (v: number) => `${v}s` : undefined },
      splitLine: { show: false },
    },
    yAxis: {
      type: settings.logY ? 'log' : 'value',
      scale: true,
      axisLabel: { fontSize: 11, formatter: (v: number) => metricText(v) },
      splitLine: { lineStyle: { color: '#f0f0f0' } },
    },
    // Shift + wheel zooms the steps; dragging pans (a plain wheel keeps scrolling the page).
    dataZoom: [{ type: 'inside', xAxisIndex: 0, zoomOnMouseWheel: 'shift', moveOnMouseWheel: false, moveOnMouseMove: true }],
    series,
  }
}

