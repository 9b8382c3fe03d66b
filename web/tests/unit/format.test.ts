import { describe, expect, it } from 'vitest'
import { isRegister, isYuanAmount, isYuanLevel, sumDecimals, zoneOffset } from '../../src/format'
import { messageKeys } from '../../src/i18n'

describe('sumDecimals', () => {
  it('adds exactly where binary floating point does not', () => {
    expect(sumDecimals(['0.10', '0.20'], 2)).toBe('0.30')
    expect(sumDecimals(Array(1000).fill('0.01'), 2)).toBe('10.00')
    expect(sumDecimals(['1.5', '-2.25'], 2)).toBe('-0.75')
    expect(sumDecimals(['123.456', '0.001'], 3)).toBe('123.457')
    expect(sumDecimals([], 2)).toBe('0.00')
  })
  it('refuses what is not a decimal of that scale', () => {
    expect(() => sumDecimals(['1.234'], 2)).toThrow()
    expect(() => sumDecimals(['1e3'], 2)).toThrow()
  })
})

describe('isYuanAmount', () => {
  it('takes positive yuan with at most two decimals', () => {
    for (const ok of ['1', '50', '0.01', '100.5', '999999999.99']) expect(isYuanAmount(ok)).toBe(true)
    for (const bad of ['', '0', '0.00', '-5', '1.234', 'abc', '1e2', '01', '1000000000']) expect(isYuanAmount(bad)).toBe(false)
  })
})

describe('i18n', () => {
  it('has every text in both languages', () => {
    expect(messageKeys('en')).toEqual(messageKeys('zh-CN'))
  })
})

describe('registers and levels', () => {
  it('takes registers as meters show them and levels that may be zero', () => {
    for (const ok of ['0', '12', '12.5', '123456.789']) expect(isRegister(ok)).toBe(true)
    for (const bad of ['', '-1', '1.2345', '01', 'x', '1e3']) expect(isRegister(bad)).toBe(false)
    for (const ok of ['0', '0.00', '50', '20.5']) expect(isYuanLevel(ok)).toBe(true)
    for (const bad of ['', '-1', '1.234', '01']) expect(isYuanLevel(bad)).toBe(false)
  })
})

describe('zoneOffset', () => {
  it('names the offset of a zone at an instant', () => {
    expect(zoneOffset('Asia/Shanghai', new Date('2026-11-22T00:00:00Z'))).toBe('+08:00')
    expect(zoneOffset('UTC', new Date('2026-11-22T00:00:00Z'))).toBe('+00:00')
    expect(zoneOffset('America/New_York', new Date('2026-07-01T00:00:00Z'))).toBe('-04:00')
    expect(zoneOffset('Asia/Kolkata', new Date('2026-07-01T00:00:00Z'))).toBe('+05:30')
  })
})
