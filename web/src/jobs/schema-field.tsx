import { Form, Input, InputNumber, Select, Switch, Typography } from 'antd'
import { checkJson, type SpecField } from './spec-schema'

/** One form field for one property of a JSON schema, under `prefix` in the form's values. */
export function SchemaField({ field, prefix }: { field: SpecField; prefix: string }) {
  const name = [prefix, field.name]
  const help = field.description
  const requiredRule = field.required && !field.nullable ? [{ required: true, message: `Enter ${field.label.toLowerCase()}.` }] : []
  switch (field.kind) {
    case 'boolean':
      return (
        <Form.Item name={name} label={field.label} extra={help} valuePropName="checked">
          <Switch />
        </Form.Item>
      )
    case 'integer':
    case 'number':
      return (
        <Form.Item name={name} label={field.label} extra={help} rules={requiredRule}>
          <InputNumber
            min={field.min}
            max={field.max}
            precision={field.kind === 'integer' ? 0 : undefined}
            style={{ width: '100%' }}
            placeholder={field.nullable ? 'Not set' : undefined}
          />
        </Form.Item>
      )
    case 'enum':
    case 'enum-list':
      return (
        <Form.Item name={name} label={field.label} extra={help} rules={requiredRule}>
          <Select
            mode={field.kind === 'enum-list' ? 'multiple' : undefined}
            allowClear={field.nullable || !field.required}
            options={(field.options ?? []).map((o) => ({ value: o as string, label: String(o) }))}
          />
        </Form.Item>
      )
    case 'string-list':
      return (
        <Form.Item name={name} label={field.label} extra={help ? `${help} Press Enter after each value.` : 'Press Enter after each value.'}>
          <Select mode="tags" open={false} suffixIcon={null} tokenSeparators={['\n']} placeholder="Type a value, then Enter" />
        </Form.Item>
      )
    case 'string':
      return (
        <Form.Item name={name} label={field.label} extra={help} rules={requiredRule}>
          {field.secret ? (
            <Input.Password maxLength={field.maxLength} placeholder={field.nullable ? 'Not set' : undefined} autoComplete="new-password" />
          ) : (
            <Input maxLength={field.maxLength} placeholder={field.nullable ? 'Not set' : undefined} />
          )}
        </Form.Item>
      )
    default:
      return (
        <Form.Item
          name={name}
          label={
            <span>
              {field.label} <Typography.Text type="secondary">(JSON)</Typography.Text>
            </span>
          }
          extra={help}
          rules={[
            {
              validator: async (_, value: unknown) => {
                const problem = checkJson(value, field.required)
                if (problem) throw new Error(problem)
              },
            },
          ]}
        >
          <Input.TextArea autoSize={{ minRows: 2, maxRows: 10 }} style={{ fontFamily: 'monospace' }} placeholder="{}" />
        </Form.Item>
      )
  }
}
