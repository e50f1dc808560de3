import { ApiOutlined, DeleteOutlined, EditOutlined, FolderOpenOutlined, PlusOutlined } from '@ant-design/icons'
import { App, Button, Card, Flex, Popconfirm, Table, Tag, Tooltip, Typography } from 'antd'
import { useState } from 'react'
import { Link } from 'react-router'
import { errorMessage } from '../api/client'
import { canEdit } from '../api/types'
import { useMe } from '../auth/queries'
import { useCursorPages } from '../common/cursor-pages'
import { EmptyState, ErrorState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useWorkspace } from '../workspaces/queries'
import { BrowseDrawer } from './browse-drawer'
import { ConnectionDrawer } from './connection-drawer'
import { DataTabs } from './data-tabs'
import { checkText } from './format'
import { HealthBadge } from './health-badge'
import { registerLink } from './links'
import { useConnections, useConnectors, useDeleteConnection, useTestConnection } from './queries'
import type { ConnectionRead } from './types'

function configSummary(c: ConnectionRead): string {
  const first = ['root', 'bucket', 'url', 'metastore_uri', 'host', 'namenode']
    .map((k) => c.config[k])
    .find((v) => typeof v === 'string' && v !== '')
  return typeof first === 'string' ? first : ''
}

/** The workspace's connections: kind, health, test, edit, browse, delete. */
export default function ConnectionsPage() {
  const slug = useWorkspaceSlug()!
  const me = useMe()
  const ws = useWorkspace(slug)
  const connectors = useConnectors()
  const pages = useCursorPages()
  const list = useConnections(slug, pages.cursor)
  const test = useTestConnection(slug)
  const remove = useDeleteConnection(slug)
  const { message } = App.useApp()
  const editor = canEdit(ws.data?.role, !!me.data?.user.is_admin)
  const [drawer, setDrawer] = useState<{ key: number; editing: ConnectionRead | null } | null>(null)
  const [browsing, setBrowsing] = useState<ConnectionRead | null>(null)
  const [testing, setTesting] = useState<string | null>(null)

  const open = (editing: ConnectionRead | null) => setDrawer((d) => ({ key: (d?.key ?? 0) + 1, editing }))

  const runTest = (c: ConnectionRead) => {
    setTesting(c.name)
    test.mutate(c.name, {
      onSuccess: (r) => void (r.ok ? message.success(`${c.name}: ${checkText(r)}`) : message.error(`${c.name}: ${checkText(r)}`)),
      onError: (err) => void message.error(errorMessage(err)),
      onSettled: () => setTesting(null),
    })
  }

  const columns = [
    {
      title: 'Connection',
      key: 'name',
      render: (_: unknown, c: ConnectionRead) => (
        <Flex vertical gap={2}>
          <Typography.Text strong data-testid="connection-name">
            {c.name}
          </Typography.Text>
          {c.description && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }} ellipsis={{ tooltip: c.description }}>
              {c.description}
            </Typography.Text>
          )}
        </Flex>
      ),
    },
    { title: 'Kind', dataIndex: 'kind', key: 'kind', width: 90, render: (k: string) => <Tag>{k}</Tag> },
    {
      title: 'Where',
      key: 'where',
      render: (_: unknown, c: ConnectionRead) => (
        <Typography.Text code style={{ fontSize: 12 }} ellipsis={{ tooltip: configSummary(c) }}>
          {configSummary(c) || '—'}
        </Typography.Text>
      ),
    },
    {
      title: 'Health',
      key: 'health',
      width: 130,
      render: (_: unknown, c: ConnectionRead) => <HealthBadge health={c.health} message={c.health_message} checkedAt={c.health_checked_at} />,
    },
    { title: 'Checked', key: 'checked', width: 130, render: (_: unknown, c: ConnectionRead) => <When at={c.health_checked_at} empty="never" /> },
    {
      title: '',
      key: 'actions',
      width: 290,
      render: (_: unknown, c: ConnectionRead) => (
        <Flex gap={4} justify="flex-end">
          <Tooltip title="Test connection">
            <Button size="small" icon={<ApiOutlined />} loading={testing === c.name} onClick={() => runTest(c)} aria-label={`Test ${c.name}`}>
              Test
            </Button>
          </Tooltip>
          <Button size="small" icon={<FolderOpenOutlined />} onClick={() => setBrowsing(c)} aria-label={`Browse ${c.name}`}>
            Browse
          </Button>
          {editor && (
            <>
              <Button size="small" icon={<EditOutlined />} onClick={() => open(c)} aria-label={`Edit ${c.name}`} />
              <Popconfirm
                title={`Delete ${c.name}?`}
                description="Datasets registered from it can no longer read their data."
                okText="Delete"
                okButtonProps={{ danger: true }}
                onConfirm={() =>
                  remove.mutateAsync(c.name).then(
                    () => void message.success(`Connection ${c.name} deleted.`),
                    (err: unknown) => void message.error(errorMessage(err)),
                  )
                }
              >
                <Button size="small" danger icon={<DeleteOutlined />} aria-label={`Delete ${c.name}`} />
              </Popconfirm>
            </>
          )}
        </Flex>
      ),
    },
  ]

  return (
    <>
      <PageHeader
        title="Data"
        subtitle="Where the workspace's data lives: files, object stores and databases, each with its health."
        extra={
          editor && (
            <>
              <Link to={registerLink(slug)}>
                <Button>Register dataset</Button>
              </Link>
              <Button type="primary" icon={<PlusOutlined />} onClick={() => open(null)} disabled={!connectors.data}>
                New connection
              </Button>
            </>
          )
        }
      />
      <DataTabs slug={slug} active="connections" />
      {list.isError && list.data === undefined ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : (
        <Card styles={{ body: { padding: 0 } }}>
          <Table
            rowKey="id"
            size="middle"
            columns={columns}
            dataSource={list.data?.items}
            loading={list.isPending}
            pagination={false}
            scroll={{ x: 1000 }}
            data-testid="connections-table"
            locale={{
              emptyText: (
                <EmptyState description="No connections yet. A connection tells Dais where data lives and how to read it.">
                  {editor && (
                    <Button type="primary" icon={<PlusOutlined />} onClick={() => open(null)} disabled={!connectors.data}>
                      New connection
                    </Button>
                  )}
                </EmptyState>
              ),
            }}
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
      {connectors.isError && <ErrorState error={connectors.error} title="The connector kinds could not be read" />}
      {drawer && connectors.data && (
        <ConnectionDrawer
          key={drawer.key}
          slug={slug}
          connectors={connectors.data}
          editing={drawer.editing}
          open
          onClose={() => setDrawer(null)}
        />
      )}
      <BrowseDrawer key={browsing?.name ?? ''} slug={slug} connection={browsing} onClose={() => setBrowsing(null)} />
    </>
  )
}
