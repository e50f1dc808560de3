import { ApartmentOutlined, ClusterOutlined, PlusOutlined } from '@ant-design/icons'
import { Button, Card, Flex, Input, Select, Table, Tag, Typography } from 'antd'
import { useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { canEdit, type JobRead, type JobState } from '../api/types'
import { useMe } from '../auth/queries'
import { useCursorPages } from '../common/cursor-pages'
import { EmptyState, ErrorState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useWorkspace } from '../workspaces/queries'
import { duration, resources } from './format'
import { type JobFilters, useJobKinds, useJobs } from './queries'
import { JobProgress, StateTag, WaitReason } from './state-tag'
import { JOB_STATES, STATE_LOOK } from './states'
import { SubmitJobDrawer } from './submit-job-drawer'

/** Every job of the workspace, newest first, with live state and progress. */
export default function JobsPage() {
  const slug = useWorkspaceSlug()!
  const me = useMe()
  const ws = useWorkspace(slug)
  const kinds = useJobKinds()
  const navigate = useNavigate()
  const [filters, setFilters] = useState<JobFilters>({})
  const [submitting, setSubmitting] = useState(false)
  const pages = useCursorPages()
  const jobs = useJobs(slug, filters, pages.cursor)
  const editor = canEdit(ws.data?.role, !!me.data?.user.is_admin)

  const filter = (next: Partial<JobFilters>) => {
    pages.reset()
    setFilters((f) => ({ ...f, ...next }))
  }

  const columns = [
    {
      title: 'Job',
      key: 'name',
      render: (_: unknown, j: JobRead) => (
        <Flex vertical gap={2}>
          <Link to={`/w/${slug}/jobs/${j.id}`} data-testid="job-link">
            <Typography.Text strong style={{ color: 'inherit' }}>
              {j.name}
            </Typography.Text>
          </Link>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            <Typography.Text code style={{ fontSize: 11 }}>
              {j.id}
            </Typography.Text>
            {j.dag_id && (
              <Link to={`/w/${slug}/jobs/dags/${j.dag_id}`} style={{ marginLeft: 6 }}>
                <ApartmentOutlined /> DAG
              </Link>
            )}
          </Typography.Text>
        </Flex>
      ),
    },
    { title: 'Kind', dataIndex: 'kind', key: 'kind', width: 100, render: (k: string) => <Tag>{k}</Tag> },
    {
      title: 'State',
      key: 'state',
      width: 160,
      render: (_: unknown, j: JobRead) => (
        <span data-testid={`state-${j.id}`}>
          <StateTag state={j.state} />
          {(j.state === 'queued' || j.state === 'pending' || j.state === 'retrying') && <WaitReason reason={j.wait_reason} />}
        </span>
      ),
    },
    { title: 'Progress', key: 'progress', width: 170, render: (_: unknown, j: JobRead) => <JobProgress job={j} /> },
    {
      title: 'Resources',
      key: 'resources',
      width: 170,
      render: (_: unknown, j: JobRead) => <Typography.Text type="secondary">{resources(j)}</Typography.Text>,
    },
    { title: 'Submitted', key: 'created', width: 150, render: (_: unknown, j: JobRead) => <When at={j.created_at} /> },
    { title: 'Duration', key: 'duration', width: 100, render: (_: unknown, j: JobRead) => duration(j.started_at, j.finished_at) },
  ]

  const filtered = !!(filters.state?.length || filters.kind || filters.q)

  return (
    <>
      <PageHeader
        title="Jobs"
        subtitle="Every batch job of the workspace: queued, running and finished, with logs and resources."
        extra={
          <>
            <Link to={`/w/${slug}/workers`}>
              <Button icon={<ClusterOutlined />}>Workers</Button>
            </Link>
            {editor && (
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setSubmitting(true)}>
                Submit job
              </Button>
            )}
          </>
        }
      />
      <Flex gap={12} wrap style={{ marginBottom: 16 }}>
        <Input.Search
          placeholder="Search name or id"
          allowClear
          onSearch={(v) => filter({ q: v.trim() || undefined })}
          style={{ width: 260 }}
          aria-label="Search jobs"
        />
        <Select<JobState[]>
          mode="multiple"
          allowClear
          placeholder="Any state"
          aria-label="Filter by state"
          data-testid="state-filter"
          style={{ minWidth: 220 }}
          maxTagCount="responsive"
          value={filters.state ?? []}
          onChange={(state) => filter({ state: state.length ? state : undefined })}
          options={JOB_STATES.map((s) => ({ value: s, label: STATE_LOOK[s].label }))}
        />
        <Select<string>
          allowClear
          placeholder="Any kind"
          aria-label="Filter by kind"
          style={{ width: 160 }}
          value={filters.kind}
          onChange={(kind) => filter({ kind: kind || undefined })}
          options={(kinds.data ?? []).map((k) => ({ value: k.name, label: k.name }))}
        />
      </Flex>
      {jobs.isError && jobs.data === undefined ? (
        <ErrorState error={jobs.error} onRetry={() => void jobs.refetch()} />
      ) : (
        <Card styles={{ body: { padding: 0 } }}>
          <Table
            rowKey="id"
            size="middle"
            columns={columns}
            dataSource={jobs.data?.items}
            loading={jobs.isPending}
            pagination={false}
            scroll={{ x: 980 }}
            data-testid="jobs-table"
            locale={{
              emptyText: (
                <EmptyState description={filtered ? 'No jobs match these filters.' : 'No jobs have run in this workspace yet.'}>
                  {editor && !filtered && (
                    <Button type="primary" icon={<PlusOutlined />} onClick={() => setSubmitting(true)}>
                      Submit a job
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
        nextCursor={jobs.data?.next_cursor}
        onPrevious={pages.previous}
        onNext={() => pages.next(jobs.data?.next_cursor)}
      />
      {editor && (
        <SubmitJobDrawer
          slug={slug}
          open={submitting}
          onClose={() => setSubmitting(false)}
          onSubmitted={(job) => {
            setSubmitting(false)
            navigate(`/w/${slug}/jobs/${job.id}`)
          }}
        />
      )}
    </>
  )
}
