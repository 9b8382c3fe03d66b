// Display helpers. Money and energy arrive as exact decimal strings from the API and are shown
// as they are: nothing here does arithmetic on them.
export function formatTime(iso: string): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

// A yuan amount typed by a person: digits with at most two decimals, above zero.
export function isYuanAmount(text: string): boolean {
  return /^(0|[1-9]\d{0,8})(\.\d{1,2})?$/.test(text.trim()) && !/^0(\.0{1,2})?$/.test(text.trim())
}

// A yuan level that may be zero (alarm levels, overdraft, restore level).
export function isYuanLevel(text: string): boolean {
  return /^(0|[1-9]\d{0,8})(\.\d{1,2})?$/.test(text.trim())
}

// A meter register as the meter shows it: kWh or m³ with at most three decimals, never negative.
export function isRegister(text: string): boolean {
  return /^(0|[1-9]\d{0,11})(\.\d{1,3})?$/.test(text.trim())
}

// The UTC offset ("+08:00") of `timeZone` at `at`: a local midnight as an instant the API takes.
export function zoneOffset(timeZone: string | undefined, at = new Date()): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT'
  const m = /GMT([+-]\d{2}):?(\d{2})?/.exec(name)
  return m ? `${m[1]}:${m[2] ?? '00'}` : '+00:00'
}

// The calendar day after YYYY-MM-DD.
export function nextDay(day: string): string {
  const d = new Date(day + 'T00:00:00Z')
  d.setUTCDate(d.getUTCDate() + 1)
  return d.toISOString().slice(0, 10)
}

// The calendar day YYYY-MM-DD `offset` days from today in `timeZone` (the project's: its days
// are cut there, whatever the browser's zone), or in the browser's zone without one.
export function localDay(offset = 0, timeZone?: string): string {
  const d = new Date(Date.now() + offset * 86_400_000)
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
}

// Exact sum of decimal strings ("12.34", "-0.5") at `scale` decimals, as a decimal string: the
// console adds the API's amounts (several channels of one day) without floating point.
export function sumDecimals(values: string[], scale: number): string {
  let total = 0n
  const unit = 10n ** BigInt(scale)
  for (const v of values) {
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(v.trim())
    if (!m) throw new Error(`not a decimal: ${v}`)
    const frac = (m[3] ?? '').padEnd(scale, '0')
    if (frac.length > scale) throw new Error(`more than ${scale} decimals: ${v}`)
    const n = BigInt(m[2]) * unit + BigInt(frac || '0')
    total += m[1] ? -n : n
  }
  const negative = total < 0n
  const abs = negative ? -total : total
  const whole = abs / unit
  const fracText = scale > 0 ? '.' + (abs % unit).toString().padStart(scale, '0') : ''
  return (negative ? '-' : '') + whole.toString() + fracText
}
