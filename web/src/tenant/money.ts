// Money as the API gives it: decimal strings shown as they are. A typed amount is checked with a
// regex and compared in integer fen from its digits, never through floating point.
export const minTopUpFen = 1 // 0.01 yuan
export const maxTopUpFen = 5_000_000 // 50000.00 yuan

export type AmountProblem = 'required' | 'format' | 'min' | 'max'
export type AmountCheck = { ok: true; amount: string } | { ok: false; problem: AmountProblem }

// A top-up amount typed by a person: digits with at most two decimals, 0.01–50000. The amount
// sent is the canonical two-decimal string ("100" → "100.00").
export function checkTopUpAmount(text: string): AmountCheck {
  const s = text.trim()
  if (!s) return { ok: false, problem: 'required' }
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(s)
  if (!m) return { ok: false, problem: 'format' }
  const whole = m[1].replace(/^0+(?=\d)/, '')
  const cents = (m[2] ?? '').padEnd(2, '0')
  // Over eight whole digits is over the limit whatever follows; below that fen fits exactly.
  if (whole.length > 8) return { ok: false, problem: 'max' }
  const fen = parseInt(whole, 10) * 100 + parseInt(cents, 10)
  if (fen < minTopUpFen) return { ok: false, problem: 'min' }
  if (fen > maxTopUpFen) return { ok: false, problem: 'max' }
  return { ok: true, amount: `${whole}.${cents}` }
}

// "¥12.30", "-¥5.00" for a debt.
export function yuan(amount: string | undefined | null): string {
  if (amount === undefined || amount === null || amount === '') return '—'
  return amount.startsWith('-') ? '-¥' + amount.slice(1) : '¥' + amount
}

// A ledger amount with its sign: "+100.00", "-3.20".
export function signed(amount: string): string {
  if (amount.startsWith('-') || amount.startsWith('+')) return amount
  return /^0+(\.0+)?$/.test(amount) ? amount : '+' + amount
}

export const isNegative = (amount: string) => amount.startsWith('-') && !/^-0+(\.0+)?$/.test(amount)

// 13800000001 → 138****0001; anything already masked or shorter is shown as it is.
export function maskPhone(phone: string): string {
  return /^\d{11}$/.test(phone) ? phone.slice(0, 3) + '****' + phone.slice(7) : phone
}
