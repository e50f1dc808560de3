import { CheckCircleFilled, CloseCircleFilled, ExclamationCircleFilled, LoadingOutlined } from '@ant-design/icons'
import { Handle, type NodeProps, Position } from '@xyflow/react'
import { Tooltip, Typography } from 'antd'
import { memo } from 'react'
import { useEditorView } from './editor-context'
import type { OpNode } from './graph'
import { nodeLook, portColour, rows, seconds } from './status'
import type { PortRead } from './types'

export const NODE_WIDTH = 210
const HEADER = 46
const ROW = 22

function PortLabel({ port, side }: { port: PortRead; side: 'in' | 'out' }) {
  return (
    <div
      style={{
        height: ROW,
        lineHeight: `${ROW}px`,
        fontSize: 11,
        color: '#595959',
        textAlign: side === 'in' ? 'left' : 'right',
        paddingLeft: side === 'in' ? 10 : 0,
        paddingRight: side === 'out' ? 10 : 0,
        whiteSpace: 'nowrap',
      }}
    >
      {port.name}
      {!port.required && side === 'in' && <span style={{ color: '#bfbfbf' }}> (optional)</span>}
    </div>
  )
}

function handleStyle(port: PortRead, index: number) {
  return {
    top: HEADER + index * ROW + ROW / 2,
    width: 11,
    height: 11,
    background: portColour(port.type),
    border: '2px solid #fff',
    boxShadow: `0 0 0 1px ${portColour(port.type)}`,
  }
}

/** One operator on the canvas: its typed ports as handles, its validation errors and run status. */
function OperatorNodeView({ id, data, selected }: NodeProps<OpNode>) {
  const { operators, issues, nodeRuns } = useEditorView()
  const op = operators.get(data.operator)
  const problems = issues.get(id) ?? []
  const run = nodeRuns.get(id)
  const look = run ? nodeLook(run.status) : null
  const inputs = op?.inputs ?? []
  const outputs = op?.outputs ?? []
  const bodyRows = Math.max(inputs.length, outputs.length, 1)
  const border = problems.length ? '#cf1322' : look ? look.hex : '#d9d9d9'
  const title = data.label || op?.title || data.operator

  const box = (
    <div
      data-testid={`node-${id}`}
      data-status={run?.status ?? ''}
      data-invalid={problems.length ? 'true' : 'false'}
      style={{
        width: NODE_WIDTH,
        minHeight: HEADER + bodyRows * ROW + 6,
        boxSizing: 'border-box',
        background: run?.status === 'skipped' ? '#fafafa' : '#fff',
        border: `${problems.length || look ? 2 : 1}px ${run?.status === 'skipped' ? 'dashed' : 'solid'} ${border}`,
        borderRadius: 8,
        boxShadow: selected ? '0 0 0 3px rgba(22,104,220,0.35)' : '0 1px 3px rgba(0,0,0,0.08)',
        position: 'relative',
      }}
    >
      <div
        style={{
          height: HEADER,
          boxSizing: 'border-box',
          padding: '5px 10px 4px',
          borderBottom: '1px solid #f0f0f0',
          background: look ? `${look.hex}14` : problems.length ? '#fff1f0' : '#fafafa',
          borderRadius: '7px 7px 0 0',
        }}
      >
        <div style={{ display: 'flex', alignItems: 'center', gap: 6 }}>
          <Typography.Text strong ellipsis style={{ flex: 1, fontSize: 13 }}>
            {title}
          </Typography.Text>
          {problems.length > 0 && <ExclamationCircleFilled style={{ color: '#cf1322' }} aria-label="Has errors" />}
          {run?.status === 'running' && <LoadingOutlined style={{ color: look!.hex }} />}
          {(run?.status === 'succeeded' || run?.status === 'cached') && <CheckCircleFilled style={{ color: look!.hex }} />}
          {run?.status === 'failed' && <CloseCircleFilled style={{ color: look!.hex }} />}
        </div>
        <Typography.Text type="secondary" ellipsis style={{ fontSize: 11, display: 'block' }}>
          {run ? (
            <span data-testid={`node-status-${id}`}>
              {look!.label}
              {run.duration_s !== null && ` · ${seconds(run.duration_s)}`}
              {run.rows_out !== null && ` · ${rows(run.rows_out)} rows`}
            </span>
          ) : (
            <>
              {id}
              {op ? '' : ' · unknown operator'}
            </>
          )}
        </Typography.Text>
      </div>
      <div style={{ display: 'flex', justifyContent: 'space-between', padding: '0 0 6px' }}>
        <div>
          {inputs.map((p) => (
            <PortLabel key={p.name} port={p} side="in" />
          ))}
        </div>
        <div>
          {outputs.map((p) => (
            <PortLabel key={p.name} port={p} side="out" />
          ))}
        </div>
      </div>
      {inputs.map((p, i) => (
        <Handle
          key={`in-${p.name}`}
          id={p.name}
          type="target"
          position={Position.Left}
          style={handleStyle(p, i)}
          title={`${p.name}: ${p.type}${p.required ? '' : ' (optional)'}`}
          data-port-type={p.type}
        />
      ))}
      {outputs.map((p, i) => (
        <Handle
          key={`out-${p.name}`}
          id={p.name}
          type="source"
          position={Position.Right}
          style={handleStyle(p, i)}
          title={`${p.name}: ${p.type}`}
          data-port-type={p.type}
        />
      ))}
    </div>
  )
  if (!problems.length && !run?.error) return box
  const tip = (
    <div data-testid={`node-tooltip-${id}`}>
      {problems.map((p, i) => (
        <div key={i}>
          {p.field ? <b>{p.field}: </b> : null}
          {p.message}
        </div>
      ))}
      {run?.error && <div>{run.error}</div>}
    </div>
  )
  return (
    <Tooltip title={tip} color={problems.length || run?.status === 'failed' ? '#a8071a' : undefined} placement="top" mouseEnterDelay={0.2}>
      {box}
    </Tooltip>
  )
}

export const OperatorNode = memo(OperatorNodeView)
