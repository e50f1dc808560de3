import { ArrowLeftOutlined, BranchesOutlined, DeleteOutlined, DiffOutlined, EditOutlined, RocketOutlined, UndoOutlined } from '@ant-design/icons'
import { App, Button, Card, Flex, Form, Input, Modal, Popconfirm, Segmented, Select, Table, Tag, Tooltip, Typography } from 'antd'
import type { SorterResult } from 'antd/es/table/interface'
import type { ColumnsType, ColumnType } from 'antd/es/table'
import { useMemo, useState } from 'react'
import { Link, useNavigate, useParams, useSearchParams } from 'react-router'
import { ApiError, errorMessage } from '../api/client'
import { useCursorPages } from '../common/cursor-pages'
import { applyFieldErrors } from '../common/form-errors'
import { ErrorState, InlineError, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { ColumnChooser } from './column-chooser'
import { defaultColumns, useChosenColumns } from './columns'
import { FilterBox } from './filter-box'
import { type ColumnRef, duration, metricText, orderBy, parseOrder } from './format'
import { links, useEditor } from './links'
import { RunStatusTag, WhenMs } from './parts'
import { type RunQuery, useColumns, useDeleteRuns, useExperiment, useRestoreRun, useRunSearch, useUpdateExperiment } from './queries'
import type { ExperimentRead, ExperimentUpdate, RunRow, View } from './types'

const PAGE_SIZES = [25, 50, 100, 200]
const MAX_COMPARE = 50

type RunColumn = ColumnType<RunRow> & { ref?: ColumnRef }

function EditModal({ slug, experiment, open, onClose }: { slug: string; experiment: ExperimentRead; open: boolean; onClose: () => void }) {
  const [form] = Form.useForm<ExperimentUpdate>()
  const update = useUpdateExperiment(slug, experiment.id)
  const close = () => {
    update.reset()
    onClose()
  }
  return (
    <Modal title="Edit experiment" open={open} onCancel={close} okText="Save" onOk={() => form.submit()} confirmLoading={update.isPending} destroyOnHidden>
      <InlineError error={update.error} />
      <Form
        form={form}
        layout="vertical"
        initialValues={{ name: experiment.name, description: experiment.description }}
        onFinish={(v) => update.mutate({ name: v.name ?? undefined, description: v.description ?? '', tags: {} }, { onSuccess: close, onError: (err) => applyFieldErrors(form, err) })}
      >
        <Form.Item name="name" label="Name" rules={[{ required: true, whitespace: true, message: 'Name the experiment.' }]}>
          <Input maxLength={500} aria-label="Name" />
        </Form.Item>
        <Form.Item name="description" label="Description">
          <Input.TextArea rows={4} maxLength={20000} aria-label="Description" />
        </Form.Item>
      </Form>
    </Modal>
  )
}

function valueCell(v: string | undefined) {
  if (v === undefined) return <Typography.Text type="secondary">—</Typography.Text>
  return (
    <Typography.Text ellipsis={{ tooltip: v }} style={{ maxWidth: 180 }}>
      {v}
    </Typography.Text>
  )
}

/** One experiment's runs: filtered with MLflow's grammar, sorted and paged by the server, columns chosen. */
export default function ExperimentPage() {
  const slug = useWorkspaceSlug()!
  const { experiment: expId = '' } = useParams()
  const editor = useEditor(slug)
  const navigate = useNavigate()
  const { message } = App.useApp()
  const [params, setParams] = useSearchParams()
  const filter = params.get('filter') ?? ''
  const order = params.get('order') ?? ''
  const view = (params.get('view') as View | null) ?? 'active'
  const [limit, setLimit] = useState(50)
  const [selected, setSelected] = useState<string[]>([])
  const [editing, setEditing] = useState(false)
  const pages = useCursorPages()

  const experiment = useExperiment(slug, expId)
  const id = experiment.data?.id
  const columns = useColumns(slug, expId)
  const [chosen, setChosen] = useChosenColumns(slug, expId)
  const shown = chosen ?? defaultColumns(columns.data)

  const query: RunQuery = useMemo(
    () => ({ experiment_ids: [id ?? expId], filter, order_by: order ? [order] : [], view, params: shown.params, metrics: shown.metrics, tags: shown.tags }),
    [id, expId, filter, order, view, shown.params, shown.metrics, shown.tags],
  )
  const ready = !!id && (!!chosen || !columns.isPending)
  const first = useRunSearch(slug, query, limit, undefined, ready)
  const later = useRunSearch(slug, query, limit, pages.cursor, ready && !!pages.cursor)
  const current = pages.cursor ? later : first
  const total = first.data?.total ?? null
  const remove = useDeleteRuns(slug)
  const restore = useRestoreRun(slug)

  const setParam = (key: string, value: string) => {
    pages.reset()
    setParams(
      (p) => {
        const next = new URLSearchParams(p)
        if (value) next.set(key, value)
        else next.delete(key)
        return next
      },
      { replace: true },
    )
  }

  const searchError = current.error instanceof ApiError && current.error.status < 500 ? current.error : null
  const filterError = searchError ? errorMessage(searchError) : null
  const sort = parseOrder(order)
  const sortOrder = (ref: ColumnRef): 'ascend' | 'descend' | null => {
    if (!sort) return ref.entity === 'attributes' && ref.key === 'start_time' && !order ? 'descend' : null
    return sort.ref.entity === ref.entity && sort.ref.key === ref.key ? (sort.descending ? 'descend' : 'ascend') : null
  }
  const sortable = (ref: ColumnRef): Partial<RunColumn> => ({ ref, sorter: true, sortOrder: sortOrder(ref), sortDirections: ['descend', 'ascend', 'descend'] })

  const tableColumns: ColumnsType<RunRow> = [
    {
      title: 'Run',
      key: 'attributes:run_name',
      fixed: 'left',
      width: 220,
      ...sortable({ entity: 'attributes', key: 'run_name' }),
      render: (_: unknown, r: RunRow) => (
        <Flex align="center" gap={6} style={{ minWidth: 0 }}>
          {r.parent_run_id && (
            <Tooltip title="A child run (a tuning trial, a fold…)">
              <BranchesOutlined style={{ color: '#8c8c8c' }} />
            </Tooltip>
          )}
          <Link to={links.run(slug, r.id)} data-testid="run-link" style={{ minWidth: 0 }}>
            <Typography.Text strong ellipsis={{ tooltip: r.name }} style={{ color: 'inherit', maxWidth: 190 }}>
              {r.name}
            </Typography.Text>
          </Link>
        </Flex>
      ),
    },
    { title: 'Status', key: 'attributes:status', width: 110, ...sortable({ entity: 'attributes', key: 'status' }), render: (_: unknown, r: RunRow) => <RunStatusTag status={r.status} /> },
    { title: 'Started', key: 'attributes:start_time', width: 140, ...sortable({ entity: 'attributes', key: 'start_time' }), render: (_: unknown, r: RunRow) => <WhenMs ms={r.start_time} /> },
    { title: 'Duration', key: 'duration', width: 100, align: 'right', render: (_: unknown, r: RunRow) => duration(r.duration_ms ?? (r.status === 'RUNNING' && r.start_time ? Date.now() - r.start_time : null)) },
    ...(shown.metrics.length
      ? [
          {
            title: 'Metrics',
            key: 'metrics',
            children: shown.metrics.map(
              (k): RunColumn => ({
                title: <span title={k}>{k}</span>,
                key: `metrics:${k}`,
                align: 'right',
                width: Math.min(180, Math.max(96, k.length * 8 + 40)),
                ...sortable({ entity: 'metrics', key: k }),
                render: (_: unknown, r: RunRow) => (r.metrics && k in r.metrics ? metricText(r.metrics[k]) : <Typography.Text type="secondary">—</Typography.Text>),
              }),
            ),
          },
        ]
      : []),
    ...(shown.params.length
      ? [
          {
            title: 'Params',
            key: 'params',
            children: shown.params.map(
              (k): RunColumn => ({
                title: <span title={k}>{k}</span>,
                key: `params:${k}`,
                width: Math.min(200, Math.max(96, k.length * 8 + 40)),
                ...sortable({ entity: 'params', key: k }),
                render: (_: unknown, r: RunRow) => valueCell(r.params?.[k]),
              }),
            ),
          },
        ]
      : []),
    ...(shown.tags.length
      ? [
          {
            title: 'Tags',
            key: 'tags',
            children: shown.tags.map(
              (k): RunColumn => ({
                title: <span title={k}>{k}</span>,
                key: `tags:${k}`,
                width: Math.min(220, Math.max(96, k.length * 8 + 40)),
                ...sortable({ entity: 'tags', key: k }),
                render: (_: unknown, r: RunRow) => valueCell(r.tags?.[k]),
              }),
            ),
          },
        ]
      : []),
    ...(view !== 'active' && editor
      ? [
          {
            key: 'restore',
            width: 60,
            render: (_: unknown, r: RunRow) =>
              r.lifecycle_stage === 'deleted' && (
                <Button
                  type="text"
                  size="small"
                  icon={<UndoOutlined />}
                  aria-label={`Restore ${r.name}`}
                  onClick={() => restore.mutateAsync(r.id).then(() => void message.success(`${r.name} restored.`), (err: unknown) => void message.error(errorMessage(err)))}
                />
              ),
          },
        ]
      : []),
  ]

  const onTableChange = (_p: unknown, _f: unknown, sorter: SorterResult<RunRow> | SorterResult<RunRow>[]) => {
    const s = Array.isArray(sorter) ? sorter[0] : sorter
    const ref = (s?.column as RunColumn | undefined)?.ref
    if (!s?.order || !ref) setParam('order', '')
    else setParam('order', orderBy(ref, s.order === 'descend'))
  }

  if (experiment.isError) return <ErrorState error={experiment.error} onRetry={() => void experiment.refetch()} />
  if (!experiment.data) return <LoadingState />
  const exp = experiment.data
  const page = current.data
  const from = (pages.page - 1) * limit + 1
  const rows = page?.items ?? []

  return (
    <>
      <Link to={links.home(slug)} style={{ display: 'inline-block', marginBottom: 8 }}>
        <ArrowLeftOutlined /> Experiments
      </Link>
      <PageHeader
        title={
          <>
            {exp.name}{' '}
            {exp.lifecycle_stage === 'deleted' && (
              <Tag color="red" style={{ verticalAlign: 'middle' }}>
                deleted
              </Tag>
            )}
          </>
        }
        subtitle={
          <>
            {exp.description || `Experiment #${exp.id}`} · {exp.run_count.toLocaleString('en-US')} active run{exp.run_count === 1 ? '' : 's'}
          </>
        }
        extra={
          editor && (
            <>
              <Button icon={<EditOutlined />} onClick={() => setEditing(true)}>
                Edit
              </Button>
              <Link to={`${links.train(slug)}?experiment=${encodeURIComponent(exp.name)}`}>
                <Button type="primary" icon={<RocketOutlined />}>
                  Train a model
                </Button>
              </Link>
            </>
          )
        }
      />
      <Card styles={{ body: { padding: 0 } }}>
        <Flex gap={12} align="flex-start" wrap style={{ padding: 16 }}>
          <FilterBox value={filter} onApply={(f) => setParam('filter', f)} columns={columns.data} error={filterError} />
          <Segmented<View>
            value={view}
            onChange={(v) => setParam('view', v === 'active' ? '' : v)}
            options={[
              { value: 'active', label: 'Active' },
              { value: 'deleted', label: 'Deleted' },
            ]}
          />
          <ColumnChooser columns={columns.data} value={shown} onChange={setChosen} />
        </Flex>
        <Flex gap={8} align="center" style={{ padding: '0 16px 12px', minHeight: 32 }} wrap>
          <Typography.Text type="secondary" data-testid="run-count">
            {total === null ? (current.isPending ? 'Searching…' : '') : total === 0 ? 'No runs' : `${rows.length ? `${from.toLocaleString('en-US')}–${(from + rows.length - 1).toLocaleString('en-US')} of ` : ''}${total.toLocaleString('en-US')} run${total === 1 ? '' : 's'}`}
          </Typography.Text>
          {selected.length > 0 && (
            <>
              <Typography.Text type="secondary">· {selected.length} selected</Typography.Text>
              <Button size="small" type="link" onClick={() => setSelected([])}>
                Clear
              </Button>
            </>
          )}
          <Flex gap={8} style={{ marginLeft: 'auto' }}>
            <Tooltip title={selected.length < 2 ? 'Select two runs or more to compare them.' : selected.length > MAX_COMPARE ? `At most ${MAX_COMPARE} runs at once.` : undefined}>
              <Button
                icon={<DiffOutlined />}
                type={selected.length >= 2 ? 'primary' : 'default'}
                disabled={selected.length < 2 || selected.length > MAX_COMPARE}
                onClick={() => navigate(links.compare(slug, selected))}
                data-testid="compare-button"
              >
                Compare{selected.length >= 2 ? ` ${selected.length} runs` : ''}
              </Button>
            </Tooltip>
            {editor && view === 'active' && (
              <Popconfirm
                title={`Delete ${selected.length} run${selected.length === 1 ? '' : 's'}?`}
                description="They move to the deleted view; their metrics and artifacts stay."
                okText="Delete"
                okButtonProps={{ danger: true }}
                disabled={!selected.length}
                onConfirm={() =>
                  remove.mutateAsync(selected).then(
                    () => {
                      void message.success('Deleted.')
                      setSelected([])
                    },
                    (err: unknown) => void message.error(errorMessage(err)),
                  )
                }
              >
                <Button danger icon={<DeleteOutlined />} disabled={!selected.length} aria-label="Delete selected runs" />
              </Popconfirm>
            )}
          </Flex>
        </Flex>
        {current.isError && !searchError ? (
          <ErrorState error={current.error} onRetry={() => void current.refetch()} />
        ) : (
          <Table<RunRow>
            rowKey="id"
            size="small"
            columns={tableColumns}
            dataSource={searchError ? [] : rows}
            loading={!ready || current.isPending || (current.isFetching && current.isPlaceholderData)}
            pagination={false}
            bordered
            scroll={{ x: 'max-content' }}
            onChange={onTableChange}
            showSorterTooltip={false}
            rowSelection={{
              selectedRowKeys: selected,
              preserveSelectedRowKeys: true,
              onChange: (keys) => setSelected(keys as string[]),
              columnWidth: 40,
              fixed: true,
            }}
            locale={{ emptyText: searchError ? 'Fix the filter to see runs.' : filter ? 'No run matches the filter.' : view === 'deleted' ? 'No deleted runs.' : 'No runs yet.' }}
            data-testid="runs-table"
          />
        )}
        <Flex justify="flex-end" align="center" gap={8} style={{ padding: '12px 16px' }}>
          <Select
            size="small"
            value={limit}
            onChange={(n) => {
              pages.reset()
              setLimit(n)
            }}
            options={PAGE_SIZES.map((n) => ({ value: n, label: `${n} / page` }))}
            style={{ width: 110 }}
            aria-label="Runs per page"
          />
          <Typography.Text type="secondary">Page {pages.page}</Typography.Text>
          <Button size="small" disabled={!pages.hasPrevious} onClick={pages.previous} data-testid="previous-page">
            Previous
          </Button>
          <Button size="small" disabled={!page?.next_cursor} onClick={() => pages.next(page?.next_cursor)} data-testid="next-page">
            Next
          </Button>
        </Flex>
      </Card>
      <EditModal slug={slug} experiment={exp} open={editing} onClose={() => setEditing(false)} />
    </>
  )
}
