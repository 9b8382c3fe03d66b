// The HTTP API (/api/v1) from the browser: the session cookie goes by itself; every write sends
// the CSRF token of the session, money-moving calls an Idempotency-Key. Errors become ApiError
// with the API's {code, message, field}.
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field: string,
    // The whole answer: an import's row errors are in `errors`.
    public details: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

// What a failed call says to the user: the API's message and the field it names (an import's
// "rows" is shown as its row table instead), or the error's own text.
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.field && e.field !== 'rows' ? `${e.message} (${e.field})` : e.message
  return e instanceof Error ? e.message : String(e)
}

let csrfToken = ''
export function setCsrfToken(token: string): void {
  csrfToken = token
}

// A new idempotency key: one per user action, so a retried click never credits twice.
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return 'web-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

export interface Page<T> {
  items: T[]
  page: number
  page_size: number
  total: number
}

export interface RequestOptions {
  body?: unknown
  file?: Blob // sent as it is (an import's CSV or XLSX) instead of a JSON body; typed by a
  // Content-Type in `headers` if given, else by the file's own type
  headers?: Record<string, string>
  idempotencyKey?: string
}

export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
  let body: string | Blob | undefined
  if (options.file !== undefined) {
    if (!headers['Content-Type']) headers['Content-Type'] = options.file.type || 'application/octet-stream'
    body = options.file
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken
  if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey
  const response = await fetch('/api/v1' + path, { method, headers, body, credentials: 'same-origin' })
  const text = await response.text()
  let data: unknown = undefined
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = undefined
    }
  }
  if (response.status === 401 && !path.startsWith('/auth/') && typeof window !== 'undefined') {
    // The session ended (expired, revoked, password changed): back to sign-in, then here again.
    const here = window.location.pathname + window.location.search
    if (!window.location.pathname.startsWith('/login')) window.location.assign('/login?next=' + encodeURIComponent(here))
  }
  if (!response.ok) {
    const e = (data ?? {}) as { code?: string; message?: string; field?: string }
    throw new ApiError(response.status, e.code ?? 'unknown', e.message ?? response.statusText, e.field ?? '', (data ?? {}) as Record<string, unknown>)
  }
  return data as T
}

export const get = <T>(path: string) => api<T>('GET', path)

// A dialog's or form's call: `state.busy` while it runs and `state.error` cleared first, then the
// API's message (with its field, errorText) when it fails. True when it succeeded.
export async function submit(state: { busy: boolean; error: string }, work: () => Promise<void>): Promise<boolean> {
  state.busy = true
  state.error = ''
  try {
    await work()
    return true
  } catch (e) {
    state.error = errorText(e)
    return false
  } finally {
    state.busy = false
  }
}

// Every page of a list (page_size 500, the API's most), for the views that show a whole project.
export async function getAll<T>(path: string, limit = 20000): Promise<T[]> {
  const out: T[] = []
  const sep = path.includes('?') ? '&' : '?'
  for (let page = 1; out.length < limit; page++) {
    const p = await get<Page<T>>(`${path}${sep}page=${page}&page_size=500`)
    out.push(...p.items)
    if (p.items.length < 500 || out.length >= p.total) break
  }
  return out
}

// A query string from the set values only.
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  }
  return parts.length ? '?' + parts.join('&') : ''
}
