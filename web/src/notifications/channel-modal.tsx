import { App, Divider, Form, Input, Modal, Select, Typography } from 'antd'
import { useMemo } from 'react'
import type { ChannelCreated, NotifierKindRead } from '../api/types'
import { InlineError } from '../common/page-states'
import { showFieldErrors } from '../jobs/job-form'
import { SchemaField } from '../jobs/schema-field'
import { buildSpec, initialSpec, type JsonSchema, type SpecField, specFields } from '../jobs/spec-schema'
import { useCreateChannel } from './queries'

interface Values {
  name: string
  kind?: string
  config?: Record<string, unknown>
  secrets?: Record<string, unknown>
}

function fieldsOf(kind: NotifierKindRead | undefined, which: 'config_schema' | 'secrets_schema'): SpecField[] {
  return (kind && specFields(kind[which] as JsonSchema)) || []
}

/** Create a channel: a notifier kind, its settings and credentials (forms drawn from their schemas). */
export function ChannelModal({ slug, kinds, open, onClose }: { slug: string; kinds: NotifierKindRead[]; open: boolean; onClose: () => void }) {
  const [form] = Form.useForm<Values>()
  const create = useCreateChannel(slug)
  const { message, modal } = App.useApp()
  const kindName = Form.useWatch('kind', form)
  const kind = kinds.find((k) => k.name === kindName)
  const config = useMemo(() => fieldsOf(kind, 'config_schema'), [kind])
  const secrets = useMemo(() => fieldsOf(kind, 'secrets_schema'), [kind])

  const pick = (name: string) => {
    const k = kinds.find((x) => x.name === name)
    form.setFieldsValue({ config: initialSpec(fieldsOf(k, 'config_schema')), secrets: {} })
    create.reset()
  }

  const showGenerated = (c: ChannelCreated) => {
    const generated = Object.entries(c.generated_secrets ?? {})
    if (!generated.length) return
    modal.info({
      title: 'Keep this secret now',
      width: 560,
      content: (
        <>
          <Typography.Paragraph>Dais generated it for {c.name}; it is shown only this once.</Typography.Paragraph>
          {generated.map(([k, v]) => (
            <Typography.Paragraph key={k}>
              <Typography.Text strong>{k}: </Typography.Text>
              <Typography.Text code copyable data-testid="generated-secret">
                {v}
              </Typography.Text>
            </Typography.Paragraph>
          ))}
        </>
      ),
    })
  }

  const finish = (values: Values) =>
    create.mutate(
      {
        name: values.name.trim(),
        kind: values.kind!,
        config: buildSpec(config, values.config),
        secrets: buildSpec(secrets, values.secrets) as Record<string, string>,
      },
      {
        onSuccess: (c) => {
          message.success(`Channel ${c.name} created.`)
          form.resetFields()
          create.reset()
          onClose()
          showGenerated(c)
        },
        onError: (err) => showFieldErrors(form, err, ['name', 'kind'], null),
      },
    )

  return (
    <Modal
      title="New channel"
      open={open}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText="Create channel"
      confirmLoading={create.isPending}
      width={600}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={finish} requiredMark="optional">
        <InlineError error={create.error} />
        <Form.Item name="name" label="Channel name" rules={[{ required: true, message: 'Name the channel.' }]}>
          <Input maxLength={128} placeholder="ml-team" />
        </Form.Item>
        <Form.Item name="kind" label="Kind" rules={[{ required: true, message: 'Choose a kind.' }]}>
          <Select
            data-testid="channel-kind"
            onChange={pick}
            optionLabelProp="value"
            options={kinds.map((k) => ({
              value: k.name,
              disabled: !!k.error,
              label: (
                <span>
                  <Typography.Text strong>{k.name}</Typography.Text>
                  <Typography.Text type="secondary"> · {k.error ?? k.description}</Typography.Text>
                </span>
              ),
            }))}
          />
        </Form.Item>
        {kind && config.length > 0 && (
          <>
            <Divider titlePlacement="start" plain>
              Settings
            </Divider>
            {config.map((f) => (
              <SchemaField key={`${kind.name}.c.${f.name}`} field={f} prefix="config" />
            ))}
          </>
        )}
        {kind && secrets.length > 0 && (
          <>
            <Divider titlePlacement="start" plain>
              Credentials (never shown again)
            </Divider>
            {secrets.map((f) => (
              <SchemaField key={`${kind.name}.s.${f.name}`} field={f} prefix="secrets" />
            ))}
          </>
        )}
      </Form>
    </Modal>
  )
}
