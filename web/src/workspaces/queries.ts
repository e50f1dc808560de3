import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import type {
  AuditPage,
  MemberCreate,
  MemberPage,
  MemberRead,
  QuotaRead,
  QuotaUpdate,
  Role,
  WorkspaceCreate,
  WorkspacePage,
  WorkspaceRead,
} from '../api/types'
import { authKeys } from '../auth/queries'

export interface WorkspaceListParams {
  q?: string
  all?: boolean
  cursor?: string
}

export interface AuditFilters {
  action?: string
  actor?: string
}

export const workspaceKeys = {
  all: ['workspaces'] as const,
  lists: () => [...workspaceKeys.all, 'list'] as const,
  list: (params: WorkspaceListParams) => [...workspaceKeys.lists(), params] as const,
  detail: (slug: string) => [...workspaceKeys.all, 'detail', slug] as const,
  members: (slug: string) => [...workspaceKeys.detail(slug), 'members'] as const,
  memberPage: (slug: string, cursor?: string) => [...workspaceKeys.members(slug), { cursor }] as const,
  memberCount: (slug: string) => [...workspaceKeys.members(slug), 'count'] as const,
  quota: (slug: string) => [...workspaceKeys.detail(slug), 'quota'] as const,
  audit: (slug: string, filters: AuditFilters, cursor?: string) =>
    [...workspaceKeys.detail(slug), 'audit', { ...filters, cursor }] as const,
}

const ws = (slug: string) => `/workspaces/${encodeURIComponent(slug)}`

export function useWorkspace(slug: string) {
  return useQuery({ queryKey: workspaceKeys.detail(slug), queryFn: () => api.get<WorkspaceRead>(ws(slug)) })
}

export function useWorkspaces(params: WorkspaceListParams) {
  return useQuery({
    queryKey: workspaceKeys.list(params),
    queryFn: () => api.get<WorkspacePage>('/workspaces', { query: { ...params, limit: 50 } }),
    placeholderData: keepPreviousData,
  })
}

export function useCreateWorkspace() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: WorkspaceCreate) => api.post<WorkspaceRead>('/workspaces', body),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: workspaceKeys.lists() })
      void client.invalidateQueries({ queryKey: authKeys.me() })
    },
  })
}

export function useDeleteWorkspace() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (slug: string) => api.delete<void>(ws(slug)),
    onSuccess: (_data, slug) => {
      client.removeQueries({ queryKey: workspaceKeys.detail(slug) })
      void client.invalidateQueries({ queryKey: workspaceKeys.lists() })
      void client.invalidateQueries({ queryKey: authKeys.me() })
    },
  })
}

export function useMembers(slug: string, cursor?: string) {
  return useQuery({
    queryKey: workspaceKeys.memberPage(slug, cursor),
    queryFn: () => api.get<MemberPage>(`${ws(slug)}/members`, { query: { cursor, limit: 50 } }),
    placeholderData: keepPreviousData,
  })
}

/** How many members a workspace has (counted up to 500; more shows as "500+"). */
export function useMemberCount(slug: string) {
  return useQuery({
    queryKey: workspaceKeys.memberCount(slug),
    queryFn: async () => {
      const page = await api.get<MemberPage>(`${ws(slug)}/members`, { query: { limit: 500 } })
      return { count: page.items.length, more: page.next_cursor !== null }
    },
  })
}

function useMemberMutation<V, R>(slug: string, fn: (vars: V) => Promise<R>) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: fn,
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: workspaceKeys.members(slug) })
      void client.invalidateQueries({ queryKey: authKeys.me() })
    },
  })
}

export function useAddMember(slug: string) {
  return useMemberMutation(slug, (body: MemberCreate) => api.post<MemberRead>(`${ws(slug)}/members`, body))
}

export function useUpdateMember(slug: string) {
  return useMemberMutation(slug, ({ username, role }: { username: string; role: Role }) =>
    api.patch<MemberRead>(`${ws(slug)}/members/${encodeURIComponent(username)}`, { role }),
  )
}

export function useRemoveMember(slug: string) {
  return useMemberMutation(slug, (username: string) =>
    api.delete<void>(`${ws(slug)}/members/${encodeURIComponent(username)}`),
  )
}

export function useQuota(slug: string) {
  return useQuery({ queryKey: workspaceKeys.quota(slug), queryFn: () => api.get<QuotaRead>(`${ws(slug)}/quota`) })
}

export function useUpdateQuota(slug: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: QuotaUpdate) => api.patch<QuotaRead>(`${ws(slug)}/quota`, body),
    onSuccess: (quota) => {
      client.setQueryData(workspaceKeys.quota(slug), quota)
      void client.invalidateQueries({ queryKey: workspaceKeys.detail(slug) })
    },
  })
}

export function useAudit(slug: string, filters: AuditFilters, cursor?: string) {
  return useQuery({
    queryKey: workspaceKeys.audit(slug, filters, cursor),
    queryFn: () => api.get<AuditPage>(`${ws(slug)}/audit`, { query: { ...filters, cursor, limit: 50 } }),
    placeholderData: keepPreviousData,
  })
}
