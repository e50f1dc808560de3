import { Card, Flex, Input, Table, Tag, Tooltip, Typography } from 'antd'
import { useState } from 'react'
import type { AuditRead } from '../api/types'
import { useCursorPages } from '../common/cursor-pages'
import { formatDate } from '../common/format'
import { EmptyState, ErrorState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { type AuditFilters, useAudit } from './queries'

function actionColor(action: string): string | undefined {
  if (/delete|remove|revoke|deactivat/.test(action)) return 'red'
  if (/create|add/.test(action)) return 'green'
  if (/update|change|set/.test(action)) return 'blue'
  return undefined
}

function Details({ details }: { details: Record<string, unknown> }) {
  const text = Object.keys(details).length ? JSON.stringify(details) : ''
  if (!text) return <Typography.Text type="secondary">—</Typography.Text>
  return (
    <Tooltip title={<pre style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{JSON.stringify(details, null, 2)}</pre>}>
      <Typography.Text code ellipsis style={{ maxWidth: 280, display: 'inline-block' }}>
        {text}
      </Typography.Text>
    </Tooltip>
  )
}

const columns = [
  { title: 'When', key: 'at', width: 160, render: (_: unknown, e: AuditRead) => formatDate(e.at) },
  { title: 'Actor', dataIndex: 'actor_name', key: 'actor', width: 140 },
  {
    title: 'Action',
    key: 'action',
    width: 190,
    render: (_: unknown, e: AuditRead) => <Tag color={actionColor(e.action)}>{e.action}</Tag>,
  },
  {
    title: 'Target',
    key: 'target',
    render: (_: unknown, e: AuditRead) => (
      <Typography.Text ellipsis style={{ maxWidth: 220 }}>
        {e.target_type}
        {e.target_id && <Typography.Text type="secondary"> {e.target_id}</Typography.Text>}
      </Typography.Text>
    ),
  },
  { title: 'Details', key: 'details', render: (_: unknown, e: AuditRead) => <Details details={e.details} /> },
  { title: 'IP', dataIndex: 'ip', key: 'ip', width: 120, render: (ip: string | null) => ip ?? '—' },
]

/** Who did what in this workspace, newest first (workspace admins and owners). */
export default function AuditPage() {
  const slug = useWorkspaceSlug()!
  const [filters, setFilters] = useState<AuditFilters>({})
  const pages = useCursorPages()
  const audit = useAudit(slug, filters, pages.cursor)

  const filter = (key: keyof AuditFilters, value: string) => {
    pages.reset()
    setFilters((f) => ({ ...f, [key]: value.trim() || undefined }))
  }

  if (audit.isError && audit.data === undefined) {
    return (
      <>
        <PageHeader title="Audit log" />
        <ErrorState error={audit.error} onRetry={() => void audit.refetch()} />
      </>
    )
  }

  return (
    <>
      <PageHeader title="Audit log" subtitle="Every change made in this workspace: who, what, when and from where." />
      <Flex gap={12} wrap style={{ marginBottom: 16 }}>
        <Input.Search
          placeholder="Action, e.g. member or member.add"
          allowClear
          onSearch={(v) => filter('action', v)}
          style={{ width: 260 }}
          aria-label="Filter by action"
        />
        <Input.Search
          placeholder="Actor username"
          allowClear
          onSearch={(v) => filter('actor', v)}
          style={{ width: 220 }}
          aria-label="Filter by actor"
        />
      </Flex>
      <Card styles={{ body: { padding: 0 } }}>
        <Table
          rowKey="id"
          size="middle"
          columns={columns}
          dataSource={audit.data?.items}
          loading={audit.isPending || audit.isFetching}
          pagination={false}
          scroll={{ x: 900 }}
          locale={{
            emptyText: (
              <EmptyState
                description={filters.action || filters.actor ? 'No events match these filters.' : 'Nothing has happened here yet.'}
              />
            ),
          }}
        />
      </Card>
      <Pager
        page={pages.page}
        hasPrevious={pages.hasPrevious}
        nextCursor={audit.data?.next_cursor}
        onPrevious={pages.previous}
        onNext={() => pages.next(audit.data?.next_cursor)}
      />
    </>
  )
}
