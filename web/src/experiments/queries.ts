import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { ApiError, api, apiUrl } from '../api/client'
import { isRunActive, isStudyActive } from './format'
import type {
  AlgorithmRead,
  ExperimentColumns,
  ExperimentCreate,
  ExperimentPage,
  ExperimentRead,
  ExperimentUpdate,
  Evaluation,
  MetricHistoryBulk,
  Promoted,
  RunArtifactList,
  RunDetail,
  RunPage,
  RunSearch,
  RunsComparison,
  RunUpdate,
  StudyCreate,
  StudyCreated,
  StudyDetail,
  StudyPage,
  StudyPromote,
  StudyRead,
  TrainingRunCreate,
  TrainingRunCreated,
  View,
} from './types'

/** While a run moves, its page, its charts and the tables showing it are read again this often. */
export const LIVE_MS = 3_000
/** Points per series the charts ask for (the server keeps spikes when it downsamples). */
export const CHART_POINTS = 800

export interface ExperimentFilters {
  q?: string
  view?: View
}

/** A search of runs as the table holds it (the body of `POST /runs/search` without paging). */
export type RunQuery = Omit<RunSearch, 'cursor' | 'limit' | 'total'>

export const experimentKeys = {
  all: ['experiments'] as const,
  algorithms: () => [...experimentKeys.all, 'algorithms'] as const,
  workspace: (slug: string) => [...experimentKeys.all, slug] as const,
  lists: (slug: string) => [...experimentKeys.workspace(slug), 'list'] as const,
  list: (slug: string, filters: ExperimentFilters, cursor?: string) => [...experimentKeys.lists(slug), { ...filters, cursor }] as const,
  experiment: (slug: string, id: string) => [...experimentKeys.workspace(slug), 'experiment', id] as const,
  columns: (slug: string, id: string) => [...experimentKeys.experiment(slug, id), 'columns'] as const,
  searches: (slug: string) => [...experimentKeys.workspace(slug), 'search'] as const,
  search: (slug: string, query: RunQuery, limit: number, cursor?: string) =>
    [...experimentKeys.searches(slug), { ...query, limit, cursor }] as const,
  runs: (slug: string) => [...experimentKeys.workspace(slug), 'run'] as const,
  run: (slug: string, id: string) => [...experimentKeys.runs(slug), id] as const,
  histories: (slug: string, runIds: string[], keys: string[], points: number) =>
    [...experimentKeys.workspace(slug), 'history', { runIds, keys, points }] as const,
  artifacts: (slug: string, run: string, path: string) => [...experimentKeys.run(slug, run), 'artifacts', path] as const,
  evaluation: (slug: string, run: string) => [...experimentKeys.run(slug, run), 'evaluation'] as const,
  compare: (slug: string, runIds: string[]) => [...experimentKeys.workspace(slug), 'compare', runIds] as const,
  studies: (slug: string) => [...experimentKeys.workspace(slug), 'studies'] as const,
  studyList: (slug: string, cursor?: string) => [...experimentKeys.studies(slug), 'list', { cursor }] as const,
  study: (slug: string, id: string) => [...experimentKeys.studies(slug), 'detail', id] as const,
}

const ws = (slug: string) => `/workspaces/${encodeURIComponent(slug)}`
const expPath = (slug: string, id: string) => `${ws(slug)}/experiments/${encodeURIComponent(id)}`
const runPath = (slug: string, id: string) => `${ws(slug)}/runs/${encodeURIComponent(id)}`
const studyPath = (slug: string, id: string) => `${ws(slug)}/studies/${encodeURIComponent(id)}`

// -- experiments ---------------------------------------------------------------------------------

export function useExperiments(slug: string, filters: ExperimentFilters, cursor?: string, limit = 50) {
  return useQuery({
    queryKey: [...experimentKeys.list(slug, filters, cursor), limit],
    queryFn: ({ signal }) =>
      api.get<ExperimentPage>(`${ws(slug)}/experiments`, { query: { q: filters.q, view: filters.view, cursor, limit }, signal }),
    placeholderData: keepPreviousData,
  })
}

export function useExperiment(slug: string, id: string) {
  return useQuery({
    queryKey: experimentKeys.experiment(slug, id),
    queryFn: ({ signal }) => api.get<ExperimentRead>(expPath(slug, id), { signal }),
  })
}

export function useColumns(slug: string, id: string) {
  return useQuery({
    queryKey: experimentKeys.columns(slug, id),
    queryFn: ({ signal }) => api.get<ExperimentColumns>(`${expPath(slug, id)}/columns`, { signal }),
    staleTime: 15_000,
  })
}

export function useCreateExperiment(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: ExperimentCreate) => api.post<ExperimentRead>(`${ws(slug)}/experiments`, body),
    onSuccess: () => void client.invalidateQueries({ queryKey: experimentKeys.lists(slug) }),
  })
}

export function useUpdateExperiment(slug: string, id: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: ExperimentUpdate) => api.patch<ExperimentRead>(expPath(slug, id), body),
    onSuccess: (exp) => {
      client.setQueryData(experimentKeys.experiment(slug, id), exp)
      void client.invalidateQueries({ queryKey: experimentKeys.lists(slug) })
    },
  })
}

export function useDeleteExperiment(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (id: string) => api.delete<void>(expPath(slug, id)),
    onSuccess: () => void client.invalidateQueries({ queryKey: experimentKeys.workspace(slug) }),
  })
}

export function useRestoreExperiment(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (id: string) => api.post<ExperimentRead>(`${expPath(slug, id)}/restore`),
    onSuccess: () => void client.invalidateQueries({ queryKey: experimentKeys.workspace(slug) }),
  })
}

// -- runs ----------------------------------------------------------------------------------------

/**
 * One page of runs. The total is asked for on the first page only (counting is the costly part
 * of a search over many runs); later pages keep the first page's count.
 */
export function useRunSearch(slug: string, query: RunQuery, limit: number, cursor?: string, enabled = true) {
  return useQuery({
    queryKey: experimentKeys.search(slug, query, limit, cursor),
    queryFn: ({ signal }) => api.post<RunPage>(`${ws(slug)}/runs/search`, { ...query, limit, cursor, total: !cursor }, { signal }),
    placeholderData: keepPreviousData,
    enabled,
    retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    refetchInterval: (q) => (q.state.data?.items.some((r) => isRunActive(r.status)) ? LIVE_MS * 3 : false),
  })
}

export function useRun(slug: string, id: string) {
  return useQuery({
    queryKey: experimentKeys.run(slug, id),
    queryFn: ({ signal }) => api.get<RunDetail>(runPath(slug, id), { signal }),
    staleTime: 0,
    refetchInterval: (q) => (q.state.data && isRunActive(q.state.data.status) ? LIVE_MS : false),
  })
}

export function useUpdateRun(slug: string, id: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: RunUpdate) => api.patch<RunDetail>(runPath(slug, id), body),
    onSuccess: (run) => {
      client.setQueryData(experimentKeys.run(slug, id), run)
      void client.invalidateQueries({ queryKey: experimentKeys.searches(slug) })
    },
  })
}

export function useDeleteRuns(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: async (ids: string[]) => {
      for (const id of ids) await api.delete<void>(runPath(slug, id))
    },
    onSettled: () => void client.invalidateQueries({ queryKey: experimentKeys.workspace(slug) }),
  })
}

export function useRestoreRun(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (id: string) => api.post<RunDetail>(`${runPath(slug, id)}/restore`),
    onSettled: () => void client.invalidateQueries({ queryKey: experimentKeys.workspace(slug) }),
  })
}

/**
 * Metric series of several runs and keys in one request (the server answers one series per run and
 * key the run has). `live` reads them again every few seconds while a run goes.
 */
export function useHistories(slug: string, runIds: string[], keys: string[], live = false, points = CHART_POINTS) {
  return useQuery({
    queryKey: experimentKeys.histories(slug, runIds, keys, points),
    queryFn: ({ signal }) =>
      api.post<MetricHistoryBulk>(`${ws(slug)}/runs/metrics/history`, { run_ids: runIds, keys, max_points: points }, { signal }),
    enabled: runIds.length > 0 && keys.length > 0,
    placeholderData: keepPreviousData,
    staleTime: live ? 0 : 30_000,
    refetchInterval: live ? LIVE_MS : false,
  })
}

/** Most keys one history request may name (the API's limit). */
export const MAX_HISTORY_KEYS = 20

export function useArtifacts(slug: string, run: string, path: string) {
  return useQuery({
    queryKey: experimentKeys.artifacts(slug, run, path),
    queryFn: ({ signal }) => api.get<RunArtifactList>(`${runPath(slug, run)}/artifacts`, { query: { path: path || undefined }, signal }),
    placeholderData: keepPreviousData,
  })
}

/** The address of an artifact's content (downloads with the user's cookie). */
export function artifactUrl(slug: string, run: string, path: string): string {
  return apiUrl(`${runPath(slug, run)}/artifacts/content`, { path })
}

/** The first `bytes` of an artifact as text, for a preview (a range request: big files stay put). */
export async function artifactHead(slug: string, run: string, path: string, bytes: number, signal?: AbortSignal): Promise<{ text: string; truncated: boolean }> {
  const response = await fetch(artifactUrl(slug, run, path), {
    credentials: 'same-origin',
    headers: { Range: `bytes=0-${bytes - 1}` },
    signal,
  })
  if (!response.ok && response.status !== 206) throw new ApiError(response.status, `The file cannot be read (${response.status}).`)
  const buf = await response.arrayBuffer()
  const range = response.headers.get('content-range')
  const total = range ? Number(range.split('/')[1]) : buf.byteLength
  return { text: new TextDecoder().decode(buf.slice(0, bytes)), truncated: total > bytes || buf.byteLength > bytes }
}

/** The run's `evaluation.json`; `null` when it has none (a 404 is an answer, not an error). */
export function useEvaluation(slug: string, run: string, enabled = true) {
  return useQuery({
    queryKey: experimentKeys.evaluation(slug, run),
    queryFn: async ({ signal }) => {
      try {
        return await api.get<Evaluation>(`${runPath(slug, run)}/evaluation`, { signal })
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null
        throw err
      }
    },
    enabled,
    staleTime: 60_000,
  })
}

export function useCompare(slug: string, runIds: string[]) {
  return useQuery({
    queryKey: experimentKeys.compare(slug, runIds),
    queryFn: ({ signal }) => api.post<RunsComparison>(`${ws(slug)}/runs/compare`, { run_ids: runIds }, { signal }),
    enabled: runIds.length >= 2,
  })
}

// -- training ------------------------------------------------------------------------------------

export function useAlgorithms() {
  return useQuery({ queryKey: experimentKeys.algorithms(), queryFn: () => api.get<AlgorithmRead[]>('/algorithms'), staleTime: 300_000 })
}

export function useLaunchTraining(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: TrainingRunCreate) => api.post<TrainingRunCreated>(`${ws(slug)}/training/runs`, body),
    onSuccess: () => void client.invalidateQueries({ queryKey: experimentKeys.workspace(slug) }),
  })
}

// -- tuning studies ------------------------------------------------------------------------------

export function useStudies(slug: string, cursor?: string) {
  return useQuery({
    queryKey: experimentKeys.studyList(slug, cursor),
    queryFn: ({ signal }) => api.get<StudyPage>(`${ws(slug)}/studies`, { query: { cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some((s) => isStudyActive(s.state)) ? LIVE_MS : false),
  })
}

export function useStudy(slug: string, id: string) {
  return useQuery({
    queryKey: experimentKeys.study(slug, id),
    queryFn: ({ signal }) => api.get<StudyDetail>(studyPath(slug, id), { signal }),
    staleTime: 0,
    refetchInterval: (q) => (q.state.data && isStudyActive(q.state.data.state) ? LIVE_MS : false),
  })
}

export function useCreateStudy(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: StudyCreate) => api.post<StudyCreated>(`${ws(slug)}/studies`, body),
    onSuccess: () => void client.invalidateQueries({ queryKey: experimentKeys.workspace(slug) }),
  })
}

export function useStopStudy(slug: string, id: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: () => api.post<StudyRead>(`${studyPath(slug, id)}/stop`),
    onSettled: () => void client.invalidateQueries({ queryKey: experimentKeys.studies(slug) }),
  })
}

export function usePromoteTrial(slug: string, id: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: StudyPromote) => api.post<Promoted>(`${studyPath(slug, id)}/promote`, body),
    onSettled: () => void client.invalidateQueries({ queryKey: experimentKeys.studies(slug) }),
  })
}
