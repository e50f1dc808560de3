// Send a file to the workspace's uploads in chunks: resumable (each chunk says where it lies with
// Content-Range; after a failure the upload goes on from the offset the server has).
import { api, ApiError, apiUrl } from '../api/client'
import type { components } from '../api/schema'

type UploadRead = components['schemas']['UploadRead']

const ws = (slug: string) => `/workspaces/${encodeURIComponent(slug)}`

function csrfToken(): string | null {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === 'dais_csrf') return decodeURIComponent(rest.join('='))
  }
  return null
}

async function putChunk(slug: string, id: string, blob: Blob, first: number, total: number, signal?: AbortSignal): Promise<UploadRead> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Content-Range': `bytes ${first}-${first + blob.size - 1}/${total}`,
    Accept: 'application/json',
  }
  const csrf = csrfToken()
  if (csrf) headers['X-CSRF-Token'] = csrf
  let response: Response
  try {
    response = await fetch(apiUrl(`${ws(slug)}/uploads/${encodeURIComponent(id)}`), {
      method: 'PUT',
      headers,
      body: blob,
      credentials: 'same-origin',
      signal,
    })
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw new ApiError(0, 'The Dais server cannot be reached. Check that it is running, then try again.', 'network')
  }
  if (!response.ok) {
    let detail = `The server answered ${response.status}.`
    try {
      const body = (await response.json()) as { detail?: unknown }
      if (typeof body.detail === 'string') detail = body.detail
    } catch {
      // not JSON: keep the status
    }
    throw new ApiError(response.status, detail)
  }
  return (await response.json()) as UploadRead
}

/**
 * Upload `file` and answer the key to register (`uploads/<id>/<name>`, with `connection: null`).
 * `onProgress` gets the share sent so far (0..1).
 */
export async function uploadFile(slug: string, file: File, onProgress: (share: number) => void, signal?: AbortSignal): Promise<string> {
  let up = await api.post<UploadRead>(`${ws(slug)}/uploads`, { filename: file.name, size: file.size }, { signal })
  let offset = up.received
  let failures = 0
  while (offset < file.size) {
    const end = Math.min(offset + up.chunk_size, file.size)
    try {
      up = await putChunk(slug, up.id, file.slice(offset, end), offset, file.size, signal)
      offset = up.received
      failures = 0
      onProgress(offset / file.size)
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err
      failures += 1
      // A gap or a lost answer: ask where the upload stands and go on from there.
      if (failures > 3 || !(err instanceof ApiError) || (err.status !== 409 && err.status !== 0 && err.status < 500)) throw err
      up = await api.get<UploadRead>(`${ws(slug)}/uploads/${encodeURIComponent(up.id)}`, { signal })
      offset = up.received
    }
  }
  const done = await api.post<UploadRead>(`${ws(slug)}/uploads/${encodeURIComponent(up.id)}/complete`, undefined, { signal })
  onProgress(1)
  return done.key
}
