// A layered layout for a DAG, left to right: each node sits one layer after its deepest upstream,
// and nodes within a layer are ordered by where their upstreams sit (so edges cross less).

export interface Placed {
  id: string
  layer: number
  x: number
  y: number
}

export interface LayoutOptions {
  nodeWidth: number
  nodeHeight: number
  layerGap: number
  rowGap: number
}

export function layeredLayout(ids: string[], edges: [string, string][], opts: LayoutOptions): Map<string, Placed> {
  const known = new Set(ids)
  const ups = new Map<string, string[]>(ids.map((id) => [id, []]))
  for (const [from, to] of edges) if (known.has(from) && known.has(to)) ups.get(to)!.push(from)

  // Longest path from a source; a cycle (which the API refuses) cannot loop here.
  const layer = new Map<string, number>()
  const visiting = new Set<string>()
  const depth = (id: string): number => {
    const seen = layer.get(id)
    if (seen !== undefined) return seen
    if (visiting.has(id)) return 0
    visiting.add(id)
    const d = Math.max(-1, ...ups.get(id)!.map(depth)) + 1
    visiting.delete(id)
    layer.set(id, d)
    return d
  }
  ids.forEach(depth)

  const layers: string[][] = []
  for (const id of ids) (layers[layer.get(id)!] ??= []).push(id)

  // Order each layer by the mean row of its upstreams in the layer before.
  const row = new Map<string, number>()
  layers.forEach((members, i) => {
    if (i > 0) {
      const key = (id: string) => {
        const rows = ups.get(id)!.map((u) => row.get(u) ?? 0)
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.MAX_SAFE_INTEGER
      }
      members.sort((a, b) => key(a) - key(b))
    }
    members.forEach((id, r) => row.set(id, r))
  })

  const tallest = Math.max(...layers.map((l) => l.length))
  const out = new Map<string, Placed>()
  layers.forEach((members, i) => {
    const offset = ((tallest - members.length) * (opts.nodeHeight + opts.rowGap)) / 2
    members.forEach((id, r) => {
      out.set(id, {
        id,
        layer: i,
        x: i * (opts.nodeWidth + opts.layerGap),
        y: offset + r * (opts.nodeHeight + opts.rowGap),
      })
    })
  })
  return out
}
