// 首页: balance, days left, power on or off from the relay, the alarm state; every 5 s while
// visible it reloads (power coming back after a payment shows by itself); several accounts are
// switched between and the choice is remembered; a binding removed meanwhile moves on to the
// account left, or to 绑定户号.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { apiError, binding, callsTo, detail, json, me, mockApi, mountTenant, resetSession } from './tenantFixtures'
import type { AccountDetail, Binding } from '../../src/tenant/types'

let answer: AccountDetail
let accounts: Binding[] = []
let removed = false // binding 7 removed (by the holder, or staff)
const shop = binding({ binding: 9, role: 'member', project: 'P2', project_name: '星河商业街', account: 'S-12', tenant_name: '李四', available: '-5.00', relay: 'open', state: 'tripped', days_left: null })

beforeEach(() => {
  resetSession()
  answer = detail()
  accounts = [binding(), shop]
  removed = false
  mockApi((_m, path) => {
    if (path === 'me') return json(me({ accounts: removed ? accounts.filter((b) => b.binding !== 7) : accounts }))
    if (path === 'projects') return json({ items: [{ code: 'P1', name: '阳光公寓' }] })
    if (path === 'bindings/7') return removed ? apiError(404, 'not_found', 'no binding 7', 'binding') : json(answer)
    if (path === 'bindings/9') return json(detail(shop))
    return undefined
  })
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

type Page = Awaited<ReturnType<typeof mountTenant>>['w']
const relay = (w: Page) => w.find('[data-test=relay]')
// van-tag renders inside a Transition: in the browser data-test lands on the tag, in the test on
// the transition stub around it.
const badge = (w: Page) => {
  const found = w.find('[data-test=state]')
  return found.exists() && !found.classes('van-tag') ? found.find('.van-tag') : found
}

describe('TenantHome', () => {
  it('shows the balance, days left, power on and today\'s charge', async () => {
    const { w } = await mountTenant('/')
    expect(w.find('[data-test=balance]').text()).toBe('¥123.45')
    expect(w.find('[data-test=days-left]').text()).toBe('预计可用 12 天')
    expect(relay(w).attributes('data-relay')).toBe('closed')
    expect(relay(w).text()).toBe('供电中')
    expect(relay(w).classes()).toContain('closed')
    expect(w.find('[data-test=state]').exists()).toBe(false) // normal: no badge
    expect(w.find('[data-test=charged-today]').text()).toBe('¥3.20')
    expect(w.find('[data-test=meter-today]').text()).toContain('5.300 kWh · ¥3.20')
    expect(w.find('[data-test=go-topup]').exists()).toBe(true)
    expect(w.find('[data-test=tabbar]').exists()).toBe(true)
    w.unmount()
  })

  it('names the alarm levels and keep-power as badges', async () => {
    for (const [state, text, type] of [
      ['alarm1', '余额不足（一级）', 'warning'],
      ['alarm3', '余额不足（三级）', 'warning'],
      ['keep_power', '保电', 'primary'],
      ['tripped', '欠费断电', 'danger'],
    ]) {
      answer = detail({ state })
      const { w } = await mountTenant('/')
      expect(badge(w).text()).toBe(text)
      expect(w.find('[data-test=state]').attributes('data-state')).toBe(state)
      expect(badge(w).classes()).toContain('van-tag--' + type)
      w.unmount()
      document.body.innerHTML = ''
    }
  })

  it('reloads every 5 s while visible, so power coming back shows by itself', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    answer = detail({ available: '-2.00', relay: 'open', state: 'tripped', days_left: null })
    const { w } = await mountTenant('/')
    expect(relay(w).attributes('data-relay')).toBe('open')
    expect(relay(w).text()).toBe('已断电')
    expect(w.find('[data-test=balance]').text()).toBe('-¥2.00')
    expect(w.find('[data-test=days-left]').text()).toBe('暂无预测')
    expect(w.find('[data-test=state]').text()).toBe('欠费断电')
    const loads = callsTo('GET', 'bindings/7').length

    // Paid elsewhere: the server closes the relay.
    answer = detail({ available: '98.00', relay: 'closed', state: 'normal', days_left: 9 })
    vi.advanceTimersByTime(5000)
    await flushPromises()
    expect(callsTo('GET', 'bindings/7').length).toBe(loads + 1)
    expect(relay(w).attributes('data-relay')).toBe('closed')
    expect(relay(w).text()).toBe('供电中')
    expect(w.find('[data-test=balance]').text()).toBe('¥98.00')
    expect(w.find('[data-test=days-left]').text()).toBe('预计可用 9 天')
    expect(w.find('[data-test=state]').exists()).toBe(false)

    // In the background it does not poll.
    const hidden = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden')
    vi.advanceTimersByTime(15_000)
    await flushPromises()
    expect(callsTo('GET', 'bindings/7').length).toBe(loads + 1)
    hidden.mockReturnValue('visible')
    document.dispatchEvent(new Event('visibilitychange'))
    await flushPromises()
    expect(callsTo('GET', 'bindings/7').length).toBe(loads + 2)

    // Gone from the page: no more polling.
    w.unmount()
    vi.advanceTimersByTime(10_000)
    expect(callsTo('GET', 'bindings/7').length).toBe(loads + 2)
    hidden.mockRestore()
  })

  it('switches between bound accounts and remembers the choice', async () => {
    const { w } = await mountTenant('/')
    expect(w.find('[data-test=current-account]').text()).toContain('A-101')
    await w.find('[data-test=switch-account]').trigger('click')
    await flushPromises()
    const shopAction = w.findAll('.van-action-sheet__item').find((a) => a.text().includes('S-12'))!
    await shopAction.trigger('click')
    await flushPromises()
    expect(w.find('[data-test=current-account]').text()).toContain('S-12')
    expect(w.find('[data-test=balance]').text()).toBe('-¥5.00')
    expect(relay(w).attributes('data-relay')).toBe('open')
    expect(callsTo('GET', 'bindings/9').length).toBeGreaterThan(0)
    expect(localStorage.getItem('joule.tenant.binding')).toBe('9')
    w.unmount()
  })

  it('opens on the account chosen last time', async () => {
    localStorage.setItem('joule.tenant.binding', '9')
    const { session } = await import('../../src/tenant/session')
    session.current = 9
    const { w } = await mountTenant('/')
    expect(w.find('[data-test=current-account]').text()).toContain('S-12')
    expect(callsTo('GET', 'bindings/7')).toHaveLength(0)
    w.unmount()
  })

  it('moves on to the account left when the shown one was unbound elsewhere', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { w, router } = await mountTenant('/')
    expect(w.find('[data-test=current-account]').text()).toContain('A-101')
    const mes = callsTo('GET', 'me').length
    removed = true
    vi.advanceTimersByTime(5000)
    await flushPromises()
    expect(callsTo('GET', 'me').length).toBe(mes + 1) // the accounts read again
    expect(router.currentRoute.value.name).toBe('home')
    expect(w.find('[data-test=current-account]').text()).toContain('S-12')
    expect(w.find('[data-test=balance]').text()).toBe('-¥5.00')
    expect(w.find('[role=alert]').exists()).toBe(false)
    // Binding 7 is asked about no more; the one shown now is polled.
    const sevens = callsTo('GET', 'bindings/7').length
    const nines = callsTo('GET', 'bindings/9').length
    for (let i = 0; i < 2; i++) {
      vi.advanceTimersByTime(5000)
      await flushPromises()
    }
    expect(callsTo('GET', 'bindings/7').length).toBe(sevens)
    expect(callsTo('GET', 'bindings/9').length).toBe(nines + 2)
    w.unmount()
  })

  it('goes to 绑定户号 when the only account was unbound elsewhere, and stops polling', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    accounts = [binding()]
    const { w, router } = await mountTenant('/')
    removed = true
    vi.advanceTimersByTime(5000)
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('bind')
    const sevens = callsTo('GET', 'bindings/7').length
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(5000)
      await flushPromises()
    }
    expect(callsTo('GET', 'bindings/7').length).toBe(sevens)
    w.unmount()
  })
})
