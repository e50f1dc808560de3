import { ArrowLeftOutlined } from '@ant-design/icons'
import { Card, Col, Descriptions, Row, Table, Tag, Typography } from 'antd'
import { Link, useParams, useSearchParams } from 'react-router'
import { EmptyState, ErrorState, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useCompareRuns } from './queries'
import { nodeLook, rows, runLook, seconds } from './status'
import type { NodeRunCompare, NodeRunSide, PipelineRunRead } from './types'

function value(v: unknown): string {
  if (v === undefined) return '(not set)'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

function RunCard({ run, other, side, link }: { run: PipelineRunRead; other: PipelineRunRead; side: 'A' | 'B'; link: string }) {
  const look = runLook(run.status)
  const vars = Object.entries(run.variables ?? {})
  const differs = (k: string, v: unknown) => JSON.stringify(other.variables?.[k]) !== JSON.stringify(v)
  return (
    <Card
      size="small"
      title={
        <span>
          <Tag color={side === 'A' ? 'blue' : 'purple'}>{side}</Tag>
          <Link to={link}>
            Run <When at={run.created_at} />
          </Link>
        </span>
      }
      extra={<Tag color={look.color}>{look.label}</Tag>}
      data-testid={`compare-run-${side.toLowerCase()}`}
    >
      <Descriptions
        size="small"
        column={2}
        items={[
          { key: 'mode', label: 'Mode', children: run.mode === 'debug' ? `debug (${run.sample_rows ?? '?'} rows)` : run.mode },
          { key: 'version', label: 'Version', children: `v${run.version}` },
          { key: 'took', label: 'Took', children: seconds(run.duration_s) },
          { key: 'from', label: 'From node', children: run.from_node ?? '—' },
          { key: 'vars', label: 'Variables', span: 2, children: vars.length
              ? vars.map(([k, v], i) => (
                  <span key={k}>
                    {i > 0 && ', '}
                    <Typography.Text mark={differs(k, v)}>{`${k}=${value(v)}`}</Typography.Text>
                  </span>
                ))
              : '—',
          },
          ...(run.error ? [{ key: 'error', label: 'Error', span: 2, children: <Typography.Text type="danger">{run.error}</Typography.Text> }] : []),
          ...(run.outputs.length
            ? [{ key: 'outputs', label: 'Wrote', span: 2, children: run.outputs.map((o) => `${o.dataset} v${o.version}${o.rows !== null && o.rows !== undefined ? ` (${rows(o.rows)} rows)` : ''}`).join(', ') }]
            : []),
        ]}
      />
    </Card>
  )
}

function Side({ side, other }: { side: NodeRunSide | null; other: NodeRunSide | null }) {
  if (!side) return <Typography.Text type="secondary">not in this version</Typography.Text>
  const look = nodeLook(side.status)
  const diff = (a: number | null, b: number | null | undefined) => other && b !== undefined && a !== b
  return (
    <div>
      <Tag color={look.color}>{look.label}</Tag>
      <Typography.Text style={{ fontSize: 12 }}>{seconds(side.duration_s)}</Typography.Text>
      <div style={{ fontSize: 12 }}>
        rows{' '}
        <Typography.Text mark={!!diff(side.rows_in, other?.rows_in)} style={{ fontSize: 12 }}>
          {rows(side.rows_in)}
        </Typography.Text>{' '}
        →{' '}
        <Typography.Text mark={!!diff(side.rows_out, other?.rows_out)} style={{ fontSize: 12 }}>
          {rows(side.rows_out)}
        </Typography.Text>
      </div>
    </div>
  )
}

/** Two runs of a pipeline side by side: per node status, time and rows, and the params that changed. */
export default function ComparePage() {
  const slug = useWorkspaceSlug()!
  const { pipeline: name = '' } = useParams()
  const [search] = useSearchParams()
  const a = search.get('a') ?? ''
  const b = search.get('b') ?? ''
  const compare = useCompareRuns(slug, name, a, b)
  const editorLink = `/w/${slug}/pipelines/${encodeURIComponent(name)}`

  const header = (
    <>
      <div style={{ marginBottom: 8 }}>
        <Link to={editorLink}>
          <ArrowLeftOutlined /> {name}
        </Link>
      </div>
      <PageHeader title="Compare runs" subtitle={`Two runs of ${name}, node by node.`} />
    </>
  )
  if (!a || !b)
    return (
      <>
        {header}
        <EmptyState description="Pick two runs in the pipeline's run history to compare them." />
      </>
    )
  if (compare.isPending)
    return (
      <>
        {header}
        <LoadingState />
      </>
    )
  if (compare.isError)
    return (
      <>
        {header}
        <ErrorState error={compare.error} onRetry={() => void compare.refetch()} />
      </>
    )
  const d = compare.data
  return (
    <>
      {header}
      <Row gutter={16} style={{ marginBottom: 16 }}>
        <Col xs={24} lg={12}>
          <RunCard run={d.a} other={d.b} side="A" link={`${editorLink}?run=${d.a.id}`} />
        </Col>
        <Col xs={24} lg={12}>
          <RunCard run={d.b} other={d.a} side="B" link={`${editorLink}?run=${d.b.id}`} />
        </Col>
      </Row>
      <Card title="Nodes" styles={{ body: { padding: 0 } }}>
        <Table<NodeRunCompare>
          rowKey="node_id"
          size="small"
          pagination={false}
          dataSource={d.nodes}
          locale={{ emptyText: <EmptyState description="Neither run has nodes." /> }}
          onRow={(n) => ({ 'data-testid': `compare-node-${n.node_id}` }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            {
              title: 'Node',
              key: 'node',
              width: 200,
              render: (_: unknown, n) => (
                <div>
                  <Typography.Text strong>{n.node_id}</Typography.Text>
                  <div>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {n.operator ?? '—'}
                    </Typography.Text>
                  </div>
                </div>
              ),
            },
            { title: <Tag color="blue">A</Tag>, key: 'a', width: 220, render: (_: unknown, n) => <Side side={n.a} other={n.b} /> },
            { title: <Tag color="purple">B</Tag>, key: 'b', width: 220, render: (_: unknown, n) => <Side side={n.b} other={n.a} /> },
            {
              title: 'Params changed',
              key: 'params',
              render: (_: unknown, n) =>
                n.params.length ? (
                  <div>
                    {n.params.map((p) => (
                      <div key={p.field} style={{ fontSize: 12 }}>
                        <Typography.Text code>{p.field}</Typography.Text> <Typography.Text delete type="secondary">{value(p.a)}</Typography.Text> →{' '}
                        <Typography.Text strong>{value(p.b)}</Typography.Text>
                      </div>
                    ))}
                  </div>
                ) : (
                  <Typography.Text type="secondary">same</Typography.Text>
                ),
            },
          ]}
        />
      </Card>
    </>
  )
}
