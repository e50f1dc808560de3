import { CheckOutlined, MinusOutlined } from '@ant-design/icons'
import { Table, Tag, Typography } from 'antd'
import { EmptyState } from '../common/page-states'
import { percent } from './format'
import type { ColumnSchema, ColumnStats } from './types'

function typeColor(type: string): string {
  if (/^(u?int|float|double|decimal|halffloat)/.test(type)) return 'blue'
  if (/string|utf8|binary/.test(type)) return 'green'
  if (/^(timestamp|date|time|duration)/.test(type)) return 'gold'
  if (type === 'bool') return 'cyan'
  if (/^(list|struct|map|large_list)/.test(type)) return 'magenta'
  return 'default'
}

/** The columns of a dataset: name, Arrow type, whether nulls may occur, and partition columns. */
export function SchemaTable({ columns, stats }: { columns: ColumnSchema[]; stats?: ColumnStats[] }) {
  const byName = new Map((stats ?? []).map((s) => [s.name, s]))
  const tableColumns = [
    { title: '#', key: 'pos', width: 50, render: (_: unknown, __: ColumnSchema, i: number) => <Typography.Text type="secondary">{i + 1}</Typography.Text> },
    {
      title: 'Column',
      dataIndex: 'name',
      key: 'name',
      render: (name: string, c: ColumnSchema) => (
        <span>
          <Typography.Text strong>{name}</Typography.Text>
          {c.partition && (
            <Tag color="purple" style={{ marginInlineStart: 8 }}>
              partition
            </Tag>
          )}
        </span>
      ),
    },
    {
      title: 'Type',
      dataIndex: 'type',
      key: 'type',
      render: (t: string) => (
        <Tag color={typeColor(t)} style={{ fontFamily: 'monospace' }}>
          {t}
        </Tag>
      ),
    },
    {
      title: 'Nullable',
      key: 'nullable',
      width: 90,
      render: (_: unknown, c: ColumnSchema) =>
        c.nullable === false ? <MinusOutlined aria-label="not nullable" /> : <CheckOutlined aria-label="nullable" style={{ color: '#389e0d' }} />,
    },
    ...(stats
      ? [
          {
            title: 'Nulls in sample',
            key: 'nulls',
            width: 140,
            render: (_: unknown, c: ColumnSchema) => {
              const s = byName.get(c.name)
              return s ? `${s.nulls.toLocaleString()} (${percent(s.nulls, s.rows)})` : '—'
            },
          },
          {
            title: 'Distinct',
            key: 'distinct',
            width: 100,
            render: (_: unknown, c: ColumnSchema) => byName.get(c.name)?.distinct?.toLocaleString() ?? '—',
          },
        ]
      : []),
  ]
  return (
    <Table
      rowKey="name"
      size="small"
      columns={tableColumns}
      dataSource={columns}
      pagination={columns.length > 100 ? { pageSize: 100, showSizeChanger: false } : false}
      data-testid="schema-table"
      locale={{ emptyText: <EmptyState description="No columns." /> }}
    />
  )
}
