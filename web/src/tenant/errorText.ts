// What a failed call says to the person. The server's messages are English and meant for logs, so
// the answers the pages know are told in the page's own words, picked by HTTP status and the field
// the error names; where one status and field cover several cases, by a word of the server's
// message. The server's message is shown only when nothing here knows the answer.
import { TenantApiError } from './api'
import { t } from './i18n'

const has = (message: string, ...words: string[]) => words.some((w) => message.toLowerCase().includes(w.toLowerCase()))

// A refused code (401 naming `code`, from sign-in and from binding with the holder's code).
function codeRefused(message: string): string {
  // "too many wrong codes" first: it contains "wrong code" too.
  if (has(message, 'too many')) return t('error.code_too_many')
  if (has(message, 'expired')) return t('error.code_expired')
  if (has(message, 'no code')) return t('error.code_none')
  const left = /(\d+)\s+tr(?:y|ies)\s+left/i.exec(message)
  if (left) return t('error.code_wrong_left', { n: left[1] })
  if (has(message, 'wrong code')) return t('error.code_wrong_new') // the last try went wrong
  return t('login.code_wrong')
}

// Too many codes asked for (429 naming `phone`, or `account` for the holder's code).
const tooManyCodes = (message: string) => (has(message, 'tomorrow', 'day') ? t('error.codes_daily') : t('login.too_soon'))

// A precondition the server cannot get past (412; older servers answered 409).
function precondition(field: string, message: string): string | null {
  if (has(message, 'SMS')) return t('error.no_sms')
  if (has(message, 'no project')) return t('error.no_project_yet')
  if (field === 'account' && has(message, 'closed')) return t('error.account_closed')
  if (field === 'account' && has(message, 'phone')) return t('error.account_no_phone')
  return null
}

function known(e: TenantApiError): string | null {
  const { status, field, message } = e
  switch (`${status}:${field}`) {
    case '400:phone':
      return t('login.phone_invalid')
    case '400:project':
      return t('error.project_required')
    case '400:code':
      return t('login.code_invalid')
    case '400:account':
      return t('error.account_invalid')
    case '401:code':
      return codeRefused(message)
    case '429:code':
      return t('error.code_wrong_daily') // too many wrong codes today
    case '403:binding':
      return t('error.holder_only')
    case '404:account':
      return t('bind.not_found')
    case '404:project':
      return t('error.project_not_found')
    case '404:binding':
      return t('error.binding_gone')
    case '404:order':
      return t('error.order_not_found')
    case '409:account':
      return precondition(field, message) ?? t('bind.already')
    case '409:openid':
      return t('error.openid_needed') // JSAPI before WeChat told the server who pays (充值 sends the payer to learn it)
    case '409:phone':
    case '412:phone':
    case '412:account':
      return precondition(field, message) ?? (field === 'account' ? t('error.account_no_phone') : t('error.no_sms'))
    case '429:phone':
      return tooManyCodes(message)
    case '429:account':
      if (has(message, 'people', 'member')) return t('error.too_many_members')
      if (has(message, 'at most')) return t('error.too_many_accounts')
      return tooManyCodes(message)
  }
  if (status === 0) return t('error.network')
  // WeChat Pay or Alipay could not be reached, or refused the order (503 naming `provider`).
  if (status >= 500 && field === 'provider') return t('error.provider_down')
  if (status >= 500) return t('error.server', { status })
  if (status === 403) return t('error.forbidden')
  if (status === 429) return t('login.too_soon')
  return null
}

export function errorText(e: unknown): string {
  if (e instanceof TenantApiError) return known(e) ?? e.message
  return e instanceof Error ? e.message : String(e)
}
