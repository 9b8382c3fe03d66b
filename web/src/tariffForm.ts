// The tariff version editor's form and the version JSON the API takes (docs/site-file.md,
// "Tariffs"): a flat price or a TOU plan drawn as 48 half-hour slots of a day, an optional summer
// season with its own day, holidays billed at one period all day, tiers and surcharges. Pure, so
// the conversions are unit-tested; prices stay the decimal strings people typed.
export type Period = 'sharp' | 'peak' | 'flat' | 'valley'
export const PERIODS: Period[] = ['sharp', 'peak', 'flat', 'valley']
export const SLOTS = 48 // half hours of a day

export interface Segment {
  start: string // "HH:MM"
  period: Period
}

export interface TariffForm {
  effectiveFrom: string // RFC 3339 with the project's offset
  base: 'flat' | 'tou'
  price: string
  prices: Record<Period, string>
  workday: Period[] // SLOTS entries
  summer: { enabled: boolean; start: string; end: string; day: Period[] } // start, end: "MM-DD"
  holidays: string[] // "YYYY-MM-DD"
  holidayPeriod: Period | '' // '' = holidays bill like workdays
  tiers: { enabled: boolean; cycle: 'monthly' | 'yearly'; steps: { upto: string; increment: string }[] }
  surcharges: { name: string; price: string }[]
  lossPercent: string
}

// "HH:MM" where half hour `i` of the day starts.
export const slotStart = (i: number) => `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`

export const periodColors: Record<Period, string> = { sharp: '#c92a2a', peak: '#f08c00', flat: '#4dabf7', valley: '#37b24d' }

// A common commercial day: valley at night, peaks morning and evening.
export function defaultDay(): Period[] {
  return Array.from({ length: SLOTS }, (_, i) => {
    const h = i / 2
    if (h < 8) return 'valley'
    if ((h >= 8 && h < 12) || (h >= 17 && h < 21)) return 'peak'
    return 'flat'
  })
}

export function emptyForm(effectiveFrom: string): TariffForm {
  return {
    effectiveFrom,
    base: 'flat',
    price: '',
    prices: { sharp: '', peak: '', flat: '', valley: '' },
    workday: defaultDay(),
    summer: { enabled: false, start: '07-01', end: '09-01', day: defaultDay() },
    holidays: [],
    holidayPeriod: '',
    tiers: { enabled: false, cycle: 'monthly', steps: [{ upto: '', increment: '0' }, { upto: '', increment: '' }] },
    surcharges: [],
    lossPercent: '',
  }
}

// Consecutive slots of one period become one segment; the first starts at 00:00.
export function segmentsFromSlots(slots: Period[]): Segment[] {
  const out: Segment[] = []
  slots.forEach((period, i) => {
    if (!out.length || out[out.length - 1].period !== period) out.push({ start: slotStart(i), period })
  })
  return out
}

// Segments back to slots; a segment starting inside a half hour takes that half hour.
export function slotsFromSegments(segments: Segment[]): Period[] {
  const slots: Period[] = []
  const starts = segments.map((s) => {
    const [h, m] = s.start.split(':').map(Number)
    return Math.floor((h * 60 + m) / 30)
  })
  for (let i = 0; i < SLOTS; i++) {
    let k = 0
    while (k + 1 < starts.length && starts[k + 1] <= i) k++
    slots.push(segments[k]?.period ?? 'flat')
  }
  return slots
}

const isPrice = (s: string) => /^\d{1,5}(\.\d{1,4})?$/.test(s.trim())
const isQuantity = (s: string) => /^\d{1,12}(\.\d{1,3})?$/.test(s.trim())
const isMonthDay = (s: string) => /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/.test(s)

// The fields at fault (i18n keys 'tariff.field.<name>'), empty when the form can be sent. The
// server checks everything again and names its own field; this only catches typing slips early.
export function formProblems(f: TariffForm): string[] {
  const out: string[] = []
  if (!f.effectiveFrom) out.push('effective_from')
  if (f.base === 'flat' && !isPrice(f.price)) out.push('price')
  if (f.base === 'tou') {
    for (const p of PERIODS) if (!isPrice(f.prices[p])) out.push('price_' + p)
    if (f.summer.enabled && (!isMonthDay(f.summer.start) || !isMonthDay(f.summer.end) || f.summer.start <= '01-01' || f.summer.end <= f.summer.start)) out.push('summer')
  }
  if (f.tiers.enabled) {
    const steps = f.tiers.steps
    if (steps.length < 2) out.push('tiers')
    steps.forEach((s, i) => {
      const last = i === steps.length - 1
      if (!isPrice(s.increment) || (!last && !isQuantity(s.upto))) out.push('tiers')
    })
  }
  for (const s of f.surcharges) if (!s.name.trim() || !isPrice(s.price)) out.push('surcharges')
  if (f.lossPercent.trim() && !/^\d{1,2}(\.\d{1,2})?$/.test(f.lossPercent.trim())) out.push('loss_percent')
  return [...new Set(out)]
}

export function versionFromForm(f: TariffForm): Record<string, unknown> {
  const v: Record<string, unknown> = { effective_from: f.effectiveFrom }
  if (f.base === 'flat') {
    v.price = f.price.trim()
  } else {
    const schedules: Record<string, Segment[]> = { normal: segmentsFromSlots(f.workday) }
    const holiday = f.holidayPeriod && f.holidays.length ? 'holiday' : undefined
    if (holiday) schedules.holiday = [{ start: '00:00', period: f.holidayPeriod as Period }]
    const season = (start: string, day: string) => (holiday ? { start, workday: day, holiday } : { start, workday: day })
    const seasons = [season('01-01', 'normal')]
    if (f.summer.enabled) {
      schedules.summer = segmentsFromSlots(f.summer.day)
      seasons.push(season(f.summer.start, 'summer'), season(f.summer.end, 'normal'))
    }
    const tou: Record<string, unknown> = {
      prices: Object.fromEntries(PERIODS.map((p) => [p, f.prices[p].trim()])),
      day_schedules: schedules,
      seasons,
    }
    if (f.holidays.length) tou.holidays = [...f.holidays].sort()
    v.tou = tou
  }
  if (f.tiers.enabled) {
    v.tiers = {
      cycle: f.tiers.cycle,
      steps: f.tiers.steps.map((s, i) => (i === f.tiers.steps.length - 1 ? { increment: s.increment.trim() } : { upto: s.upto.trim(), increment: s.increment.trim() })),
    }
  }
  if (f.surcharges.length) v.surcharges = f.surcharges.map((s) => ({ name: s.name.trim(), price: s.price.trim() }))
  if (f.lossPercent.trim()) v.loss_percent = f.lossPercent.trim()
  return v
}

// A form prefilled from an existing version (the latest), to change what changes.
export function formFromVersion(v: Record<string, any>, effectiveFrom: string): TariffForm {
  const f = emptyForm(effectiveFrom)
  if (typeof v.price === 'string') {
    f.base = 'flat'
    f.price = v.price
  } else if (v.tou) {
    f.base = 'tou'
    for (const p of PERIODS) f.prices[p] = v.tou.prices?.[p] ?? ''
    const seasons: { start: string; workday: string; holiday?: string }[] = v.tou.seasons ?? []
    const schedules: Record<string, Segment[]> = v.tou.day_schedules ?? {}
    const first = seasons[0]?.workday
    if (first && schedules[first]) f.workday = slotsFromSegments(schedules[first])
    const other = seasons.find((s) => s.workday !== first)
    if (other && schedules[other.workday]) {
      const back = seasons.find((s) => s.start > other.start && s.workday === first)
      f.summer = { enabled: true, start: other.start, end: back?.start ?? '12-31', day: slotsFromSegments(schedules[other.workday]) }
    }
    f.holidays = [...(v.tou.holidays ?? [])]
    const holidayDay = seasons[0]?.holiday
    if (holidayDay && holidayDay !== first && schedules[holidayDay]?.length === 1) f.holidayPeriod = schedules[holidayDay][0].period
  }
  if (v.tiers) {
    f.tiers = { enabled: true, cycle: v.tiers.cycle, steps: v.tiers.steps.map((s: any) => ({ upto: s.upto ?? '', increment: s.increment })) }
  }
  f.surcharges = (v.surcharges ?? []).map((s: any) => ({ name: s.name, price: s.price }))
  f.lossPercent = v.loss_percent ?? ''
  return f
}
