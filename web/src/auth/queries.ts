import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import type { LoginRequest, Me, PasswordChange } from '../api/types'

export const authKeys = {
  all: ['auth'] as const,
  me: () => [...authKeys.all, 'me'] as const,
}

/** Who is logged in, and their workspaces with a role in each. */
export function useMe() {
  return useQuery({ queryKey: authKeys.me(), queryFn: () => api.get<Me>('/me'), staleTime: 60_000 })
}

export function useLogin() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (body: LoginRequest) => api.post<Me>('/auth/login', body, { allowUnauthenticated: true }),
    onSuccess: (me) => {
      client.clear()
      client.setQueryData(authKeys.me(), me)
    },
  })
}

/** End the session. The caller leaves the signed-in pages first, then drops the cached data. */
export function useLogout() {
  return useMutation({
    mutationFn: () => api.post<void>('/auth/logout', undefined, { allowUnauthenticated: true }),
  })
}

export function useChangePassword() {
  return useMutation({ mutationFn: (body: PasswordChange) => api.post<void>('/me/password', body) })
}
