import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api, apiUrl } from '../api/client'
import type {
  BrowseRead,
  CheckRead,
  ConnectionCreate,
  ConnectionPage,
  ConnectionRead,
  ConnectionTest,
  ConnectionUpdate,
  ConnectorRead,
  DatasetCreate,
  DatasetPage,
  DatasetRead,
  DatasetSubmitted,
  Inspection,
  LineageRead,
  MediaPage,
  PartitionsRead,
  PreviewRequest,
  SampleRead,
  StatsRead,
  VersionCreate,
  VersionPage,
  VersionRead,
} from './types'

export interface DatasetFilters {
  q?: string
  format?: string
  connection?: string
}

export const dataKeys = {
  all: ['data'] as const,
  connectors: () => [...dataKeys.all, 'connectors'] as const,
  workspace: (slug: string) => [...dataKeys.all, slug] as const,
  connections: (slug: string) => [...dataKeys.workspace(slug), 'connections'] as const,
  connectionList: (slug: string, cursor?: string) => [...dataKeys.connections(slug), 'list', { cursor }] as const,
  connection: (slug: string, name: string) => [...dataKeys.connections(slug), 'detail', name] as const,
  browse: (slug: string, name: string, path: string) => [...dataKeys.connection(slug, name), 'browse', path] as const,
  datasets: (slug: string) => [...dataKeys.workspace(slug), 'datasets'] as const,
  datasetList: (slug: string, filters: DatasetFilters, cursor?: string) =>
    [...dataKeys.datasets(slug), 'list', { ...filters, cursor }] as const,
  dataset: (slug: string, name: string) => [...dataKeys.datasets(slug), 'detail', name] as const,
  sample: (slug: string, name: string) => [...dataKeys.dataset(slug, name), 'sample'] as const,
  stats: (slug: string, name: string) => [...dataKeys.dataset(slug, name), 'stats'] as const,
  partitions: (slug: string, name: string, live: boolean) => [...dataKeys.dataset(slug, name), 'partitions', { live }] as const,
  versions: (slug: string, name: string) => [...dataKeys.dataset(slug, name), 'versions'] as const,
  lineage: (slug: string, name: string) => [...dataKeys.dataset(slug, name), 'lineage'] as const,
  media: (slug: string, name: string, label: string | undefined, cursor?: string) =>
    [...dataKeys.dataset(slug, name), 'media', { label, cursor }] as const,
}

const ws = (slug: string) => `/workspaces/${encodeURIComponent(slug)}`
const connPath = (slug: string, name: string) => `${ws(slug)}/connections/${encodeURIComponent(name)}`
const dsPath = (slug: string, name: string) => `${ws(slug)}/datasets/${encodeURIComponent(name)}`

/** The address of a media item's thumbnail or full content (served with the user's cookie). */
export function mediaUrl(slug: string, dataset: string, item: string, what: 'thumbnail' | 'content'): string {
  return apiUrl(`${dsPath(slug, dataset)}/media/${encodeURIComponent(item)}/${what}`)
}

export function downloadUrl(slug: string, dataset: string, format: 'parquet' | 'csv' | 'jsonl', version?: number): string {
  return apiUrl(`${dsPath(slug, dataset)}/download`, { format, version })
}

// -- connectors and connections ------------------------------------------------------------------

export function useConnectors() {
  return useQuery({ queryKey: dataKeys.connectors(), queryFn: () => api.get<ConnectorRead[]>('/connectors'), staleTime: 300_000 })
}

export function useConnections(slug: string, cursor?: string) {
  return useQuery({
    queryKey: dataKeys.connectionList(slug, cursor),
    queryFn: ({ signal }) => api.get<ConnectionPage>(`${ws(slug)}/connections`, { query: { cursor, limit: 100 }, signal }),
    placeholderData: keepPreviousData,
  })
}

export function useConnection(slug: string, name: string | undefined) {
  return useQuery({
    queryKey: dataKeys.connection(slug, name ?? ''),
    queryFn: ({ signal }) => api.get<ConnectionRead>(connPath(slug, name!), { signal }),
    enabled: !!name,
  })
}

export function useBrowse(slug: string, name: string | undefined, path: string) {
  return useQuery({
    queryKey: dataKeys.browse(slug, name ?? '', path),
    queryFn: ({ signal }) =>
      api.get<BrowseRead>(`${connPath(slug, name!)}/browse`, { query: { path: path || undefined }, signal }),
    enabled: !!name,
    staleTime: 10_000,
  })
}

export function useCreateConnection(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: ConnectionCreate) => api.post<ConnectionRead>(`${ws(slug)}/connections`, body),
    onSuccess: () => void client.invalidateQueries({ queryKey: dataKeys.connections(slug) }),
  })
}

export function useUpdateConnection(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: ({ name, body }: { name: string; body: ConnectionUpdate }) => api.patch<ConnectionRead>(connPath(slug, name), body),
    onSuccess: () => void client.invalidateQueries({ queryKey: dataKeys.connections(slug) }),
  })
}

export function useDeleteConnection(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (name: string) => api.delete<void>(connPath(slug, name)),
    onSuccess: () => void client.invalidateQueries({ queryKey: dataKeys.connections(slug) }),
  })
}

/** Test a saved connection (its health is updated too). */
export function useTestConnection(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (name: string) => api.post<CheckRead>(`${connPath(slug, name)}/test`),
    onSettled: () => void client.invalidateQueries({ queryKey: dataKeys.connections(slug) }),
  })
}

/** Test settings that are not saved yet (the form's "Test connection"). */
export function useTestUnsaved(slug: string) {
  return useMutation({
    mutationFn: (body: ConnectionTest) => api.post<CheckRead>(`${ws(slug)}/connections/test`, body),
  })
}

// -- datasets ------------------------------------------------------------------------------------

export function useDatasets(slug: string, filters: DatasetFilters, cursor?: string) {
  return useQuery({
    queryKey: dataKeys.datasetList(slug, filters, cursor),
    queryFn: ({ signal }) =>
      api.get<DatasetPage>(`${ws(slug)}/datasets`, { query: { ...filters, cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
  })
}

export function useDataset(slug: string, name: string) {
  return useQuery({
    queryKey: dataKeys.dataset(slug, name),
    queryFn: ({ signal }) => api.get<DatasetRead>(dsPath(slug, name), { signal }),
  })
}

export function useSample(slug: string, name: string, enabled = true) {
  return useQuery({
    queryKey: dataKeys.sample(slug, name),
    queryFn: ({ signal }) => api.get<SampleRead>(`${dsPath(slug, name)}/sample`, { signal }),
    enabled,
  })
}

export function useStats(slug: string, name: string, enabled = true) {
  return useQuery({
    queryKey: dataKeys.stats(slug, name),
    queryFn: ({ signal }) => api.get<StatsRead>(`${dsPath(slug, name)}/stats`, { signal }),
    enabled,
  })
}

export function usePartitions(slug: string, name: string, live: boolean, enabled = true) {
  return useQuery({
    queryKey: dataKeys.partitions(slug, name, live),
    queryFn: ({ signal }) =>
      api.get<PartitionsRead>(`${dsPath(slug, name)}/partitions`, { query: { live: live ? 'true' : undefined }, signal }),
    enabled,
  })
}

export function useVersions(slug: string, name: string, enabled = true) {
  return useQuery({
    queryKey: dataKeys.versions(slug, name),
    queryFn: ({ signal }) => api.get<VersionPage>(`${dsPath(slug, name)}/versions`, { query: { limit: 100 }, signal }),
    enabled,
  })
}

export function useLineage(slug: string, name: string, enabled = true) {
  return useQuery({
    queryKey: dataKeys.lineage(slug, name),
    queryFn: ({ signal }) => api.get<LineageRead>(`${dsPath(slug, name)}/lineage`, { signal }),
    enabled,
  })
}

export function useMedia(slug: string, name: string, label: string | undefined, cursor?: string, enabled = true) {
  return useQuery({
    queryKey: dataKeys.media(slug, name, label, cursor),
    queryFn: ({ signal }) =>
      api.get<MediaPage>(`${dsPath(slug, name)}/media`, { query: { label, cursor, limit: 60 }, signal }),
    placeholderData: keepPreviousData,
    enabled,
  })
}

/** Inspect a source without saving anything: the wizard's preview. */
export function usePreview(slug: string) {
  return useMutation({
    mutationFn: (body: PreviewRequest) => api.post<Inspection>(`${ws(slug)}/datasets/preview`, body),
  })
}

export function useRegisterDataset(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: DatasetCreate) => api.post<DatasetSubmitted>(`${ws(slug)}/datasets`, body),
    onSuccess: () => void client.invalidateQueries({ queryKey: dataKeys.datasets(slug) }),
  })
}

export function useDeleteDataset(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (name: string) => api.delete<void>(dsPath(slug, name)),
    onSuccess: () => void client.invalidateQueries({ queryKey: dataKeys.datasets(slug) }),
  })
}

export function useRefreshDataset(slug: string) {
  return useMutation({ mutationFn: (name: string) => api.post<DatasetSubmitted>(`${dsPath(slug, name)}/refresh`) })
}

/** A pointer version answers the version (201); a materialised one answers the job writing it (202). */
export function useCreateVersion(slug: string, name: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: VersionCreate) => api.post<VersionRead | DatasetSubmitted>(`${dsPath(slug, name)}/versions`, body),
    onSuccess: () => void client.invalidateQueries({ queryKey: dataKeys.dataset(slug, name) }),
  })
}
