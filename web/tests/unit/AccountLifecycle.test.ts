// The life-cycle actions: shown only with accounts.manage; the terms dialog sends the account's
// ETag and only what the form holds, and a register typed wrong never reaches the API.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import AccountLifecycle from '../../src/components/AccountLifecycle.vue'
import { session } from '../../src/session'
import { setCsrfToken } from '../../src/api'

const account = {
  number: 'A001',
  tenant_name: 'Tea shop',
  phone: '',
  tariff: 'flat',
  status: 'open',
  version: 7,
  meters: [{ code: 'm1' }],
  scheme: { alarm1: '50.00', alarm2: '20.00', alarm3: '5.00', overdraft: '0.00', restore: '0.00', emergency: '0.00' },
}

function signIn(permissions: string[]) {
  session.user = { username: 'u', role: 'r', permissions, projects: [{ code: 'p1', name: 'P1' }], csrf_token: 'csrf' }
  session.project = 'p1'
  setCsrfToken('csrf')
}

interface Call {
  method: string
  url: string
  headers: Record<string, string>
  body: unknown
}

let calls: Call[] = []
beforeEach(() => {
  calls = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ method: init.method ?? 'GET', url, headers: init.headers as Record<string, string>, body: init.body ? JSON.parse(String(init.body)) : undefined })
    if (url.includes('/tariffs')) return new Response(JSON.stringify({ items: [{ code: 'flat' }, { code: 'tou' }], page: 1, page_size: 500, total: 2 }))
    return new Response(JSON.stringify({ number: 'A001', state: 'alarm1', version: 8 }), { status: 200 })
  })
})
afterEach(() => {
  vi.unstubAllGlobals()
  session.user = null
})

const mountIt = () => mount(AccountLifecycle, { props: { account, base: '/projects/p1/accounts/A001' }, global: { plugins: [ElementPlus] }, attachTo: document.body })

describe('AccountLifecycle', () => {
  it('shows nothing without accounts.manage', () => {
    signIn(['accounts.view'])
    const w = mountIt()
    expect(w.find('[data-test=action-terms]').exists()).toBe(false)
    w.unmount()
  })

  it('changes the terms with the ETag and the whole scheme of the form', async () => {
    signIn(['accounts.manage', 'tariffs.view'])
    const w = mountIt()
    await w.find('[data-test=action-terms]').trigger('click')
    await flushPromises()
    const alarm1 = document.querySelector<HTMLInputElement>('input[data-test=terms-alarm1]')!
    alarm1.value = '95.00'
    alarm1.dispatchEvent(new Event('input'))
    await flushPromises()
    document.querySelector<HTMLButtonElement>('[data-test=terms-confirm]')!.click()
    await flushPromises()
    const patch = calls.find((c) => c.method === 'PATCH')!
    expect(patch.url).toBe('/api/v1/projects/p1/accounts/A001')
    expect(patch.headers['If-Match']).toBe('"7"')
    expect(patch.headers['X-CSRF-Token']).toBe('csrf')
    expect(patch.body).toEqual({
      tenant: 'Tea shop',
      phone: '',
      scheme: { alarm1: '95.00', alarm2: '20.00', alarm3: '5.00', overdraft: '0.00', restore: '0.00' },
    })
    expect(w.emitted('changed')).toHaveLength(1)
    w.unmount()
  })

  it('refuses a register that is not one before calling the API', async () => {
    signIn(['accounts.manage'])
    const w = mountIt()
    await w.find('[data-test=action-close-account]').trigger('click')
    await flushPromises()
    const reading = document.querySelector<HTMLInputElement>('input[data-test=close-reading-m1]')!
    reading.value = '-3'
    reading.dispatchEvent(new Event('input'))
    await flushPromises()
    document.querySelector<HTMLButtonElement>('[data-test=close-confirm]')!.click()
    await flushPromises()
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
    expect(document.querySelector('[data-test=close-error]')?.textContent).toBeTruthy()
    w.unmount()
  })
})
