import { ArrowLeftOutlined, CheckCircleFilled, ExclamationCircleOutlined, RocketOutlined } from '@ant-design/icons'
import {
  Alert,
  AutoComplete,
  Button,
  Card,
  Col,
  Collapse,
  Descriptions,
  Empty,
  Flex,
  Form,
  Input,
  InputNumber,
  Row,
  Segmented,
  Select,
  Steps,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd'
import type { FormInstance } from 'antd'
import { type ReactNode, useEffect, useMemo, useState } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { ApiError } from '../api/client'
import { EmptyState, ErrorState, InlineError, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { useDataset, useDatasets, useVersions } from '../data/queries'
import { schemaFields, initialValues, type JsonSchema } from '../data/schema-form'
import { SchemaFormFields } from '../data/schema-form-fields'
import type { ColumnSchema } from '../data/types'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { usePipelines, useRuns as usePipelineRuns } from '../pipelines/queries'
import { TASKS, type LaunchValues, type Task, defaultFeatures, formPath, guessTask, isNumericType, isTemporalType, stepOf, studyBody, trainingBody } from './launch'
import { links, useEditor } from './links'
import { useAlgorithms, useCreateStudy, useExperiments, useLaunchTraining } from './queries'
import type { AlgorithmRead } from './types'

const STEPS = [
  { title: 'Dataset', description: 'and version' },
  { title: 'Columns', description: 'target, features' },
  { title: 'Algorithm', description: 'a preset' },
  { title: 'Params', description: 'and validation' },
  { title: 'Run', description: 'resources' },
]

function typeTag(c: ColumnSchema) {
  const numeric = isNumericType(c.type)
  return (
    <Tag color={numeric ? 'blue' : isTemporalType(c.type) ? 'purple' : 'default'} style={{ marginInlineEnd: 0 }}>
      {c.type}
    </Tag>
  )
}

/** The inputs of a preset's params, labelled with the params' own names (as runs list them). */
function paramFieldsOf(algorithm: AlgorithmRead | undefined) {
  return schemaFields(algorithm?.params_schema as JsonSchema | undefined).map((f) => ({ ...f, label: f.name }))
}

// -- step 1: dataset ---------------------------------------------------------------------------

function DatasetStep({ slug, form }: { slug: string; form: FormInstance<LaunchValues> }) {
  const [q, setQ] = useState<string | undefined>()
  const datasets = useDatasets(slug, { q })
  const dataset = Form.useWatch('dataset', form)
  const pipeline = Form.useWatch('pipeline', form)
  const versions = useVersions(slug, dataset ?? '', !!dataset)
  const pipelines = usePipelines(slug, undefined)
  const runs = usePipelineRuns(slug, pipeline ?? '', !!pipeline)
  const succeeded = (runs.data?.items ?? []).filter((r) => r.status === 'succeeded')
  return (
    <>
      <Form.Item name="dataset" label="Dataset" rules={[{ required: true, message: 'Choose the dataset to train on.' }]} extra="Registered in the Data area; training reads its version as it is (or through a pipeline's fitted transforms, below).">
        <Select
          showSearch={{ filterOption: false, onSearch: (v: string) => setQ(v.trim() || undefined) }}
          placeholder="Choose a dataset"
          loading={datasets.isFetching}
          options={(datasets.data?.items ?? []).map((d) => ({
            value: d.name,
            label: (
              <Flex justify="space-between" gap={12}>
                <span>{d.name}</span>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {d.row_count !== null ? `${d.row_count.toLocaleString('en-US')} rows · ` : ''}
                  {d.schema.length} columns · v{d.current_version}
                </Typography.Text>
              </Flex>
            ),
          }))}
          onChange={() => form.setFieldsValue({ version: undefined, target: undefined, features: undefined })}
          notFoundContent={datasets.isFetching ? 'Searching…' : 'No dataset: register one in the Data area first.'}
          aria-label="Dataset"
          data-testid="launch-dataset"
        />
      </Form.Item>
      <Form.Item name="version" label="Version" extra="The current version unless you pick one.">
        <Select
          allowClear
          disabled={!dataset}
          placeholder="Current version"
          options={(versions.data?.items ?? []).map((v) => ({ value: v.number, label: `v${v.number}${v.note ? ` — ${v.note}` : ''}${v.row_count !== null ? ` (${v.row_count.toLocaleString('en-US')} rows)` : ''}` }))}
          onChange={() => form.setFieldsValue({ target: undefined, features: undefined })}
          aria-label="Version"
        />
      </Form.Item>
      <Collapse
        ghost
        size="small"
        items={[
          {
            key: 't',
            label: 'Feature transforms from a pipeline (optional)',
            children: (
              <Row gutter={12}>
                <Col span={12}>
                  <Form.Item name="pipeline" label="Pipeline">
                    <Select allowClear placeholder="None" options={(pipelines.data?.items ?? []).map((p) => ({ value: p.name, label: p.name }))} onChange={() => form.setFieldsValue({ pipeline_run: undefined })} aria-label="Pipeline" />
                  </Form.Item>
                </Col>
                <Col span={12}>
                  <Form.Item name="pipeline_run" label="Succeeded run" extra="Its fitted transforms apply before training and travel with the model.">
                    <Select
                      allowClear
                      disabled={!pipeline}
                      placeholder={pipeline && !succeeded.length && !runs.isPending ? 'No succeeded run' : 'Choose a run'}
                      options={succeeded.map((r) => ({ value: r.id, label: `v${r.version} · ${r.mode} · ${new Date(r.created_at).toLocaleString()}` }))}
                      aria-label="Pipeline run"
                    />
                  </Form.Item>
                </Col>
                <Col span={12}>
                  <Form.Item name="node" label="Node" extra="Whose upstream transforms apply (default: the run's only sink).">
                    <Input placeholder="Default" disabled={!pipeline} />
                  </Form.Item>
                </Col>
              </Row>
            ),
          },
        ]}
      />
    </>
  )
}

// -- step 2: columns ---------------------------------------------------------------------------

function ColumnsStep({ columns, form, transformed, onTarget }: { columns: ColumnSchema[]; form: FormInstance<LaunchValues>; transformed: boolean; onTarget: () => void }) {
  const target = Form.useWatch('target', form)
  const watched = Form.useWatch('features', form)
  const features = watched ?? []
  const candidates = columns.filter((c) => c.name !== target && !c.partition)
  // A dataset just chosen: its numeric columns are the features until the reader says otherwise.
  useEffect(() => {
    if (form.getFieldValue('features') === undefined) form.setFieldsValue({ features: defaultFeatures(columns, form.getFieldValue('target') as string | undefined) })
  }, [columns, form, watched])
  return (
    <>
      <Form.Item name="target" label="Target" extra="The column to predict. Leave it empty for clustering.">
        <Select
          allowClear
          showSearch
          placeholder="No target (clustering)"
          options={columns.map((c) => ({ value: c.name, label: <Flex justify="space-between"><span>{c.name}</span>{typeTag(c)}</Flex> }))}
          onChange={(t: string | undefined) => {
            form.setFieldsValue({ features: defaultFeatures(columns, t), algorithm: undefined })
            onTarget()
          }}
          aria-label="Target"
          data-testid="launch-target"
        />
      </Form.Item>
      <Form.Item
        name="features"
        label={`Features (${features.length} of ${candidates.length})`}
        extra={
          transformed
            ? 'With a pipeline’s transforms, the columns it produces are the features; leave none chosen to use every numeric one.'
            : 'Numbers and booleans train as they are; text and dates need encoding first (a pipeline’s transforms).'
        }
        valuePropName="selected"
      >
        <FeatureTable columns={candidates} transformed={transformed} />
      </Form.Item>
    </>
  )
}

function FeatureTable({ columns, transformed, selected, onChange }: { columns: ColumnSchema[]; transformed: boolean; selected?: string[]; onChange?: (v: string[]) => void }) {
  return (
    <Table<ColumnSchema>
      rowKey="name"
      size="small"
      dataSource={columns}
      pagination={columns.length > 50 ? { pageSize: 50, size: 'small' } : false}
      scroll={{ y: 360 }}
      rowSelection={{
        selectedRowKeys: selected ?? [],
        onChange: (keys) => onChange?.(keys as string[]),
        getCheckboxProps: (c) => ({ disabled: !transformed && !isNumericType(c.type), name: c.name }),
      }}
      columns={[
        { title: 'Column', dataIndex: 'name', key: 'name' },
        { title: 'Type', key: 'type', width: 160, render: (_: unknown, c: ColumnSchema) => typeTag(c) },
        {
          title: '',
          key: 'note',
          width: 200,
          render: (_: unknown, c: ColumnSchema) =>
            !isNumericType(c.type) && !transformed ? (
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                <ExclamationCircleOutlined /> needs encoding
              </Typography.Text>
            ) : null,
        },
      ]}
      data-testid="launch-features"
    />
  )
}

// -- step 3: algorithm -------------------------------------------------------------------------

function AlgorithmCards({ algorithms, value, onChange }: { algorithms: AlgorithmRead[]; value?: string; onChange?: (name: string) => void }) {
  return (
    <Row gutter={[12, 12]} data-testid="launch-algorithms">
      {algorithms.length === 0 && (
        <Col span={24}>
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="No preset for this task." />
        </Col>
      )}
      {algorithms.map((a) => {
        const active = value === a.name
        return (
          <Col key={a.name} xs={24} md={12} xl={8}>
            <Card
              size="small"
              hoverable={!a.error}
              onClick={() => !a.error && onChange?.(a.name)}
              style={{ height: '100%', borderColor: active ? '#1668dc' : undefined, boxShadow: active ? '0 0 0 1px #1668dc' : undefined, opacity: a.error ? 0.6 : 1 }}
              data-testid={`algorithm-${a.name}`}
              data-active={active}
            >
              <Flex justify="space-between" align="flex-start" gap={8}>
                <Typography.Text strong>{a.title}</Typography.Text>
                {active && <CheckCircleFilled style={{ color: '#1668dc' }} />}
              </Flex>
              <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '4px 0 8px' }} ellipsis={{ rows: 3, tooltip: a.description }}>
                {a.description}
              </Typography.Paragraph>
              <Flex gap={4} wrap>
                <Tag>{a.runtime}</Tag>
                {a.iterative && <Tag color="blue">loss curves</Tag>}
                {a.handles_missing && <Tag color="green">missing values ok</Tag>}
                {a.error && <Tag color="red">unavailable</Tag>}
              </Flex>
              {a.error && (
                <Typography.Text type="danger" style={{ fontSize: 12 }}>
                  {a.error}
                </Typography.Text>
              )}
            </Card>
          </Col>
        )
      })}
    </Row>
  )
}

function AlgorithmStep({
  form,
  algorithms,
  task,
  suggested,
  onTask,
}: {
  form: FormInstance<LaunchValues>
  algorithms: AlgorithmRead[]
  task: Task
  suggested: Task
  onTask: (t: Task) => void
}) {
  const shown = algorithms.filter((a) => a.task === task)
  return (
    <>
      <Form.Item label="Task" extra={`Suggested by the target: ${TASKS.find((t) => t.value === suggested)?.label.toLowerCase()}.`}>
        <Segmented<Task>
          options={TASKS.map((t) => ({ ...t, label: `${t.label} (${algorithms.filter((a) => a.task === t.value).length})` }))}
          value={task}
          onChange={(t) => {
            onTask(t)
            form.setFieldsValue({ algorithm: undefined })
          }}
        />
      </Form.Item>
      <Form.Item name="algorithm" rules={[{ required: true, message: 'Choose an algorithm.' }]}>
        <AlgorithmCards
          algorithms={shown}
          onChange={(name) => {
            const a = algorithms.find((x) => x.name === name)
            form.setFieldsValue({ algorithm: name, params: a ? initialValues(schemaFields(a.params_schema as JsonSchema)) : {} })
          }}
        />
      </Form.Item>
    </>
  )
}

// -- step 4: params and validation -------------------------------------------------------------

function SplitFields({ form, columns, task }: { form: FormInstance<LaunchValues>; columns: ColumnSchema[]; task: Task }) {
  const kind = Form.useWatch(['split', 'kind'], form) ?? (task === 'clustering' ? 'none' : 'holdout')
  const timeColumns = columns.filter((c) => isTemporalType(c.type) || isNumericType(c.type))
  return (
    <>
      <Form.Item name={['split', 'kind']} label="Validation" initialValue={task === 'clustering' ? 'none' : 'holdout'}>
        <Segmented
          options={[
            { value: 'holdout', label: 'Holdout' },
            { value: 'kfold', label: 'K-fold' },
            { value: 'time', label: 'Time-based' },
            { value: 'none', label: 'None' },
          ]}
        />
      </Form.Item>
      {kind === 'holdout' && (
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name={['split', 'valid_fraction']} label="Validation share" initialValue={0.2} extra="Rows kept aside to validate.">
              <InputNumber min={0.01} max={0.99} step={0.05} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name={['split', 'seed']} label="Seed" initialValue={42}>
              <InputNumber min={0} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          {task === 'classification' && (
            <Col span={12}>
              <Form.Item name={['split', 'stratify']} label="Stratify" valuePropName="checked" initialValue={true} extra="Keep class shares.">
                <Switch />
              </Form.Item>
            </Col>
          )}
        </Row>
      )}
      {kind === 'kfold' && (
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name={['split', 'k']} label="Folds" initialValue={5}>
              <InputNumber min={2} max={50} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name={['split', 'seed']} label="Seed" initialValue={42}>
              <InputNumber min={0} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name={['split', 'shuffle']} label="Shuffle" valuePropName="checked" initialValue={true}>
              <Switch />
            </Form.Item>
          </Col>
          {task === 'classification' && (
            <Col span={12}>
              <Form.Item name={['split', 'stratify']} label="Stratify" valuePropName="checked" initialValue={true}>
                <Switch />
              </Form.Item>
            </Col>
          )}
        </Row>
      )}
      {kind === 'time' && (
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name={['split', 'column']} label="Time column" rules={[{ required: true, message: 'Choose the column that orders rows in time.' }]}>
              <Select showSearch options={timeColumns.map((c) => ({ value: c.name, label: c.name }))} placeholder="Choose" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name={['split', 'cutoff']} label="Cut-off" extra="Rows at or after it validate (a date, a time or a number).">
              <Input placeholder="2024-06-01" />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name={['split', 'valid_fraction']} label="Or: latest share" initialValue={0.2} extra="Used when there is no cut-off.">
              <InputNumber min={0.01} max={0.99} step={0.05} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
        </Row>
      )}
      {kind === 'none' && (
        <Typography.Paragraph type="secondary" style={{ marginTop: -8 }}>
          Every row trains; metrics are computed on the training rows{task === 'clustering' ? ' (the usual way for clustering)' : ', so they flatter the model'}.
        </Typography.Paragraph>
      )}
    </>
  )
}

function ParamsStep({ form, algorithm, columns, task, mode }: { form: FormInstance<LaunchValues>; algorithm: AlgorithmRead | undefined; columns: ColumnSchema[]; task: Task; mode: string }) {
  const fields = useMemo(() => paramFieldsOf(algorithm), [algorithm])
  if (!algorithm) return <EmptyState description="Choose an algorithm first." />
  return (
    <Row gutter={24}>
      <Col xs={24} xl={14}>
        <Typography.Title level={5} style={{ marginTop: 0 }}>
          {algorithm.title}
        </Typography.Title>
        {mode === 'study' && (
          <Alert type="info" showIcon style={{ marginBottom: 16 }} title="A tuning study draws these params from the preset's search space; the values here are not used." />
        )}
        {fields.length ? (
          <div data-testid="params-form">
            <Row gutter={12}>
              <SchemaColumns fields={fields} />
            </Row>
          </div>
        ) : (
          <Typography.Text type="secondary">This preset has no params.</Typography.Text>
        )}
      </Col>
      <Col xs={24} xl={10}>
        <Typography.Title level={5} style={{ marginTop: 0 }}>
          Validation
        </Typography.Title>
        <SplitFields form={form} columns={columns} task={task} />
      </Col>
    </Row>
  )
}

/** The generated param inputs, two to a row. */
function SchemaColumns({ fields }: { fields: ReturnType<typeof schemaFields> }) {
  return (
    <>
      {fields.map((f) => (
        <Col key={f.name} xs={24} md={12}>
          <SchemaFormFields fields={[f]} prefix="params" />
        </Col>
      ))}
    </>
  )
}

// -- step 5: run -------------------------------------------------------------------------------

function RunStep({ slug, form, algorithm }: { slug: string; form: FormInstance<LaunchValues>; algorithm: AlgorithmRead | undefined }) {
  const experiments = useExperiments(slug, {}, undefined, 200)
  const mode = Form.useWatch('mode', form) ?? 'run'
  const v = Form.useWatch([], form) as LaunchValues | undefined
  return (
    <Row gutter={24}>
      <Col xs={24} xl={14}>
        <Form.Item name="mode" label="What to start" initialValue="run">
          <Segmented
            options={[
              { value: 'run', label: 'One training run' },
              { value: 'study', label: 'A tuning study' },
            ]}
          />
        </Form.Item>
        <Row gutter={12}>
          <Col xs={24} md={12}>
            <Form.Item name="experiment" label="Experiment" extra="An existing one, or a new name (created). Default: Default.">
              <AutoComplete
                options={(experiments.data?.items ?? []).map((e) => ({ value: e.name }))}
                placeholder="Default"
                filterOption={(input, option) => String(option?.value ?? '').toLowerCase().includes(input.toLowerCase())}
                aria-label="Experiment"
              />
            </Form.Item>
          </Col>
          <Col xs={24} md={12}>
            {mode === 'run' ? (
              <Form.Item name="run_name" label="Run name" extra="A friendly name is made up when empty.">
                <Input maxLength={250} placeholder="Made up" aria-label="Run name" />
              </Form.Item>
            ) : (
              <Form.Item name={['study', 'name']} label="Study name" rules={[{ pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, message: 'Letters, digits, _ . and -.' }]}>
                <Input placeholder="Made up" aria-label="Study name" />
              </Form.Item>
            )}
          </Col>
          <Col xs={24} md={12}>
            <Form.Item name="register_as" label={mode === 'run' ? 'Register the model as' : 'Register the best model as'} extra="A registered model name (optional).">
              <Input maxLength={256} placeholder="Do not register" aria-label="Register as" />
            </Form.Item>
          </Col>
        </Row>
        {mode === 'study' && (
          <Card size="small" title="Tuning" style={{ marginBottom: 16 }}>
            <Row gutter={12}>
              <Col span={8}>
                <Form.Item name={['study', 'max_trials']} label="Trials" initialValue={20}>
                  <InputNumber min={1} max={10000} precision={0} style={{ width: '100%' }} />
                </Form.Item>
              </Col>
              <Col span={8}>
                <Form.Item name={['study', 'concurrency']} label="At once" initialValue={2}>
                  <InputNumber min={1} max={64} precision={0} style={{ width: '100%' }} />
                </Form.Item>
              </Col>
              <Col span={8}>
                <Form.Item name={['study', 'max_wall_time_min']} label="Time budget (min)">
                  <InputNumber min={1} style={{ width: '100%' }} placeholder="None" />
                </Form.Item>
              </Col>
              <Col span={8}>
                <Form.Item name={['study', 'sampler']} label="Search" initialValue="tpe">
                  <Select options={[{ value: 'tpe', label: 'TPE (Bayesian)' }, { value: 'random', label: 'Random' }, { value: 'grid', label: 'Grid' }]} />
                </Form.Item>
              </Col>
              <Col span={8}>
                <Form.Item name={['study', 'metric']} label="Objective" extra="Default: accuracy, rmse or silhouette.">
                  <Input placeholder="Default" />
                </Form.Item>
              </Col>
              <Col span={8}>
                <Form.Item name={['study', 'direction']} label="Direction" initialValue="maximize">
                  <Select options={[{ value: 'maximize', label: 'Maximize' }, { value: 'minimize', label: 'Minimize' }]} />
                </Form.Item>
              </Col>
            </Row>
          </Card>
        )}
        <Typography.Title level={5}>Resources {mode === 'study' ? 'of each trial' : ''}</Typography.Title>
        <Row gutter={12}>
          <Col span={6}>
            <Form.Item name={['resources', 'cpus']} label="CPU cores" initialValue={1}>
              <InputNumber min={0.1} max={256} step={0.5} style={{ width: '100%' }} aria-label="CPU cores" />
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item name={['resources', 'memory_mb']} label="Memory (MB)" initialValue={1024}>
              <InputNumber min={64} step={256} precision={0} style={{ width: '100%' }} aria-label="Memory" />
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item name={['resources', 'gpus']} label="GPUs" initialValue={0}>
              <InputNumber min={0} max={16} precision={0} style={{ width: '100%' }} aria-label="GPUs" />
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item name="timeout_min" label="Timeout (min)">
              <InputNumber min={1} style={{ width: '100%' }} placeholder="None" aria-label="Timeout" />
            </Form.Item>
          </Col>
        </Row>
      </Col>
      <Col xs={24} xl={10}>
        <Card size="small" title="Summary" data-testid="launch-summary">
          <Descriptions
            column={1}
            size="small"
            items={[
              { key: 'd', label: 'Dataset', children: `${v?.dataset ?? '—'}${v?.version ? ` v${v.version}` : ' (current)'}` },
              ...(v?.pipeline_run ? [{ key: 'tr', label: 'Transforms', children: `${v.pipeline} run` }] : []),
              { key: 't', label: 'Target', children: v?.target ?? 'none (clustering)' },
              { key: 'f', label: 'Features', children: v?.features?.length ? `${v.features.length}: ${v.features.slice(0, 6).join(', ')}${v.features.length > 6 ? '…' : ''}` : 'every numeric column' },
              { key: 'a', label: 'Algorithm', children: algorithm?.title ?? '—' },
              { key: 's', label: 'Validation', children: v?.split?.kind ?? 'default' },
            ]}
          />
        </Card>
      </Col>
    </Row>
  )
}

// -- the page ----------------------------------------------------------------------------------

/** Train a preset: dataset -> columns -> algorithm -> params -> resources -> run. */
export default function TrainPage() {
  const slug = useWorkspaceSlug()!
  const editor = useEditor(slug)
  const navigate = useNavigate()
  const [search] = useSearchParams()
  const [form] = Form.useForm<LaunchValues>()
  const [step, setStep] = useState(0)
  const algorithms = useAlgorithms()
  const launch = useLaunchTraining(slug)
  const createStudy = useCreateStudy(slug)
  const dataset = Form.useWatch('dataset', form)
  const version = Form.useWatch('version', form)
  const target = Form.useWatch('target', form)
  const algorithmName = Form.useWatch('algorithm', form)
  const [task, setTask] = useState<Task | undefined>()
  const pipelineRun = Form.useWatch('pipeline_run', form)
  const mode = (Form.useWatch('mode', form) as string | undefined) ?? 'run'

  useEffect(() => {
    const experiment = search.get('experiment')
    if (experiment) form.setFieldValue('experiment', experiment)
  }, [search, form])

  const algorithm = algorithms.data?.find((a) => a.name === algorithmName)
  const paramFields = useMemo(() => paramFieldsOf(algorithm), [algorithm])
  const error = launch.error ?? createStudy.error
  const pending = launch.isPending || createStudy.isPending

  const submit = async () => {
    const values = form.getFieldsValue(true) as LaunchValues
    const onError = (err: unknown) => {
      if (!(err instanceof ApiError) || !err.fieldErrors.length) return
      form.setFields(err.fieldErrors.map((e) => ({ name: formPath(e), errors: [e.msg] })))
      setStep(Math.min(...err.fieldErrors.map(stepOf)))
    }
    if (values.mode === 'study')
      createStudy.mutate(studyBody(values), { onSuccess: (s) => navigate(links.study(slug, s.id)), onError })
    else launch.mutate(trainingBody(values, paramFields), { onSuccess: (r) => navigate(links.run(slug, r.run_id)), onError })
  }

  const next = async () => {
    try {
      if (step === 0) await form.validateFields(['dataset'])
      if (step === 2) await form.validateFields(['algorithm'])
      if (step === 3) await form.validateFields()
    } catch {
      return
    }
    setStep(step + 1)
  }

  if (!editor)
    return <ErrorState title="Not allowed" error={new Error('Training needs the editor role in this workspace.')} />
  if (algorithms.isError) return <ErrorState error={algorithms.error} onRetry={() => void algorithms.refetch()} />
  if (!algorithms.data) return <LoadingState />

  return (
    <>
      <Link to={links.home(slug)} style={{ display: 'inline-block', marginBottom: 8 }}>
        <ArrowLeftOutlined /> Experiments
      </Link>
      <PageHeader title="Train a model" subtitle="A preset algorithm on a dataset version: checked before it starts, then followed live on its run page." />
      <Card>
        <Steps current={step} items={STEPS} size="small" style={{ marginBottom: 24 }} onChange={(s) => s < step && setStep(s)} data-testid="launch-steps" />
        <InlineError error={error} />
        <Form<LaunchValues> form={form} layout="vertical" preserve data-testid="launch-form">
          <div style={{ display: step === 0 ? undefined : 'none' }}>
            <DatasetStep slug={slug} form={form} />
          </div>
          {dataset && (
            <DatasetColumns slug={slug} name={dataset} version={version}>
              {(columns, media) => {
                const targetColumn = columns.find((c) => c.name === target)
                const suggested = guessTask(targetColumn, media)
                const effectiveTask = task ?? suggested
                return (
                  <>
                    <div style={{ display: step === 1 ? undefined : 'none' }}>
                      <ColumnsStep columns={columns} form={form} transformed={!!pipelineRun} onTarget={() => setTask(undefined)} />
                    </div>
                    <div style={{ display: step === 2 ? undefined : 'none' }}>
                      <AlgorithmStep form={form} algorithms={algorithms.data} task={effectiveTask} suggested={suggested} onTask={setTask} />
                    </div>
                    <div style={{ display: step === 3 ? undefined : 'none' }}>
                      <ParamsStep key={algorithm?.name ?? ''} form={form} algorithm={algorithm} columns={columns} task={effectiveTask} mode={mode} />
                    </div>
                  </>
                )
              }}
            </DatasetColumns>
          )}
          <div style={{ display: step === 4 ? undefined : 'none' }}>
            <RunStep slug={slug} form={form} algorithm={algorithm} />
          </div>
        </Form>
        <Flex justify="space-between" style={{ marginTop: 8 }}>
          <Button disabled={step === 0} onClick={() => setStep(step - 1)}>
            Back
          </Button>
          {step < STEPS.length - 1 ? (
            <Button type="primary" onClick={() => void next()} data-testid="launch-next">
              Next
            </Button>
          ) : (
            <Button type="primary" icon={<RocketOutlined />} loading={pending} onClick={() => void submit()} data-testid="launch-submit">
              {mode === 'study' ? 'Start the study' : 'Start training'}
            </Button>
          )}
        </Flex>
      </Card>
    </>
  )
}

/** The chosen dataset version's columns (the version's own schema where it has one). */
function DatasetColumns({ slug, name, version, children }: { slug: string; name: string; version: number | undefined; children: (columns: ColumnSchema[], media: boolean) => ReactNode }) {
  const dataset = useDataset(slug, name)
  const versions = useVersions(slug, name, version !== undefined)
  if (dataset.isError) return <ErrorState error={dataset.error} onRetry={() => void dataset.refetch()} />
  if (!dataset.data) return null
  const own = version !== undefined ? versions.data?.items.find((v) => v.number === version)?.schema : null
  return <>{children(own ?? dataset.data.schema, (dataset.data.media_total ?? 0) > 0)}</>
}
