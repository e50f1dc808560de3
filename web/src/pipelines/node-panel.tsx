import { CloseOutlined, RedoOutlined } from '@ant-design/icons'
import { Alert, Button, Flex, Space, Tabs, Tag, Typography } from 'antd'
import { lazy, Suspense, useMemo, useState } from 'react'
import { EmptyState, ErrorState, LoadingState } from '../common/page-states'
import { useNodeRun } from './queries'
import { findProfile, profileOfSample } from './report'
import { SampleTable } from './sample-table'
import { nodeLook, rows, seconds } from './status'
import type { NodeRunSummary } from './types'

const NodeStats = lazy(() => import('./node-stats'))

const LOG = {
  fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace',
  fontSize: 12,
  background: '#141414',
  color: '#e8e8e8',
  padding: 12,
  borderRadius: 6,
  margin: 0,
  maxHeight: 260,
  overflow: 'auto',
  whiteSpace: 'pre-wrap' as const,
}

/** The selected node in the shown run: its log, output sample and statistics. */
export function NodePanel({
  slug,
  pipeline,
  runId,
  nodeId,
  summary,
  runActive,
  canRerun,
  onRerun,
  onClose,
}: {
  slug: string
  pipeline: string
  runId: string
  nodeId: string
  summary: NodeRunSummary | undefined
  runActive: boolean
  canRerun: boolean
  onRerun: () => void
  onClose: () => void
}) {
  const live = runActive && (!summary || summary.status === 'running' || summary.status === 'pending')
  const node = useNodeRun(slug, pipeline, runId, nodeId, summary?.status ?? '', live)
  const look = summary ? nodeLook(summary.status) : null
  const [tab, setTab] = useState<string | null>(null)
  const stats = useMemo(() => {
    if (!node.data) return null
    const profile = findProfile(node.data.report)
    if (profile) return { report: profile, source: 'Statistics report of this node' }
    const port = Object.keys(node.data.sample)[0]
    const sample = port ? node.data.sample[port] : []
    if (!sample.length) return null
    return { report: profileOfSample(sample), source: `Computed from the output sample (${port})` }
  }, [node.data])

  let body
  if (!summary) body = <EmptyState description="This node is not part of the shown run (it was added later, or the run did not reach it)." />
  else if (node.isPending) body = <LoadingState />
  else if (node.isError) body = <ErrorState error={node.error} onRetry={() => void node.refetch()} />
  else {
    const d = node.data
    body = (
      <Tabs
        size="small"
        activeKey={tab ?? (Object.keys(d.sample).length ? 'sample' : 'log')}
        onChange={setTab}
        items={[
          {
            key: 'log',
            label: 'Log',
            children: d.log ? (
              <pre style={LOG} data-testid="node-log">
                {d.log}
              </pre>
            ) : (
              <EmptyState description={live ? 'No log lines yet.' : 'This node wrote no log lines.'} />
            ),
          },
          { key: 'sample', label: 'Output sample', children: <SampleTable sample={d.sample} rowsOut={d.rows_out_ports} /> },
          {
            key: 'stats',
            label: 'Statistics',
            children: stats ? (
              <Suspense fallback={<LoadingState label="Loading charts…" />}>
                <NodeStats report={stats.report} source={stats.source} />
              </Suspense>
            ) : (
              <EmptyState description="No statistics: add a Statistics operator after this node, or run it to get an output sample." />
            ),
          },
        ]}
      />
    )
  }

  return (
    <div data-testid="node-panel" style={{ padding: '8px 16px 12px', height: '100%', overflow: 'auto', boxSizing: 'border-box' }}>
      <Flex justify="space-between" align="center" gap={8} wrap>
        <Space size={8} wrap>
          <Typography.Text strong>{nodeId}</Typography.Text>
          {look && (
            <Tag color={look.color} data-testid="panel-status">
              {look.label}
            </Tag>
          )}
          {summary && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {seconds(summary.duration_s)} · rows in {rows(summary.rows_in)} → out {rows(summary.rows_out)}
            </Typography.Text>
          )}
        </Space>
        <Space size={4}>
          {canRerun && summary && (
            <Button size="small" icon={<RedoOutlined />} onClick={onRerun} disabled={runActive}>
              Run again from here
            </Button>
          )}
          <Button size="small" type="text" icon={<CloseOutlined />} onClick={onClose} aria-label="Close panel" />
        </Space>
      </Flex>
      {summary?.error && <Alert type="error" showIcon style={{ margin: '8px 0', padding: '4px 12px' }} title={summary.error} data-testid="node-error" />}
      {body}
    </div>
  )
}
