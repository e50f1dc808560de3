import { BranchesOutlined, PlusOutlined } from '@ant-design/icons'
import { useQueryClient } from '@tanstack/react-query'
import { Alert, App, Button, Card, DatePicker, Flex, Form, Input, Modal, Radio, Select, Table, Tag, Timeline, Tooltip, Typography } from 'antd'
import dayjs from 'dayjs'
import { useCallback, useState } from 'react'
import { Link } from 'react-router'
import type { JobDetail } from '../api/types'
import { EmptyState, ErrorState, InlineError } from '../common/page-states'
import { When } from '../common/when'
import { bytes, count } from './format'
import { JobFollow } from './job-follow'
import { datasetPath } from './links'
import { dataKeys, useCreateVersion, useLineage, usePartitions, useVersions } from './queries'
import type { DatasetRead, LineageEdge, VersionKind, VersionRead } from './types'
import { today } from './wizard'

interface NewVersionValues {
  kind: VersionKind
  partitionMode: 'current' | 'pinned' | 'dynamic'
  partitions?: string[]
  partition_filter?: string
  ds?: dayjs.Dayjs
  note?: string
}

function NewVersionModal({
  slug,
  dataset,
  partitionPaths,
  open,
  onClose,
}: {
  slug: string
  dataset: DatasetRead
  partitionPaths: string[]
  open: boolean
  onClose: () => void
}) {
  const [form] = Form.useForm<NewVersionValues>()
  const create = useCreateVersion(slug, dataset.name)
  const client = useQueryClient()
  const { message } = App.useApp()
  const [jobId, setJobId] = useState<string | null>(null)
  const mode = Form.useWatch('partitionMode', form) ?? 'current'
  const kind = Form.useWatch('kind', form) ?? 'pointer'

  const finish = (values: NewVersionValues) => {
    const body = {
      kind: values.kind,
      note: values.note?.trim() ?? '',
      partitions: values.partitionMode === 'pinned' ? (values.partitions ?? []) : null,
      partition_filter: values.partitionMode === 'dynamic' ? (values.partition_filter?.trim() ?? null) : null,
      variables: (values.partitionMode === 'dynamic' ? { ds: (values.ds ?? dayjs()).format('YYYY-MM-DD') } : {}) as Record<string, string>,
    }
    create.mutate(body, {
      onSuccess: (result) => {
        if ('job' in result) {
          setJobId(result.job.id)
          return
        }
        message.success(`Version ${result.number} created.`)
        onClose()
      },
    })
  }

  const done = useCallback(
    (job: JobDetail) => {
      void client.invalidateQueries({ queryKey: dataKeys.dataset(slug, dataset.name) })
      if (job.state === 'succeeded') {
        void message.success('The materialised version is written.')
        onClose()
      }
    },
    [client, dataset.name, message, onClose, slug],
  )

  return (
    <Modal
      title={`New version of ${dataset.name}`}
      open={open}
      onCancel={onClose}
      onOk={() => (jobId ? onClose() : form.submit())}
      okText={jobId ? 'Close' : 'Create version'}
      confirmLoading={create.isPending}
      width={620}
      destroyOnHidden
    >
      {jobId ? (
        <JobFollow slug={slug} jobId={jobId} title="Writing a parquet copy" onDone={done} />
      ) : (
        <Form
          form={form}
          layout="vertical"
          onFinish={finish}
          initialValues={{ kind: 'pointer', partitionMode: 'current', ds: dayjs(today()) }}
          requiredMark="optional"
        >
          <InlineError error={create.error} />
          <Form.Item name="kind" label="Kind">
            <Radio.Group
              options={[
                { value: 'pointer', label: 'Pointer: the source as it is now, fingerprinted' },
                { value: 'materialized', label: 'Materialised: a parquet copy in the artifact store' },
              ]}
              style={{ display: 'flex', flexDirection: 'column', gap: 6 }}
            />
          </Form.Item>
          {kind === 'materialized' && (
            <Alert type="info" showIcon style={{ marginBottom: 16 }} title="A job reads the data and writes the copy; it can take a while for big data." />
          )}
          {partitionPaths.length > 0 && (
            <Form.Item name="partitionMode" label="Partitions">
              <Radio.Group
                optionType="button"
                options={[
                  { value: 'current', label: 'As the dataset reads them' },
                  { value: 'pinned', label: 'Pin some' },
                  { value: 'dynamic', label: 'Dynamic' },
                ]}
              />
            </Form.Item>
          )}
          {mode === 'pinned' && (
            <Form.Item name="partitions" label="Pinned partitions" rules={[{ required: true, message: 'Pick at least one partition.' }]}>
              <Select mode="multiple" options={partitionPaths.map((p) => ({ value: p, label: p }))} />
            </Form.Item>
          )}
          {mode === 'dynamic' && (
            <Flex gap={12}>
              <Form.Item
                name="partition_filter"
                label="Expression"
                style={{ flex: 1 }}
                rules={[{ required: true, message: 'Enter an expression such as dt=${ds}.' }]}
                extra="${ds}, ${ds-1d}, ${ds|%Y%m%d}: resolved now with the date on the right."
              >
                <Input placeholder="dt=${ds}" style={{ fontFamily: 'monospace' }} />
              </Form.Item>
              <Form.Item name="ds" label="ds">
                <DatePicker allowClear={false} />
              </Form.Item>
            </Flex>
          )}
          <Form.Item name="note" label="Note">
            <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={4000} placeholder="What this version is for" />
          </Form.Item>
        </Form>
      )}
    </Modal>
  )
}

function Lineage({ slug, dataset }: { slug: string; dataset: DatasetRead }) {
  const lineage = useLineage(slug, dataset.name)
  if (lineage.isPending) return null
  if (lineage.isError) return <InlineError error={lineage.error} />
  const { upstream, downstream } = lineage.data
  if (!upstream.length && !downstream.length) {
    return <EmptyState description="No lineage yet: no job has produced a version of this dataset from other data, and none has read it to produce another." />
  }
  const item = (e: LineageEdge, direction: 'up' | 'down') => ({
    key: `${direction}-${e.dataset}-${e.version}-${e.input_dataset}-${e.input_version}`,
    children: (
      <span data-testid="lineage-edge">
        {direction === 'up' ? (
          <>
            <Typography.Text strong>v{e.version}</Typography.Text> ← <Link to={datasetPath(slug, e.input_dataset)}>{e.input_dataset}</Link> v{e.input_version}
          </>
        ) : (
          <>
            <Link to={datasetPath(slug, e.dataset)}>{e.dataset}</Link> v{e.version} ← <Typography.Text strong>v{e.input_version}</Typography.Text>
          </>
        )}
        {e.job_id && (
          <>
            {' '}
            by job <Link to={`/w/${slug}/jobs/${e.job_id}`}>{e.job_id}</Link>
          </>
        )}
        <Typography.Text type="secondary" style={{ marginLeft: 8, fontSize: 12 }}>
          <When at={e.created_at} />
        </Typography.Text>
      </span>
    ),
  })
  return (
    <Flex gap={32} wrap>
      {upstream.length > 0 && (
        <div style={{ flex: '1 1 320px' }}>
          <Typography.Title level={5}>Produced from</Typography.Title>
          <Timeline items={upstream.map((e) => item(e, 'up'))} />
        </div>
      )}
      {downstream.length > 0 && (
        <div style={{ flex: '1 1 320px' }}>
          <Typography.Title level={5}>Read to produce</Typography.Title>
          <Timeline items={downstream.map((e) => item(e, 'down'))} />
        </div>
      )}
    </Flex>
  )
}

/** The dataset's immutable versions (pointers and materialised copies), and its lineage. */
export function VersionsTab({ slug, dataset, editor }: { slug: string; dataset: DatasetRead; editor: boolean }) {
  const versions = useVersions(slug, dataset.name)
  const partitions = usePartitions(slug, dataset.name, false, editor && dataset.partition_count > 0)
  const partitionPaths = (partitions.data?.partitions ?? []).map((p) => p.path)
  const [creating, setCreating] = useState(false)
  const close = useCallback(() => setCreating(false), [])

  const columns = [
    {
      title: 'Version',
      dataIndex: 'number',
      key: 'number',
      width: 130,
      render: (n: number) => (
        <Typography.Text strong style={{ whiteSpace: 'nowrap' }}>
          v{n}
          {n === dataset.current_version && (
            <Tag color="blue" style={{ marginInlineStart: 6 }}>
              current
            </Tag>
          )}
        </Typography.Text>
      ),
    },
    {
      title: 'Kind',
      dataIndex: 'kind',
      key: 'kind',
      width: 130,
      render: (k: VersionKind) => <Tag color={k === 'materialized' ? 'purple' : 'default'}>{k === 'materialized' ? 'materialised' : 'pointer'}</Tag>,
    },
    { title: 'Rows', key: 'rows', width: 100, align: 'right' as const, render: (_: unknown, v: VersionRead) => count(v.row_count) },
    { title: 'Files', key: 'files', width: 80, align: 'right' as const, render: (_: unknown, v: VersionRead) => count(v.files) },
    { title: 'Size', key: 'bytes', width: 100, align: 'right' as const, render: (_: unknown, v: VersionRead) => bytes(v.bytes) },
    {
      title: 'Partitions',
      key: 'partitions',
      render: (_: unknown, v: VersionRead) =>
        v.partitions?.length ? (
          <Tooltip title={v.partitions.join(', ')}>
            <span>{v.partitions.length === 1 ? v.partitions[0] : `${v.partitions.length} partitions`}</span>
          </Tooltip>
        ) : (
          <Typography.Text type="secondary">all</Typography.Text>
        ),
    },
    {
      title: 'Produced by',
      key: 'job',
      width: 170,
      render: (_: unknown, v: VersionRead) =>
        v.produced_by_job_id ? (
          <Link to={`/w/${slug}/jobs/${v.produced_by_job_id}`}>
            <BranchesOutlined /> job {v.produced_by_job_id.slice(0, 10)}
          </Link>
        ) : (
          <Typography.Text type="secondary">—</Typography.Text>
        ),
    },
    { title: 'Note', dataIndex: 'note', key: 'note', ellipsis: true },
    { title: 'Created', key: 'created', width: 130, render: (_: unknown, v: VersionRead) => <When at={v.created_at} /> },
  ]

  return (
    <>
      <Card
        size="small"
        title="Versions"
        extra={
          editor && (
            <Button size="small" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
              New version
            </Button>
          )
        }
        style={{ marginBottom: 16 }}
      >
        {versions.isError ? (
          <ErrorState error={versions.error} onRetry={() => void versions.refetch()} />
        ) : (
          <Table
            rowKey="id"
            size="small"
            columns={columns}
            dataSource={versions.data?.items}
            loading={versions.isPending}
            pagination={false}
            scroll={{ x: 900 }}
            data-testid="versions-table"
            locale={{ emptyText: <EmptyState description="No versions yet." /> }}
          />
        )}
      </Card>
      <Card size="small" title="Lineage">
        <Lineage slug={slug} dataset={dataset} />
      </Card>
      {editor && <NewVersionModal slug={slug} dataset={dataset} partitionPaths={partitionPaths} open={creating} onClose={close} />}
    </>
  )
}
