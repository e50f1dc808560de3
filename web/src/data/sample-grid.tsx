import { Table, Tag, Tooltip, Typography } from 'antd'
import { useMemo } from 'react'
import { EmptyState } from '../common/page-states'
import { cellText } from './format'
import type { ColumnSchema } from './types'

type Row = Record<string, unknown>

const NUMERIC = /^(u?int\d*|float\d*|double|halffloat|decimal)/

const CELL = { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', fontSize: 12 }

/** Short type names for the header: "timestamp[us, tz=UTC]" stays whole, "large_string" reads "string". */
function shortType(type: string): string {
  return type.replace(/^large_/, '').replace(/^dictionary<values=([^,]+),.*$/, '$1')
}

function Cell({ value }: { value: unknown }) {
  if (value === null || value === undefined) {
    return (
      <Typography.Text type="secondary" italic>
        null
      </Typography.Text>
    )
  }
  const text = cellText(value)
  const full = typeof value === 'object' ? JSON.stringify(value) : String(value)
  return full.length > 60 ? (
    <Tooltip title={<span style={{ whiteSpace: 'pre-wrap' }}>{cellText(value, 2000)}</span>}>
      <span style={CELL}>{text}</span>
    </Tooltip>
  ) : (
    <span style={CELL}>{text}</span>
  )
}

/**
 * The sample rows as a grid: one column per field (type under the name), paginated so a wide or
 * long sample stays quick, scrolling sideways for many columns.
 */
export function SampleGrid({
  rows,
  columns,
  schema,
  pageSize = 20,
  empty = 'The sample holds no rows.',
}: {
  rows: Row[]
  columns?: string[]
  schema?: ColumnSchema[] | null
  pageSize?: number
  empty?: string
}) {
  const names = useMemo(() => {
    if (columns?.length) return columns
    if (schema?.length) return schema.map((c) => c.name)
    const seen = new Set<string>()
    for (const r of rows.slice(0, 50)) for (const k of Object.keys(r)) seen.add(k)
    return [...seen]
  }, [columns, schema, rows])
  const types = useMemo(() => new Map((schema ?? []).map((c) => [c.name, c])), [schema])
  const data = useMemo(() => rows.map((r, i) => ({ ...r, __row: i })), [rows])

  const tableColumns = [
    {
      title: '#',
      key: '__row',
      width: 56,
      fixed: 'left' as const,
      render: (_: unknown, r: Row) => <Typography.Text type="secondary">{(r.__row as number) + 1}</Typography.Text>,
    },
    ...names.map((name) => {
      const col = types.get(name)
      return {
        title: (
          <span style={{ whiteSpace: 'nowrap' }}>
            {name}
            {col && (
              <Typography.Text type="secondary" style={{ display: 'block', fontSize: 11, fontWeight: 400 }}>
                {shortType(col.type)}
                {col.partition && (
                  <Tag color="purple" style={{ marginInlineStart: 4, fontSize: 10, lineHeight: '14px', padding: '0 4px' }}>
                    partition
                  </Tag>
                )}
              </Typography.Text>
            )}
          </span>
        ),
        key: name,
        ellipsis: true,
        align: col && NUMERIC.test(col.type) ? ('right' as const) : undefined,
        onCell: () => ({ style: { maxWidth: 320 } }),
        render: (_: unknown, r: Row) => <Cell value={r[name]} />,
      }
    }),
  ]

  return (
    <Table
      rowKey="__row"
      size="small"
      bordered
      columns={tableColumns}
      dataSource={data}
      pagination={rows.length > pageSize ? { pageSize, showSizeChanger: false, size: 'small', showTotal: (t) => `${t} rows` } : false}
      scroll={{ x: 'max-content' }}
      data-testid="sample-grid"
      locale={{ emptyText: <EmptyState description={empty} /> }}
    />
  )
}
