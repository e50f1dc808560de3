// Where the data pages live.

export const dataPath = (slug: string) => `/w/${slug}/data`
export const connectionsPath = (slug: string) => `/w/${slug}/data/connections`
export const datasetPath = (slug: string, name: string, tab?: string) =>
  `/w/${slug}/data/datasets/${encodeURIComponent(name)}${tab ? `?tab=${tab}` : ''}`

/** The registration wizard, with a connection and a path or table filled in. */
export function registerLink(slug: string, connection?: string | null, entry?: { path: string; kind: string }): string {
  const params = new URLSearchParams()
  if (connection) params.set('connection', connection)
  if (entry) params.set(entry.kind === 'table' || entry.kind === 'view' ? 'table' : 'path', entry.path)
  const qs = params.toString()
  return `/w/${slug}/data/register${qs ? `?${qs}` : ''}`
}
