// Codes the API sends, as the person reads them. Unknown codes (added to the server later) are
// shown as they are rather than hidden.
import { tOr } from './i18n'

export const stateLabel = (state: string) => tOr('state.', state)
export const codeLabel = (code: string) => tOr('code.', code)
export const channelLabel = (channel: string) => (channel ? tOr('channel.', channel) : '')
export const providerLabel = (provider: string) => tOr('provider.', provider)
export const utilityLabel = (utility: string) => tOr('utility.', utility)
export const unitOf = (utility: string) => tOr('unit.', utility)

export const alarmLabel = (kind: string) => tOr('alarm.', kind)

// The tag colour of an account state: warnings for low balance, danger when cut off.
export function stateTagType(state: string): 'warning' | 'danger' | 'primary' | 'success' {
  if (state === 'tripped' || state === 'forced_trip' || state === 'trip_held') return 'danger'
  if (state === 'keep_power') return 'primary'
  if (state.startsWith('alarm')) return 'warning'
  return 'success'
}
