// 登录: the code button counts down the resend time the API names, a demo server's code is shown
// and filled in, signing in goes to 首页 (or 绑定户号 when nothing is bound), a wrong code is shown
// at the code field.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { session } from '../../src/tenant/session'
import { apiError, callsTo, detail, json, me, mockApi, mountTenant, noContent, resetSession } from './tenantFixtures'

let signedIn = false
beforeEach(() => {
  resetSession()
  signedIn = false
  mockApi((method, path, body) => {
    if (path === 'me') return signedIn ? json(me()) : apiError(401, 'unauthenticated', 'sign in')
    if (method === 'POST' && path === 'codes') return json({ sent_to: '138****0001', expires_in: 300, resend_after: 60, demo_code: '123456' }, 202)
    if (method === 'POST' && path === 'login') {
      if ((body as { code: string }).code !== '123456') return apiError(401, 'bad_code', 'wrong or expired code', 'code')
      signedIn = true
      return json({ phone: '13800000001', csrf_token: 'csrf-login', expires_at: '2026-12-23T00:00:00Z' })
    }
    if (method === 'POST' && path === 'logout') return noContent()
    if (path === 'bindings/7') return json(detail())
    return undefined
  })
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('TenantLogin', () => {
  it('refuses a malformed phone without asking the server', async () => {
    const { w } = await mountTenant('/login')
    await w.find('input[data-test=phone]').setValue('12345')
    await w.find('[data-test=send-code]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'codes')).toHaveLength(0)
    expect(w.text()).toContain('请输入 11 位手机号')
    w.unmount()
  })

  it('counts down 60 s before another code, and shows and fills in the demo code', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { w } = await mountTenant('/login')
    await w.find('input[data-test=phone]').setValue('13800000001')
    const send = () => w.find('[data-test=send-code]')
    expect(send().text()).toBe('获取验证码')
    await send().trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'codes')[0].body).toEqual({ phone: '13800000001' })
    expect(send().text()).toBe('60 秒后重发')
    expect(send().attributes('disabled')).toBeDefined()
    expect(w.find('[data-test=demo-code]').text()).toBe('123456')
    expect(w.text()).toContain('演示模式验证码: 123456')
    expect((w.find('input[data-test=code]').element as HTMLInputElement).value).toBe('123456')
    expect(w.find('[data-test=sent-to]').text()).toBe('验证码已发送至 138****0001')

    vi.advanceTimersByTime(1000)
    await flushPromises()
    expect(send().text()).toBe('59 秒后重发')
    await send().trigger('click') // disabled: no second code
    expect(callsTo('POST', 'codes')).toHaveLength(1)
    vi.advanceTimersByTime(59_000)
    await flushPromises()
    expect(send().text()).toBe('获取验证码')
    expect(send().attributes('disabled')).toBeUndefined()
    await send().trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'codes')).toHaveLength(2)
    w.unmount()
  })

  it('signs in with the code and opens 首页 with the CSRF token of the session', async () => {
    const { w, router } = await mountTenant('/login')
    await w.find('input[data-test=phone]').setValue('13800000001')
    await w.find('[data-test=send-code]').trigger('click')
    await flushPromises()
    await w.find('[data-test=login]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'login')[0].body).toEqual({ phone: '13800000001', code: '123456' })
    expect(router.currentRoute.value.name).toBe('home')
    expect(session.signedIn).toBe(true)
    expect(w.find('[data-test=balance]').text()).toBe('¥123.45')
    // Writes after sign-in carry the token GET me returned.
    await router.push('/me')
    await flushPromises()
    await w.find('[data-test=logout]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'logout')[0].headers['X-CSRF-Token']).toBe('csrf-abc')
    expect(router.currentRoute.value.name).toBe('login')
    w.unmount()
  })

  it('shows a wrong code at the code field and stays on 登录', async () => {
    const { w, router } = await mountTenant('/login')
    await w.find('input[data-test=phone]').setValue('13800000001')
    await w.find('input[data-test=code]').setValue('000000')
    await w.find('[data-test=login]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('login')
    expect(w.find('input[data-test=code]').attributes('aria-invalid')).toBe('true')
    expect(w.text()).toContain('验证码错误或已过期')
    w.unmount()
  })

  it('switches every text to English and keeps the choice', async () => {
    const { w } = await mountTenant('/login')
    await w.find('[data-test=lang-toggle]').trigger('click')
    expect(w.find('[data-test=login]').text()).toBe('Sign in')
    expect(w.find('[data-test=send-code]').text()).toBe('Get code')
    expect(localStorage.getItem('joule.tenant.locale')).toBe('en')
    await w.find('[data-test=lang-toggle]').trigger('click')
    expect(w.find('[data-test=login]').text()).toBe('登录')
    w.unmount()
  })
})
