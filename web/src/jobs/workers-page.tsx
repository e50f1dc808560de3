import { ArrowLeftOutlined, ClusterOutlined } from '@ant-design/icons'
import { Card, Col, Descriptions, Flex, Progress, Row, Statistic, Tag, Tooltip, Typography } from 'antd'
import { Link } from 'react-router'
import type { WorkerRead } from '../api/types'
import { formatDate } from '../common/format'
import { EmptyState, ErrorState, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { cpus, memory } from './format'
import { useWorkers } from './queries'

type Health = 'alive' | 'draining' | 'gone'

function health(w: WorkerRead): Health {
  if (!w.alive || w.state === 'gone') return 'gone'
  return w.state === 'draining' ? 'draining' : 'alive'
}

const HEALTH: Record<Health, { color: string; help: string }> = {
  alive: { color: 'success', help: 'Takes new jobs.' },
  draining: { color: 'warning', help: 'Finishes what it runs and takes nothing new.' },
  gone: { color: 'default', help: 'Stopped, or its heartbeat stopped.' },
}

function Usage({ label, used, total, format }: { label: string; used: number; total: number; format: (n: number) => string }) {
  const percent = total > 0 ? Math.min(100, Math.round((used / total) * 1000) / 10) : 0
  return (
    <div style={{ marginBottom: 10 }} data-testid={`usage-${label.toLowerCase()}`}>
      <Flex justify="space-between">
        <Typography.Text>{label}</Typography.Text>
        <Typography.Text type="secondary">
          {total > 0 ? `${format(used)} of ${format(total)}` : 'none'}
        </Typography.Text>
      </Flex>
      <Progress
        percent={percent}
        showInfo={false}
        size="small"
        strokeColor={percent >= 90 ? '#cf1322' : percent >= 70 ? '#d48806' : '#1668dc'}
        style={{ margin: 0 }}
      />
    </div>
  )
}

function WorkerCard({ worker: w, slug }: { worker: WorkerRead; slug: string }) {
  const h = health(w)
  const gpus = w.gpu_ids.length
  const labels = Object.entries(w.labels ?? {})
  return (
    <Card
      data-testid="worker-card"
      title={
        <Flex align="center" gap={8}>
          <ClusterOutlined />
          <Typography.Text strong ellipsis style={{ maxWidth: 260 }}>
            {w.name}
          </Typography.Text>
        </Flex>
      }
      extra={
        <Tooltip title={HEALTH[h].help}>
          <Tag color={HEALTH[h].color} data-testid="worker-health">
            {h}
          </Tag>
        </Tooltip>
      }
      style={{ height: '100%', opacity: h === 'gone' ? 0.7 : 1 }}
    >
      <Usage label="CPU" used={w.used_cpus} total={w.cpus} format={(n) => cpus(n)} />
      <Usage label="Memory" used={w.used_memory_mb} total={w.memory_mb} format={memory} />
      <Usage label="GPUs" used={w.used_gpus} total={gpus} format={(n) => `${n} GPU`} />
      <Descriptions
        column={2}
        size="small"
        style={{ marginTop: 12 }}
        items={[
          { key: 'host', label: 'Host', children: `${w.host} (pid ${w.pid})` },
          { key: 'executor', label: 'Executor', children: w.executor },
          { key: 'slots', label: 'Slots', children: w.slots },
          {
            key: 'heartbeat',
            label: 'Heartbeat',
            children: <When at={w.heartbeat_at} />,
          },
          { key: 'since', label: 'Since', children: formatDate(w.started_at) },
          ...(gpus ? [{ key: 'gpu-ids', label: 'GPU ids', children: w.gpu_ids.join(', ') }] : []),
          ...(labels.length
            ? [
                {
                  key: 'labels',
                  label: 'Labels',
                  children: (
                    <Flex gap={4} wrap>
                      {labels.map(([k, v]) => (
                        <Tag key={k}>
                          {k}={String(v)}
                        </Tag>
                      ))}
                    </Flex>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Typography.Text type="secondary" style={{ display: 'block', marginTop: 8 }}>
        Running now
      </Typography.Text>
      {w.running?.length ? (
        <Flex gap={6} wrap style={{ marginTop: 4 }} data-testid="worker-running">
          {(w.running ?? []).map((id) => (
            <Link key={id} to={`/w/${slug}/jobs/${id}`}>
              <Tag color="processing" style={{ fontFamily: 'monospace' }}>
                {id}
              </Tag>
            </Link>
          ))}
        </Flex>
      ) : (
        <Typography.Text type="secondary" style={{ display: 'block', marginTop: 4 }}>
          {w.used_cpus > 0 ? 'Only jobs of workspaces you cannot see.' : 'Nothing.'}
        </Typography.Text>
      )}
    </Card>
  )
}

/** The resource pool: every worker's capacity and what it uses now, and who runs what. */
export default function WorkersPage() {
  const slug = useWorkspaceSlug()!
  const workers = useWorkers()

  const header = (
    <>
      <div style={{ marginBottom: 8 }}>
        <Link to={`/w/${slug}/jobs`}>
          <ArrowLeftOutlined /> Jobs
        </Link>
      </div>
      <PageHeader title="Workers" subtitle="The resource pool that runs jobs: each worker's capacity, what it uses now, and what it runs." />
    </>
  )
  if (workers.isPending)
    return (
      <>
        {header}
        <LoadingState />
      </>
    )
  if (workers.isError)
    return (
      <>
        {header}
        <ErrorState error={workers.error} onRetry={() => void workers.refetch()} />
      </>
    )
  const live = workers.data.filter((w) => health(w) !== 'gone')
  const sum = (f: (w: WorkerRead) => number) => live.reduce((a, w) => a + f(w), 0)

  return (
    <>
      {header}
      <Card style={{ marginBottom: 16 }}>
        <Row gutter={16}>
          <Col xs={12} md={6}>
            <Statistic title="Workers online" value={live.length} suffix={`/ ${workers.data.length}`} data-testid="workers-online" />
          </Col>
          <Col xs={12} md={6}>
            <Statistic title="CPUs in use" value={sum((w) => w.used_cpus)} precision={1} suffix={`/ ${sum((w) => w.cpus)}`} />
          </Col>
          <Col xs={12} md={6}>
            <Statistic title="Memory in use" value={memory(sum((w) => w.used_memory_mb))} suffix={`/ ${memory(sum((w) => w.memory_mb))}`} />
          </Col>
          <Col xs={12} md={6}>
            <Statistic title="GPUs in use" value={sum((w) => w.used_gpus)} suffix={`/ ${sum((w) => w.gpu_ids.length)}`} />
          </Col>
        </Row>
      </Card>
      {workers.data.length === 0 ? (
        <Card>
          <EmptyState description="No worker has reported in the last hour. Start one with `dais worker` (or `dais up`, which runs a pool)." />
        </Card>
      ) : (
        <Row gutter={[16, 16]}>
          {workers.data.map((w) => (
            <Col xs={24} lg={12} key={w.id}>
              <WorkerCard worker={w} slug={slug} />
            </Col>
          ))}
        </Row>
      )}
    </>
  )
}
