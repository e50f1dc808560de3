import { ArrowLeftOutlined, DeleteOutlined, DownloadOutlined, ReloadOutlined, SyncOutlined } from '@ant-design/icons'
import { useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Card, Descriptions, Dropdown, Flex, Popconfirm, Switch, Tabs, Tag, Typography } from 'antd'
import { lazy, Suspense, useCallback, useState } from 'react'
import { Link, useNavigate, useParams, useSearchParams } from 'react-router'
import { errorMessage } from '../api/client'
import { canEdit } from '../api/types'
import { useMe } from '../auth/queries'
import { EmptyState, ErrorState, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useWorkspace } from '../workspaces/queries'
import { bytes, count, formatLabel, isMedia, sourceText } from './format'
import { Gallery } from './gallery'
import { JobFollow } from './job-follow'
import { dataPath } from './links'
import { PartitionsTable } from './partitions-table'
import { dataKeys, downloadUrl, useDataset, useDeleteDataset, usePartitions, useRefreshDataset, useSample, useStats } from './queries'
import { SampleGrid } from './sample-grid'
import { SchemaTable } from './schema-table'
import type { DatasetRead } from './types'
import { VersionsTab } from './versions-tab'

// The charts (and their library) load only when the Stats tab is opened.
const StatsCharts = lazy(() => import('./stats-charts'))

function SampleTab({ slug, dataset }: { slug: string; dataset: DatasetRead }) {
  const sample = useSample(slug, dataset.name)
  if (sample.isPending) return <LoadingState label="Loading the sample…" />
  if (sample.isError) return <ErrorState error={sample.error} onRetry={() => void sample.refetch()} />
  return (
    <>
      <Typography.Paragraph type="secondary">
        The first {sample.data.rows.length.toLocaleString()} rows, kept at registration
        {sample.data.sampled_at && (
          <>
            {' '}
            (<When at={sample.data.sampled_at} />)
          </>
        )}
        .{sample.data.truncated && ' The sample was cut short by its size limit.'}
      </Typography.Paragraph>
      <SampleGrid rows={sample.data.rows} columns={sample.data.columns} schema={dataset.schema} />
    </>
  )
}

function StatsTab({ slug, dataset }: { slug: string; dataset: DatasetRead }) {
  const stats = useStats(slug, dataset.name)
  if (stats.isPending) return <LoadingState label="Loading the statistics…" />
  if (stats.isError) return <ErrorState error={stats.error} onRetry={() => void stats.refetch()} />
  return (
    <Suspense fallback={<LoadingState label="Loading the charts…" />}>
      <StatsCharts stats={stats.data.columns} schema={dataset.schema} sampleRows={stats.data.sample_rows} />
    </Suspense>
  )
}

function PartitionsTab({ slug, dataset }: { slug: string; dataset: DatasetRead }) {
  const [live, setLive] = useState(false)
  const partitions = usePartitions(slug, dataset.name, live)
  const filter = dataset.source.partition_filter
  return (
    <>
      <Flex justify="space-between" align="center" wrap gap={12} style={{ marginBottom: 12 }}>
        <Typography.Text type="secondary">
          {filter ? (
            <>
              Reads{' '}
              {Array.isArray(filter) ? (
                `${filter.length} pinned partition${filter.length === 1 ? '' : 's'}`
              ) : (
                <>
                  the dynamic partition <Typography.Text code>{filter}</Typography.Text>, resolved with each run's date
                </>
              )}
              .
            </>
          ) : (
            'Reads every partition.'
          )}
        </Typography.Text>
        <Flex align="center" gap={8}>
          <Switch size="small" checked={live} onChange={setLive} aria-label="List again from the source" />
          <Typography.Text>List again from the source</Typography.Text>
        </Flex>
      </Flex>
      {partitions.isPending ? (
        <LoadingState label={live ? 'Listing the source…' : 'Loading…'} />
      ) : partitions.isError ? (
        <ErrorState error={partitions.error} onRetry={() => void partitions.refetch()} />
      ) : partitions.data.style === 'none' || !partitions.data.partitions?.length ? (
        <EmptyState description="This dataset is not partitioned." />
      ) : (
        <>
          <Typography.Paragraph type="secondary">
            {partitions.data.style === 'hive' ? 'Hive-style key=value folders' : 'Date folders'}, keys:{' '}
            {(partitions.data.keys ?? []).map((k) => (
              <Tag key={k}>{k}</Tag>
            ))}
            {partitions.data.truncated && ' (more exist than are listed)'}
          </Typography.Paragraph>
          <PartitionsTable
            partitions={partitions.data.partitions}
            selected={Array.isArray(filter) ? filter : undefined}
            onSelect={undefined}
          />
        </>
      )}
    </>
  )
}

function Overview({ dataset }: { dataset: DatasetRead }) {
  const media = isMedia(dataset.format)
  return (
    <Card size="small" style={{ marginBottom: 16 }}>
      <Descriptions
        size="small"
        column={{ xs: 1, sm: 2, lg: 4 }}
        items={[
          { key: 'source', label: 'Source', children: <Typography.Text code>{sourceText(dataset)}</Typography.Text>, span: 2 },
          {
            key: 'rows',
            label: media ? 'Items' : 'Rows',
            children: media ? count(dataset.media_total) : dataset.row_count === null ? 'counted when read' : count(dataset.row_count),
          },
          { key: 'size', label: 'Size', children: `${bytes(dataset.bytes)} in ${count(dataset.files)} ${dataset.files === 1 ? 'file' : 'files'}` },
          { key: 'columns', label: 'Columns', children: dataset.schema.length },
          {
            key: 'partitions',
            label: 'Partitions',
            children: dataset.partition_style === 'none' ? 'none' : `${dataset.partition_count} (${dataset.partition_keys.join(', ')})`,
          },
          { key: 'version', label: 'Version', children: `v${dataset.current_version}` },
          { key: 'sampled', label: 'Sampled', children: <When at={dataset.sampled_at} /> },
        ]}
      />
    </Card>
  )
}

/** One dataset: its sample, schema, statistics, partitions, versions and lineage (and a gallery for media). */
export default function DatasetPage() {
  const slug = useWorkspaceSlug()!
  const { dataset: name = '' } = useParams()
  const [params, setParams] = useSearchParams()
  const navigate = useNavigate()
  const me = useMe()
  const ws = useWorkspace(slug)
  const query = useDataset(slug, name)
  const remove = useDeleteDataset(slug)
  const refresh = useRefreshDataset(slug)
  const client = useQueryClient()
  const { message } = App.useApp()
  const [refreshJob, setRefreshJob] = useState<string | null>(null)
  const editor = canEdit(ws.data?.role, !!me.data?.user.is_admin)

  const refreshed = useCallback(() => {
    void client.invalidateQueries({ queryKey: dataKeys.dataset(slug, name) })
  }, [client, slug, name])

  const back = (
    <Link to={dataPath(slug)}>
      <ArrowLeftOutlined /> Datasets
    </Link>
  )
  if (query.isPending) return <LoadingState />
  if (query.isError)
    return (
      <>
        {back}
        <ErrorState error={query.error} onRetry={() => void query.refetch()} />
      </>
    )
  const dataset = query.data
  const media = isMedia(dataset.format)
  const tab = params.get('tab') ?? (media ? 'gallery' : 'sample')

  const tabs = [
    ...(media ? [{ key: 'gallery', label: 'Gallery', children: <Gallery slug={slug} dataset={dataset.name} /> }] : []),
    { key: 'sample', label: media ? 'Items' : 'Sample', children: <SampleTab slug={slug} dataset={dataset} /> },
    { key: 'schema', label: 'Schema', children: <SchemaTable columns={dataset.schema} /> },
    ...(media ? [] : [{ key: 'stats', label: 'Stats', children: <StatsTab slug={slug} dataset={dataset} /> }]),
    { key: 'partitions', label: 'Partitions', children: <PartitionsTab slug={slug} dataset={dataset} /> },
    {
      key: 'versions',
      label: 'Versions',
      children: <VersionsTab slug={slug} dataset={dataset} editor={editor} />,
    },
  ]

  return (
    <>
      <div style={{ marginBottom: 8 }}>{back}</div>
      <PageHeader
        title={
          <Flex align="center" gap={12} wrap>
            <span data-testid="dataset-name">{dataset.name}</span>
            <Tag>{formatLabel(dataset.format)}</Tag>
            {dataset.tags.map((t) => (
              <Tag key={t} color="blue">
                {t}
              </Tag>
            ))}
          </Flex>
        }
        subtitle={dataset.description || undefined}
        extra={
          <>
            {!media && (
              <Dropdown
                menu={{
                  items: (['parquet', 'csv', 'jsonl'] as const).map((f) => ({
                    key: f,
                    label: <a href={downloadUrl(slug, dataset.name, f)}>{formatLabel(f)}</a>,
                  })),
                }}
              >
                <Button icon={<DownloadOutlined />}>Download</Button>
              </Dropdown>
            )}
            {editor && (
              <Button
                icon={<ReloadOutlined />}
                loading={refresh.isPending}
                disabled={!!refreshJob}
                onClick={() =>
                  refresh.mutate(dataset.name, {
                    onSuccess: (r) => setRefreshJob(r.job.id),
                    onError: (err) => void message.error(errorMessage(err)),
                  })
                }
              >
                Refresh
              </Button>
            )}
            {editor && (
              <Popconfirm
                title={`Delete ${dataset.name}?`}
                description="Its sample, versions and lineage go; the source data stays where it is."
                okText="Delete"
                okButtonProps={{ danger: true }}
                onConfirm={() =>
                  remove.mutateAsync(dataset.name).then(
                    () => {
                      message.success(`Dataset ${dataset.name} deleted.`)
                      navigate(dataPath(slug))
                    },
                    (err: unknown) => void message.error(errorMessage(err)),
                  )
                }
              >
                <Button danger icon={<DeleteOutlined />}>
                  Delete
                </Button>
              </Popconfirm>
            )}
          </>
        }
      />
      {refreshJob && (
        <Card size="small" style={{ marginBottom: 16 }} extra={<Button size="small" type="text" onClick={() => setRefreshJob(null)}>Close</Button>} title={<><SyncOutlined /> Refresh</>}>
          <JobFollow slug={slug} jobId={refreshJob} title={`Sampling ${dataset.name} again`} onDone={refreshed} />
        </Card>
      )}
      {dataset.warnings.length > 0 && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          title={dataset.warnings.length === 1 ? dataset.warnings[0] : `${dataset.warnings.length} warnings`}
          description={dataset.warnings.length > 1 ? <ul style={{ margin: 0, paddingLeft: 18 }}>{dataset.warnings.map((w) => <li key={w}>{w}</li>)}</ul> : undefined}
        />
      )}
      <Overview dataset={dataset} />
      <Card>
        <Tabs
          activeKey={tab}
          onChange={(key) => setParams((p) => {
            const next = new URLSearchParams(p)
            next.set('tab', key)
            return next
          }, { replace: true })}
          items={tabs}
          destroyOnHidden
          data-testid="dataset-tabs"
        />
      </Card>
    </>
  )
}
