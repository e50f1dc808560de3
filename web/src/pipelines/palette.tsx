import { DoubleLeftOutlined, PlusOutlined, SearchOutlined } from '@ant-design/icons'
import { Button, Input, Tooltip, Typography } from 'antd'
import { useMemo, useState } from 'react'
import { EmptyState } from '../common/page-states'
import { DRAG_TYPE, familyName, familyOrder } from './families'
import { portColour } from './status'
import type { OperatorRead } from './types'

function matches(op: OperatorRead, q: string): boolean {
  if (!q) return true
  const text = `${op.id} ${op.title} ${op.description} ${op.family} ${familyName(op.family)}`.toLowerCase()
  return q
    .toLowerCase()
    .split(/\s+/)
    .every((word) => text.includes(word))
}

function Ports({ op }: { op: OperatorRead }) {
  const dot = (type: string, key: string) => (
    <span key={key} style={{ display: 'inline-block', width: 7, height: 7, borderRadius: 4, background: portColour(type), marginRight: 2 }} />
  )
  return (
    <span style={{ whiteSpace: 'nowrap' }}>
      {op.inputs.map((p) => dot(p.type, `i${p.name}`))}
      <span style={{ color: '#bfbfbf', margin: '0 2px' }}>→</span>
      {op.outputs.map((p) => dot(p.type, `o${p.name}`))}
    </span>
  )
}

/** The operators, grouped by family and searchable: drag one onto the canvas (or press +). */
export function Palette({ operators, onAdd, onHide }: { operators: OperatorRead[]; onAdd: (op: OperatorRead) => void; onHide: () => void }) {
  const [q, setQ] = useState('')
  const groups = useMemo(() => {
    const byFamily = new Map<string, OperatorRead[]>()
    for (const op of operators) if (matches(op, q.trim())) byFamily.set(op.family, [...(byFamily.get(op.family) ?? []), op])
    return [...byFamily.entries()]
      .sort(([a], [b]) => familyOrder(a) - familyOrder(b) || a.localeCompare(b))
      .map(([family, ops]) => [family, ops.sort((a, b) => a.title.localeCompare(b.title))] as const)
  }, [operators, q])

  return (
    <div style={{ display: 'flex', flexDirection: 'column', height: '100%' }} data-testid="palette">
      <div style={{ padding: 8, borderBottom: '1px solid #f0f0f0', display: 'flex', gap: 4 }}>
        <Input
          allowClear
          prefix={<SearchOutlined />}
          placeholder="Search operators"
          aria-label="Search operators"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <Tooltip title="Hide the operators">
          <Button type="text" icon={<DoubleLeftOutlined />} onClick={onHide} aria-label="Hide the operators" />
        </Tooltip>
      </div>
      <div style={{ overflowY: 'auto', flex: 1, padding: '4px 0 12px' }}>
        {groups.length === 0 && <EmptyState description={q ? `No operator matches “${q}”.` : 'No operators are installed.'} />}
        {groups.map(([family, ops]) => (
          <div key={family} data-testid={`family-${family}`}>
            <Typography.Text type="secondary" style={{ display: 'block', fontSize: 11, textTransform: 'uppercase', letterSpacing: 0.4, padding: '10px 12px 4px' }}>
              {familyName(family)}
            </Typography.Text>
            {ops.map((op) => (
              <Tooltip key={op.id} title={op.error ? `Failed to load: ${op.error}` : op.description} placement="right" mouseEnterDelay={0.4}>
                <div
                  draggable={!op.error}
                  onDragStart={(e) => {
                    e.dataTransfer.setData(DRAG_TYPE, op.id)
                    e.dataTransfer.effectAllowed = 'move'
                  }}
                  onDoubleClick={() => !op.error && onAdd(op)}
                  data-testid={`palette-${op.id}`}
                  className="dais-palette-item"
                  style={{
                    display: 'flex',
                    alignItems: 'center',
                    gap: 6,
                    margin: '0 8px 4px',
                    padding: '5px 6px 5px 10px',
                    border: '1px solid #f0f0f0',
                    borderRadius: 6,
                    background: op.error ? '#fff1f0' : '#fff',
                    cursor: op.error ? 'not-allowed' : 'grab',
                    userSelect: 'none',
                  }}
                >
                  <div style={{ flex: 1, minWidth: 0 }}>
                    <Typography.Text ellipsis style={{ display: 'block', fontSize: 13 }}>
                      {op.title}
                    </Typography.Text>
                    <Ports op={op} />
                  </div>
                  {!op.error && (
                    <Button
                      size="small"
                      type="text"
                      icon={<PlusOutlined />}
                      aria-label={`Add ${op.title}`}
                      onClick={() => onAdd(op)}
                    />
                  )}
                </div>
              </Tooltip>
            ))}
          </div>
        ))}
      </div>
    </div>
  )
}
