import { PictureOutlined, PlusOutlined, TableOutlined } from '@ant-design/icons'
import { Button, Card, Flex, Input, Select, Table, Tag, Tooltip, Typography } from 'antd'
import { useState } from 'react'
import { Link } from 'react-router'
import { canEdit } from '../api/types'
import { useMe } from '../auth/queries'
import { useCursorPages } from '../common/cursor-pages'
import { EmptyState, ErrorState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useWorkspace } from '../workspaces/queries'
import { DataTabs } from './data-tabs'
import { bytes, compact, count, FORMAT_LABELS, formatLabel, isMedia, sourceText } from './format'
import { datasetPath, registerLink } from './links'
import { type DatasetFilters, useConnections, useDatasets } from './queries'
import type { DatasetRead } from './types'

function Status({ d }: { d: DatasetRead }) {
  if (d.warnings.length) {
    return (
      <Tooltip title={d.warnings.join(' · ')}>
        <Tag color="warning">{d.warnings.length === 1 ? '1 warning' : `${d.warnings.length} warnings`}</Tag>
      </Tooltip>
    )
  }
  return <Tag color="success">ready</Tag>
}

/** The workspace's datasets: search, filter by format, size and rows at a glance. */
export default function DatasetsPage() {
  const slug = useWorkspaceSlug()!
  const me = useMe()
  const ws = useWorkspace(slug)
  const connections = useConnections(slug)
  const [filters, setFilters] = useState<DatasetFilters>({})
  const pages = useCursorPages()
  const list = useDatasets(slug, filters, pages.cursor)
  const editor = canEdit(ws.data?.role, !!me.data?.user.is_admin)

  const filter = (next: Partial<DatasetFilters>) => {
    pages.reset()
    setFilters((f) => ({ ...f, ...next }))
  }

  const columns = [
    {
      title: 'Dataset',
      key: 'name',
      render: (_: unknown, d: DatasetRead) => (
        <Flex vertical gap={2}>
          <Link to={datasetPath(slug, d.name)} data-testid="dataset-link">
            <Typography.Text strong style={{ color: 'inherit' }}>
              {isMedia(d.format) ? <PictureOutlined /> : <TableOutlined />} {d.name}
            </Typography.Text>
          </Link>
          <Typography.Text type="secondary" style={{ fontSize: 12 }} ellipsis={{ tooltip: d.description || sourceText(d) }}>
            {d.description || sourceText(d)}
          </Typography.Text>
          {d.tags.length > 0 && (
            <span>
              {d.tags.map((t) => (
                <Tag key={t} style={{ fontSize: 11 }}>
                  {t}
                </Tag>
              ))}
            </span>
          )}
        </Flex>
      ),
    },
    { title: 'Format', dataIndex: 'format', key: 'format', width: 120, render: (f: string) => <Tag>{formatLabel(f)}</Tag> },
    {
      title: 'Rows',
      key: 'rows',
      width: 110,
      align: 'right' as const,
      render: (_: unknown, d: DatasetRead) =>
        isMedia(d.format) ? (
          <Tooltip title={`${count(d.media_total)} items`}>{compact(d.media_total)} items</Tooltip>
        ) : d.row_count === null ? (
          <Typography.Text type="secondary">—</Typography.Text>
        ) : (
          <Tooltip title={count(d.row_count)}>{compact(d.row_count)}</Tooltip>
        ),
    },
    { title: 'Size', key: 'bytes', width: 110, align: 'right' as const, render: (_: unknown, d: DatasetRead) => bytes(d.bytes) },
    { title: 'Columns', key: 'columns', width: 90, align: 'right' as const, render: (_: unknown, d: DatasetRead) => d.schema.length },
    { title: 'Version', dataIndex: 'current_version', key: 'version', width: 80, render: (v: number) => `v${v}` },
    { title: 'Status', key: 'status', width: 120, render: (_: unknown, d: DatasetRead) => <Status d={d} /> },
    { title: 'Updated', key: 'updated', width: 130, render: (_: unknown, d: DatasetRead) => <When at={d.updated_at} /> },
  ]

  const filtered = !!(filters.q || filters.format || filters.connection)

  return (
    <>
      <PageHeader
        title="Data"
        subtitle="Datasets registered in this workspace, with a sample, schema and partitions kept for instant preview."
        extra={
          editor && (
            <Link to={registerLink(slug)}>
              <Button type="primary" icon={<PlusOutlined />}>
                Register dataset
              </Button>
            </Link>
          )
        }
      />
      <DataTabs slug={slug} active="datasets" />
      <Flex gap={12} wrap style={{ marginBottom: 16 }}>
        <Input.Search
          placeholder="Search name or description"
          allowClear
          onSearch={(v) => filter({ q: v.trim() || undefined })}
          style={{ width: 280 }}
          aria-label="Search datasets"
        />
        <Select<string>
          allowClear
          placeholder="Any format"
          aria-label="Filter by format"
          data-testid="format-filter"
          style={{ width: 170 }}
          value={filters.format}
          onChange={(format) => filter({ format: format || undefined })}
          options={Object.entries(FORMAT_LABELS)
            .filter(([k]) => k !== 'auto')
            .map(([value, label]) => ({ value, label }))}
        />
        <Select<string>
          allowClear
          placeholder="Any connection"
          aria-label="Filter by connection"
          style={{ width: 200 }}
          value={filters.connection}
          onChange={(connection) => filter({ connection: connection || undefined })}
          options={(connections.data?.items ?? []).map((c) => ({ value: c.name, label: c.name }))}
        />
      </Flex>
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
            scroll={{ x: 980 }}
            data-testid="datasets-table"
            locale={{
              emptyText: (
                <EmptyState description={filtered ? 'No datasets match these filters.' : 'No datasets registered in this workspace yet.'}>
                  {editor && !filtered && (
                    <Link to={registerLink(slug)}>
                      <Button type="primary" icon={<PlusOutlined />}>
                        Register a dataset
                      </Button>
                    </Link>
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
    </>
  )
}
