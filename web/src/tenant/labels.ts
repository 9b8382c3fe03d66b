// Codes the API sends, as the person reads them. Unknown codes (added to the server later) are
// shown as they are rather than hidden.
import { t, tOr } from './i18n'
import type { AlarmItem } from './types'

export const stateLabel = (state: string) => tOr('state.', state)
export const codeLabel = (code: string) => tOr('code.', code)
export const channelLabel = (channel: string) => (channel ? tOr('channel.', channel) : '')
export const providerLabel = (provider: string) => tOr('provider.', provider)
export const utilityLabel = (utility: string) => tOr('utility.', utility)
export const unitOf = (utility: string) => tOr('unit.', utility)

// Low-balance alarms come as low_balance_1..3, or as low_balance with a level ("alarm2", 2).
export function alarmLabel(a: Pick<AlarmItem, 'kind' | 'level'>): string {
  if (a.kind === 'low_balance') {
    const n = String(a.level ?? '').replace(/\D/g, '')
    return ['1', '2', '3'].includes(n) ? t('alarm.low_balance_' + n) : t('alarm.low_balance')
  }
  return tOr('alarm.', a.kind)
}

// The tag colour of an account state: warnings for low balance, danger when cut off.
export function stateTagType(state: string): 'warning' | 'danger' | 'primary' | 'success' {
  if (state === 'tripped' || state === 'forced_trip' || state === 'trip_held') return 'danger'
  if (state === 'keep_power') return 'primary'
  if (state.startsWith('alarm')) return 'warning'
  return 'success'
}
