import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import type {
  NodeRunRead,
  OperatorRead,
  PipelineCreate,
  PipelineDetail,
  PipelineGraph,
  PipelinePage,
  PipelineVersionPage,
  PipelineVersionRead,
  PipelineRunCompare,
  PipelineRunCreate,
  PipelineRunDetail,
  PipelineRunPage,
  PipelineRunRead,
  PipelineValidation,
} from './types'
import { isRunActive } from './status'

/** While a run moves, it is read again this often. */
export const RUN_REFETCH_MS = 1_000

export const pipelineKeys = {
  all: ['pipelines'] as const,
  operators: () => [...pipelineKeys.all, 'operators'] as const,
  workspace: (slug: string) => [...pipelineKeys.all, slug] as const,
  lists: (slug: string) => [...pipelineKeys.workspace(slug), 'list'] as const,
  list: (slug: string, q: string | undefined, cursor?: string) => [...pipelineKeys.lists(slug), { q, cursor }] as const,
  detail: (slug: string, name: string) => [...pipelineKeys.workspace(slug), 'detail', name] as const,
  versions: (slug: string, name: string) => [...pipelineKeys.detail(slug, name), 'versions'] as const,
  version: (slug: string, name: string, n: number) => [...pipelineKeys.detail(slug, name), 'version', n] as const,
  runs: (slug: string, name: string) => [...pipelineKeys.detail(slug, name), 'runs'] as const,
  run: (slug: string, name: string, run: string) => [...pipelineKeys.runs(slug, name), 'run', run] as const,
  nodeRun: (slug: string, name: string, run: string, node: string) => [...pipelineKeys.run(slug, name, run), 'node', node] as const,
  compare: (slug: string, name: string, a: string, b: string) => [...pipelineKeys.runs(slug, name), 'compare', a, b] as const,
  validate: (slug: string, graph: string) => [...pipelineKeys.workspace(slug), 'validate', graph] as const,
}

const ws = (slug: string) => `/workspaces/${encodeURIComponent(slug)}`
const pipelinePath = (slug: string, name: string) => `${ws(slug)}/pipelines/${encodeURIComponent(name)}`
const runPath = (slug: string, name: string, run: string) => `${pipelinePath(slug, name)}/runs/${encodeURIComponent(run)}`

export function useOperators() {
  return useQuery({ queryKey: pipelineKeys.operators(), queryFn: () => api.get<OperatorRead[]>('/operators'), staleTime: 300_000 })
}

export function usePipelines(slug: string, q: string | undefined, cursor?: string) {
  return useQuery({
    queryKey: pipelineKeys.list(slug, q, cursor),
    queryFn: ({ signal }) => api.get<PipelinePage>(`${ws(slug)}/pipelines`, { query: { q, cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
    staleTime: 0,
    refetchInterval: (query) =>
      query.state.data?.items.some((p) => p.last_run && isRunActive(p.last_run.status)) ? RUN_REFETCH_MS * 3 : false,
  })
}

export function usePipeline(slug: string, name: string) {
  return useQuery({
    queryKey: pipelineKeys.detail(slug, name),
    queryFn: ({ signal }) => api.get<PipelineDetail>(pipelinePath(slug, name), { signal }),
    staleTime: 0,
    refetchOnWindowFocus: false,
  })
}

export function useCreatePipeline(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: PipelineCreate) => api.post<PipelineDetail>(`${ws(slug)}/pipelines`, body),
    onSuccess: () => void client.invalidateQueries({ queryKey: pipelineKeys.lists(slug) }),
  })
}

export function useDeletePipeline(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (name: string) => api.delete<void>(pipelinePath(slug, name)),
    onSuccess: () => void client.invalidateQueries({ queryKey: pipelineKeys.lists(slug) }),
  })
}

export function useVersions(slug: string, name: string, enabled: boolean) {
  return useQuery({
    queryKey: pipelineKeys.versions(slug, name),
    queryFn: ({ signal }) => api.get<PipelineVersionPage>(`${pipelinePath(slug, name)}/versions`, { query: { limit: 200 }, signal }),
    enabled,
    staleTime: 0,
  })
}

/** Read one saved version (to load it onto the canvas). */
export function useLoadVersion(slug: string, name: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (n: number) =>
      client.fetchQuery({
        queryKey: pipelineKeys.version(slug, name, n),
        queryFn: () => api.get<PipelineVersionRead>(`${pipelinePath(slug, name)}/versions/${n}`),
        staleTime: 300_000,
      }),
  })
}

export function useSaveVersion(slug: string, name: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: { graph: PipelineGraph; message: string }) =>
      api.post<PipelineVersionRead>(`${pipelinePath(slug, name)}/versions`, body),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: pipelineKeys.versions(slug, name) })
      void client.invalidateQueries({ queryKey: pipelineKeys.lists(slug) })
    },
  })
}

/** Validation of the graph on the canvas (saved or not): errors per node and field, and schemas. */
export function useValidation(slug: string, graph: PipelineGraph | null, graphKey: string) {
  return useQuery({
    queryKey: pipelineKeys.validate(slug, graphKey),
    queryFn: ({ signal }) => api.post<PipelineValidation>(`${ws(slug)}/pipelines/validate`, { graph }, { signal }),
    enabled: graph !== null,
    placeholderData: keepPreviousData,
    staleTime: 60_000,
    retry: false,
    refetchOnWindowFocus: false,
  })
}

export function useRuns(slug: string, name: string, enabled: boolean) {
  return useQuery({
    queryKey: pipelineKeys.runs(slug, name),
    queryFn: ({ signal }) => api.get<PipelineRunPage>(`${pipelinePath(slug, name)}/runs`, { query: { limit: 100 }, signal }),
    enabled,
    staleTime: 0,
    refetchInterval: (query) => (query.state.data?.items.some((r) => isRunActive(r.status)) ? RUN_REFETCH_MS * 2 : false),
  })
}

export function useRun(slug: string, name: string, run: string | null) {
  return useQuery({
    queryKey: pipelineKeys.run(slug, name, run ?? ''),
    queryFn: ({ signal }) => api.get<PipelineRunDetail>(runPath(slug, name, run!), { signal }),
    enabled: !!run,
    staleTime: 0,
    refetchInterval: (query) => (query.state.data && isRunActive(query.state.data.status) ? RUN_REFETCH_MS : false),
  })
}

/** One node of a run; `status` (the node's state in the run) is part of the key, so a change reads it again. */
export function useNodeRun(slug: string, name: string, run: string | null, node: string | null, status: string, live: boolean) {
  return useQuery({
    queryKey: [...pipelineKeys.nodeRun(slug, name, run ?? '', node ?? ''), status],
    queryFn: ({ signal }) => api.get<NodeRunRead>(`${runPath(slug, name, run!)}/nodes/${encodeURIComponent(node!)}`, { signal }),
    enabled: !!run && !!node,
    staleTime: 0,
    placeholderData: keepPreviousData,
    refetchInterval: live ? RUN_REFETCH_MS * 2 : false,
  })
}

export function useStartRun(slug: string, name: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: PipelineRunCreate) => api.post<PipelineRunRead>(`${pipelinePath(slug, name)}/runs`, body),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: pipelineKeys.runs(slug, name) })
      void client.invalidateQueries({ queryKey: pipelineKeys.lists(slug) })
    },
  })
}

export function useCancelRun(slug: string, name: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (run: string) => api.post<PipelineRunRead>(`${runPath(slug, name, run)}/cancel`),
    onSuccess: (run) => {
      void client.invalidateQueries({ queryKey: pipelineKeys.runs(slug, name) })
      void client.invalidateQueries({ queryKey: pipelineKeys.run(slug, name, run.id) })
    },
  })
}

export function useCompareRuns(slug: string, name: string, a: string, b: string) {
  return useQuery({
    queryKey: pipelineKeys.compare(slug, name, a, b),
    queryFn: ({ signal }) => api.get<PipelineRunCompare>(`${pipelinePath(slug, name)}/runs/compare`, { query: { a, b }, signal }),
    enabled: !!a && !!b,
    staleTime: 0,
    refetchInterval: (query) =>
      query.state.data && (isRunActive(query.state.data.a.status) || isRunActive(query.state.data.b.status)) ? RUN_REFETCH_MS * 2 : false,
  })
}

/** The workspace's dataset names, for the source and sink pickers. */
export function useDatasetNames(slug: string) {
  return useQuery({
    queryKey: [...pipelineKeys.workspace(slug), 'dataset-names'] as const,
    queryFn: ({ signal }) =>
      api.get<{ items: { name: string; description?: string | null }[] }>(`${ws(slug)}/datasets`, { query: { limit: 200 }, signal }),
    staleTime: 30_000,
    retry: false,
  })
}
