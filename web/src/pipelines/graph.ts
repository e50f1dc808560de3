// The pipeline graph (plain data, as the API keeps it) and the canvas's nodes and edges.
import type { Connection, Edge, Node } from '@xyflow/react'
import type { GraphVariable, OperatorRead, PipelineGraph, PortRead } from './types'
import { portColour } from './status'

export interface OpNodeData extends Record<string, unknown> {
  operator: string
  version?: number | null
  params: Record<string, unknown>
  label?: string | null
}

export type OpNode = Node<OpNodeData, 'op'>

export function edgeId(e: { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null }): string {
  return `${e.source}:${e.sourceHandle ?? 'out'}->${e.target}:${e.targetHandle ?? 'in'}`
}

export function flowEdge(e: { source: string; sourceHandle: string; target: string; targetHandle: string }, type?: string): Edge {
  const colour = portColour(type ?? 'table')
  return {
    id: edgeId(e),
    source: e.source,
    sourceHandle: e.sourceHandle,
    target: e.target,
    targetHandle: e.targetHandle,
    style: { stroke: colour, strokeWidth: 1.8 },
  }
}

export function toFlow(graph: PipelineGraph, operators: Map<string, OperatorRead>): { nodes: OpNode[]; edges: Edge[] } {
  const nodes: OpNode[] = (graph.nodes ?? []).map((n) => ({
    id: n.id,
    type: 'op',
    position: { x: n.position?.x ?? 0, y: n.position?.y ?? 0 },
    data: { operator: n.operator, version: n.version ?? null, params: n.params ?? {}, label: n.label ?? null },
  }))
  const ops = new Map((graph.nodes ?? []).map((n) => [n.id, operators.get(n.operator)]))
  const edges = (graph.edges ?? []).map((e) =>
    flowEdge(
      { source: e.source, sourceHandle: e.source_port, target: e.target, targetHandle: e.target_port },
      ops.get(e.source)?.outputs.find((p) => p.name === e.source_port)?.type,
    ),
  )
  return { nodes, edges }
}

export function toGraph(nodes: OpNode[], edges: Edge[], variables: GraphVariable[]): PipelineGraph {
  return {
    nodes: nodes.map((n) => ({
      id: n.id,
      operator: n.data.operator,
      version: n.data.version ?? null,
      params: n.data.params,
      label: n.data.label || null,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    })),
    edges: edges.map((e) => ({
      source: e.source,
      source_port: e.sourceHandle ?? 'out',
      target: e.target,
      target_port: e.targetHandle ?? 'in',
    })),
    variables,
  }
}

/** A graph's content for comparisons (positions count too: a moved node is a change worth saving). */
export function graphText(graph: PipelineGraph): string {
  return JSON.stringify(graph)
}

/** What validation looks at: positions and labels left out, so moving a node does not validate again. */
export function validationText(graph: PipelineGraph): string {
  return JSON.stringify({
    nodes: (graph.nodes ?? []).map((n) => [n.id, n.operator, n.version ?? null, n.params]),
    edges: graph.edges,
    variables: graph.variables,
  })
}

/** A fresh node id for an operator: "scale", "scale_2", ... */
export function newNodeId(operator: string, taken: Set<string>): string {
  const base = operator.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 56) || 'node'
  if (!taken.has(base)) return base
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`
}

function port(op: OperatorRead | undefined, name: string | null | undefined, side: 'in' | 'out'): PortRead | undefined {
  return (side === 'in' ? op?.inputs : op?.outputs)?.find((p) => p.name === name)
}

/** Why a connection may not be made, or null when it may. */
export function connectionProblem(
  c: Connection | Edge,
  nodes: OpNode[],
  edges: Edge[],
  operators: Map<string, OperatorRead>,
): string | null {
  if (c.source === c.target) return 'A node cannot feed itself.'
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const from = port(operators.get(byId.get(c.source)?.data.operator ?? ''), c.sourceHandle, 'out')
  const to = port(operators.get(byId.get(c.target)?.data.operator ?? ''), c.targetHandle, 'in')
  if (!from || !to) return 'Connect an output port (right) to an input port (left).'
  if (from.type !== to.type) return `Port types differ: ${c.sourceHandle} gives a ${from.type}, ${c.targetHandle} takes a ${to.type}.`
  if (edges.some((e) => e.target === c.target && e.targetHandle === c.targetHandle))
    return `Input ${c.targetHandle} of ${c.target} is already connected.`
  // No cycles: the target must not reach the source.
  const down = new Map<string, string[]>()
  for (const e of edges) down.set(e.source, [...(down.get(e.source) ?? []), e.target])
  const stack = [c.target]
  const seen = new Set<string>()
  while (stack.length) {
    const id = stack.pop()!
    if (id === c.source) return 'This link would make a cycle.'
    if (seen.has(id)) continue
    seen.add(id)
    stack.push(...(down.get(id) ?? []))
  }
  return null
}
