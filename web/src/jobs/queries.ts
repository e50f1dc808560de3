import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import type { DagRead, DagSubmit, JobDetail, JobPage, JobRead, JobState, JobSubmit, KindRead, WorkerRead } from '../api/types'
import { isActive } from './states'

export interface JobFilters {
  state?: JobState[]
  kind?: string
  q?: string
  dag_id?: string
}

/** While something is still moving, lists and details are read again this often. */
export const LIVE_REFETCH_MS = 2_000

export const jobKeys = {
  all: ['jobs'] as const,
  workspace: (slug: string) => [...jobKeys.all, slug] as const,
  lists: (slug: string) => [...jobKeys.workspace(slug), 'list'] as const,
  list: (slug: string, filters: JobFilters, cursor?: string) => [...jobKeys.lists(slug), { ...filters, cursor }] as const,
  detail: (slug: string, id: string) => [...jobKeys.workspace(slug), 'detail', id] as const,
  dag: (slug: string, dagId: string) => [...jobKeys.workspace(slug), 'dag', dagId] as const,
  kinds: () => [...jobKeys.all, 'kinds'] as const,
  workers: () => [...jobKeys.all, 'workers'] as const,
}

const ws = (slug: string) => `/workspaces/${encodeURIComponent(slug)}`
const jobPath = (slug: string, id: string) => `${ws(slug)}/jobs/${encodeURIComponent(id)}`

export function useJobs(slug: string, filters: JobFilters, cursor?: string) {
  return useQuery({
    queryKey: jobKeys.list(slug, filters, cursor),
    queryFn: ({ signal }) =>
      api.get<JobPage>(`${ws(slug)}/jobs`, {
        query: { state: filters.state ?? [], kind: filters.kind, q: filters.q, dag_id: filters.dag_id, cursor, limit: 50 },
        signal,
      }),
    placeholderData: keepPreviousData,
    staleTime: 0,
    refetchInterval: (query) => (query.state.data?.items.some((j) => isActive(j.state)) ? LIVE_REFETCH_MS : false),
  })
}

export function useJob(slug: string, id: string) {
  return useQuery({
    queryKey: jobKeys.detail(slug, id),
    queryFn: ({ signal }) => api.get<JobDetail>(jobPath(slug, id), { signal }),
    staleTime: 0,
    refetchInterval: (query) => (query.state.data && isActive(query.state.data.state) ? LIVE_REFETCH_MS : false),
  })
}

export function useDag(slug: string, dagId: string) {
  return useQuery({
    queryKey: jobKeys.dag(slug, dagId),
    queryFn: ({ signal }) => api.get<DagRead>(`${ws(slug)}/dags/${encodeURIComponent(dagId)}`, { signal }),
    staleTime: 0,
    refetchInterval: (query) => (query.state.data?.jobs.some((j) => isActive(j.state)) ? LIVE_REFETCH_MS : false),
  })
}

export function useJobKinds() {
  return useQuery({ queryKey: jobKeys.kinds(), queryFn: () => api.get<KindRead[]>('/job-kinds'), staleTime: 300_000 })
}

export function useWorkers() {
  return useQuery({
    queryKey: jobKeys.workers(),
    queryFn: ({ signal }) => api.get<WorkerRead[]>('/workers', { signal }),
    staleTime: 0,
    refetchInterval: LIVE_REFETCH_MS * 2,
  })
}

function useJobMutation<V>(slug: string, fn: (vars: V) => Promise<JobRead>) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: fn,
    onSuccess: (job) => {
      void client.invalidateQueries({ queryKey: jobKeys.lists(slug) })
      void client.invalidateQueries({ queryKey: jobKeys.detail(slug, job.id) })
      if (job.dag_id) void client.invalidateQueries({ queryKey: jobKeys.dag(slug, job.dag_id) })
      void client.invalidateQueries({ queryKey: jobKeys.workers() })
    },
  })
}

export function useSubmitJob(slug: string) {
  return useJobMutation(slug, (body: JobSubmit) => api.post<JobRead>(`${ws(slug)}/jobs`, body))
}

export function useCancelJob(slug: string) {
  return useJobMutation(slug, (id: string) => api.post<JobRead>(`${jobPath(slug, id)}/cancel`))
}

export function useRetryJob(slug: string) {
  return useJobMutation(slug, (id: string) => api.post<JobRead>(`${jobPath(slug, id)}/retry`))
}

export function useSubmitDag(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: DagSubmit) => api.post<DagRead>(`${ws(slug)}/dags`, body),
    onSuccess: () => void client.invalidateQueries({ queryKey: jobKeys.lists(slug) }),
  })
}

/** A job's log: `follow` streams it live until the attempt ends; `tail` keeps about the last N bytes. */
export function logRequest(slug: string, id: string, params: { attempt?: number; tail?: number; follow?: boolean }) {
  return {
    path: `${jobPath(slug, id)}/logs`,
    query: { attempt: params.attempt, tail: params.tail, follow: params.follow ? 'true' : undefined },
  }
}
