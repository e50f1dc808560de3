import { DeleteOutlined, ExperimentOutlined, PlusOutlined, RocketOutlined, UndoOutlined } from '@ant-design/icons'
import { App, Button, Card, Flex, Form, Input, Modal, Popconfirm, Segmented, Table, Tabs, Typography } from 'antd'
import { useState } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { errorMessage } from '../api/client'
import { useCursorPages } from '../common/cursor-pages'
import { applyFieldErrors } from '../common/form-errors'
import { EmptyState, ErrorState, InlineError } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { links, useEditor } from './links'
import { WhenMs } from './parts'
import { useCreateExperiment, useDeleteExperiment, useExperiments, useRestoreExperiment } from './queries'
import { StudiesTable } from './studies-table'
import type { ExperimentCreate, ExperimentRead, View } from './types'

function CreateModal({ open, slug, onClose }: { open: boolean; slug: string; onClose: () => void }) {
  const [form] = Form.useForm<ExperimentCreate>()
  const create = useCreateExperiment(slug)
  const navigate = useNavigate()
  const close = () => {
    form.resetFields()
    create.reset()
    onClose()
  }
  return (
    <Modal title="New experiment" open={open} onCancel={close} okText="Create" onOk={() => form.submit()} confirmLoading={create.isPending} destroyOnHidden>
      <InlineError error={create.error} />
      <Form
        form={form}
        layout="vertical"
        requiredMark="optional"
        onFinish={(values) =>
          create.mutate(
            { name: values.name.trim(), description: values.description ?? '', tags: {} },
            { onSuccess: (e) => navigate(links.experiment(slug, e.id)), onError: (err) => applyFieldErrors(form, err) },
          )
        }
      >
        <Form.Item name="name" label="Name" extra="Unique in the workspace. MLflow code finds it with mlflow.set_experiment(name)." rules={[{ required: true, whitespace: true, message: 'Name the experiment.' }]}>
          <Input placeholder="churn-model" autoFocus aria-label="Name" maxLength={500} />
        </Form.Item>
        <Form.Item name="description" label="Description">
          <Input.TextArea rows={3} maxLength={20000} aria-label="Description" />
        </Form.Item>
      </Form>
    </Modal>
  )
}

function ExperimentsTable({ slug, editor }: { slug: string; editor: boolean }) {
  const { message } = App.useApp()
  const [q, setQ] = useState<string | undefined>()
  const [view, setView] = useState<View>('active')
  const [creating, setCreating] = useState(false)
  const pages = useCursorPages()
  const experiments = useExperiments(slug, { q, view }, pages.cursor)
  const remove = useDeleteExperiment(slug)
  const restore = useRestoreExperiment(slug)

  const columns = [
    {
      title: 'Experiment',
      key: 'name',
      render: (_: unknown, e: ExperimentRead) => (
        <div>
          <Link to={links.experiment(slug, e.id)} data-testid="experiment-link">
            <Typography.Text strong style={{ color: 'inherit' }}>
              {e.name}
            </Typography.Text>
          </Link>
          <Typography.Text type="secondary" style={{ fontSize: 12, marginLeft: 8 }}>
            #{e.id}
          </Typography.Text>
          {e.description && (
            <Typography.Paragraph type="secondary" ellipsis={{ rows: 1 }} style={{ margin: 0, fontSize: 12, maxWidth: 560 }}>
              {e.description}
            </Typography.Paragraph>
          )}
        </div>
      ),
    },
    { title: 'Runs', key: 'runs', width: 100, align: 'right' as const, render: (_: unknown, e: ExperimentRead) => e.run_count.toLocaleString('en-US') },
    { title: 'Last run', key: 'last', width: 150, render: (_: unknown, e: ExperimentRead) => (e.last_run_time ? <WhenMs ms={e.last_run_time} /> : <Typography.Text type="secondary">no runs</Typography.Text>) },
    { title: 'Created', key: 'created', width: 150, render: (_: unknown, e: ExperimentRead) => <WhenMs ms={e.creation_time} /> },
    ...(editor
      ? [
          {
            key: 'actions',
            width: 60,
            render: (_: unknown, e: ExperimentRead) =>
              e.lifecycle_stage === 'deleted' ? (
                <Button
                  type="text"
                  size="small"
                  icon={<UndoOutlined />}
                  aria-label={`Restore ${e.name}`}
                  onClick={() => restore.mutateAsync(e.id).then(() => void message.success(`${e.name} restored.`), (err: unknown) => void message.error(errorMessage(err)))}
                />
              ) : (
                <Popconfirm
                  title={`Delete ${e.name}?`}
                  description="It and its runs move to the deleted view, from where they can be restored."
                  okText="Delete"
                  okButtonProps={{ danger: true }}
                  onConfirm={() => remove.mutateAsync(e.id).then(() => void message.success(`${e.name} deleted.`), (err: unknown) => void message.error(errorMessage(err)))}
                >
                  <Button type="text" size="small" danger icon={<DeleteOutlined />} aria-label={`Delete ${e.name}`} />
                </Popconfirm>
              ),
          },
        ]
      : []),
  ]

  const empty = experiments.data && experiments.data.items.length === 0 && !q && !pages.cursor && view === 'active'
  return (
    <>
      <Flex gap={12} wrap align="center" style={{ padding: '0 16px 12px' }}>
        <Input.Search
          placeholder="Search experiments"
          allowClear
          aria-label="Search experiments"
          onSearch={(v) => {
            pages.reset()
            setQ(v.trim() || undefined)
          }}
          style={{ width: 280 }}
        />
        <Segmented<View>
          value={view}
          onChange={(v) => {
            pages.reset()
            setView(v)
          }}
          options={[
            { value: 'active', label: 'Active' },
            { value: 'deleted', label: 'Deleted' },
          ]}
        />
        {editor && (
          <Button icon={<PlusOutlined />} onClick={() => setCreating(true)} style={{ marginLeft: 'auto' }}>
            New experiment
          </Button>
        )}
      </Flex>
      {experiments.isError ? (
        <ErrorState error={experiments.error} onRetry={() => void experiments.refetch()} />
      ) : empty ? (
        <EmptyState
          description={
            <>
              No experiments yet. Train a preset from the launcher, or point MLflow code here:
              <br />
              <Typography.Text code copyable>{`mlflow.set_tracking_uri("${window.location.origin}")`}</Typography.Text>
            </>
          }
        >
          {editor && (
            <Link to={links.train(slug)}>
              <Button type="primary" icon={<RocketOutlined />}>
                Train a model
              </Button>
            </Link>
          )}
        </EmptyState>
      ) : (
        <>
          <Table<ExperimentRead>
            rowKey="id"
            loading={experiments.isPending || (experiments.isFetching && experiments.isPlaceholderData)}
            columns={columns}
            dataSource={experiments.data?.items ?? []}
            pagination={false}
            locale={{ emptyText: q ? `No experiment matches “${q}”.` : view === 'deleted' ? 'No deleted experiments.' : 'No experiments.' }}
            data-testid="experiments-table"
          />
          <div style={{ padding: '0 16px 16px' }}>
            <Pager
              page={pages.page}
              hasPrevious={pages.hasPrevious}
              nextCursor={experiments.data?.next_cursor}
              onPrevious={pages.previous}
              onNext={() => pages.next(experiments.data?.next_cursor)}
            />
          </div>
        </>
      )}
      <CreateModal open={creating} slug={slug} onClose={() => setCreating(false)} />
    </>
  )
}

/** The workspace's experiments and tuning studies. */
export default function ExperimentsPage() {
  const slug = useWorkspaceSlug()!
  const editor = useEditor(slug)
  const [params, setParams] = useSearchParams()
  const tab = params.get('tab') === 'studies' ? 'studies' : 'experiments'

  return (
    <>
      <PageHeader
        title="Training & experiments"
        subtitle="Runs logged by Dais's presets and by MLflow code, compared side by side; tuning studies over a preset's params."
        extra={
          editor && (
            <Link to={links.train(slug)}>
              <Button type="primary" icon={<RocketOutlined />} data-testid="train-button">
                Train a model
              </Button>
            </Link>
          )
        }
      />
      <Card styles={{ body: { padding: '0 0 4px' } }}>
        <Tabs
          activeKey={tab}
          onChange={(key) => setParams(key === 'studies' ? { tab: key } : {}, { replace: true })}
          tabBarStyle={{ padding: '0 16px' }}
          items={[
            { key: 'experiments', label: <span><ExperimentOutlined /> Experiments</span>, children: <ExperimentsTable slug={slug} editor={editor} /> },
            { key: 'studies', label: 'Tuning studies', children: <StudiesTable slug={slug} /> },
          ]}
          destroyOnHidden
        />
      </Card>
    </>
  )
}
