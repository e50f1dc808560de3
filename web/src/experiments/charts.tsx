// The charts of the experiments area: metric curves (one run, or runs overlaid), and the parts of
// ECharts every experiments chart uses, registered once here.
import { BarChart, HeatmapChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts'
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  ParallelComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { Flex, Segmented, Slider, Switch, Typography } from 'antd'
import { useMemo } from 'react'
import { EChart } from '../common/echart'
import { type CurveSettings, type Curve, type XAxisKind, curvesOption } from './curves'

echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  ParallelChart,
  ScatterChart,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  ParallelComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
])

export { EChart }

/** One chart of curves; the zoom survives live updates. */
export function CurveChart({ curves, settings, height = 220, testId }: { curves: Curve[]; settings: CurveSettings; height?: number; testId?: string }) {
  const option = useMemo(() => curvesOption(curves, settings), [curves, settings])
  return <EChart option={option} style={{ height }} testId={testId} keepView />
}

/** The controls above a grid of curve charts: the x axis, a log scale, smoothing. */
export function CurveControls({ value, onChange }: { value: CurveSettings; onChange: (v: CurveSettings) => void }) {
  return (
    <Flex gap={20} align="center" wrap data-testid="curve-controls">
      <Segmented<XAxisKind>
        size="small"
        value={value.x}
        onChange={(x) => onChange({ ...value, x })}
        options={[
          { value: 'step', label: 'Step' },
          { value: 'relative', label: 'Relative time' },
          { value: 'wall', label: 'Wall time' },
        ]}
        aria-label="X axis"
      />
      <Flex gap={6} align="center">
        <Switch size="small" checked={value.logY} onChange={(logY) => onChange({ ...value, logY })} aria-label="Log scale" />
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          Log scale
        </Typography.Text>
      </Flex>
      <Flex gap={8} align="center" style={{ width: 220 }}>
        <Typography.Text type="secondary" style={{ fontSize: 12, whiteSpace: 'nowrap' }}>
          Smoothing
        </Typography.Text>
        <Slider
          min={0}
          max={0.99}
          step={0.01}
          value={value.smoothing}
          onChange={(smoothing: number) => onChange({ ...value, smoothing })}
          style={{ flex: 1, margin: '0 4px' }}
          aria-label="Smoothing"
        />
      </Flex>
    </Flex>
  )
}
