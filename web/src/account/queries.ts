import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import type { TokenCreate, TokenCreated, TokenPage, TokenRead } from '../api/types'

export const tokenKeys = {
  all: ['tokens'] as const,
  list: (params: { includeRevoked: boolean; cursor?: string }) => [...tokenKeys.all, 'list', params] as const,
}

export function useTokens(includeRevoked: boolean, cursor?: string) {
  return useQuery({
    queryKey: tokenKeys.list({ includeRevoked, cursor }),
    queryFn: () => api.get<TokenPage>('/tokens', { query: { include_revoked: includeRevoked, cursor, limit: 50 } }),
    placeholderData: keepPreviousData,
  })
}

export function useCreateToken() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: TokenCreate) => api.post<TokenCreated>('/tokens', body),
    onSuccess: () => void client.invalidateQueries({ queryKey: tokenKeys.all }),
  })
}

export function useRevokeToken() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (id: string) => api.delete<TokenRead>(`/tokens/${encodeURIComponent(id)}`),
    onSuccess: () => void client.invalidateQueries({ queryKey: tokenKeys.all }),
  })
}
