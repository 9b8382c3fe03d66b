// The 对账 page's helpers: the statement days in Beijing time whatever the browser's zone, the
// runs the server fetched by itself, and the providers it fetches statements from.
import { afterEach, describe, expect, it } from 'vitest'
import { AUTO_FETCH_ACTOR, beijingDay, fetchableProviders, importedByLabel, isAutoFetched, isFutureStatementDay, pickerDay } from '../../src/reconciliation'
import { setLocale } from '../../src/i18n'

describe('beijingDay', () => {
  it('cuts the days at midnight Beijing time (UTC+8)', () => {
    const lateOn22 = new Date('2026-11-22T15:59:59Z') // 23:59:59 in Beijing
    expect(beijingDay(0, lateOn22)).toBe('2026-11-22')
    expect(beijingDay(-1, lateOn22)).toBe('2026-11-21')
    const midnight = new Date('2026-11-22T16:00:00Z') // 00:00 of the 23rd in Beijing
    expect(beijingDay(0, midnight)).toBe('2026-11-23')
    expect(beijingDay(-1, midnight)).toBe('2026-11-22')
    // Still the 22nd in UTC (and further west), already the 23rd in Beijing.
    expect(beijingDay(-1, new Date('2026-11-22T20:00:00-05:00'))).toBe('2026-11-22')
  })
  it('crosses months, years and leap days', () => {
    expect(beijingDay(-1, new Date('2026-12-31T16:30:00Z'))).toBe('2026-12-31')
    expect(beijingDay(0, new Date('2026-12-31T16:30:00Z'))).toBe('2027-01-01')
    expect(beijingDay(-1, new Date('2028-03-01T00:00:00Z'))).toBe('2028-02-29')
    expect(beijingDay(-1, new Date('2027-03-01T00:00:00Z'))).toBe('2027-02-28')
    expect(beijingDay(1, new Date('2026-11-22T00:00:00Z'))).toBe('2026-11-23')
  })
})

describe('isFutureStatementDay', () => {
  // The date picker's days are local midnights.
  it('refuses the days after today in Beijing', () => {
    expect(pickerDay(new Date(2026, 0, 5))).toBe('2026-01-05')
    const evening = new Date('2026-11-22T15:00:00Z') // 23:00 of the 22nd in Beijing
    expect(isFutureStatementDay(new Date(2026, 10, 21), evening)).toBe(false)
    expect(isFutureStatementDay(new Date(2026, 10, 22), evening)).toBe(false)
    expect(isFutureStatementDay(new Date(2026, 10, 23), evening)).toBe(true)
    const night = new Date('2026-11-22T16:00:00Z') // 00:00 of the 23rd in Beijing
    expect(isFutureStatementDay(new Date(2026, 10, 23), night)).toBe(false)
    expect(isFutureStatementDay(new Date(2026, 10, 24), night)).toBe(true)
    expect(isFutureStatementDay(new Date(2027, 0, 1), night)).toBe(true)
    expect(isFutureStatementDay(new Date(2025, 11, 31), night)).toBe(false)
  })
})

describe('importedByLabel', () => {
  afterEach(() => setLocale('zh-CN'))
  it("names the server's own morning fetch, and the users by their names", () => {
    expect(isAutoFetched(AUTO_FETCH_ACTOR)).toBe(true)
    expect(isAutoFetched('finance1')).toBe(false)
    expect(importedByLabel('statement-fetch')).toBe('自动获取')
    expect(importedByLabel('finance1')).toBe('finance1')
    expect(importedByLabel('')).toBe('—')
    setLocale('en')
    expect(importedByLabel('statement-fetch')).toBe('Fetched automatically')
  })
})

describe('fetchableProviders', () => {
  it('takes the names GET /payments/providers lists under statements', () => {
    expect(fetchableProviders({ orders: ['wechat', 'alipay', 'sandbox'], refunds: ['wechat'], statements: ['wechat', 'alipay'] })).toEqual(['wechat', 'alipay'])
    expect(fetchableProviders({ orders: ['sandbox'], refunds: [], statements: [] })).toEqual([])
    expect(fetchableProviders({ statements: ['wechat', 'wechat', '', 3, null, 'alipay'] })).toEqual(['wechat', 'alipay'])
  })
  it('takes nothing from an answer of another shape', () => {
    for (const answer of [undefined, null, {}, { statements: 'wechat' }, { statements: { wechat: true } }, 'wechat', []]) expect(fetchableProviders(answer)).toEqual([])
  })
})
