import { TableOutlined } from '@ant-design/icons'
import { Badge, Button, Flex, Popover, Select, Typography } from 'antd'
import type { ChosenColumns } from './columns'
import type { ExperimentColumns } from './types'

const MAX = 100

function Picker({ label, keys, value, onChange }: { label: string; keys: string[]; value: string[]; onChange: (v: string[]) => void }) {
  return (
    <div>
      <Flex justify="space-between" align="baseline">
        <Typography.Text strong>{label}</Typography.Text>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {value.length} of {keys.length}
          {keys.length > 0 && (
            <>
              {' · '}
              <Typography.Link style={{ fontSize: 12 }} onClick={() => onChange(keys.slice(0, MAX))}>
                all
              </Typography.Link>
              {' · '}
              <Typography.Link style={{ fontSize: 12 }} onClick={() => onChange([])}>
                none
              </Typography.Link>
            </>
          )}
        </Typography.Text>
      </Flex>
      <Select
        mode="multiple"
        allowClear
        value={value}
        onChange={(v: string[]) => onChange(v.slice(0, MAX))}
        options={keys.map((k) => ({ value: k, label: k }))}
        placeholder={keys.length ? `Choose ${label.toLowerCase()}` : `No ${label.toLowerCase()} logged`}
        disabled={!keys.length}
        maxTagCount={12}
        style={{ width: '100%', marginTop: 4 }}
        aria-label={`${label} columns`}
        data-testid={`columns-${label.toLowerCase()}`}
      />
    </div>
  )
}

/** "Columns": which params, metrics and tags the runs table shows (kept per experiment in the browser). */
export function ColumnChooser({ columns, value, onChange }: { columns: ExperimentColumns | undefined; value: ChosenColumns; onChange: (v: ChosenColumns) => void }) {
  const count = value.metrics.length + value.params.length + value.tags.length
  const content = (
    <Flex vertical gap={14} style={{ width: 420 }}>
      <Picker label="Metrics" keys={columns?.metrics ?? []} value={value.metrics} onChange={(metrics) => onChange({ ...value, metrics })} />
      <Picker label="Params" keys={columns?.params ?? []} value={value.params} onChange={(params) => onChange({ ...value, params })} />
      <Picker label="Tags" keys={columns?.tags ?? []} value={value.tags} onChange={(tags) => onChange({ ...value, tags })} />
      {columns?.tags_from_newest && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          Tag keys come from the newest {columns.tags_from_newest.toLocaleString('en-US')} runs.
        </Typography.Text>
      )}
    </Flex>
  )
  return (
    <Popover content={content} title="Table columns" trigger="click" placement="bottomRight">
      <Badge count={count} size="small" color="#1668dc">
        <Button icon={<TableOutlined />} data-testid="column-chooser">
          Columns
        </Button>
      </Badge>
    </Popover>
  )
}
