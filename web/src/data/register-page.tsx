import { ArrowLeftOutlined, FolderOpenOutlined, SearchOutlined, UploadOutlined } from '@ant-design/icons'
import {
  Alert,
  App,
  Button,
  Card,
  Collapse,
  DatePicker,
  Descriptions,
  Flex,
  Form,
  Input,
  Progress,
  Radio,
  Result,
  Select,
  Steps,
  Table,
  Typography,
  Upload,
} from 'antd'
import dayjs from 'dayjs'
import { useCallback, useMemo, useState } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { ApiError } from '../api/client'
import type { JobDetail } from '../api/types'
import { EmptyState, ErrorState, InlineError, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { BrowseDrawer } from './browse-drawer'
import { bytes, count, formatLabel, isMedia } from './format'
import { JobFollow } from './job-follow'
import { dataPath, datasetPath } from './links'
import { PartitionsTable } from './partitions-table'
import { useConnections, useConnectors, usePreview, useRegisterDataset } from './queries'
import { SampleGrid } from './sample-grid'
import { SchemaTable } from './schema-table'
import type { ConnectionRead, Inspection, MediaRead } from './types'
import { uploadFile } from './uploads'
import {
  connectionName,
  csvApplies,
  DELIMITERS,
  FILE_FORMATS,
  NAME_PATTERN,
  partitionFilter,
  type PartitionMode,
  partitionProblem,
  SOURCE_DEFAULTS,
  type SourceValues,
  sourceSpec,
  suggestExpression,
  suggestName,
  today,
  UPLOADS,
} from './wizard'

const STEPS = [
  { title: 'Source', description: 'Where the data is' },
  { title: 'Preview', description: 'A sample of it' },
  { title: 'Schema', description: 'Columns and types' },
  { title: 'Partitions', description: 'Which parts to read' },
  { title: 'Save', description: 'Name and register' },
]

interface SaveValues {
  name: string
  description?: string
  tags?: string[]
}

/** Put the API's messages for `source.*` fields on the source form. */
function sourceFieldErrors(error: unknown): { name: string; errors: string[] }[] {
  if (!(error instanceof ApiError)) return []
  const map: Record<string, string> = { path: 'path', table: 'table', query: 'query', format: 'format', connection: 'connection' }
  return error.fieldErrors
    .map((e) => ({ field: map[e.loc[e.loc.length - 1]], msg: e.msg }))
    .filter((f) => f.field)
    .map((f) => ({ name: f.field, errors: [f.msg] }))
}

function Summary({ inspection }: { inspection: Inspection }) {
  const partitions = inspection.partitions?.partitions ?? []
  return (
    <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }} bordered style={{ marginBottom: 16 }} data-testid="preview-summary">
      <Descriptions.Item label="Format">{formatLabel(inspection.format)}</Descriptions.Item>
      <Descriptions.Item label="Files">{count(inspection.files)}</Descriptions.Item>
      <Descriptions.Item label="Size">{bytes(inspection.bytes)}</Descriptions.Item>
      <Descriptions.Item label="Rows">
        {isMedia(inspection.format)
          ? `${count(inspection.media_total ?? inspection.media?.length)} items`
          : inspection.row_count === null || inspection.row_count === undefined
            ? 'counted when read'
            : count(inspection.row_count)}
      </Descriptions.Item>
      <Descriptions.Item label="Columns">{inspection.schema.length}</Descriptions.Item>
      <Descriptions.Item label="Partitions">
        {inspection.partitions?.style && inspection.partitions.style !== 'none'
          ? `${partitions.length}${inspection.partitions.truncated ? '+' : ''} (${inspection.partitions.style})`
          : 'none'}
      </Descriptions.Item>
    </Descriptions>
  )
}

function Warnings({ inspection }: { inspection: Inspection }) {
  const warnings = [...(inspection.warnings ?? [])]
  if (inspection.sample_truncated) warnings.push('The sample was cut short by its size limit: wide or long rows.')
  if (!warnings.length) return null
  return (
    <Alert
      type="warning"
      showIcon
      style={{ marginBottom: 16 }}
      title={warnings.length === 1 ? warnings[0] : 'Things to know about this source'}
      description={warnings.length > 1 ? <ul style={{ margin: 0, paddingLeft: 18 }}>{warnings.map((w) => <li key={w}>{w}</li>)}</ul> : undefined}
    />
  )
}

function MediaList({ items }: { items: MediaRead[] | Inspection['media'] }) {
  const rows = (items ?? []).slice(0, 200)
  return (
    <Table
      rowKey="path"
      size="small"
      dataSource={rows}
      pagination={{ pageSize: 20, showSizeChanger: false, size: 'small' }}
      columns={[
        { title: 'File', dataIndex: 'path', key: 'path', ellipsis: true },
        { title: 'Label', dataIndex: 'label', key: 'label', width: 140 },
        {
          title: 'Size',
          key: 'dims',
          width: 150,
          render: (_: unknown, m: { width?: number | null; height?: number | null; duration_s?: number | null }) =>
            [m.width && m.height ? `${m.width}×${m.height}` : null, m.duration_s ? `${m.duration_s.toFixed(1)} s` : null].filter(Boolean).join(' · ') || '—',
        },
        { title: 'Bytes', dataIndex: 'size', key: 'size', width: 100, render: (n: number) => bytes(n) },
      ]}
      data-testid="media-list"
    />
  )
}

/** Register a dataset in five steps: source, preview, schema, partitions, then save as a job. */
export default function RegisterPage() {
  const slug = useWorkspaceSlug()!
  const [params] = useSearchParams()
  const navigate = useNavigate()
  const { message } = App.useApp()
  const connections = useConnections(slug)
  const connectors = useConnectors()
  const preview = usePreview(slug)
  const check = usePreview(slug)
  const register = useRegisterDataset(slug)
  const [sourceForm] = Form.useForm<SourceValues>()
  const [saveForm] = Form.useForm<SaveValues>()
  const [step, setStep] = useState(0)
  const [source, setSource] = useState<SourceValues | null>(null)
  const [inspection, setInspection] = useState<Inspection | null>(null)
  const [partMode, setPartMode] = useState<PartitionMode>('all')
  const [pinned, setPinned] = useState<string[]>([])
  const [expression, setExpression] = useState('')
  const [ds, setDs] = useState(today())
  const [browsing, setBrowsing] = useState(false)
  const [job, setJob] = useState<{ id: string; dataset: string } | null>(null)

  const initialSource = useMemo<SourceValues>(() => {
    const table = params.get('table')
    return {
      ...SOURCE_DEFAULTS,
      connection: params.get('connection') ?? undefined,
      mode: table ? 'table' : 'path',
      path: params.get('path') ?? undefined,
      table: table ?? undefined,
    }
  }, [params])

  const connectionValue = Form.useWatch('connection', sourceForm) ?? initialSource.connection
  const mode = Form.useWatch('mode', sourceForm) ?? initialSource.mode
  const format = Form.useWatch('format', sourceForm) ?? initialSource.format
  const chosen: ConnectionRead | undefined = connections.data?.items.find((c) => c.name === connectionValue)
  const capabilities = connectors.data?.find((k) => k.name === chosen?.kind)?.capabilities ?? ['files']
  const tables = capabilities.includes('tables')

  const [uploading, setUploading] = useState<number | null>(null)
  const [uploadError, setUploadError] = useState<unknown>(null)
  const sendFile = async (file: File) => {
    setUploadError(null)
    setUploading(0)
    try {
      const key = await uploadFile(slug, file, setUploading)
      sourceForm.setFieldsValue({ path: key })
      message.success(`${file.name} uploaded.`)
    } catch (err) {
      setUploadError(err)
    } finally {
      setUploading(null)
    }
  }

  const runPreview = async () => {
    let values: SourceValues
    try {
      values = { ...SOURCE_DEFAULTS, ...(await sourceForm.validateFields()) }
    } catch {
      return
    }
    if (!tables && values.mode !== 'path') values = { ...values, mode: 'path' }
    preview.mutate(
      { connection: connectionName(values), source: sourceSpec(values), variables: {}, allow_empty: false },
      {
        onSuccess: (result) => {
          setSource(values)
          setInspection(result)
          setPartMode('all')
          setPinned([])
          setExpression(suggestExpression(result.partitions?.keys ?? []))
          check.reset()
          if (!saveForm.getFieldValue('name')) saveForm.setFieldsValue({ name: suggestName(values) })
          setStep(1)
        },
        onError: (err) => {
          const fields = sourceFieldErrors(err)
          if (fields.length) sourceForm.setFields(fields as never)
        },
      },
    )
  }

  const chosenFilter = partitionFilter(partMode, pinned, expression)
  const problem = inspection?.partitions?.style !== 'none' ? partitionProblem(partMode, pinned, expression) : null

  const runCheck = () => {
    if (!source) return
    check.mutate({ connection: connectionName(source), source: sourceSpec(source, chosenFilter), variables: { ds }, allow_empty: false })
  }

  const submit = async () => {
    if (!source) return
    let values: SaveValues
    try {
      values = await saveForm.validateFields()
    } catch {
      return
    }
    register.mutate(
      {
        name: values.name.trim(),
        description: values.description?.trim() ?? '',
        tags: values.tags ?? [],
        connection: connectionName(source),
        source: sourceSpec(source, chosenFilter),
        allow_empty: false,
      },
      {
        onSuccess: (r) => setJob({ id: r.job.id, dataset: r.dataset }),
        onError: (err) => {
          if (err instanceof ApiError) {
            const nameError = err.fieldMessage('name')
            if (nameError) saveForm.setFields([{ name: 'name', errors: [nameError] }])
          }
        },
      },
    )
  }

  const finished = useCallback(
    (done: JobDetail) => {
      if (done.state === 'succeeded' && job) {
        message.success(`Dataset ${job.dataset} registered.`)
        navigate(datasetPath(slug, job.dataset))
      }
    },
    [job, message, navigate, slug],
  )

  if (connections.isPending) return <LoadingState />
  if (connections.isError) return <ErrorState error={connections.error} onRetry={() => void connections.refetch()} />

  const media = inspection ? isMedia(inspection.format) : false
  const partitions = inspection?.partitions?.partitions ?? []
  const partitioned = !!inspection?.partitions && inspection.partitions.style !== 'none' && partitions.length > 0

  const footer = (next?: { label: string; onClick: () => void; disabled?: boolean; loading?: boolean; testId?: string }) => (
    <Flex justify="space-between" style={{ marginTop: 24 }}>
      {step > 0 && !job ? <Button onClick={() => setStep(step - 1)}>Back</Button> : <span />}
      {next && (
        <Button type="primary" onClick={next.onClick} disabled={next.disabled} loading={next.loading} data-testid={next.testId ?? 'wizard-next'}>
          {next.label}
        </Button>
      )}
    </Flex>
  )

  return (
    <>
      <div style={{ marginBottom: 8 }}>
        <Link to={dataPath(slug)}>
          <ArrowLeftOutlined /> Datasets
        </Link>
      </div>
      <PageHeader title="Register a dataset" subtitle="Dais checks the source, keeps a small sample and its schema, and lists its partitions." />
      <Steps current={step} items={STEPS} style={{ marginBottom: 24 }} size="small" data-testid="wizard-steps" />

      <Card style={{ display: step === 0 ? undefined : 'none' }} data-testid="step-source">
        <Form form={sourceForm} layout="vertical" initialValues={initialSource} requiredMark="optional" style={{ maxWidth: 720 }}>
          <InlineError error={preview.error} />
          <Form.Item name="connection" label="Connection" rules={[{ required: true, message: 'Choose where the data is.' }]}>
            <Select
              data-testid="wizard-connection"
              placeholder="Choose a connection"
              optionLabelProp="title"
              onChange={() => preview.reset()}
              options={[
                ...(connections.data?.items ?? []).map((c) => ({
                  value: c.name,
                  title: c.name,
                  label: (
                    <span>
                      <Typography.Text strong>{c.name}</Typography.Text>
                      <Typography.Text type="secondary"> · {c.kind}</Typography.Text>
                    </span>
                  ),
                })),
                { value: UPLOADS, title: 'Workspace uploads', label: <Typography.Text>Workspace uploads (files sent to Dais)</Typography.Text> },
              ]}
              notFoundContent="No connections yet"
            />
          </Form.Item>
          {connections.data?.items.length === 0 && (
            <Alert
              type="info"
              showIcon
              style={{ marginBottom: 16 }}
              title="No connections yet"
              description={
                <span>
                  Create one on the <Link to={`/w/${slug}/data/connections`}>connections page</Link>, or register a file sent to the workspace's uploads.
                </span>
              }
            />
          )}
          {tables && (
            <Form.Item name="mode" label="Read">
              <Radio.Group
                optionType="button"
                options={[
                  { value: 'table', label: 'A table' },
                  { value: 'query', label: 'A query' },
                ]}
              />
            </Form.Item>
          )}
          {tables && mode === 'table' && (
            <Form.Item
              name="table"
              label="Table"
              rules={[{ required: true, message: 'Enter a table name.' }]}
              extra="schema.table, or just the table in the connection's default schema."
            >
              <Input placeholder="public.events" />
            </Form.Item>
          )}
          {tables && mode === 'table' && (
            <Button icon={<FolderOpenOutlined />} onClick={() => setBrowsing(true)} style={{ marginTop: -8, marginBottom: 16 }}>
              Browse tables
            </Button>
          )}
          {tables && mode === 'query' && (
            <Form.Item name="query" label="Query" rules={[{ required: true, message: 'Enter a query.' }]} extra="A read-only SELECT; it runs each time the dataset is read.">
              <Input.TextArea autoSize={{ minRows: 4, maxRows: 14 }} style={{ fontFamily: 'monospace' }} placeholder="SELECT * FROM events WHERE kind = 'click'" />
            </Form.Item>
          )}
          {!tables && (
            <>
              <Form.Item
                label="Path"
                required
                extra={
                  <>
                    Relative to the connection's root. A file, a folder (partitioned or of images), or a glob such as{' '}
                    <Typography.Text code>logs/*.csv</Typography.Text> or <Typography.Text code>**/*.parquet</Typography.Text>.
                  </>
                }
              >
                <Flex gap={8}>
                  <Form.Item name="path" noStyle rules={[{ required: true, whitespace: true, message: 'Enter a path.' }]}>
                    <Input placeholder="sales/2024/*.parquet" data-testid="wizard-path" aria-label="Path" />
                  </Form.Item>
                  {connectionValue === UPLOADS ? (
                    <Upload
                      showUploadList={false}
                      customRequest={({ file }) => void sendFile(file as File)}
                      disabled={uploading !== null}
                    >
                      <Button icon={<UploadOutlined />} loading={uploading !== null} data-testid="wizard-upload">
                        Upload a file
                      </Button>
                    </Upload>
                  ) : (
                    <Button icon={<FolderOpenOutlined />} onClick={() => setBrowsing(true)} disabled={!chosen}>
                      Browse
                    </Button>
                  )}
                </Flex>
              </Form.Item>
              {uploading !== null && (
                <Progress percent={Math.round(uploading * 1000) / 10} size="small" style={{ marginTop: -16, marginBottom: 16 }} data-testid="upload-progress" />
              )}
              {uploadError !== null && <InlineError error={uploadError} />}
              <Form.Item name="format" label="Format">
                <Select
                  data-testid="wizard-format"
                  style={{ maxWidth: 280 }}
                  options={FILE_FORMATS.map((f) => ({ value: f, label: f === 'auto' ? 'Detect from the files' : formatLabel(f) }))}
                />
              </Form.Item>
              {csvApplies(format) && (
                <Collapse
                  size="small"
                  style={{ marginBottom: 16 }}
                  items={[
                    {
                      key: 'csv',
                      label: 'CSV options (detected when left empty)',
                      forceRender: true,
                      children: (
                        <Flex gap={16} wrap>
                          <Form.Item name="csv_delimiter" label="Delimiter" style={{ width: 160 }}>
                            <Select allowClear placeholder="Detect" options={DELIMITERS} />
                          </Form.Item>
                          <Form.Item name="csv_header" label="Header row" style={{ width: 200 }}>
                            <Radio.Group
                              optionType="button"
                              size="small"
                              options={[
                                { value: 'detect', label: 'Detect' },
                                { value: 'yes', label: 'Yes' },
                                { value: 'no', label: 'No' },
                              ]}
                            />
                          </Form.Item>
                          <Form.Item name="csv_encoding" label="Encoding" style={{ width: 160 }}>
                            <Input placeholder="Detect" maxLength={40} />
                          </Form.Item>
                          <Form.Item name="csv_quote_char" label="Quote" style={{ width: 90 }}>
                            <Input placeholder={'"'} maxLength={1} />
                          </Form.Item>
                        </Flex>
                      ),
                    },
                  ]}
                />
              )}
            </>
          )}
        </Form>
        {footer({ label: 'Preview', onClick: () => void runPreview(), loading: preview.isPending, testId: 'wizard-preview' })}
      </Card>

      {inspection && step === 1 && (
        <Card data-testid="step-preview">
          <Summary inspection={inspection} />
          <Warnings inspection={inspection} />
          {media ? (
            <MediaList items={inspection.media} />
          ) : (
            <SampleGrid rows={inspection.sample} schema={inspection.schema} empty="The source has no rows." />
          )}
          {footer({ label: 'Next: schema', onClick: () => setStep(2) })}
        </Card>
      )}

      {inspection && step === 2 && (
        <Card data-testid="step-schema">
          <Typography.Paragraph type="secondary">
            Found in the source{partitioned ? '; partition columns come from the folder names' : ''}. Types are Arrow's; nullability is what the
            files declare. Statistics are over the sample.
          </Typography.Paragraph>
          <SchemaTable columns={inspection.schema} stats={inspection.stats} />
          {footer({ label: 'Next: partitions', onClick: () => setStep(3) })}
        </Card>
      )}

      {inspection && step === 3 && (
        <Card data-testid="step-partitions">
          {!partitioned ? (
            <EmptyState description="No partitions found: the whole source is read as one dataset." />
          ) : (
            <>
              <Radio.Group
                value={partMode}
                onChange={(e) => {
                  setPartMode(e.target.value as PartitionMode)
                  check.reset()
                }}
                style={{ marginBottom: 16 }}
                options={[
                  { value: 'all', label: `All partitions (${partitions.length}${inspection.partitions?.truncated ? '+' : ''})` },
                  { value: 'pinned', label: 'Pin some partitions' },
                  { value: 'dynamic', label: 'A dynamic partition' },
                ]}
                data-testid="partition-mode"
              />
              {partMode === 'dynamic' && (
                <Card size="small" style={{ marginBottom: 16, background: '#fafafa' }}>
                  <Flex gap={12} wrap align="flex-end">
                    <div style={{ flex: '1 1 280px' }}>
                      <Typography.Text strong>Expression</Typography.Text>
                      <Input
                        value={expression}
                        onChange={(e) => {
                          setExpression(e.target.value)
                          check.reset()
                        }}
                        placeholder="dt=${ds}"
                        style={{ fontFamily: 'monospace', marginTop: 4 }}
                        aria-label="Partition expression"
                        data-testid="partition-expression"
                      />
                    </div>
                    <div>
                      <Typography.Text strong>Try with ds =</Typography.Text>
                      <DatePicker
                        value={dayjs(ds)}
                        onChange={(d) => d && setDs(d.format('YYYY-MM-DD'))}
                        allowClear={false}
                        style={{ display: 'block', marginTop: 4 }}
                      />
                    </div>
                    <Button icon={<SearchOutlined />} onClick={runCheck} loading={check.isPending} disabled={!!problem}>
                      Check
                    </Button>
                  </Flex>
                  <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0', fontSize: 13 }}>
                    Resolved each time the dataset is read, with the logical date a run or schedule passes in.{' '}
                    <Typography.Text code>{'${ds}'}</Typography.Text> is that date (YYYY-MM-DD),{' '}
                    <Typography.Text code>{'${ds-1d}'}</Typography.Text> the day before,{' '}
                    <Typography.Text code>{'${ds|%Y%m%d}'}</Typography.Text> the date as 20240131. Keys here:{' '}
                    {(inspection.partitions?.keys ?? []).map((k) => (
                      <Typography.Text code key={k}>
                        {k}
                      </Typography.Text>
                    ))}
                  </Typography.Paragraph>
                  {check.isError && <div style={{ marginTop: 12 }}><InlineError error={check.error} /></div>}
                  {check.data && (
                    <Alert
                      type="success"
                      showIcon
                      style={{ marginTop: 12 }}
                      data-testid="partition-check"
                      title={`With ds = ${ds}: ${count(check.data.files)} files, ${bytes(check.data.bytes)}`}
                    />
                  )}
                </Card>
              )}
              {problem && partMode !== 'all' && <Alert type="info" showIcon title={problem} style={{ marginBottom: 12 }} />}
              <PartitionsTable
                partitions={partitions}
                selected={partMode === 'pinned' ? pinned : undefined}
                onSelect={partMode === 'pinned' ? setPinned : undefined}
              />
              {inspection.partitions?.truncated && (
                <Typography.Text type="secondary">More partitions exist than are listed here.</Typography.Text>
              )}
            </>
          )}
          {footer({ label: 'Next: save', onClick: () => setStep(4), disabled: partitioned && !!problem })}
        </Card>
      )}

      {inspection && source && step === 4 && (
        <Card data-testid="step-save">
          {job ? (
            <JobFollow slug={slug} jobId={job.id} title={`Registering ${job.dataset}`} onDone={finished} />
          ) : (
            <Form form={saveForm} layout="vertical" requiredMark="optional" style={{ maxWidth: 640 }}>
              <InlineError error={register.error} />
              <Form.Item
                name="name"
                label="Dataset name"
                rules={[
                  { required: true, message: 'Name the dataset.' },
                  { pattern: NAME_PATTERN, message: 'Lower-case letters, digits, and . _ - (starting with a letter or digit).' },
                ]}
              >
                <Input maxLength={63} placeholder="sales" data-testid="dataset-name" />
              </Form.Item>
              <Form.Item name="description" label="Description">
                <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} maxLength={4000} />
              </Form.Item>
              <Form.Item name="tags" label="Tags">
                <Select mode="tags" open={false} suffixIcon={null} tokenSeparators={[',', ' ']} placeholder="Type a tag, then Enter" />
              </Form.Item>
              <Descriptions size="small" column={1} bordered>
                <Descriptions.Item label="Connection">{connectionName(source) ?? 'Workspace uploads'}</Descriptions.Item>
                <Descriptions.Item label="Source">
                  <Typography.Text code>{source.mode === 'path' ? source.path : source.mode === 'table' ? source.table : 'query'}</Typography.Text>
                </Descriptions.Item>
                <Descriptions.Item label="Format">{formatLabel(inspection.format)}</Descriptions.Item>
                <Descriptions.Item label="Partitions">
                  {chosenFilter === null ? (partitioned ? 'All' : '—') : Array.isArray(chosenFilter) ? chosenFilter.join(', ') : <Typography.Text code>{chosenFilter}</Typography.Text>}
                </Descriptions.Item>
              </Descriptions>
            </Form>
          )}
          {job ? (
            register.isSuccess && (
              <Flex gap={8} style={{ marginTop: 16 }}>
                <Button
                  onClick={() => {
                    setJob(null)
                    register.reset()
                    setStep(0)
                  }}
                >
                  Change the source
                </Button>
              </Flex>
            )
          ) : (
            footer({ label: 'Register dataset', onClick: () => void submit(), loading: register.isPending, testId: 'wizard-register' })
          )}
        </Card>
      )}

      {!inspection && step > 0 && <Result status="info" title="Preview the source first." />}
      <BrowseDrawer
        slug={slug}
        connection={browsing && chosen ? chosen : null}
        onClose={() => setBrowsing(false)}
        onPick={(entry) => {
          if (entry.kind === 'table' || entry.kind === 'view') sourceForm.setFieldsValue({ mode: 'table', table: entry.path })
          else sourceForm.setFieldsValue({ path: entry.path })
          setBrowsing(false)
        }}
      />
    </>
  )
}
