// The 对账 page's pure helpers [PAY-3]: the statement days (the providers cut their days in
// Beijing time, UTC+8 all year), and who a reconciliation run was recorded by.
import { t } from './i18n'

// The actor the server records a run with when it fetched the statement itself (each morning, for
// the day before).
export const AUTO_FETCH_ACTOR = 'statement-fetch'

const BEIJING_OFFSET_MS = 8 * 3600_000 // China keeps UTC+8 all year: no summer time

// The calendar day YYYY-MM-DD in Beijing `offset` days from `now` (-1: yesterday), whatever the
// browser's own zone.
export function beijingDay(offset = 0, now: Date = new Date()): string {
  return new Date(now.getTime() + BEIJING_OFFSET_MS + offset * 86_400_000).toISOString().slice(0, 10)
}

// The calendar day of a date picker's Date (its local midnight), as YYYY-MM-DD.
export function pickerDay(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

// A day whose statement cannot exist yet: after today in Beijing. For the date picker's
// disabled-date.
export function isFutureStatementDay(d: Date, now: Date = new Date()): boolean {
  return pickerDay(d) > beijingDay(0, now)
}

export function isAutoFetched(importedBy: string): boolean {
  return importedBy === AUTO_FETCH_ACTOR
}

// Who recorded a run, as shown: the user's name, or "fetched automatically" for the server's
// morning fetch.
export function importedByLabel(importedBy: string): string {
  return isAutoFetched(importedBy) ? t('recon.auto_fetched') : importedBy || '—'
}

// The providers the server fetches statements from, as GET /payments/providers lists them:
// only names, each once, and nothing at all from an answer of another shape.
export function fetchableProviders(answer: unknown): string[] {
  const list = (answer as { statements?: unknown } | null | undefined)?.statements
  if (!Array.isArray(list)) return []
  return [...new Set(list.filter((p): p is string => typeof p === 'string' && p !== ''))]
}
