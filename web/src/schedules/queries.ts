import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import type { ScheduleCreate, SchedulePage, ScheduleRead, ScheduleRunPage, ScheduleRunRead } from '../api/types'
import { jobKeys } from '../jobs/queries'

export const scheduleKeys = {
  all: ['schedules'] as const,
  workspace: (slug: string) => [...scheduleKeys.all, slug] as const,
  list: (slug: string, cursor?: string) => [...scheduleKeys.workspace(slug), 'list', { cursor }] as const,
  runs: (slug: string, id: string) => [...scheduleKeys.workspace(slug), 'runs', id] as const,
}

const base = (slug: string) => `/workspaces/${encodeURIComponent(slug)}/schedules`
const one = (slug: string, id: string) => `${base(slug)}/${encodeURIComponent(id)}`

export function useSchedules(slug: string, cursor?: string) {
  return useQuery({
    queryKey: scheduleKeys.list(slug, cursor),
    queryFn: ({ signal }) => api.get<SchedulePage>(base(slug), { query: { cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
    // Next run times move as time passes.
    refetchInterval: 30_000,
  })
}

export function useScheduleRuns(slug: string, id: string) {
  return useQuery({
    queryKey: scheduleKeys.runs(slug, id),
    queryFn: ({ signal }) => api.get<ScheduleRunPage>(`${one(slug, id)}/runs`, { query: { limit: 10 }, signal }),
  })
}

function useScheduleMutation<V, R>(slug: string, fn: (vars: V) => Promise<R>) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: fn,
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: scheduleKeys.workspace(slug) })
      void client.invalidateQueries({ queryKey: jobKeys.lists(slug) })
    },
  })
}

export function useCreateSchedule(slug: string) {
  return useScheduleMutation(slug, (body: ScheduleCreate) => api.post<ScheduleRead>(base(slug), body))
}

export function usePauseSchedule(slug: string) {
  return useScheduleMutation(slug, ({ id, paused }: { id: string; paused: boolean }) =>
    api.post<ScheduleRead>(`${one(slug, id)}/${paused ? 'pause' : 'resume'}`),
  )
}

export function useTriggerSchedule(slug: string) {
  return useScheduleMutation(slug, (id: string) => api.post<ScheduleRunRead>(`${one(slug, id)}/trigger`))
}

export function useDeleteSchedule(slug: string) {
  return useScheduleMutation(slug, (id: string) => api.delete<void>(one(slug, id)))
}
