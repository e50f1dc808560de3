import { ArrowLeftOutlined } from '@ant-design/icons'
import { Card, Flex, Progress, Space, Table, Tag, Typography } from 'antd'
import {
  Background,
  Controls,
  type Edge,
  Handle,
  MarkerType,
  type Node,
  type NodeProps,
  Position,
  ReactFlow,
} from '@xyflow/react'
import '@xyflow/react/dist/style.css'
import { useMemo } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import type { JobRead, JobState } from '../api/types'
import { ErrorState, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { layeredLayout } from './dag-layout'
import { duration } from './format'
import { useDag } from './queries'
import { StateTag } from './state-tag'
import { isActive, JOB_STATES, STATE_LOOK } from './states'

const NODE_W = 220
const NODE_H = 78

type JobNodeData = { job: JobRead }
type JobNode = Node<JobNodeData, 'job'>

function JobNodeView({ data }: NodeProps<JobNode>) {
  const { job } = data
  const look = STATE_LOOK[job.state]
  return (
    <div
      data-testid={`dag-node-${job.dag_node ?? job.id}`}
      data-state={job.state}
      style={{
        width: NODE_W,
        height: NODE_H,
        boxSizing: 'border-box',
        background: '#fff',
        border: `1px solid ${look.hex}`,
        borderLeft: `6px solid ${look.hex}`,
        borderRadius: 8,
        padding: '8px 10px',
        boxShadow: '0 1px 3px rgba(0,0,0,0.08)',
        cursor: 'pointer',
      }}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <Flex justify="space-between" align="center" gap={6}>
        <Typography.Text strong ellipsis style={{ maxWidth: 120 }}>
          {job.dag_node ?? job.name}
        </Typography.Text>
        <StateTag state={job.state} />
      </Flex>
      <Typography.Text type="secondary" style={{ fontSize: 12 }} ellipsis>
        {job.kind} · {duration(job.started_at, job.finished_at)}
      </Typography.Text>
      {job.progress !== null && job.progress !== undefined && (
        <Progress
          percent={Math.round(job.progress * 100)}
          size="small"
          showInfo={false}
          strokeColor={look.hex}
          style={{ margin: 0, lineHeight: 1 }}
        />
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  )
}

const nodeTypes = { job: JobNodeView }

function Legend({ counts }: { counts: Map<JobState, number> }) {
  return (
    <Space size={4} wrap>
      {JOB_STATES.filter((s) => counts.get(s)).map((s) => (
        <Tag key={s} color={STATE_LOOK[s].color}>
          {STATE_LOOK[s].label}: {counts.get(s)}
        </Tag>
      ))}
    </Space>
  )
}

/** A DAG as a graph: its jobs coloured by state, its edges; a click opens the job. */
export default function DagPage() {
  const slug = useWorkspaceSlug()!
  const { dagId = '' } = useParams()
  const dag = useDag(slug, dagId)
  const navigate = useNavigate()

  const graph = useMemo(() => {
    if (!dag.data) return null
    const { jobs, edges } = dag.data
    const placed = layeredLayout(
      jobs.map((j) => j.id),
      edges,
      { nodeWidth: NODE_W, nodeHeight: NODE_H, layerGap: 80, rowGap: 28 },
    )
    const byId = new Map(jobs.map((j) => [j.id, j]))
    const nodes: JobNode[] = jobs.map((job) => ({
      id: job.id,
      type: 'job',
      position: { x: placed.get(job.id)!.x, y: placed.get(job.id)!.y },
      data: { job },
      draggable: false,
      connectable: false,
    }))
    const flowEdges: Edge[] = edges.map(([from, to]) => {
      const up = byId.get(from)
      const colour = up ? STATE_LOOK[up.state].hex : '#bfbfbf'
      return {
        id: `${from}->${to}`,
        source: from,
        target: to,
        animated: up?.state === 'running',
        style: { stroke: colour, strokeWidth: 1.6 },
        markerEnd: { type: MarkerType.ArrowClosed, color: colour },
      }
    })
    const layers = Math.max(1, ...[...placed.values()].map((p) => p.layer + 1))
    const rows = Math.max(1, ...[...placed.values()].map((p) => Math.round(p.y / (NODE_H + 28)) + 1))
    const counts = new Map<JobState, number>()
    for (const j of jobs) counts.set(j.state, (counts.get(j.state) ?? 0) + 1)
    return { nodes, edges: flowEdges, layers, rows, counts }
  }, [dag.data])

  const back = (
    <div style={{ marginBottom: 8 }}>
      <Link to={`/w/${slug}/jobs`}>
        <ArrowLeftOutlined /> Jobs
      </Link>
    </div>
  )
  if (dag.isPending) return <LoadingState />
  if (dag.isError)
    return (
      <>
        {back}
        <ErrorState error={dag.error} onRetry={() => void dag.refetch()} />
      </>
    )
  const { jobs } = dag.data
  const g = graph!
  const height = Math.min(640, Math.max(260, g.rows * (NODE_H + 28) + 80))
  const running = jobs.some((j) => isActive(j.state))

  return (
    <>
      {back}
      <PageHeader
        title={dag.data.name}
        subtitle={
          <>
            DAG{' '}
            <Typography.Text code copyable style={{ fontSize: 12 }}>
              {dag.data.dag_id}
            </Typography.Text>{' '}
            · {jobs.length} jobs · {running ? 'in progress' : 'finished'}
          </>
        }
      />
      <Card
        title="Graph"
        extra={<Legend counts={g.counts} />}
        styles={{ body: { padding: 0, height } }}
        style={{ marginBottom: 16 }}
      >
        <div style={{ width: '100%', height }} data-testid="dag-graph">
          <ReactFlow
            nodes={g.nodes}
            edges={g.edges}
            nodeTypes={nodeTypes}
            onNodeClick={(_, node) => navigate(`/w/${slug}/jobs/${node.id}`)}
            fitView
            fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
            nodesDraggable={false}
            nodesConnectable={false}
            edgesFocusable={false}
            minZoom={0.2}
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={18} color="#e8e8e8" />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
      </Card>
      <Card title="Jobs" styles={{ body: { padding: 0 } }}>
        <Table
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={jobs}
          columns={[
            {
              title: 'Node',
              key: 'node',
              render: (_: unknown, j: JobRead) => <Link to={`/w/${slug}/jobs/${j.id}`}>{j.dag_node ?? j.name}</Link>,
            },
            { title: 'Kind', dataIndex: 'kind', key: 'kind', width: 100 },
            { title: 'State', key: 'state', width: 150, render: (_: unknown, j: JobRead) => <StateTag state={j.state} /> },
            {
              title: 'After',
              key: 'after',
              render: (_: unknown, j: JobRead) =>
                (j.depends_on ?? []).length
                  ? (j.depends_on ?? []).map((d) => jobs.find((x) => x.id === d)?.dag_node ?? d).join(', ')
                  : '—',
            },
            { title: 'Started', key: 'started', width: 150, render: (_: unknown, j: JobRead) => <When at={j.started_at} /> },
            { title: 'Took', key: 'took', width: 100, render: (_: unknown, j: JobRead) => duration(j.started_at, j.finished_at) },
          ]}
        />
      </Card>
    </>
  )
}
