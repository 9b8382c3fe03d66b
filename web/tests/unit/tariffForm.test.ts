// The tariff editor's conversions: painted half hours ⇄ day segments, and the form ⇄ the
// version JSON the API takes, round trip included.
import { describe, expect, it } from 'vitest'
import { defaultDay, emptyForm, formFromVersion, formProblems, segmentsFromSlots, slotsFromSegments, SLOTS, versionFromForm, type Period } from '../../src/tariffForm'

describe('day schedules', () => {
  it('merges painted half hours into segments from 00:00', () => {
    expect(segmentsFromSlots(defaultDay())).toEqual([
      { start: '00:00', period: 'valley' },
      { start: '08:00', period: 'peak' },
      { start: '12:00', period: 'flat' },
      { start: '17:00', period: 'peak' },
      { start: '21:00', period: 'flat' },
    ])
    const slots: Period[] = Array(SLOTS).fill('flat')
    slots[23] = 'sharp' // 11:30-12:00
    expect(segmentsFromSlots(slots)).toEqual([
      { start: '00:00', period: 'flat' },
      { start: '11:30', period: 'sharp' },
      { start: '12:00', period: 'flat' },
    ])
  })
  it('turns segments back into the same slots', () => {
    const day = defaultDay()
    day[40] = 'sharp'
    expect(slotsFromSegments(segmentsFromSlots(day))).toEqual(day)
  })
})

describe('versions', () => {
  it('writes a flat price with tiers and a surcharge', () => {
    const f = emptyForm('2027-01-01T00:00:00+08:00')
    f.price = '0.6500'
    f.tiers.enabled = true
    f.tiers.steps = [{ upto: '200', increment: '0' }, { upto: '400', increment: '0.05' }, { upto: '', increment: '0.3' }]
    f.surcharges = [{ name: 'sewage', price: '1.39' }]
    expect(formProblems(f)).toEqual([])
    expect(versionFromForm(f)).toEqual({
      effective_from: '2027-01-01T00:00:00+08:00',
      price: '0.6500',
      tiers: { cycle: 'monthly', steps: [{ upto: '200', increment: '0' }, { upto: '400', increment: '0.05' }, { increment: '0.3' }] },
      surcharges: [{ name: 'sewage', price: '1.39' }],
    })
  })

  it('writes a TOU plan with a summer day and holidays, and reads it back', () => {
    const f = emptyForm('2027-01-01T00:00:00+08:00')
    f.base = 'tou'
    f.prices = { sharp: '1.2', peak: '1.0', flat: '0.7', valley: '0.3' }
    f.summer.enabled = true
    f.summer.day[30] = 'sharp'
    f.holidays = ['2027-10-02', '2027-10-01']
    f.holidayPeriod = 'valley'
    expect(formProblems(f)).toEqual([])
    const v = versionFromForm(f) as { tou: Record<string, unknown> }
    expect(v.tou.seasons).toEqual([
      { start: '01-01', workday: 'normal', holiday: 'holiday' },
      { start: '07-01', workday: 'summer', holiday: 'holiday' },
      { start: '09-01', workday: 'normal', holiday: 'holiday' },
    ])
    expect(v.tou.holidays).toEqual(['2027-10-01', '2027-10-02'])
    expect((v.tou.day_schedules as Record<string, unknown>).holiday).toEqual([{ start: '00:00', period: 'valley' }])
    const back = formFromVersion(v, '2027-01-01T00:00:00+08:00')
    expect(back.base).toBe('tou')
    expect(back.workday).toEqual(f.workday)
    expect(back.summer).toEqual(f.summer)
    expect(back.holidayPeriod).toBe('valley')
    expect(versionFromForm(back)).toEqual(v)
  })

  it('reads a version as the API answers it: schedules named by the store, every day type', () => {
    const stored = {
      effective_from: '2027-01-01T00:00:00+08:00',
      tou: {
        prices: { sharp: '1.2000', peak: '1.0000', flat: '0.7000', valley: '0.3000' },
        day_schedules: { s0: [{ start: '00:00', period: 'flat' }] },
        seasons: [{ start: '01-01', workday: 's0', weekend: 's0', holiday: 's0' }],
        holidays: [],
        extra_workdays: [],
        weekend: ['sat', 'sun'],
      },
    }
    const f = formFromVersion(stored, '2027-02-01T00:00:00+08:00')
    expect(f.workday).toEqual(Array(SLOTS).fill('flat'))
    expect(f.summer.enabled).toBe(false)
    expect(f.holidayPeriod).toBe('') // holidays bill like workdays, not "all day flat"
  })

  it('names what is missing or mistyped', () => {
    const f = emptyForm('')
    f.base = 'tou'
    f.prices.peak = '1.2.3'
    f.summer.enabled = true
    f.summer.end = '06-01'
    f.lossPercent = 'x'
    expect(formProblems(f)).toEqual(['effective_from', 'price_sharp', 'price_peak', 'price_flat', 'price_valley', 'summer', 'loss_percent'])
  })
})
