import { Segmented, Table, Typography } from 'antd'
import { useMemo, useState } from 'react'
import { EmptyState } from '../common/page-states'

const CELL = { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', fontSize: 12 }

function cell(value: unknown) {
  if (value === null || value === undefined)
    return (
      <Typography.Text type="secondary" italic style={CELL}>
        null
      </Typography.Text>
    )
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value)
  return <span style={CELL}>{text.length > 120 ? `${text.slice(0, 120)}…` : text}</span>
}

/** A node's output sample: the first rows of each table output (a switch when there are several). */
export function SampleTable({ sample, rowsOut }: { sample: Record<string, Record<string, unknown>[]>; rowsOut: Record<string, number> }) {
  const ports = Object.keys(sample)
  const [chosen, setChosen] = useState<string | null>(null)
  const port = chosen && ports.includes(chosen) ? chosen : ports[0]
  const rows = useMemo(() => (port ? sample[port] : []), [sample, port])
  const columns = useMemo(() => {
    const names = [...new Set(rows.flatMap((r) => Object.keys(r)))]
    return names.map((name) => ({
      title: <span style={{ ...CELL, fontWeight: 600 }}>{name}</span>,
      dataIndex: name,
      key: name,
      render: cell,
      ellipsis: true,
      width: Math.min(240, Math.max(90, name.length * 9 + 24)),
    }))
  }, [rows])
  if (!ports.length) return <EmptyState description="This node keeps no output sample (it has no table output, or it has not run)." />
  return (
    <div data-testid="sample-table">
      {ports.length > 1 && (
        <Segmented size="small" value={port} onChange={(v) => setChosen(String(v))} options={ports} style={{ marginBottom: 8 }} />
      )}
      <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block', marginBottom: 6 }}>
        First {rows.length.toLocaleString()} rows
        {rowsOut[port] !== undefined ? ` of ${rowsOut[port].toLocaleString()}` : ''} · {columns.length} columns
      </Typography.Text>
      <Table
        size="small"
        rowKey={(_, i) => String(i)}
        columns={columns}
        dataSource={rows}
        pagination={rows.length > 50 ? { pageSize: 50, size: 'small' } : false}
        scroll={{ x: 'max-content', y: 220 }}
        bordered
      />
    </div>
  )
}
