import { SwapOutlined } from '@ant-design/icons'
import { Button, Checkbox, Drawer, Flex, Table, Tag, Typography } from 'antd'
import { useState } from 'react'
import { EmptyState, ErrorState, LoadingState } from '../common/page-states'
import { When } from '../common/when'
import { useRuns } from './queries'
import { runLook, seconds } from './status'
import type { PipelineRunRead } from './types'

/** The pipeline's runs: show one on the canvas, or tick two to compare them side by side. */
export function RunsDrawer({
  open,
  slug,
  pipeline,
  shown,
  onClose,
  onShow,
  onCompare,
}: {
  open: boolean
  slug: string
  pipeline: string
  shown: string | null
  onClose: () => void
  onShow: (run: string) => void
  onCompare: (a: string, b: string) => void
}) {
  const runs = useRuns(slug, pipeline, open)
  const [picked, setPicked] = useState<string[]>([])
  const toggle = (id: string, on: boolean) => setPicked((p) => (on ? [...p.filter((x) => x !== id), id].slice(-2) : p.filter((x) => x !== id)))

  let body
  if (runs.isPending) body = <LoadingState />
  else if (runs.isError) body = <ErrorState error={runs.error} onRetry={() => void runs.refetch()} />
  else if (!runs.data.items.length) body = <EmptyState description="No runs yet: press Run or Debug." />
  else
    body = (
      <Table<PipelineRunRead>
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={runs.data.items}
        rowClassName={(r) => (r.id === shown ? 'ant-table-row-selected' : '')}
        onRow={(r) => ({ 'data-testid': `run-row-${r.id}` }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          {
            key: 'pick',
            width: 32,
            render: (_: unknown, r) => <Checkbox checked={picked.includes(r.id)} onChange={(e) => toggle(r.id, e.target.checked)} aria-label={`Compare ${r.id}`} />,
          },
          {
            title: 'Run',
            key: 'run',
            render: (_: unknown, r) => (
              <Flex vertical gap={0}>
                <Typography.Link onClick={() => onShow(r.id)}>
                  <When at={r.created_at} />
                </Typography.Link>
                <Typography.Text type="secondary" style={{ fontSize: 11 }}>
                  v{r.version} · {r.mode}
                  {r.mode === 'debug' && r.sample_rows ? ` (${r.sample_rows} rows)` : ''}
                  {r.from_node ? ` · from ${r.from_node}` : ''}
                </Typography.Text>
              </Flex>
            ),
          },
          { title: 'Status', key: 'status', width: 100, render: (_: unknown, r) => <Tag color={runLook(r.status).color}>{runLook(r.status).label}</Tag> },
          { title: 'Took', key: 'took', width: 70, render: (_: unknown, r) => seconds(r.duration_s) },
        ]}
      />
    )
  return (
    <Drawer
      title="Run history"
      open={open}
      onClose={onClose}
      size={520}
      extra={
        <Button type="primary" icon={<SwapOutlined />} disabled={picked.length !== 2} onClick={() => {
            // A is the older run, B the newer one.
            const at = (id: string) => runs.data?.items.find((r) => r.id === id)?.created_at ?? ''
            const [a, b] = [...picked].sort((x, y) => at(x).localeCompare(at(y)))
            onCompare(a, b)
          }}>
          Compare {picked.length}/2
        </Button>
      }
    >
      {body}
    </Drawer>
  )
}
