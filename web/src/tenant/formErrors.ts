// A failed call's message shown where it belongs: at the form field the API names, or above the
// form. The words come from errorText.ts.
import { TenantApiError } from './api'
import { errorText } from './errorText'

export type FieldErrors<F extends string> = Record<F | 'general', string>

export function clearErrors<F extends string>(errors: FieldErrors<F>): void {
  for (const k of Object.keys(errors) as (F | 'general')[]) errors[k] = ''
}

export function showError<F extends string>(errors: FieldErrors<F>, e: unknown): void {
  const field = e instanceof TenantApiError ? e.field : ''
  const message = errorText(e)
  if (field && field !== 'general' && field in errors) errors[field as F] = message
  else errors.general = message
}
