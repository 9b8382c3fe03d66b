// The tenant API wrapper and what it decides for the pages: the CSRF token on every call but GET,
// the API's error object as an error with its field, a lost session (401) sent to 登录 while a
// wrong code stays the form's error; the guard's 登录 / 绑定户号; amounts checked in whole fen.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { call, onUnauthorized, post, receiptUrl, setCsrfToken, TenantApiError } from '../../src/tenant/api'
import { checkTopUpAmount, maskPhone, signed, yuan } from '../../src/tenant/money'
import { messageKeys } from '../../src/tenant/i18n'
import { alarmLabel } from '../../src/tenant/labels'
import { apiError, callsTo, calls, json, me, mockApi, mountTenant, resetSession } from './tenantFixtures'

beforeEach(() => resetSession())
afterEach(() => {
  vi.unstubAllGlobals()
  onUnauthorized(null)
  setCsrfToken('')
  document.body.innerHTML = ''
})

describe('tenant api', () => {
  it('sends JSON with the session cookie, and the CSRF token on everything but GET', async () => {
    mockApi(() => json({ ok: true }))
    setCsrfToken('tok-1')
    await call('GET', 'me')
    await post('bindings', { project: 'P1', account: 'A-1' })
    await call('DELETE', 'bindings/3')
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET me', 'POST bindings', 'DELETE bindings/3'])
    expect(calls[0].headers['X-CSRF-Token']).toBeUndefined()
    expect(calls[1].headers['X-CSRF-Token']).toBe('tok-1')
    expect(calls[1].headers['Content-Type']).toBe('application/json')
    expect(calls[1].body).toEqual({ project: 'P1', account: 'A-1' })
    expect(calls[2].headers['X-CSRF-Token']).toBe('tok-1')
    expect(calls.every((c) => c.credentials === 'same-origin')).toBe(true)
  })

  it('turns the API error object into an error with its code, message and field', async () => {
    mockApi(() => apiError(429, 'rate_limited', 'ask again in 42 s', 'phone'))
    const e = await post('codes', { phone: '13800000001' }).catch((x) => x)
    expect(e).toBeInstanceOf(TenantApiError)
    expect(e).toMatchObject({ status: 429, code: 'rate_limited', message: 'ask again in 42 s', field: 'phone' })
  })

  it('reads the error object also when it comes wrapped in {error: …}', async () => {
    mockApi(() => json({ error: { code: 'unavailable', message: 'wechat: timeout', field: 'provider' } }, 503))
    const e = await post('bindings/7/payments', { amount: '1.00', provider: 'wechat' }).catch((x) => x)
    expect(e).toMatchObject({ status: 503, code: 'unavailable', message: 'wechat: timeout', field: 'provider' })
  })

  it('names the status when the answer is not the API (a proxy page)', async () => {
    vi.stubGlobal('fetch', async () => new Response('<html>bad gateway</html>', { status: 502 }))
    const e = (await call('GET', 'me').catch((x) => x)) as TenantApiError
    expect(e.message).toBe('服务暂不可用（502）')
  })

  it('reports a lost session, but not a wrong code, to the 401 handler', async () => {
    const lost = vi.fn()
    onUnauthorized(lost)
    mockApi((_m, path) => (path === 'me' ? apiError(401, 'unauthenticated', 'sign in') : apiError(401, 'bad_code', 'wrong code', 'code')))
    await post('login', { phone: '13800000001', code: '000000' }).catch(() => undefined)
    await post('bindings', { project: 'P1', account: 'A-2', code: '000000' }).catch(() => undefined)
    expect(lost).not.toHaveBeenCalled()
    await call('GET', 'me').catch(() => undefined)
    expect(lost).toHaveBeenCalledTimes(1)
  })
})

describe('tenant routing', () => {
  it('sends a visitor who is not signed in to 登录', async () => {
    mockApi((_m, path) => (path === 'me' ? apiError(401, 'unauthenticated', 'sign in') : undefined))
    const { w, router } = await mountTenant('/topup')
    expect(router.currentRoute.value.name).toBe('login')
    expect(w.find('input[data-test=phone]').exists()).toBe(true)
    w.unmount()
  })

  it('sends a signed-in person without a bound account to 绑定户号', async () => {
    mockApi((_m, path) => {
      if (path === 'me') return json(me({ accounts: [] }))
      if (path === 'projects') return json({ items: [{ code: 'P1', name: '阳光公寓' }] })
      return undefined
    })
    const { w, router } = await mountTenant('/')
    expect(router.currentRoute.value.name).toBe('bind')
    expect(w.find('input[data-test=bind-account]').exists()).toBe(true)
    w.unmount()
  })

  it('goes to 登录 when any later call answers 401', async () => {
    let sessionEnded = false
    mockApi((_m, path) => {
      if (path === 'me') return json(me())
      if (sessionEnded) return apiError(401, 'unauthenticated', 'sign in')
      if (path === 'bindings/7/records?kind=top_up') return json({ items: [] })
      return undefined
    })
    const { w, router } = await mountTenant('/records')
    expect(router.currentRoute.value.name).toBe('records')
    expect(callsTo('GET', 'bindings/7/records?kind=top_up')).toHaveLength(1)
    sessionEnded = true // expired, or signed out on another tab
    await router.push('/usage')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('login')
    expect(w.find('[data-test=login]').exists()).toBe(true)
    w.unmount()
  })
})

describe('top-up amounts', () => {
  it('takes 0.01 to 50000 with at most two decimals, as a two-decimal string', () => {
    expect(checkTopUpAmount('100')).toEqual({ ok: true, amount: '100.00' })
    expect(checkTopUpAmount(' 0.5 ')).toEqual({ ok: true, amount: '0.50' })
    expect(checkTopUpAmount('0.01')).toEqual({ ok: true, amount: '0.01' })
    expect(checkTopUpAmount('50000')).toEqual({ ok: true, amount: '50000.00' })
    expect(checkTopUpAmount('050.10')).toEqual({ ok: true, amount: '50.10' })
  })
  it('says why an amount is refused', () => {
    expect(checkTopUpAmount('')).toEqual({ ok: false, problem: 'required' })
    expect(checkTopUpAmount('0')).toEqual({ ok: false, problem: 'min' })
    expect(checkTopUpAmount('0.00')).toEqual({ ok: false, problem: 'min' })
    expect(checkTopUpAmount('50000.01')).toEqual({ ok: false, problem: 'max' })
    expect(checkTopUpAmount('999999999999')).toEqual({ ok: false, problem: 'max' })
    for (const bad of ['1.234', '-5', '1e3', 'abc', '1.', '.5', '1,000']) expect(checkTopUpAmount(bad)).toEqual({ ok: false, problem: 'format' })
  })
})

describe('tenant display helpers', () => {
  it('shows money as the API wrote it', () => {
    expect(yuan('123.45')).toBe('¥123.45')
    expect(yuan('-5.00')).toBe('-¥5.00')
    expect(signed('100.00')).toBe('+100.00')
    expect(signed('-3.20')).toBe('-3.20')
    expect(maskPhone('13800000001')).toBe('138****0001')
    expect(maskPhone('139****0002')).toBe('139****0002')
  })
  it('names alarm kinds, and shows an unknown one as it is', () => {
    expect(alarmLabel('low_balance_2')).toBe('余额不足（二级）')
    expect(alarmLabel('arrears_trip')).toBe('欠费断电')
    expect(alarmLabel('top_up')).toBe('充值到账')
    expect(alarmLabel('days_left')).toBe('余额可用天数不足')
    expect(alarmLabel('meter_on_fire')).toBe('meter_on_fire')
  })
  it('names a receipt by its transfer id, escaped for the query', () => {
    expect(receiptUrl(7, 'pay:sandbox:SBX1a2b')).toBe('/api/v1/tenant/bindings/7/receipt?transfer=pay%3Asandbox%3ASBX1a2b')
    expect(receiptUrl(7, 'topup-7')).toBe('/api/v1/tenant/bindings/7/receipt?transfer=topup-7')
    expect(receiptUrl(7, 'a&b=c d')).toBe('/api/v1/tenant/bindings/7/receipt?transfer=a%26b%3Dc%20d')
  })
  it('has every text in both languages', () => {
    expect(messageKeys('en')).toEqual(messageKeys('zh-CN'))
  })
})
