import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import type {
  ChannelCreate,
  ChannelCreated,
  ChannelPage,
  ChannelTestResult,
  DeliveryPage,
  DeliveryState,
  NotifierKindRead,
  RuleCreate,
  RulePage,
  RuleRead,
  RuleUpdate,
} from '../api/types'

export const notifyKeys = {
  all: ['notifications'] as const,
  workspace: (slug: string) => [...notifyKeys.all, slug] as const,
  channels: (slug: string) => [...notifyKeys.workspace(slug), 'channels'] as const,
  rules: (slug: string) => [...notifyKeys.workspace(slug), 'rules'] as const,
  deliveries: (slug: string, state?: DeliveryState, cursor?: string) =>
    [...notifyKeys.workspace(slug), 'deliveries', { state, cursor }] as const,
  kinds: () => [...notifyKeys.all, 'kinds'] as const,
}

const base = (slug: string) => `/workspaces/${encodeURIComponent(slug)}/notifications`

export function useNotifierKinds() {
  return useQuery({ queryKey: notifyKeys.kinds(), queryFn: () => api.get<NotifierKindRead[]>('/notifier-kinds'), staleTime: 300_000 })
}

export function useChannels(slug: string) {
  return useQuery({
    queryKey: notifyKeys.channels(slug),
    queryFn: ({ signal }) => api.get<ChannelPage>(`${base(slug)}/channels`, { query: { limit: 500 }, signal }),
  })
}

export function useRules(slug: string) {
  return useQuery({
    queryKey: notifyKeys.rules(slug),
    queryFn: ({ signal }) => api.get<RulePage>(`${base(slug)}/rules`, { query: { limit: 500 }, signal }),
  })
}

export function useDeliveries(slug: string, state?: DeliveryState, cursor?: string) {
  return useQuery({
    queryKey: notifyKeys.deliveries(slug, state, cursor),
    queryFn: ({ signal }) => api.get<DeliveryPage>(`${base(slug)}/deliveries`, { query: { state, cursor, limit: 50 }, signal }),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some((d) => d.state === 'pending') ? 5_000 : false),
  })
}

function useNotifyMutation<V, R>(slug: string, fn: (vars: V) => Promise<R>) {
  const client = useQueryClient()
  return useMutation({ mutationFn: fn, onSuccess: () => void client.invalidateQueries({ queryKey: notifyKeys.workspace(slug) }) })
}

export function useCreateChannel(slug: string) {
  return useNotifyMutation(slug, (body: ChannelCreate) => api.post<ChannelCreated>(`${base(slug)}/channels`, body))
}

export function useDeleteChannel(slug: string) {
  return useNotifyMutation(slug, (id: string) => api.delete<void>(`${base(slug)}/channels/${encodeURIComponent(id)}`))
}

export function useTestChannel(slug: string) {
  return useNotifyMutation(slug, (id: string) => api.post<ChannelTestResult>(`${base(slug)}/channels/${encodeURIComponent(id)}/test`))
}

export function useCreateRule(slug: string) {
  return useNotifyMutation(slug, (body: RuleCreate) => api.post<RuleRead>(`${base(slug)}/rules`, body))
}

export function useUpdateRule(slug: string) {
  return useNotifyMutation(slug, ({ id, ...body }: RuleUpdate & { id: string }) =>
    api.patch<RuleRead>(`${base(slug)}/rules/${encodeURIComponent(id)}`, body),
  )
}

export function useDeleteRule(slug: string) {
  return useNotifyMutation(slug, (id: string) => api.delete<void>(`${base(slug)}/rules/${encodeURIComponent(id)}`))
}
