import { PlusOutlined } from '@ant-design/icons'
import { App, Button, Col, Divider, Drawer, Flex, Form, Input, InputNumber, Radio, Row, Segmented, Select, Switch, Typography } from 'antd'
import { useMemo } from 'react'
import type { DagSubmit, ScheduleCreate, ScheduleRead } from '../api/types'
import { InlineError, LoadingState } from '../common/page-states'
import { findKind, JOB_DEFAULTS, JOB_FIELD_NAMES, type JobFormValues, jobSubmitFromValues, kindFields, showFieldErrors } from '../jobs/job-form'
import { JobFormFields } from '../jobs/job-form-fields'
import { useJobKinds } from '../jobs/queries'
import { checkJson } from '../jobs/spec-schema'
import { parseVariables, timeZones } from './format'
import { useCreateSchedule } from './queries'

type Timing = 'cron' | 'interval'
type What = 'job' | 'dag'

interface Values extends JobFormValues {
  schedule_name: string
  description?: string
  timing: Timing
  cron?: string
  every?: number
  unit: number
  timezone: string
  catchup: 'skip' | 'all'
  paused: boolean
  variables?: string
  what: What
  dag_json?: string
}

const UNITS = [
  { value: 60, label: 'minutes' },
  { value: 3600, label: 'hours' },
  { value: 86400, label: 'days' },
  { value: 1, label: 'seconds' },
]

const DAG_EXAMPLE = JSON.stringify(
  {
    name: 'nightly-${ds}',
    nodes: [
      { node: 'extract', kind: 'sleep', spec: { seconds: 1 } },
      { node: 'train', kind: 'sleep', after: ['extract'], spec: { seconds: 2 } },
    ],
  },
  null,
  2,
)

const DEFAULTS: Partial<Values> = {
  ...JOB_DEFAULTS,
  timing: 'cron',
  cron: '0 3 * * *',
  unit: 3600,
  every: 1,
  timezone: 'UTC',
  catchup: 'skip',
  paused: false,
  what: 'job',
  dag_json: DAG_EXAMPLE,
}

/** Create a schedule: when it fires (cron with a time zone, or an interval) and the job or DAG it submits. */
export function ScheduleDrawer({ slug, open, onClose, onCreated }: { slug: string; open: boolean; onClose: () => void; onCreated: (s: ScheduleRead) => void }) {
  const [form] = Form.useForm<Values>()
  const kinds = useJobKinds()
  const create = useCreateSchedule(slug)
  const { message } = App.useApp()
  const timing = Form.useWatch('timing', form) ?? 'cron'
  const what = Form.useWatch('what', form) ?? 'job'
  const zones = useMemo(() => timeZones().map((z) => ({ value: z, label: z })), [])

  const finish = (values: Values) => {
    let template: ScheduleCreate['template']
    try {
      template =
        values.what === 'dag'
          ? { dag: JSON.parse(values.dag_json || '{}') as DagSubmit }
          : { job: jobSubmitFromValues(values, kinds.data) }
    } catch (err) {
      form.setFields([{ name: values.what === 'dag' ? 'dag_json' : 'spec_json', errors: [`Not valid JSON: ${(err as Error).message}`] }])
      return
    }
    const body: ScheduleCreate = {
      name: values.schedule_name.trim(),
      description: values.description?.trim() ?? '',
      cron: values.timing === 'cron' ? values.cron?.trim() : null,
      interval_s: values.timing === 'interval' ? (values.every ?? 1) * values.unit : null,
      timezone: values.timezone,
      catchup: values.catchup,
      paused: values.paused,
      variables: parseVariables(values.variables),
      template,
    }
    create.mutate(body, {
      onSuccess: (s) => {
        message.success(`Schedule ${s.name} created.`)
        form.resetFields()
        create.reset()
        onCreated(s)
      },
      onError: (err) => {
        showFieldErrors(form, err, [...JOB_FIELD_NAMES, 'cron', 'timezone', 'description'], kindFields(findKind(kinds.data, values.kind)))
      },
    })
  }

  return (
    <Drawer
      title="New schedule"
      open={open}
      onClose={onClose}
      size={600}
      footer={
        <Flex justify="flex-end" gap={8}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="primary" icon={<PlusOutlined />} loading={create.isPending} onClick={() => form.submit()}>
            Create schedule
          </Button>
        </Flex>
      }
    >
      {kinds.isPending ? (
        <LoadingState label="Loading job kinds…" />
      ) : kinds.isError ? (
        <InlineError error={kinds.error} />
      ) : (
        <Form form={form} layout="vertical" initialValues={DEFAULTS} onFinish={finish} requiredMark="optional">
          <InlineError error={create.error} />
          <Form.Item name="schedule_name" label="Schedule name" rules={[{ required: true, message: 'Name the schedule.' }]}>
            <Input maxLength={128} placeholder="nightly-training" />
          </Form.Item>
          <Form.Item name="description" label="Description">
            <Input maxLength={4000} />
          </Form.Item>

          <Divider titlePlacement="start" plain>
            When
          </Divider>
          <Form.Item name="timing">
            <Segmented<Timing>
              options={[
                { value: 'cron', label: 'Cron expression' },
                { value: 'interval', label: 'Every…' },
              ]}
            />
          </Form.Item>
          {timing === 'cron' ? (
            <Row gutter={12}>
              <Col span={12}>
                <Form.Item
                  name="cron"
                  label="Cron"
                  extra="minute hour day month weekday, e.g. 0 3 * * * (03:00 daily)"
                  rules={[{ required: true, message: 'Enter a cron expression.' }]}
                >
                  <Input style={{ fontFamily: 'monospace' }} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name="timezone" label="Time zone">
                  <Select showSearch options={zones} aria-label="Time zone" data-testid="schedule-timezone" />
                </Form.Item>
              </Col>
            </Row>
          ) : (
            <Row gutter={12}>
              <Col span={12}>
                <Form.Item name="every" label="Every" rules={[{ required: true, message: 'Enter how often.' }]}>
                  <InputNumber min={1} style={{ width: '100%' }} />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name="unit" label="Unit">
                  <Select options={UNITS} aria-label="Interval unit" />
                </Form.Item>
              </Col>
            </Row>
          )}
          <Row gutter={12}>
            <Col span={14}>
              <Form.Item name="catchup" label="After downtime">
                <Radio.Group
                  options={[
                    { value: 'skip', label: 'Run the latest missed run' },
                    { value: 'all', label: 'Run every missed run' },
                  ]}
                  optionType="button"
                />
              </Form.Item>
            </Col>
            <Col span={10}>
              <Form.Item name="paused" label="Start paused" valuePropName="checked">
                <Switch />
              </Form.Item>
            </Col>
          </Row>
          <Form.Item
            name="variables"
            label="Variables"
            extra={
              <>
                One <Typography.Text code>name=value</Typography.Text> per line. Strings of the template may use them as{' '}
                <Typography.Text code>{'${name}'}</Typography.Text>, besides <Typography.Text code>{'${ds}'}</Typography.Text> (the
                run's logical date) and <Typography.Text code>{'${ds-1d}'}</Typography.Text>.
              </>
            }
            rules={[
              {
                validator: async (_, text: string | undefined) => {
                  const bad = (text ?? '').split('\n').find((l) => l.trim() && l.indexOf('=') < 1)
                  if (bad) throw new Error(`Not name=value: “${bad.trim()}”`)
                },
              },
            ]}
          >
            <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} style={{ fontFamily: 'monospace' }} placeholder="region=eu" />
          </Form.Item>

          <Divider titlePlacement="start" plain>
            What it submits
          </Divider>
          <Form.Item name="what">
            <Segmented<What>
              options={[
                { value: 'job', label: 'A job' },
                { value: 'dag', label: 'A DAG (JSON)' },
              ]}
            />
          </Form.Item>
          {what === 'job' ? (
            <JobFormFields kinds={kinds.data} dependencies={false} onKindChange={() => create.reset()} />
          ) : (
            <Form.Item
              name="dag_json"
              label="DAG"
              extra="name and nodes (each a job with node and after), as the DAG API takes them."
              rules={[
                {
                  validator: async (_, value: unknown) => {
                    const problem = checkJson(value, true)
                    if (problem) throw new Error(problem)
                  },
                },
              ]}
            >
              <Input.TextArea autoSize={{ minRows: 8, maxRows: 24 }} style={{ fontFamily: 'monospace', fontSize: 12 }} />
            </Form.Item>
          )}
        </Form>
      )}
    </Drawer>
  )
}
