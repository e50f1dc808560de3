// Addresses of the experiments pages, and who may change things there.
import { canEdit } from '../api/types'
import { useMe } from '../auth/queries'
import { useWorkspace } from '../workspaces/queries'

export const links = {
  home: (slug: string) => `/w/${slug}/experiments`,
  studies: (slug: string) => `/w/${slug}/experiments?tab=studies`,
  experiment: (slug: string, id: string) => `/w/${slug}/experiments/${encodeURIComponent(id)}`,
  run: (slug: string, id: string, tab?: string) => `/w/${slug}/experiments/runs/${encodeURIComponent(id)}${tab ? `?tab=${tab}` : ''}`,
  compare: (slug: string, ids: string[]) => `/w/${slug}/experiments/compare?runs=${ids.map(encodeURIComponent).join(',')}`,
  train: (slug: string) => `/w/${slug}/experiments/train`,
  study: (slug: string, id: string) => `/w/${slug}/experiments/studies/${encodeURIComponent(id)}`,
  job: (slug: string, id: string) => `/w/${slug}/jobs/${encodeURIComponent(id)}`,
}

/** Whether the current user may change things in the workspace. */
export function useEditor(slug: string): boolean {
  const me = useMe()
  const ws = useWorkspace(slug)
  return canEdit(ws.data?.role, !!me.data?.user.is_admin)
}
