// A failed call's message shown where it belongs: at the form field the API names (with the
// page's own wording for the answers it knows), or above the form.
import { TenantApiError, errorText } from './api'

export type FieldErrors<F extends string> = Record<F | 'general', string>

export function clearErrors<F extends string>(errors: FieldErrors<F>): void {
  for (const k of Object.keys(errors) as (F | 'general')[]) errors[k] = ''
}

// `known` maps "status" or "status:field" to the page's message for that answer.
export function showError<F extends string>(errors: FieldErrors<F>, e: unknown, known: Record<string, string> = {}): void {
  const status = e instanceof TenantApiError ? e.status : 0
  const field = e instanceof TenantApiError ? e.field : ''
  const message = known[`${status}:${field}`] ?? known[String(status)] ?? errorText(e)
  if (field && field !== 'general' && field in errors) errors[field as F] = message
  else errors.general = message
}
