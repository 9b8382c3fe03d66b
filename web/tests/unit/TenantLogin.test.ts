// 登录: the code button counts down the resend time the API names, a demo server's code is shown
// and filled in, signing in goes to 首页 (or 绑定户号 when nothing is bound), a wrong code is shown
// at the code field in the page's words. The code is asked for in a project: the link's ?p=, the
// only one, or the one picked (the last used preselected).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { session } from '../../src/tenant/session'
import { apiError, callsTo, detail, json, me, mockApi, mountTenant, noContent, resetSession } from './tenantFixtures'

let signedIn = false
let projects = [{ code: 'P1', name: '阳光公寓' }]
let codesAnswer: (() => Response) | null = null
beforeEach(() => {
  resetSession()
  signedIn = false
  projects = [{ code: 'P1', name: '阳光公寓' }]
  codesAnswer = null
  mockApi((method, path, body) => {
    if (path === 'me') return signedIn ? json(me()) : apiError(401, 'unauthenticated', 'sign in')
    if (path === 'projects') return json({ items: projects })
    if (method === 'POST' && path === 'codes') return codesAnswer ? codesAnswer() : json({ sent_to: '138****0001', expires_in: 300, resend_after: 60, demo_code: '123456' }, 202)
    if (method === 'POST' && path === 'login') {
      if ((body as { code: string }).code !== '123456') return apiError(401, 'unauthenticated', 'wrong code; 2 tries left', 'code')
      signedIn = true
      return json({ phone: '13800000001', csrf_token: 'csrf-login', expires_at: '2026-12-23T00:00:00Z' })
    }
    if (method === 'POST' && path === 'logout') return noContent()
    if (path === 'bindings/7') return json(detail())
    return undefined
  })
})
afterEach(() => {
  window.history.replaceState(null, '', '/')
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
    expect(callsTo('POST', 'codes')[0].body).toEqual({ phone: '13800000001', project: 'P1' }) // the only project, silently
    expect(w.find('[data-test=login-project]').exists()).toBe(false)
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
    expect(w.text()).toContain('验证码错误，还可尝试 2 次')
    expect(w.text()).not.toContain('tries left')
    w.unmount()
  })

  it('sends the project of the link (?p=) without asking for the list', async () => {
    window.history.replaceState(null, '', '/m/?p=P2')
    const { w } = await mountTenant('/login')
    expect(callsTo('GET', 'projects')).toHaveLength(0)
    expect(w.find('[data-test=login-project]').exists()).toBe(false)
    await w.find('input[data-test=phone]').setValue('13800000001')
    await w.find('[data-test=send-code]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'codes')[0].body).toEqual({ phone: '13800000001', project: 'P2' })
    w.unmount()
  })

  it('asks which project on a server with several, the one used last preselected', async () => {
    projects = [
      { code: 'P1', name: '阳光公寓' },
      { code: 'P2', name: '星河商业街' },
    ]
    localStorage.setItem('joule.tenant.project', 'P2')
    const { w } = await mountTenant('/login')
    const select = w.find('select[data-test=login-project]')
    expect(select.exists()).toBe(true)
    expect(select.findAll('option').map((o) => o.text())).toEqual(['请选择所在项目', '阳光公寓', '星河商业街'])
    expect((select.element as HTMLSelectElement).value).toBe('P2')
    // Above the phone field.
    expect(select.element.compareDocumentPosition(w.find('input[data-test=phone]').element) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy()

    await select.setValue('P1')
    await w.find('input[data-test=phone]').setValue('13800000001')
    await w.find('[data-test=send-code]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'codes')[0].body).toEqual({ phone: '13800000001', project: 'P1' })
    expect(localStorage.getItem('joule.tenant.project')).toBe('P1')
    w.unmount()
  })

  it('asks to pick a project before sending a code when none was used before', async () => {
    projects = [
      { code: 'P1', name: '阳光公寓' },
      { code: 'P2', name: '星河商业街' },
    ]
    const { w } = await mountTenant('/login')
    expect((w.find('select[data-test=login-project]').element as HTMLSelectElement).value).toBe('')
    await w.find('input[data-test=phone]').setValue('13800000001')
    await w.find('[data-test=send-code]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'codes')).toHaveLength(0)
    expect(w.text()).toContain('请选择所在项目')
    w.unmount()
  })

  it("words the server's refusals of a code: daily limit, no SMS, no project", async () => {
    const { w } = await mountTenant('/login')
    await w.find('input[data-test=phone]').setValue('13800000001')
    const send = async () => {
      await w.find('[data-test=send-code]').trigger('click')
      await flushPromises()
    }
    codesAnswer = () => apiError(429, 'resource_exhausted', 'this phone has had 10 codes in a day; try again tomorrow', 'phone')
    await send()
    expect(w.find('input[data-test=phone]').attributes('aria-invalid')).toBe('true')
    expect(w.text()).toContain('今日获取验证码次数已达上限，请明天再试')
    codesAnswer = () => apiError(412, 'failed_precondition', 'this server sends no SMS, so no code can reach you; ask the property office', 'phone')
    await send()
    expect(w.text()).toContain('本服务器未开通短信，验证码无法送达，请联系物业')
    expect(w.text()).not.toContain('tomorrow')
    // No picker to show it at: above the form.
    codesAnswer = () => apiError(400, 'invalid_argument', 'name the project', 'project')
    await send()
    expect(w.find('[role=alert]').text()).toBe('请先选择所在项目')
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
