import { Table, Tag, Typography } from 'antd'
import { EmptyState } from '../common/page-states'
import { bytes, count } from './format'
import type { Partition } from './types'

/** Partition folders with their key=value pairs, file counts and sizes; optionally selectable. */
export function PartitionsTable({
  partitions,
  selected,
  onSelect,
}: {
  partitions: Partition[]
  selected?: string[]
  onSelect?: (paths: string[]) => void
}) {
  const columns = [
    {
      title: 'Partition',
      dataIndex: 'path',
      key: 'path',
      render: (p: string) => (
        <Typography.Text code style={{ fontSize: 12 }}>
          {p}
        </Typography.Text>
      ),
    },
    {
      title: 'Values',
      key: 'values',
      render: (_: unknown, p: Partition) =>
        Object.entries(p.values).map(([k, v]) => (
          <Tag key={k}>
            {k} = {v}
          </Tag>
        )),
    },
    { title: 'Files', dataIndex: 'files', key: 'files', width: 90, align: 'right' as const, render: (n: number) => count(n) },
    { title: 'Size', dataIndex: 'bytes', key: 'bytes', width: 110, align: 'right' as const, render: (n: number) => bytes(n) },
  ]
  return (
    <Table
      rowKey="path"
      size="small"
      columns={columns}
      dataSource={partitions}
      rowSelection={onSelect ? { selectedRowKeys: selected ?? [], onChange: (keys) => onSelect(keys.map(String)) } : undefined}
      pagination={partitions.length > 50 ? { pageSize: 50, showSizeChanger: false, size: 'small' } : false}
      data-testid="partitions-table"
      locale={{ emptyText: <EmptyState description="No partitions." /> }}
    />
  )
}
