import { App, Col, Form, Input, InputNumber, Modal, Row, Select } from 'antd'
import type { ChannelRead, RuleCreate, RuleEvent } from '../api/types'
import { InlineError } from '../common/page-states'
import { showFieldErrors } from '../jobs/job-form'
import { useCreateRule } from './queries'
import { EVENT_LABELS } from './labels'

type Scope = 'all' | 'job_id' | 'dag_id' | 'schedule_id' | 'job_name_pattern'

interface Values {
  name?: string
  channel?: string
  events: RuleEvent[]
  running_longer_than_s?: number
  scope: Scope
  target?: string
}

const SCOPES: { value: Scope; label: string; placeholder?: string }[] = [
  { value: 'all', label: 'Every job of the workspace' },
  { value: 'job_name_pattern', label: 'Jobs whose name matches', placeholder: 'train-*' },
  { value: 'job_id', label: 'One job', placeholder: 'Job id' },
  { value: 'dag_id', label: 'The jobs of a DAG', placeholder: 'DAG id' },
  { value: 'schedule_id', label: 'Jobs a schedule submits', placeholder: 'Schedule id' },
]

/** Create a rule: which events of which jobs go to which channel. */
export function RuleModal({ slug, channels, open, onClose }: { slug: string; channels: ChannelRead[]; open: boolean; onClose: () => void }) {
  const [form] = Form.useForm<Values>()
  const create = useCreateRule(slug)
  const { message } = App.useApp()
  const events = Form.useWatch('events', form) ?? []
  const scope = Form.useWatch('scope', form) ?? 'all'

  const finish = (v: Values) => {
    const body: RuleCreate = {
      channel: v.channel!,
      name: v.name?.trim() || null,
      events: v.events,
      running_longer_than_s: v.events.includes('running_longer') ? (v.running_longer_than_s ?? null) : null,
      enabled: true,
    }
    if (v.scope !== 'all' && v.target?.trim()) body[v.scope] = v.target.trim()
    create.mutate(body, {
      onSuccess: (r) => {
        message.success(`Rule ${r.name} created.`)
        form.resetFields()
        create.reset()
        onClose()
      },
      onError: (err) => showFieldErrors(form, err, ['name', 'channel', 'events', 'running_longer_than_s'], null),
    })
  }

  return (
    <Modal
      title="New rule"
      open={open}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText="Create rule"
      confirmLoading={create.isPending}
      width={600}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={finish} requiredMark="optional" initialValues={{ events: ['failed'], scope: 'all' }}>
        <InlineError error={create.error} />
        <Form.Item name="name" label="Rule name">
          <Input maxLength={128} placeholder="Failures to the team" />
        </Form.Item>
        <Form.Item name="channel" label="Send to" rules={[{ required: true, message: 'Choose a channel.' }]}>
          <Select
            data-testid="rule-channel"
            options={channels.map((c) => ({ value: c.id, label: `${c.name} (${c.kind})` }))}
            notFoundContent="Create a channel first."
          />
        </Form.Item>
        <Form.Item name="events" label="On" rules={[{ required: true, message: 'Choose at least one event.' }]}>
          <Select
            mode="multiple"
            data-testid="rule-events"
            options={(Object.keys(EVENT_LABELS) as RuleEvent[]).map((e) => ({ value: e, label: EVENT_LABELS[e] }))}
          />
        </Form.Item>
        {events.includes('running_longer') && (
          <Form.Item
            name="running_longer_than_s"
            label="Running longer than (s)"
            rules={[{ required: true, message: 'Enter the limit in seconds.' }]}
          >
            <InputNumber min={1} style={{ width: 200 }} />
          </Form.Item>
        )}
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name="scope" label="For">
              <Select options={SCOPES.map(({ value, label }) => ({ value, label }))} aria-label="Scope" />
            </Form.Item>
          </Col>
          {scope !== 'all' && (
            <Col span={12}>
              <Form.Item name="target" label=" " rules={[{ required: true, message: 'Enter which.' }]}>
                <Input placeholder={SCOPES.find((s) => s.value === scope)?.placeholder} aria-label="Scope value" />
              </Form.Item>
            </Col>
          )}
        </Row>
      </Form>
    </Modal>
  )
}
