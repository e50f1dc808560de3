import { DeleteOutlined, PlusOutlined } from '@ant-design/icons'
import { App, Button, Card, Form, Input, Modal, Popconfirm, Table, Tag, Typography } from 'antd'
import { useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { canEdit } from '../api/types'
import { errorMessage } from '../api/client'
import { useMe } from '../auth/queries'
import { useCursorPages } from '../common/cursor-pages'
import { applyFieldErrors } from '../common/form-errors'
import { EmptyState, ErrorState, InlineError } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useWorkspace } from '../workspaces/queries'
import { useCreatePipeline, useDeletePipeline, usePipelines } from './queries'
import { runLook } from './status'
import type { PipelineCreate, PipelineRead } from './types'

function CreateModal({ open, slug, onClose }: { open: boolean; slug: string; onClose: () => void }) {
  const [form] = Form.useForm<PipelineCreate>()
  const create = useCreatePipeline(slug)
  const navigate = useNavigate()
  const close = () => {
    form.resetFields()
    create.reset()
    onClose()
  }
  return (
    <Modal title="New pipeline" open={open} onCancel={close} okText="Create and open" onOk={() => form.submit()} confirmLoading={create.isPending} destroyOnHidden>
      <InlineError error={create.error} />
      <Form
        form={form}
        layout="vertical"
        requiredMark="optional"
        onFinish={(values) =>
          create.mutate(
            { name: values.name, description: values.description ?? '', message: 'Created' },
            {
              onSuccess: (p) => navigate(`/w/${slug}/pipelines/${encodeURIComponent(p.name)}`),
              onError: (err) => applyFieldErrors(form, err),
            },
          )
        }
      >
        <Form.Item
          name="name"
          label="Name"
          extra="Unique in the workspace: lower-case letters, digits, _ . and -."
          rules={[
            { required: true, message: 'Name the pipeline.' },
            { pattern: /^[a-z0-9][a-z0-9_.-]{0,62}$/, message: 'Lower-case letters, digits, _ . and -; starts with a letter or digit.' },
          ]}
        >
          <Input placeholder="churn-features" autoFocus aria-label="Name" />
        </Form.Item>
        <Form.Item name="description" label="Description">
          <Input.TextArea rows={3} maxLength={4000} aria-label="Description" />
        </Form.Item>
      </Form>
    </Modal>
  )
}

/** The workspace's pipelines with their versions and last run. */
export default function PipelinesPage() {
  const slug = useWorkspaceSlug()!
  const me = useMe()
  const ws = useWorkspace(slug)
  const { message } = App.useApp()
  const [q, setQ] = useState<string | undefined>()
  const [creating, setCreating] = useState(false)
  const pages = useCursorPages()
  const pipelines = usePipelines(slug, q, pages.cursor)
  const remove = useDeletePipeline(slug)
  const editor = canEdit(ws.data?.role, !!me.data?.user.is_admin)

  const columns = [
    {
      title: 'Pipeline',
      key: 'name',
      render: (_: unknown, p: PipelineRead) => (
        <div>
          <Link to={`/w/${slug}/pipelines/${encodeURIComponent(p.name)}`} data-testid="pipeline-link">
            <Typography.Text strong style={{ color: 'inherit' }}>
              {p.name}
            </Typography.Text>
          </Link>
          {p.description && (
            <Typography.Paragraph type="secondary" ellipsis={{ rows: 1 }} style={{ margin: 0, fontSize: 12, maxWidth: 520 }}>
              {p.description}
            </Typography.Paragraph>
          )}
        </div>
      ),
    },
    { title: 'Versions', key: 'versions', width: 100, render: (_: unknown, p: PipelineRead) => p.current_version },
    {
      title: 'Last run',
      key: 'last',
      width: 260,
      render: (_: unknown, p: PipelineRead) =>
        p.last_run ? (
          <span data-testid={`last-run-${p.name}`}>
            <Link to={`/w/${slug}/pipelines/${encodeURIComponent(p.name)}?run=${p.last_run.id}`}>
              <Tag color={runLook(p.last_run.status).color}>{runLook(p.last_run.status).label}</Tag>
            </Link>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {p.last_run.mode} · v{p.last_run.version} · <When at={p.last_run.created_at} />
            </Typography.Text>
          </span>
        ) : (
          <Typography.Text type="secondary">never run</Typography.Text>
        ),
    },
    { title: 'Updated', key: 'updated', width: 140, render: (_: unknown, p: PipelineRead) => <When at={p.updated_at} /> },
    ...(editor
      ? [
          {
            key: 'actions',
            width: 60,
            render: (_: unknown, p: PipelineRead) => (
              <Popconfirm
                title={`Delete ${p.name}?`}
                description="Its versions, runs and cache go too; datasets its runs wrote stay."
                okText="Delete"
                okButtonProps={{ danger: true }}
                onConfirm={() =>
                  remove.mutateAsync(p.name).then(
                    () => void message.success(`${p.name} deleted.`),
                    (err: unknown) => void message.error(errorMessage(err)),
                  )
                }
              >
                <Button type="text" size="small" danger icon={<DeleteOutlined />} aria-label={`Delete ${p.name}`} />
              </Popconfirm>
            ),
          },
        ]
      : []),
  ]

  let body
  if (pipelines.isError) body = <ErrorState error={pipelines.error} onRetry={() => void pipelines.refetch()} />
  else if (pipelines.data && pipelines.data.items.length === 0 && !q && !pages.cursor)
    body = (
      <EmptyState description="No pipelines yet: build one from operators on a canvas, check it, and run it on a sample or in full.">
        {editor && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            New pipeline
          </Button>
        )}
      </EmptyState>
    )
  else
    body = (
      <>
        <Table<PipelineRead>
          rowKey="id"
          loading={pipelines.isPending || (pipelines.isFetching && pipelines.isPlaceholderData)}
          columns={columns}
          dataSource={pipelines.data?.items ?? []}
          pagination={false}
          locale={{ emptyText: q ? `No pipeline matches “${q}”.` : 'No pipelines.' }}
        />
        <div style={{ padding: '0 16px 16px' }}>
          <Pager
            page={pages.page}
            hasPrevious={pages.hasPrevious}
            nextCursor={pipelines.data?.next_cursor}
            onPrevious={pages.previous}
            onNext={() => pages.next(pipelines.data?.next_cursor)}
          />
        </div>
      </>
    )

  return (
    <>
      <PageHeader
        title="Pipelines"
        subtitle="Feature-processing pipelines: operators on a canvas, checked before they run, run in full or on a sample."
        extra={
          editor && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
              New pipeline
            </Button>
          )
        }
      />
      <Input.Search
        placeholder="Search pipelines"
        allowClear
        aria-label="Search pipelines"
        onSearch={(v) => {
          pages.reset()
          setQ(v.trim() || undefined)
        }}
        style={{ width: 280, marginBottom: 16 }}
      />
      <Card styles={{ body: { padding: 0 } }}>{body}</Card>
      <CreateModal open={creating} slug={slug} onClose={() => setCreating(false)} />
    </>
  )
}
