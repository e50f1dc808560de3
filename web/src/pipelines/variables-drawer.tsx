import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons'
import { Button, Drawer, Flex, Form, Input, Typography } from 'antd'
import type { GraphVariable } from './types'

/** The pipeline's variables (`${name}` in params), with defaults a run may override. */
export function VariablesDrawer({
  open,
  variables,
  readOnly,
  onClose,
  onChange,
}: {
  open: boolean
  variables: GraphVariable[]
  readOnly: boolean
  onClose: () => void
  onChange: (vars: GraphVariable[]) => void
}) {
  const [form] = Form.useForm<{ variables: GraphVariable[] }>()
  const apply = (values: { variables: GraphVariable[] }) => {
    onChange(
      (values.variables ?? [])
        .filter((v) => v?.name)
        .map((v) => ({ name: v.name.trim(), default: v.default || null, description: v.description || null })),
    )
    onClose()
  }
  return (
    <Drawer
      title="Variables"
      open={open}
      onClose={onClose}
      size={520}
      destroyOnHidden
      extra={
        !readOnly && (
          <Button type="primary" onClick={() => form.submit()}>
            Apply
          </Button>
        )
      }
    >
      <Typography.Paragraph type="secondary">
        Use a variable in any text param as <Typography.Text code>{'${name}'}</Typography.Text>. Each run may give its
        own values; the default applies otherwise. Schedules also set <Typography.Text code>{'${ds}'}</Typography.Text>.
      </Typography.Paragraph>
      <Form form={form} layout="vertical" initialValues={{ variables }} onFinish={apply} disabled={readOnly}>
        <Form.List name="variables">
          {(rows, { add, remove }) => (
            <>
              {rows.map((row) => (
                <Flex key={row.key} gap={8} align="flex-start">
                  <Form.Item
                    name={[row.name, 'name']}
                    rules={[
                      { required: true, message: 'Name it.' },
                      { pattern: /^[A-Za-z_][A-Za-z0-9_]{0,63}$/, message: 'Letters, digits and _; not starting with a digit.' },
                    ]}
                    style={{ flex: 1, marginBottom: 12 }}
                  >
                    <Input placeholder="name" aria-label="Variable name" />
                  </Form.Item>
                  <Form.Item name={[row.name, 'default']} style={{ flex: 1, marginBottom: 12 }}>
                    <Input placeholder="default" aria-label="Default value" />
                  </Form.Item>
                  <Form.Item name={[row.name, 'description']} style={{ flex: 1.4, marginBottom: 12 }}>
                    <Input placeholder="what it is for" aria-label="Description" />
                  </Form.Item>
                  {!readOnly && <MinusCircleOutlined style={{ marginTop: 9 }} onClick={() => remove(row.name)} aria-label="Remove variable" />}
                </Flex>
              ))}
              {rows.length === 0 && <Typography.Paragraph type="secondary">No variables yet.</Typography.Paragraph>}
              {!readOnly && (
                <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ name: '', default: '', description: '' })} block>
                  Add variable
                </Button>
              )}
            </>
          )}
        </Form.List>
      </Form>
    </Drawer>
  )
}
