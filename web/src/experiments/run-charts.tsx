import { Badge, Card, Col, Flex, Row, Select, Typography } from 'antd'
import { useMemo, useState } from 'react'
import { EmptyState, InlineError } from '../common/page-states'
import { CurveChart, CurveControls } from './charts'
import { type Curve, type CurveSettings, DEFAULT_CURVES } from './curves'
import { chartGroups, isRunActive, metricText, runColor } from './format'
import { MAX_HISTORY_KEYS, useHistories } from './queries'
import type { MetricSeries, RunDetail } from './types'

/** The metric keys charted first: those logged at more than one step (curves); else every key. */
function defaultKeys(run: RunDetail): string[] {
  const curves = run.metrics.filter((m) => m.step > 0).map((m) => m.key)
  return (curves.length ? curves : run.metrics.map((m) => m.key)).slice(0, MAX_HISTORY_KEYS)
}

/**
 * A run's metrics as charts, one per group of keys (`train_loss` and `valid_loss` share one), read
 * again every few seconds while the run goes.
 */
export function RunCharts({ slug, run }: { slug: string; run: RunDetail }) {
  const [picked, setPicked] = useState<string[] | null>(null)
  const [settings, setSettings] = useState<CurveSettings>(DEFAULT_CURVES)
  const allKeys = useMemo(() => run.metrics.map((m) => m.key).sort(), [run.metrics])
  const keys = useMemo(() => picked ?? defaultKeys(run), [picked, run])
  const live = isRunActive(run.status)
  const runIds = useMemo(() => [run.id], [run.id])
  const history = useHistories(slug, runIds, keys, live)
  const byKey = useMemo(() => new Map((history.data?.series ?? []).map((s) => [s.key, s] as [string, MetricSeries])), [history.data])
  const groups = useMemo(() => chartGroups(keys), [keys])

  if (!run.metrics.length)
    return (
      <EmptyState
        description={live ? 'No metrics yet: charts appear as soon as the run logs one, and follow it live.' : 'This run logged no metrics.'}
      />
    )
  return (
    <div data-testid="run-charts">
      <Flex gap={16} align="center" wrap style={{ marginBottom: 16 }}>
        <Select
          mode="multiple"
          value={keys}
          onChange={(v: string[]) => setPicked(v.slice(0, MAX_HISTORY_KEYS))}
          options={allKeys.map((k) => ({ value: k, label: k }))}
          placeholder="Metrics to chart"
          maxTagCount="responsive"
          style={{ minWidth: 280, flex: 1, maxWidth: 560 }}
          aria-label="Metrics to chart"
        />
        <CurveControls value={settings} onChange={setSettings} />
        {live && <Badge status="processing" text={<Typography.Text type="secondary">Following live</Typography.Text>} data-testid="charts-live" />}
      </Flex>
      <InlineError error={history.error} />
      <Row gutter={[16, 16]}>
        {groups.map((g) => {
          const curves: Curve[] = g.keys.flatMap((k, i) => {
            const s = byKey.get(k)
            return s ? [{ name: k, color: runColor(i), points: s.points, dashed: /^(valid|val|test|eval)/i.test(k), start: run.start_time }] : []
          })
          const last = g.keys.map((k) => run.metrics.find((m) => m.key === k)).filter((m) => m !== undefined)
          return (
            <Col key={g.name} xs={24} lg={groups.length === 1 ? 24 : 12} xxl={groups.length === 1 ? 24 : groups.length === 2 ? 12 : 8}>
              <Card
                size="small"
                title={g.name}
                extra={
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {last.map((m) => `${g.keys.length > 1 ? `${m.key} ` : ''}${metricText(m.value)}`).join(' · ')}
                  </Typography.Text>
                }
                data-testid={`metric-chart-${g.name}`}
              >
                {curves.length ? (
                  <CurveChart curves={curves} settings={settings} height={groups.length === 1 ? 300 : 220} />
                ) : (
                  <Flex justify="center" align="center" style={{ height: groups.length === 1 ? 300 : 220 }}>
                    <Typography.Text type="secondary">{history.isPending ? 'Loading…' : 'No points.'}</Typography.Text>
                  </Flex>
                )}
              </Card>
            </Col>
          )
        })}
      </Row>
    </div>
  )
}
