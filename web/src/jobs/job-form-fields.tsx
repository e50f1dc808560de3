import { Alert, Col, Divider, Form, Input, InputNumber, Row, Select, Typography } from 'antd'
import type { KindRead } from '../api/types'
import { findKind, kindFields } from './job-form'
import { SchemaField } from './schema-field'
import { checkJson, initialSpec } from './spec-schema'

/**
 * The fields of a job inside a form: its kind, name, a spec form drawn from the kind's schema (or a
 * JSON editor), resources and retries. `dependencies` adds "depends on" (not for schedules).
 */
export function JobFormFields({ kinds, dependencies = true, onKindChange }: { kinds: KindRead[]; dependencies?: boolean; onKindChange?: () => void }) {
  const form = Form.useFormInstance()
  const kindName = Form.useWatch('kind', form) as string | undefined
  const kind = findKind(kinds, kindName)
  const fields = kindFields(kind)

  const pickKind = (name: string) => {
    const f = kindFields(findKind(kinds, name))
    form.setFieldsValue({ spec: f ? initialSpec(f) : {}, spec_json: '{}' })
    onKindChange?.()
  }

  return (
    <>
      <Form.Item name="kind" label="Kind" rules={[{ required: true, message: 'Choose what kind of job to run.' }]}>
        <Select
          placeholder="Choose a kind"
          onChange={pickKind}
          data-testid="job-kind"
          options={kinds.map((k) => ({
            value: k.name,
            disabled: !!k.error,
            label: (
              <span>
                <Typography.Text strong>{k.name}</Typography.Text>
                <Typography.Text type="secondary"> · {k.error ? `cannot be loaded: ${k.error}` : k.description}</Typography.Text>
              </span>
            ),
          }))}
          optionLabelProp="value"
        />
      </Form.Item>
      <Form.Item name="name" label="Name" extra="Defaults to the kind's name.">
        <Input maxLength={128} placeholder={kindName ?? 'job'} />
      </Form.Item>

      {kind && (
        <>
          <Divider titlePlacement="start" plain style={{ marginTop: 8 }}>
            Parameters of {kind.name}
          </Divider>
          {kind.description && (
            <Typography.Paragraph type="secondary" style={{ marginTop: -8 }}>
              {kind.description}
            </Typography.Paragraph>
          )}
          {fields === null ? (
            <Form.Item
              name="spec_json"
              label="Spec (JSON)"
              rules={[
                {
                  validator: async (_, value: unknown) => {
                    const problem = checkJson(value, false)
                    if (problem) throw new Error(problem)
                  },
                },
              ]}
            >
              <Input.TextArea autoSize={{ minRows: 4, maxRows: 16 }} style={{ fontFamily: 'monospace' }} />
            </Form.Item>
          ) : fields.length === 0 ? (
            <Alert type="info" showIcon title="This kind takes no parameters." style={{ marginBottom: 16 }} />
          ) : (
            fields.map((f) => <SchemaField key={`${kind.name}.${f.name}`} field={f} prefix="spec" />)
          )}
        </>
      )}

      <Divider titlePlacement="start" plain>
        Resources and retries
      </Divider>
      <Row gutter={12}>
        <Col span={8}>
          <Form.Item name="cpus" label="CPUs" rules={[{ required: true, message: 'Enter CPUs.' }]}>
            <InputNumber min={0.1} max={1024} step={0.5} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="memory_mb" label="Memory (MB)" rules={[{ required: true, message: 'Enter memory.' }]}>
            <InputNumber min={16} step={256} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="gpus" label="GPUs" rules={[{ required: true, message: 'Enter GPUs.' }]}>
            <InputNumber min={0} max={64} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="max_attempts" label="Max attempts" rules={[{ required: true, message: 'Enter attempts.' }]}>
            <InputNumber min={1} max={100} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="backoff_s" label="Backoff (s)" tooltip="Wait between attempts.">
            <InputNumber min={0} max={86400} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="timeout_s" label="Timeout (s)" tooltip="Empty: no time limit.">
            <InputNumber min={1} max={30 * 86400} style={{ width: '100%' }} placeholder="None" />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="priority" label="Priority" tooltip="-100 to 100; higher runs first within the workspace.">
            <InputNumber min={-100} max={100} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        {dependencies && (
          <Col span={16}>
            <Form.Item name="depends_on" label="Depends on" tooltip="Ids of jobs that must succeed first.">
              <Select mode="tags" open={false} suffixIcon={null} placeholder="Job ids" />
            </Form.Item>
          </Col>
        )}
      </Row>
    </>
  )
}
