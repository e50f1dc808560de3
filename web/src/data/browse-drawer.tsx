import { FileOutlined, FolderOutlined, HomeOutlined, TableOutlined } from '@ant-design/icons'
import { Breadcrumb, Button, Drawer, Table, Typography } from 'antd'
import { useState } from 'react'
import { Link } from 'react-router'
import { EmptyState, ErrorState } from '../common/page-states'
import { When } from '../common/when'
import { bytes } from './format'
import { registerLink } from './links'
import { useBrowse } from './queries'
import type { ConnectionRead, SourceEntryRead } from './types'

const FOLDERS = new Set(['dir', 'schema'])

function icon(kind: string) {
  if (kind === 'dir') return <FolderOutlined style={{ color: '#d48806' }} />
  if (kind === 'table' || kind === 'view') return <TableOutlined style={{ color: '#1668dc' }} />
  if (kind === 'schema') return <FolderOutlined style={{ color: '#1668dc' }} />
  return <FileOutlined />
}

/** Walk a connection's folders (files) or schemas and tables, and register what you find. */
export function BrowseDrawer({
  slug,
  connection,
  onClose,
  onPick,
}: {
  slug: string
  connection: Pick<ConnectionRead, 'name'> | null
  onClose: () => void
  /** Pick an entry (the wizard) instead of linking to the wizard (the connections page). */
  onPick?: (entry: Pick<SourceEntryRead, 'path' | 'kind'>) => void
}) {
  const [path, setPath] = useState('')
  const listing = useBrowse(slug, connection?.name, path)
  const parts = path ? path.split('/').filter(Boolean) : []

  const columns = [
    {
      title: 'Name',
      key: 'name',
      render: (_: unknown, e: SourceEntryRead) =>
        FOLDERS.has(e.kind) ? (
          <Button type="link" size="small" icon={icon(e.kind)} onClick={() => setPath(e.path)} style={{ padding: 0 }} data-testid="browse-folder">
            {e.name}
          </Button>
        ) : (
          <span>
            {icon(e.kind)} {e.name}
          </span>
        ),
    },
    { title: 'Size', key: 'size', width: 100, render: (_: unknown, e: SourceEntryRead) => (e.size === null || e.size === undefined ? '' : bytes(e.size)) },
    { title: 'Modified', key: 'modified', width: 130, render: (_: unknown, e: SourceEntryRead) => <When at={e.modified} empty="" /> },
    {
      title: '',
      key: 'register',
      width: 90,
      render: (_: unknown, e: SourceEntryRead) =>
        !connection || e.kind === 'schema' ? null : onPick ? (
          <Button size="small" onClick={() => onPick(e)} data-testid="browse-pick">
            Use
          </Button>
        ) : (
          <Link to={registerLink(slug, connection.name, e)}>Register</Link>
        ),
    },
  ]

  return (
    <Drawer title={connection ? `Browse ${connection.name}` : 'Browse'} open={!!connection} onClose={onClose} size={720} destroyOnHidden>
      <Breadcrumb
        style={{ marginBottom: 12 }}
        items={[
          { title: <a onClick={() => setPath('')}><HomeOutlined /> root</a> },
          ...parts.map((p, i) => ({
            title: i === parts.length - 1 ? <Typography.Text>{p}</Typography.Text> : <a onClick={() => setPath(parts.slice(0, i + 1).join('/'))}>{p}</a>,
          })),
        ]}
      />
      {listing.isError ? (
        <ErrorState error={listing.error} onRetry={() => void listing.refetch()} />
      ) : (
        <Table
          rowKey="path"
          size="small"
          columns={columns}
          dataSource={listing.data?.entries}
          loading={listing.isPending}
          pagination={{ pageSize: 50, hideOnSinglePage: true, showSizeChanger: false }}
          data-testid="browse-table"
          locale={{ emptyText: <EmptyState description="Nothing here." /> }}
        />
      )}
      {connection &&
        (onPick ? (
          path && (
            <Button type="primary" style={{ marginTop: 12 }} onClick={() => onPick({ path, kind: 'dir' })}>
              Use the folder “{path}”
            </Button>
          )
        ) : (
          <Link to={registerLink(slug, connection.name, path ? { path, kind: 'dir' } : undefined)}>
            <Button type="primary" style={{ marginTop: 12 }}>
              Register {path ? `“${path}”` : 'a dataset from this connection'}
            </Button>
          </Link>
        ))}
    </Drawer>
  )
}
