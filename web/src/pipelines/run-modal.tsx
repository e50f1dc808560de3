import { Alert, Form, Input, InputNumber, Modal, Radio, Typography } from 'antd'
import { InlineError } from '../common/page-states'
import type { GraphVariable, PipelineRunCreate } from './types'

interface RunValues {
  sample_rows: number
  sample_method: 'first' | 'random'
  vars: Record<string, string>
}

/** Start a run: full, or debug on a sample of each source; with the variables' values. */
export function RunModal({
  open,
  mode,
  variables,
  dirty,
  fromNode,
  busy,
  error,
  onClose,
  onRun,
}: {
  open: boolean
  mode: 'full' | 'debug'
  variables: GraphVariable[]
  dirty: boolean
  fromNode: string | null
  busy: boolean
  error: unknown
  onClose: () => void
  onRun: (body: PipelineRunCreate) => void
}) {
  const [form] = Form.useForm<RunValues>()
  const submit = (values: RunValues) => {
    const vars = Object.fromEntries(Object.entries(values.vars ?? {}).filter(([, v]) => v !== undefined && v !== ''))
    onRun({
      mode,
      sample_rows: mode === 'debug' ? values.sample_rows : 1000,
      sample_method: mode === 'debug' ? values.sample_method : 'first',
      variables: vars,
      from_node: fromNode,
    })
  }
  return (
    <Modal
      title={fromNode ? `Run again from ${fromNode}` : mode === 'debug' ? 'Debug run on a sample' : 'Run the pipeline'}
      open={open}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={dirty ? 'Save and run' : mode === 'debug' ? 'Debug' : 'Run'}
      confirmLoading={busy}
      destroyOnHidden
    >
      <InlineError error={error} />
      {dirty && (
        <Alert type="info" showIcon style={{ marginBottom: 16 }} title="The canvas has unsaved changes: they are saved as a new version first (runs use saved versions)." />
      )}
      <Form
        form={form}
        layout="vertical"
        onFinish={submit}
        initialValues={{ sample_rows: 1000, sample_method: 'first', vars: Object.fromEntries(variables.map((v) => [v.name, v.default ?? ''])) }}
      >
        {mode === 'debug' && (
          <>
            <Typography.Paragraph type="secondary">
              Each source reads only a sample, so the run answers in seconds. Sinks do not write datasets in a debug run.
            </Typography.Paragraph>
            <Form.Item name="sample_rows" label="Rows per source" rules={[{ required: true, message: 'How many rows?' }]}>
              <InputNumber min={1} max={1_000_000} style={{ width: '100%' }} aria-label="Rows per source" />
            </Form.Item>
            <Form.Item name="sample_method" label="Which rows">
              <Radio.Group
                options={[
                  { value: 'first', label: 'The first rows' },
                  { value: 'random', label: 'Random rows' },
                ]}
              />
            </Form.Item>
          </>
        )}
        {fromNode && (
          <Typography.Paragraph type="secondary">
            Nodes before {fromNode} reuse their cached outputs when nothing they depend on changed.
          </Typography.Paragraph>
        )}
        {variables.length > 0 && <Typography.Text strong>Variables</Typography.Text>}
        {variables.map((v) => (
          <Form.Item key={v.name} name={['vars', v.name]} label={<Typography.Text code>{v.name}</Typography.Text>} extra={v.description}>
            <Input placeholder={v.default ?? ''} />
          </Form.Item>
        ))}
      </Form>
    </Modal>
  )
}
