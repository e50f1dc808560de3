import { useParams } from 'react-router'
import type { Me, Role } from '../api/types'

const KEY = 'dais.workspace'

export function rememberWorkspace(slug: string): void {
  try {
    localStorage.setItem(KEY, slug)
  } catch {
    // private mode: nothing to remember
  }
}

function remembered(): string | null {
  try {
    return localStorage.getItem(KEY)
  } catch {
    return null
  }
}

/** The workspace in the URL (`/w/:workspace/...`), if any. */
export function useWorkspaceSlug(): string | undefined {
  return useParams().workspace
}

/** The workspace the navigation points at: the URL's, else the last one chosen, else the first. */
export function currentWorkspace(me: Me, fromUrl: string | undefined): string | null {
  if (fromUrl) return fromUrl
  const last = remembered()
  if (last && me.workspaces.some((w) => w.slug === last)) return last
  return me.workspaces[0]?.slug ?? null
}

export function roleIn(me: Me | undefined, slug: string | null | undefined): Role | null {
  return me?.workspaces.find((w) => w.slug === slug)?.role ?? null
}
