// The one way the UI talks to the API: same-origin cookies, the CSRF header on unsafe methods, and
// problem+json errors turned into ApiError.

const CSRF_COOKIE = 'dais_csrf'
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export interface FieldError {
  loc: string[]
  msg: string
  type: string
}

/** An error answered by the API (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly fieldErrors: FieldError[]
  readonly requestId: string | null

  constructor(status: number, detail: string, code = 'error', fieldErrors: FieldError[] = [], requestId: string | null = null) {
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.detail = detail
    this.fieldErrors = fieldErrors
    this.requestId = requestId
  }

  /** The message for one form field (the last part of the field's location), if the API named it. */
  fieldMessage(field: string): string | undefined {
    return this.fieldErrors.find((e) => e.loc[e.loc.length - 1] === field)?.msg
  }
}

/** The text to show a person for any error. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail
  if (error instanceof Error) return error.message
  return String(error)
}

type QueryValue = string | number | boolean | null | undefined
/** Query parameters; an array repeats its key once per value (`state=a&state=b`). */
type Query = Record<string, QueryValue | readonly string[]>

export interface RequestOptions {
  query?: Query
  body?: unknown
  /** Leave a 401 to the caller instead of sending the user to the login page (the login form itself). */
  allowUnauthenticated?: boolean
  signal?: AbortSignal
}

let onUnauthenticated: (() => void) | null = null

/** Called on any 401: the app sends the user to the login page. */
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler
}

function readCookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return decodeURIComponent(rest.join('='))
  }
  return null
}

/** The address of an API path, with its query. */
export function apiUrl(path: string, query?: Query): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {})) {
    if (Array.isArray(value)) for (const v of value as readonly string[]) params.append(key, v)
    else if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const qs = params.toString()
  return `/api/v1${path}${qs ? `?${qs}` : ''}`
}

async function toError(response: Response): Promise<ApiError> {
  const requestId = response.headers.get('x-request-id')
  let body: Record<string, unknown> | null = null
  try {
    body = (await response.json()) as Record<string, unknown>
  } catch {
    body = null
  }
  if (body && typeof body.detail === 'string') {
    return new ApiError(
      response.status,
      body.detail,
      typeof body.code === 'string' ? body.code : 'error',
      Array.isArray(body.errors) ? (body.errors as FieldError[]) : [],
      typeof body.request_id === 'string' ? body.request_id : requestId,
    )
  }
  return new ApiError(response.status, `The server answered ${response.status} ${response.statusText}.`, 'error', [], requestId)
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (options.body !== undefined) headers['Content-Type'] = 'application/json'
  if (UNSAFE.has(method)) {
    const csrf = readCookie(CSRF_COOKIE)
    if (csrf) headers['X-CSRF-Token'] = csrf
  }
  let response: Response
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    })
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw new ApiError(0, 'The Dais server cannot be reached. Check that it is running, then try again.', 'network')
  }
  if (!response.ok) {
    const error = await toError(response)
    if (error.status === 401 && !options.allowUnauthenticated) onUnauthenticated?.()
    throw error
  }
  if (response.status === 204) return undefined as T
  const type = response.headers.get('content-type') ?? ''
  return (type.includes('json') ? await response.json() : await response.text()) as T
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, { ...options, body }),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PATCH', path, { ...options, body }),
  delete: <T>(path: string, options?: RequestOptions) => request<T>('DELETE', path, options),
}

/**
 * A streamed GET (a log, for instance): the response once the API accepted it, its body still to be
 * read as it arrives. Errors are thrown as ApiError, like every other request.
 */
export async function openStream(path: string, options: { query?: Query; signal?: AbortSignal } = {}): Promise<Response> {
  let response: Response
  try {
    response = await fetch(apiUrl(path, options.query), {
      headers: { Accept: 'text/plain, application/problem+json' },
      credentials: 'same-origin',
      signal: options.signal,
    })
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw new ApiError(0, 'The Dais server cannot be reached. Check that it is running, then try again.', 'network')
  }
  if (!response.ok) {
    const error = await toError(response)
    if (error.status === 401) onUnauthenticated?.()
    throw error
  }
  return response
}
