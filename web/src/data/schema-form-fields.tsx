import { LockOutlined } from '@ant-design/icons'
import { Form, Input, InputNumber, Select, Switch, Tag, Typography } from 'antd'
import type { Rule } from 'antd/es/form'
import { type FormField, fieldProblem } from './schema-form'

function rules(field: FormField, stored: boolean): Rule[] {
  if (field.secret && stored) return []
  return [
    {
      validator: async (_, value: unknown) => {
        const problem = fieldProblem(field, value)
        if (problem) throw new Error(problem)
      },
    },
  ]
}

function FieldLabel({ field, stored }: { field: FormField; stored: boolean }) {
  return (
    <span>
      {field.label}
      {field.kind === 'json' && <Typography.Text type="secondary"> (JSON)</Typography.Text>}
      {field.secret && stored && (
        <Tag icon={<LockOutlined />} color="green" style={{ marginInlineStart: 8 }} data-testid={`secret-set-${field.name}`}>
          set
        </Tag>
      )}
    </span>
  )
}

/**
 * One input per field of a generated form, under `prefix` in the form's values. `stored` names the
 * credentials already saved: their boxes stay empty ("set — type to replace"); no value is ever shown.
 */
export function SchemaFormFields({ fields, prefix, stored = [] }: { fields: FormField[]; prefix: string; stored?: string[] }) {
  return (
    <>
      {fields.map((field) => (
        <SchemaFormField key={`${prefix}.${field.name}`} field={field} prefix={prefix} stored={stored.includes(field.name)} />
      ))}
    </>
  )
}

function SchemaFormField({ field, prefix, stored }: { field: FormField; prefix: string; stored: boolean }) {
  const name = [prefix, field.name]
  const common = {
    name,
    label: <FieldLabel field={field} stored={stored} />,
    extra: field.help,
    rules: rules(field, stored),
    required: field.required && !field.nullable && !(field.secret && stored) && field.kind !== 'boolean',
  }
  const placeholder = field.example ?? (field.nullable || !field.required ? 'Not set' : undefined)
  switch (field.kind) {
    case 'boolean':
      return (
        <Form.Item {...common} valuePropName="checked">
          <Switch aria-label={field.label} />
        </Form.Item>
      )
    case 'integer':
    case 'number':
      return (
        <Form.Item {...common}>
          <InputNumber
            min={field.min}
            max={field.max}
            precision={field.kind === 'integer' ? 0 : undefined}
            style={{ width: '100%' }}
            placeholder={placeholder}
          />
        </Form.Item>
      )
    case 'enum':
    case 'enum-list':
      return (
        <Form.Item {...common}>
          <Select
            mode={field.kind === 'enum-list' ? 'multiple' : undefined}
            allowClear={field.nullable || !field.required}
            placeholder={placeholder ?? 'Choose'}
            options={(field.options ?? []).map((o) => ({ value: o as string, label: String(o) }))}
          />
        </Form.Item>
      )
    case 'string-list':
    case 'number-list':
    case 'integer-list':
      return (
        <Form.Item {...common} extra={`${field.help ? `${field.help} ` : ''}Press Enter after each value.`}>
          <Select mode="tags" open={false} suffixIcon={null} tokenSeparators={['\n', ',']} placeholder="Type a value, then Enter" />
        </Form.Item>
      )
    case 'string':
      return (
        <Form.Item {...common}>
          {field.secret ? (
            <Input.Password
              maxLength={field.maxLength}
              placeholder={stored ? 'Set — type a new value to replace it' : field.required ? undefined : 'Not set'}
              autoComplete="new-password"
              visibilityToggle={false}
            />
          ) : (
            <Input maxLength={field.maxLength} placeholder={placeholder} />
          )}
        </Form.Item>
      )
    default:
      return (
        <Form.Item {...common}>
          <Input.TextArea autoSize={{ minRows: 2, maxRows: 10 }} style={{ fontFamily: 'monospace' }} placeholder="{}" />
        </Form.Item>
      )
  }
}
