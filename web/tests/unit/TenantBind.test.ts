// 绑定户号: the project preselected from the page's ?p=, the holder's own phone binding at once,
// anyone else asked for the code sent to the holder (202 → code → 201, the holder's phone named by
// its last 4 digits), refusals at their fields in the page's words.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { session } from '../../src/tenant/session'
import { setLocale } from '../../src/tenant/i18n'
import { apiError, binding, callsTo, detail, json, me, mockApi, mountTenant, resetSession } from './tenantFixtures'
import type { Binding } from '../../src/tenant/types'

const projects = [
  { code: 'P1', name: '阳光公寓' },
  { code: 'P2', name: '星河商业街' },
]
const shop = binding({ binding: 9, role: 'member', project: 'P2', project_name: '星河商业街', account: 'S-12', tenant_name: '李四' })
let bound: Binding[] = []

beforeEach(() => {
  resetSession()
  bound = []
  window.history.replaceState(null, '', '/m/?p=P2')
  mockApi((method, path, body) => {
    if (path === 'me') return json(me({ accounts: bound }))
    if (path === 'projects') return json({ items: projects })
    if (method === 'POST' && path === 'bindings') {
      const b = body as { project: string; account: string; code?: string }
      if (b.account === 'NOPE') return apiError(404, 'not_found', 'no account NOPE', 'account')
      if (b.account === 'A-101') return apiError(409, 'already_exists', 'you are bound to this account already', 'account')
      if (b.account === 'OLD') return apiError(412, 'failed_precondition', 'the account is closed', 'account')
      if (b.account === 'NOPHONE') return apiError(412, 'failed_precondition', 'the account has no mobile phone registered to send a code to; ask the property office to add it', 'account')
      if (b.account === 'FULL') return apiError(429, 'resource_exhausted', 'the account has 20 people bound; the holder must remove one first', 'account')
      if (!b.code) return json({ code_sent_to: '*******0002', expires_in: 300, resend_after: 60 }, 202)
      if (b.code !== '654321') return apiError(401, 'unauthenticated', 'wrong code; 4 tries left', 'code')
      bound = [shop]
      return json(shop, 201)
    }
    if (path === 'bindings/9') return json(detail({ ...shop, available: '88.00' }))
    return undefined
  })
})
afterEach(() => {
  setLocale('zh-CN')
  window.history.replaceState(null, '', '/')
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('TenantBind', () => {
  it('binds another person\'s account with the code sent to its holder', async () => {
    const { w, router } = await mountTenant('/')
    expect(router.currentRoute.value.name).toBe('bind') // nothing bound yet
    const select = w.find('select[data-test=bind-project]')
    expect(select.findAll('option').map((o) => o.text())).toEqual(['请选择项目', '阳光公寓', '星河商业街'])
    expect((select.element as HTMLSelectElement).value).toBe('P2') // from ?p=P2
    expect(w.find('input[data-test=bind-code]').exists()).toBe(false)

    await w.find('input[data-test=bind-account]').setValue('S-12')
    await w.find('[data-test=bind-submit]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'bindings')[0].body).toEqual({ project: 'P2', account: 'S-12' })
    expect(router.currentRoute.value.name).toBe('bind')
    expect(w.find('[data-test=bind-code-sent]').text()).toContain('验证码已发送至户主手机（尾号0002）')
    expect(w.find('[data-test=bind-code-sent]').text()).not.toContain('*')

    await w.find('input[data-test=bind-code]').setValue('111111')
    await w.find('[data-test=bind-submit]').trigger('click')
    await flushPromises()
    expect(w.find('input[data-test=bind-code]').attributes('aria-invalid')).toBe('true')
    expect(w.text()).toContain('验证码错误，还可尝试 4 次')
    expect(router.currentRoute.value.name).toBe('bind') // a wrong code is no lost session

    await w.find('input[data-test=bind-code]').setValue('654321')
    await w.find('[data-test=bind-submit]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'bindings')[2].body).toEqual({ project: 'P2', account: 'S-12', code: '654321' })
    expect(router.currentRoute.value.name).toBe('home')
    expect(session.current).toBe(9)
    expect(localStorage.getItem('joule.tenant.binding')).toBe('9')
    expect(w.find('[data-test=balance]').text()).toBe('¥88.00')
    expect(w.find('[data-test=current-account]').text()).toContain('S-12')
    w.unmount()
  })

  it('shows an unknown account and one bound already at the account field', async () => {
    window.history.replaceState(null, '', '/m/')
    const { w } = await mountTenant('/bind')
    const select = w.find('select[data-test=bind-project]')
    expect((select.element as HTMLSelectElement).value).toBe('') // two projects, none named
    await w.find('[data-test=bind-submit]').trigger('click')
    expect(w.text()).toContain('请选择项目')
    expect(w.text()).toContain('请输入户号')
    expect(callsTo('POST', 'bindings')).toHaveLength(0)

    await select.setValue('P1')
    await w.find('input[data-test=bind-account]').setValue('NOPE')
    await w.find('[data-test=bind-submit]').trigger('click')
    await flushPromises()
    expect(w.find('input[data-test=bind-account]').attributes('aria-invalid')).toBe('true')
    expect(w.text()).toContain('未找到该户号，请核对')

    await w.find('input[data-test=bind-account]').setValue('A-101')
    await w.find('[data-test=bind-submit]').trigger('click')
    await flushPromises()
    expect(w.text()).toContain('你已绑定该户号')
    expect(w.text()).not.toContain('未找到该户号')

    for (const [account, text] of [
      ['OLD', '该户号已销户，无法绑定'],
      ['NOPHONE', '该户号未登记户主手机，无法发送验证码，请联系物业登记'],
      ['FULL', '该户号绑定人数已满，请户主先移除一位成员'],
    ]) {
      await w.find('input[data-test=bind-account]').setValue(account)
      await w.find('[data-test=bind-submit]').trigger('click')
      await flushPromises()
      expect(w.find('input[data-test=bind-account]').attributes('aria-invalid')).toBe('true')
      expect(w.text()).toContain(text)
    }
    w.unmount()
  })

  it("names the holder's phone by its last 4 digits in English too", async () => {
    setLocale('en')
    const { w } = await mountTenant('/bind')
    await w.find('input[data-test=bind-account]').setValue('S-12')
    await w.find('[data-test=bind-submit]').trigger('click')
    await flushPromises()
    expect(w.find('[data-test=bind-code-sent]').text()).toContain("Code sent to the holder's phone ending 0002")
    expect(w.find('input[data-test=bind-code]').exists()).toBe(true)
    w.unmount()
  })

  it('preselects the only project', async () => {
    window.history.replaceState(null, '', '/m/')
    mockApi((_m, path) => {
      if (path === 'me') return json(me({ accounts: [] }))
      if (path === 'projects') return json({ items: [projects[0]] })
      return undefined
    })
    const { w } = await mountTenant('/bind')
    expect((w.find('select[data-test=bind-project]').element as HTMLSelectElement).value).toBe('P1')
    w.unmount()
  })
})
