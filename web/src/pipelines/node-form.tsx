import { DeleteOutlined, MinusCircleOutlined, PlusOutlined } from '@ant-design/icons'
import { Alert, AutoComplete, Button, Divider, Flex, Form, Input, InputNumber, Select, Space, Switch, Tag, Typography } from 'antd'
import { useMemo } from 'react'
import type { OpNode } from './graph'
import { type ColumnChoices, columnChoices, formFromParams, type ParamField, paramFields, paramsFromForm, rangeText } from './params-schema'
import { useDatasetNames } from './queries'
import type { OperatorRead, TableSchema, PipelineIssue } from './types'

const MONO = { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', fontSize: 12 }

type Schemas = Record<string, TableSchema | null | undefined>

function columnOptions(choices: ColumnChoices) {
  return choices.columns.map((c) => ({ value: c.name, label: c.name, dtype: c.dtype }))
}

/** A column in a picker's list: its name, and its type on the right. */
function columnOption(option: { value?: unknown; data?: { dtype?: string } }) {
  return (
    <Flex justify="space-between" gap={8}>
      <span>{String(option.value)}</span>
      <Typography.Text type="secondary" style={{ fontSize: 11 }}>
        {option.data?.dtype}
      </Typography.Text>
    </Flex>
  )
}

function pickerHelp(choices: ColumnChoices, groups: string[] | undefined): string {
  const typed = !!groups && !(groups.length === 1 && groups[0] === 'any')
  const kinds = typed ? `${groups.join(' or ')} columns` : 'columns'
  if (!choices.known) return `Connect this input (or fix the nodes before it) to pick from its ${kinds}.`
  const hidden = choices.hidden ? ` (${choices.hidden} of other types hidden)` : ''
  const open = choices.open ? ' More columns appear only after a run: you may type a name.' : ''
  return `${typed ? `Takes ${kinds}${hidden}.` : ''}${open}`.trim()
}

function ColumnInput({
  field,
  schemas,
  value,
  onChange,
  disabled,
}: {
  field: ParamField
  schemas: Schemas
  value?: unknown
  onChange?: (v: unknown) => void
  disabled: boolean
}) {
  const picker = field.picker!
  const choices = columnChoices(schemas[picker.port], picker.types)
  const options = columnOptions(choices)
  const free = !choices.known || choices.open
  if (picker.multiple) {
    return (
      <Select
        mode={free ? 'tags' : 'multiple'}
        value={(value as string[] | undefined) ?? []}
        onChange={onChange}
        options={options}
        optionFilterProp="label"
        optionRender={columnOption}
        allowClear
        disabled={disabled}
        placeholder={free ? 'Type or pick columns' : 'Pick columns'}
        aria-label={field.label}
        data-testid={`param-${field.name}`}
      />
    )
  }
  if (free) {
    return (
      <AutoComplete
        value={(value as string | undefined) ?? ''}
        onChange={(v: string) => onChange?.(v)}
        options={options.map((o) => ({ value: o.value, label: columnOption({ value: o.value, data: o }) }))}
        filterOption={(input, option) => String(option?.value ?? '').toLowerCase().includes(input.toLowerCase())}
        allowClear
        disabled={disabled}
        placeholder="Type or pick a column"
        aria-label={field.label}
        data-testid={`param-${field.name}`}
      />
    )
  }
  return (
    <Select
      value={(value as string | undefined) ?? undefined}
      onChange={(v) => onChange?.(v ?? '')}
      options={options}
      optionFilterProp="label"
        optionRender={columnOption}
      showSearch
      allowClear
      disabled={disabled}
      placeholder="Pick a column"
      aria-label={field.label}
      data-testid={`param-${field.name}`}
    />
  )
}

function DatasetInput({ value, onChange, disabled, slug, label }: { value?: string; onChange?: (v: string) => void; disabled: boolean; slug: string; label: string }) {
  const datasets = useDatasetNames(slug)
  const options = (datasets.data?.items ?? []).map((d) => ({ value: d.name }))
  return (
    <AutoComplete
      value={value ?? ''}
      onChange={(v: string) => onChange?.(v)}
      options={options}
      filterOption={(input, option) => String(option?.value ?? '').includes(input.toLowerCase())}
      disabled={disabled}
      allowClear
      placeholder="A dataset of this workspace"
      aria-label={label}
      data-testid="param-dataset"
    />
  )
}

/** The input of one param (without its Form.Item). */
function ParamInput({ field, schemas, disabled, slug, value, onChange }: { field: ParamField; schemas: Schemas; disabled: boolean; slug: string; value?: unknown; onChange?: (v: unknown) => void }) {
  const common = { disabled, 'aria-label': field.label, 'data-testid': `param-${field.name}` }
  switch (field.kind) {
    case 'column':
    case 'columns':
      return <ColumnInput field={field} schemas={schemas} disabled={disabled} value={value} onChange={onChange} />
    case 'dataset':
      return <DatasetInput slug={slug} disabled={disabled} label={field.label} value={value as string} onChange={onChange} />
    case 'boolean':
      return <Switch {...common} checked={!!value} onChange={onChange} size="small" />
    case 'integer':
    case 'number':
      return (
        <InputNumber
          {...common}
          value={value as number | undefined}
          onChange={(v) => onChange?.(v ?? undefined)}
          min={field.exclusiveMin ? undefined : field.min}
          max={field.exclusiveMax ? undefined : field.max}
          precision={field.kind === 'integer' ? 0 : undefined}
          step={field.kind === 'number' && field.max !== undefined && field.max <= 1 ? 0.01 : 1}
          placeholder={field.default === undefined || field.default === null ? 'Not set' : String(field.default)}
          style={{ width: '100%' }}
        />
      )
    case 'enum':
    case 'enum-list':
      return (
        <Select
          {...common}
          value={value}
          onChange={onChange}
          mode={field.kind === 'enum-list' ? 'multiple' : undefined}
          allowClear={!field.required || field.nullable}
          options={(field.options ?? []).map((o) => ({ value: o as string, label: String(o).replace(/_/g, ' ') }))}
        />
      )
    case 'string-list':
      return <Select {...common} value={(value as string[]) ?? []} onChange={onChange} mode="tags" open={false} suffixIcon={null} placeholder="Type a value, then Enter" />
    case 'code':
      return <Input.TextArea {...common} value={value as string} onChange={(e) => onChange?.(e.target.value)} autoSize={{ minRows: 5, maxRows: 16 }} style={MONO} spellCheck={false} />
    case 'text':
      return <Input.TextArea {...common} value={value as string} onChange={(e) => onChange?.(e.target.value)} autoSize={{ minRows: 2, maxRows: 8 }} style={MONO} spellCheck={false} />
    case 'json':
      return (
        <Input.TextArea
          {...common}
          value={value as string}
          onChange={(e) => onChange?.(e.target.value)}
          autoSize={{ minRows: 1, maxRows: 8 }}
          style={MONO}
          placeholder={field.acceptsText ? 'Text, or JSON' : 'JSON'}
          spellCheck={false}
        />
      )
    default:
      return (
        <Input
          {...common}
          value={value as string}
          onChange={(e) => onChange?.(e.target.value)}
          maxLength={field.maxLength}
          placeholder={typeof field.default === 'string' ? field.default : field.nullable ? 'Not set' : undefined}
        />
      )
  }
}

function help(field: ParamField, schemas: Schemas): string | undefined {
  const parts = [field.description, rangeText(field)]
  if (field.picker) parts.push(pickerHelp(columnChoices(schemas[field.picker.port], field.picker.types), field.picker.types))
  const text = parts.filter(Boolean).join(' ')
  return text || undefined
}

function MapInput({ field, schemas, disabled, issue }: { field: ParamField; schemas: Schemas; disabled: boolean; issue?: string }) {
  const choices = columnChoices(field.keysFrom ? schemas[field.keysFrom] : null, ['any'])
  return (
    <Form.Item label={field.label} required={field.required} extra={field.description} validateStatus={issue ? 'error' : undefined} help={issue}>
      <Form.List name={field.name}>
        {(rows, { add, remove }) => (
          <>
            {rows.map((row) => (
              <Flex key={row.key} gap={6} align="baseline" style={{ marginBottom: 6 }}>
                <Form.Item name={[row.name, 'key']} noStyle>
                  {field.keysFrom ? (
                    <AutoComplete options={columnOptions(choices).map((o) => ({ value: o.value, label: columnOption({ value: o.value, data: o }) }))} placeholder="Column" style={{ flex: 1 }} disabled={disabled} />
                  ) : (
                    <Input placeholder="Key" style={{ flex: 1 }} disabled={disabled} />
                  )}
                </Form.Item>
                <span style={{ color: '#8c8c8c' }}>→</span>
                <Form.Item name={[row.name, 'value']} noStyle>
                  <Input placeholder="Value" style={{ flex: 1 }} disabled={disabled} />
                </Form.Item>
                {!disabled && <MinusCircleOutlined onClick={() => remove(row.name)} aria-label="Remove" />}
              </Flex>
            ))}
            {!disabled && (
              <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={() => add({ key: '', value: '' })} block data-testid={`add-${field.name}`}>
                Add
              </Button>
            )}
          </>
        )}
      </Form.List>
    </Form.Item>
  )
}

function ObjectsInput({ field, schemas, disabled, slug, issue }: { field: ParamField; schemas: Schemas; disabled: boolean; slug: string; issue?: string }) {
  return (
    <Form.Item label={field.label} required={field.required} extra={field.description} validateStatus={issue ? 'error' : undefined} help={issue}>
      <Form.List name={field.name}>
        {(items, { add, remove }) => (
          <>
            {items.map((item, i) => (
              <div key={item.key} style={{ border: '1px solid #f0f0f0', borderRadius: 6, padding: '8px 8px 0', marginBottom: 8 }}>
                <Flex justify="space-between" style={{ marginBottom: 4 }}>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    #{i + 1}
                  </Typography.Text>
                  {!disabled && <Button size="small" type="text" icon={<DeleteOutlined />} onClick={() => remove(item.name)} aria-label="Remove item" />}
                </Flex>
                {(field.itemFields ?? []).map((sub) => (
                  <Form.Item
                    key={sub.name}
                    name={[item.name, sub.name]}
                    label={sub.label}
                    required={sub.required}
                    tooltip={help(sub, schemas)}
                    style={{ marginBottom: 8 }}
                  >
                    <ParamInput field={sub} schemas={schemas} disabled={disabled} slug={slug} />
                  </Form.Item>
                ))}
              </div>
            ))}
            {!disabled && (
              <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={() => add({})} block data-testid={`add-${field.name}`}>
                Add
              </Button>
            )}
          </>
        )}
      </Form.List>
    </Form.Item>
  )
}

/** The selected node's form: its label and the params its operator's schema declares. */
export function NodeForm({
  node,
  operator,
  schemas,
  issues,
  readOnly,
  slug,
  onParams,
  onLabel,
  onDelete,
}: {
  node: OpNode
  operator: OperatorRead | undefined
  schemas: Schemas
  issues: PipelineIssue[]
  readOnly: boolean
  slug: string
  onParams: (params: Record<string, unknown>) => void
  onLabel: (label: string) => void
  onDelete: () => void
}) {
  const fields = useMemo(() => (operator ? paramFields(operator.params_schema) : []), [operator])
  const initial = useMemo(() => formFromParams(fields, node.data.params), [fields, node.data.params])
  const fieldIssue = (name: string) =>
    issues
      .filter((i) => i.part === 'params' && (i.field === name || i.field?.startsWith(`${name}.`)))
      .map((i) => i.message)
      .join(' ') || undefined
  const known = new Set(fields.map((f) => f.name))
  const general = issues.filter((i) => !(i.part === 'params' && i.field && known.has(i.field.split('.')[0])))

  return (
    <div data-testid="node-form">
      <Flex justify="space-between" align="flex-start" gap={8}>
        <div style={{ minWidth: 0 }}>
          <Typography.Title level={5} style={{ margin: 0 }}>
            {operator?.title ?? node.data.operator}
          </Typography.Title>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            <Typography.Text code style={{ fontSize: 11 }}>
              {node.id}
            </Typography.Text>{' '}
            {node.data.operator} v{node.data.version ?? operator?.version ?? '?'}
          </Typography.Text>
        </div>
        {!readOnly && <Button size="small" danger icon={<DeleteOutlined />} onClick={onDelete} aria-label="Delete node" />}
      </Flex>
      {operator?.description && (
        <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '8px 0 0' }}>
          {operator.description}
        </Typography.Paragraph>
      )}
      {operator && (
        <Space size={4} wrap style={{ marginTop: 6 }}>
          {operator.inputs.map((p) => {
            const s = schemas[p.name]
            return (
              <Tag key={p.name} bordered={false}>
                {operator.inputs.length > 1 ? `Input ${p.name}` : 'Input'}: {s ? `${(s.columns ?? []).length}${s.open ? '+' : ''} columns` : 'not connected'}
              </Tag>
            )
          })}
        </Space>
      )}
      {!operator && <Alert type="error" showIcon style={{ marginTop: 8 }} title={`Operator “${node.data.operator}” is not installed.`} />}
      {general.length > 0 && (
        <Alert
          type="error"
          showIcon
          style={{ marginTop: 8 }}
          data-testid="node-errors"
          title={general.map((i, k) => (
            <div key={k}>
              {i.field && i.part !== 'graph' ? <b>{i.field}: </b> : null}
              {i.message}
            </div>
          ))}
        />
      )}
      <Divider style={{ margin: '12px 0' }} />
      <Form
        key={`${node.id}:${node.data.operator}`}
        layout="vertical"
        size="small"
        disabled={readOnly}
        initialValues={{ __label: node.data.label ?? '', ...initial }}
        onValuesChange={(changed: Record<string, unknown>, all: Record<string, unknown>) => {
          if ('__label' in changed) onLabel(String(changed.__label ?? ''))
          if (Object.keys(changed).some((k) => k !== '__label')) onParams(paramsFromForm(fields, all))
        }}
      >
        <Form.Item name="__label" label="Label" extra="Shown on the canvas instead of the operator's title.">
          <Input maxLength={200} placeholder={operator?.title} aria-label="Label" />
        </Form.Item>
        {fields.length === 0 && operator && <Typography.Text type="secondary">This operator has no parameters.</Typography.Text>}
        {fields.map((f) => {
          const issue = fieldIssue(f.name)
          if (f.kind === 'map') return <MapInput key={f.name} field={f} schemas={schemas} disabled={readOnly} issue={issue} />
          if (f.kind === 'objects') return <ObjectsInput key={f.name} field={f} schemas={schemas} disabled={readOnly} slug={slug} issue={issue} />
          return (
            <Form.Item
              key={f.name}
              name={f.name}
              label={f.label}
              required={f.required && !f.nullable && f.kind !== 'boolean'}
              extra={help(f, schemas)}
              validateStatus={issue ? 'error' : undefined}
              help={issue}
              data-field={f.name}
            >
              <ParamInput field={f} schemas={schemas} disabled={readOnly} slug={slug} />
            </Form.Item>
          )
        })}
      </Form>
    </div>
  )
}
