import { PlusOutlined } from '@ant-design/icons'
import { App, Button, Card, Input, Modal, Table, Tag, Typography } from 'antd'
import { useState } from 'react'
import { Link, useNavigate } from 'react-router'
import type { WorkspaceRead } from '../api/types'
import { useCursorPages } from '../common/cursor-pages'
import { EmptyState, ErrorState, InlineError } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { CreateWorkspaceModal } from '../workspaces/create-workspace-modal'
import { useDeleteWorkspace, useWorkspaces } from '../workspaces/queries'

function DeleteWorkspaceModal({ workspace, onClose }: { workspace: WorkspaceRead | null; onClose: () => void }) {
  const [typed, setTyped] = useState('')
  const del = useDeleteWorkspace()
  const { message } = App.useApp()
  const close = () => {
    setTyped('')
    del.reset()
    onClose()
  }
  return (
    <Modal
      title={`Delete workspace ${workspace?.slug ?? ''}?`}
      open={!!workspace}
      onCancel={close}
      okText="Delete workspace"
      okButtonProps={{ danger: true, disabled: typed !== workspace?.slug }}
      confirmLoading={del.isPending}
      onOk={() =>
        workspace &&
        del.mutate(workspace.slug, {
          onSuccess: () => {
            message.success(`Workspace ${workspace.slug} was deleted.`)
            close()
          },
        })
      }
      destroyOnHidden
    >
      <InlineError error={del.error} />
      <Typography.Paragraph>
        This deletes the workspace and everything in it, for every member. It cannot be undone.
      </Typography.Paragraph>
      <Typography.Paragraph>
        Type <Typography.Text code>{workspace?.slug}</Typography.Text> to confirm:
      </Typography.Paragraph>
      <Input value={typed} onChange={(e) => setTyped(e.target.value)} aria-label="Workspace slug to confirm" autoFocus />
    </Modal>
  )
}

/** Every workspace on the platform (platform admins only). */
export default function WorkspacesPage() {
  const [q, setQ] = useState<string>()
  const [creating, setCreating] = useState(false)
  const [deleting, setDeleting] = useState<WorkspaceRead | null>(null)
  const pages = useCursorPages()
  const list = useWorkspaces({ q, all: true, cursor: pages.cursor })
  const navigate = useNavigate()

  const columns = [
    {
      title: 'Workspace',
      key: 'ws',
      render: (_: unknown, w: WorkspaceRead) => (
        <>
          <Link to={`/w/${w.slug}`}>
            <Typography.Text strong>{w.name}</Typography.Text>
          </Link>
          <Typography.Text type="secondary" code style={{ marginLeft: 8 }}>
            {w.slug}
          </Typography.Text>
        </>
      ),
    },
    {
      title: 'Description',
      key: 'description',
      render: (_: unknown, w: WorkspaceRead) => (
        <Typography.Text type="secondary" ellipsis style={{ maxWidth: 320 }}>
          {w.description || '—'}
        </Typography.Text>
      ),
    },
    {
      title: 'Your role',
      key: 'role',
      render: (_: unknown, w: WorkspaceRead) => (w.role ? <Tag>{w.role}</Tag> : <Typography.Text type="secondary">not a member</Typography.Text>),
    },
    { title: 'Priority', dataIndex: 'priority', key: 'priority' },
    { title: 'Created', key: 'created', render: (_: unknown, w: WorkspaceRead) => <When at={w.created_at} /> },
    {
      title: '',
      key: 'actions',
      align: 'right' as const,
      render: (_: unknown, w: WorkspaceRead) => (
        <Button danger type="text" onClick={() => setDeleting(w)} aria-label={`Delete ${w.slug}`}>
          Delete
        </Button>
      ),
    },
  ]

  return (
    <>
      <PageHeader
        title="Workspaces"
        subtitle="Every workspace on this Dais, whether or not you are a member."
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            New workspace
          </Button>
        }
      />
      <Input.Search
        placeholder="Search by slug or name"
        allowClear
        onSearch={(v) => {
          pages.reset()
          setQ(v.trim() || undefined)
        }}
        style={{ maxWidth: 360, marginBottom: 16 }}
        aria-label="Search workspaces"
      />
      {list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : (
        <Card styles={{ body: { padding: 0 } }}>
          <Table
            rowKey="id"
            columns={columns}
            dataSource={list.data?.items}
            loading={list.isPending || list.isPlaceholderData}
            pagination={false}
            scroll={{ x: 800 }}
            locale={{ emptyText: <EmptyState description={q ? `No workspace matches “${q}”.` : 'No workspaces yet.'} /> }}
          />
        </Card>
      )}
      <Pager
        page={pages.page}
        hasPrevious={pages.hasPrevious}
        nextCursor={list.data?.next_cursor}
        onPrevious={pages.previous}
        onNext={() => pages.next(list.data?.next_cursor)}
      />
      <CreateWorkspaceModal open={creating} onClose={() => setCreating(false)} onCreated={(w) => navigate(`/w/${w.slug}`)} />
      <DeleteWorkspaceModal workspace={deleting} onClose={() => setDeleting(null)} />
    </>
  )
}
