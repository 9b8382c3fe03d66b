// The tenant API (/api/v1/tenant, docs/tenant.md) from the phone: the session cookie goes by
// itself; every call but GET sends the CSRF token sign-in (or GET me) returned. Errors become
// TenantApiError with the API's {code, message, field}; errorText.ts words them for the person.
// A 401 outside sign-in means the session is gone: the handler the router installs sends the
// person to sign in.
import { t } from './i18n'

export const apiBase = '/api/v1/tenant/'

export class TenantApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field: string,
    public details: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

let csrfToken = ''
export function setCsrfToken(token: string): void {
  csrfToken = token
}

let unauthorized: (() => void) | null = null
export function onUnauthorized(handler: (() => void) | null): void {
  unauthorized = handler
}

// Sign-in's own calls, and binding with a code, answer 401 naming `code` for a wrong code: that
// is the form's error, not a lost session.
const signInPaths = ['codes', 'login']
const sessionLost = (status: number, path: string, field: string) => status === 401 && !signInPaths.includes(path) && field !== 'code'

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken
  let response: Response
  try {
    response = await fetch(apiBase + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    })
  } catch {
    throw new TenantApiError(0, 'network', t('error.network'), '')
  }
  const text = await response.text()
  let data: unknown = undefined
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = undefined // a proxy's HTML error page: the status says enough
    }
  }
  if (!response.ok) {
    // The API's error object, also when it comes wrapped as {error: {code, message, field}}.
    const outer = (data ?? {}) as { error?: unknown }
    const e = (outer.error && typeof outer.error === 'object' ? outer.error : outer) as { code?: string; message?: string; field?: string }
    if (sessionLost(response.status, path, e.field ?? '')) unauthorized?.()
    const message = e.message || t('error.server', { status: response.status })
    throw new TenantApiError(response.status, e.code ?? 'unknown', message, e.field ?? '', (data ?? {}) as Record<string, unknown>)
  }
  return data as T
}

export const get = <T>(path: string) => call<T>('GET', path)
export const post = <T>(path: string, body?: unknown) => call<T>('POST', path, body)
export const del = (path: string) => call<void>('DELETE', path)

// The printable receipt of a ledger transfer. Transfer ids are strings ("pay:sandbox:SBX1a2b",
// "topup-7") that may hold ':' and other characters a query must not carry raw.
export const receiptUrl = (binding: number, transfer: string) =>
  `${apiBase}bindings/${binding}/receipt?transfer=${encodeURIComponent(transfer)}`
