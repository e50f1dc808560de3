import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import type { UserCreate, UserPage, UserRead, UserUpdate } from '../api/types'
import { authKeys } from '../auth/queries'

export const userKeys = {
  all: ['users'] as const,
  list: (params: { q?: string; cursor?: string }) => [...userKeys.all, 'list', params] as const,
}

export function useUsers(q: string | undefined, cursor?: string) {
  return useQuery({
    queryKey: userKeys.list({ q, cursor }),
    queryFn: () => api.get<UserPage>('/users', { query: { q, cursor, limit: 50 } }),
    placeholderData: keepPreviousData,
  })
}

export function useCreateUser() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: UserCreate) => api.post<UserRead>('/users', body),
    onSuccess: () => void client.invalidateQueries({ queryKey: userKeys.all }),
  })
}

export function useUpdateUser() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: ({ username, body }: { username: string; body: UserUpdate }) =>
      api.patch<UserRead>(`/users/${encodeURIComponent(username)}`, body),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: userKeys.all })
      void client.invalidateQueries({ queryKey: authKeys.me() })
    },
  })
}
