import { ApiOutlined } from '@ant-design/icons'
import { Alert, App, Button, Divider, Drawer, Flex, Form, Input, Select, Typography } from 'antd'
import { useMemo } from 'react'
import { ApiError } from '../api/client'
import { InlineError } from '../common/page-states'
import { checkText } from './format'
import { useCreateConnection, useTestConnection, useTestUnsaved, useUpdateConnection } from './queries'
import { configBody, fieldProblem, initialValues, type JsonSchema, missingSecrets, schemaFields, secretsBody } from './schema-form'
import { SchemaFormFields } from './schema-form-fields'
import type { CheckRead, ConnectionRead, ConnectorRead } from './types'

const SLUG = /^[a-z0-9][a-z0-9_.-]{0,62}$/

interface Values {
  name?: string
  kind?: string
  description?: string
  config?: Record<string, unknown>
  secrets?: Record<string, unknown>
}

function formsOf(kind: ConnectorRead | undefined) {
  return {
    config: schemaFields(kind?.config_schema as JsonSchema | undefined),
    secrets: schemaFields(kind?.secrets_schema as JsonSchema | undefined, { secret: true }),
  }
}

/** Put the API's field messages on the matching inputs (`config.root`, `secrets.password`, `name`). */
function showApiFieldErrors(form: ReturnType<typeof Form.useForm<Values>>[0], error: unknown) {
  if (!(error instanceof ApiError)) return
  const fields = error.fieldErrors
    .map((e) => {
      const loc = e.loc[0] === 'body' ? e.loc.slice(1) : e.loc
      if (loc.length >= 2 && (loc[0] === 'config' || loc[0] === 'secrets')) return { name: [loc[0], loc[1]], errors: [e.msg] }
      if (loc.length >= 1 && (loc[0] === 'name' || loc[0] === 'description' || loc[0] === 'kind')) return { name: [loc[0]], errors: [e.msg] }
      return null
    })
    .filter((f): f is { name: string[]; errors: string[] } => f !== null)
  if (fields.length) form.setFields(fields)
}

function TestResult({ result, error }: { result: CheckRead | undefined; error: unknown }) {
  if (error) return <InlineError error={error} />
  if (!result) return null
  return (
    <Alert
      type={result.ok ? 'success' : 'error'}
      showIcon
      style={{ marginBottom: 16 }}
      data-testid="test-result"
      title={result.ok ? 'The source answered' : 'The source did not answer as expected'}
      description={checkText(result)}
    />
  )
}

/**
 * Create or edit a connection (mount it with a new `key` for each opening: it starts afresh). The settings and credentials inputs are generated from the chosen
 * kind's JSON schemas; stored credentials show as "set" and are never read back.
 */
export function ConnectionDrawer({
  slug,
  connectors,
  editing,
  open,
  onClose,
}: {
  slug: string
  connectors: ConnectorRead[]
  editing: ConnectionRead | null
  open: boolean
  onClose: () => void
}) {
  const [form] = Form.useForm<Values>()
  const { message } = App.useApp()
  const create = useCreateConnection(slug)
  const update = useUpdateConnection(slug)
  const testUnsaved = useTestUnsaved(slug)
  const testSaved = useTestConnection(slug)
  const kindName = Form.useWatch('kind', form) ?? editing?.kind
  const kind = connectors.find((k) => k.name === kindName)
  const fields = useMemo(() => formsOf(kind), [kind])
  const stored = editing?.secrets_set ?? []

  const initial = useMemo<Values>(() => {
    if (!editing) return {}
    const f = formsOf(connectors.find((k) => k.name === editing.kind))
    return {
      name: editing.name,
      kind: editing.kind,
      description: editing.description,
      config: initialValues(f.config, editing.config),
      secrets: initialValues(f.secrets),
    }
  }, [editing, connectors])

  const pickKind = (name: string) => {
    const f = formsOf(connectors.find((k) => k.name === name))
    form.setFieldsValue({ config: initialValues(f.config), secrets: initialValues(f.secrets) })
    testUnsaved.reset()
  }

  /** The values as the API takes them, or null (with the problems shown) when they are not complete. */
  const collect = async (): Promise<{ name: string; kind: string; description: string; config: Record<string, unknown>; secrets: Record<string, string> } | null> => {
    let values: Values
    try {
      values = await form.validateFields()
    } catch {
      return null
    }
    const bad = fields.config.find((f) => fieldProblem(f, values.config?.[f.name]))
    if (bad) return null
    return {
      name: (values.name ?? '').trim(),
      kind: values.kind ?? editing?.kind ?? '',
      description: (values.description ?? '').trim(),
      config: configBody(fields.config, values.config, { clearable: !!editing }),
      secrets: secretsBody(fields.secrets, values.secrets),
    }
  }

  const runTest = async () => {
    testUnsaved.reset()
    testSaved.reset()
    const body = await collect()
    if (!body) return
    if (editing && Object.keys(body.secrets).length === 0 && stored.length > 0) {
      // The stored credentials stay on the server: test the saved connection with them.
      testSaved.mutate(editing.name)
      return
    }
    testUnsaved.mutate({ kind: body.kind, config: body.config, secrets: body.secrets }, { onError: (err) => showApiFieldErrors(form, err) })
  }

  const save = async () => {
    const body = await collect()
    if (!body) return
    const missing = missingSecrets(fields.secrets, form.getFieldValue('secrets') as Record<string, unknown>, stored)
    if (missing.length) {
      form.setFields(missing.map((label) => ({ name: ['secrets', fields.secrets.find((f) => f.label === label)!.name], errors: [`Enter ${label.toLowerCase()}.`] })))
      return
    }
    const done = (verb: string) => () => {
      message.success(`Connection ${body.name} ${verb}.`)
      onClose()
    }
    if (editing) {
      const patch = { description: body.description, config: body.config, ...(Object.keys(body.secrets).length ? { secrets: body.secrets } : {}) }
      update.mutate({ name: editing.name, body: patch }, { onSuccess: done('saved'), onError: (err) => showApiFieldErrors(form, err) })
    } else {
      create.mutate(body, { onSuccess: done('created'), onError: (err) => showApiFieldErrors(form, err) })
    }
  }

  const saving = create.isPending || update.isPending
  const testing = testUnsaved.isPending || testSaved.isPending
  return (
    <Drawer
      title={editing ? `Edit connection ${editing.name}` : 'New connection'}
      open={open}
      onClose={onClose}
      size={560}
      destroyOnHidden
      footer={
        <Flex justify="space-between">
          <Button icon={<ApiOutlined />} onClick={() => void runTest()} loading={testing} disabled={!kind || !kind.available}>
            Test connection
          </Button>
          <Flex gap={8}>
            <Button onClick={onClose}>Cancel</Button>
            <Button type="primary" onClick={() => void save()} loading={saving} disabled={!kind}>
              {editing ? 'Save' : 'Create connection'}
            </Button>
          </Flex>
        </Flex>
      }
    >
      <Form form={form} layout="vertical" requiredMark="optional" initialValues={initial} data-testid="connection-form">
        <InlineError error={create.error ?? update.error} />
        <Form.Item
          name="name"
          label="Name"
          rules={[
            { required: true, message: 'Name the connection.' },
            { pattern: SLUG, message: 'Lower-case letters, digits, and . _ - (starting with a letter or digit).' },
          ]}
          extra={editing ? 'A connection keeps its name.' : 'Datasets refer to the connection by this name.'}
        >
          <Input maxLength={63} placeholder="warehouse" disabled={!!editing} />
        </Form.Item>
        <Form.Item name="kind" label="Kind" rules={[{ required: true, message: 'Choose a kind.' }]}>
          <Select
            data-testid="connection-kind"
            disabled={!!editing}
            onChange={pickKind}
            optionLabelProp="value"
            placeholder="Choose where the data lives"
            options={connectors.map((k) => ({
              value: k.name,
              label: (
                <span>
                  <Typography.Text strong>{k.name}</Typography.Text>
                  <Typography.Text type="secondary"> · {k.description}</Typography.Text>
                </span>
              ),
            }))}
          />
        </Form.Item>
        {kind && !kind.available && (
          <Alert
            type="warning"
            showIcon
            style={{ marginBottom: 16 }}
            title={`${kind.name} connections cannot read data on this server yet`}
            description={kind.error ?? 'Its client libraries are not installed.'}
          />
        )}
        <Form.Item name="description" label="Description">
          <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={1000} />
        </Form.Item>
        {kind && fields.config.length > 0 && (
          <>
            <Divider titlePlacement="start" plain>
              Settings
            </Divider>
            <SchemaFormFields fields={fields.config} prefix="config" />
          </>
        )}
        {kind && fields.secrets.length > 0 && (
          <>
            <Divider titlePlacement="start" plain>
              Credentials (stored encrypted, never shown again)
            </Divider>
            <SchemaFormFields fields={fields.secrets} prefix="secrets" stored={stored} />
          </>
        )}
        <TestResult result={testUnsaved.data ?? testSaved.data} error={testUnsaved.error ?? testSaved.error} />
      </Form>
    </Drawer>
  )
}
