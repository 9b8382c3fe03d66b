// The account's other pages: 记录 (codes named, signed amounts coloured, receipts linked by their
// transfer ids), 用量 (day and month in the project's calendar, today's totals above the chart),
// 告警 (kinds named) and 成员 (the holder removes members; anyone unbinds themselves).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { binding, callsTo, json, me, mockApi, mountTenant, noContent, resetSession, type Handler } from './tenantFixtures'
import type { Binding } from '../../src/tenant/types'

let accounts: Binding[] = []
function serve(extra: Handler) {
  mockApi((method, path, body) => {
    if (path === 'me') return json(me({ accounts }))
    return extra(method, path, body)
  })
}
beforeEach(() => {
  resetSession()
  accounts = [binding()]
})
// The body is not emptied between tests: Vant's confirm dialog is one instance mounted there once.
afterEach(() => vi.unstubAllGlobals())

describe('TenantRecords', () => {
  it('lists records with their codes named, signed amounts and receipts', async () => {
    serve((_m, path) => {
      if (path === 'bindings/7/records?kind=top_up') {
        return json({ items: [{ id: 'pay:sandbox:SBX1a2b', at: '2026-11-23T02:00:03Z', code: 'top_up', amount: '100.00', channel: 'sandbox', receipt: true }] })
      }
      if (path === 'bindings/7/records?kind=all') {
        return json({ items: [
          { id: 'usage-530', at: '2026-11-23T10:00:00Z', code: 'consumption', amount: '-3.20', channel: '', receipt: false },
          { id: 'refund-529', at: '2026-11-23T09:00:00Z', code: 'refund', amount: '-20.00', channel: 'cash', receipt: true },
          { id: 'subsidy-528', at: '2026-11-23T08:00:00Z', code: 'subsidy', amount: '5.00', channel: '', receipt: false },
          { id: 'bonus-527', at: '2026-11-23T07:00:00Z', code: 'loyalty_bonus', amount: '1.00', channel: '', receipt: false },
        ] })
      }
      return undefined
    })
    const { w } = await mountTenant('/records')
    let rows = w.findAll('[data-test=record]')
    expect(rows).toHaveLength(1)
    expect(rows[0].text()).toContain('充值')
    expect(rows[0].text()).toContain('沙箱')
    expect(rows[0].find('[data-test=record-amount]').text()).toBe('+100.00')
    expect(rows[0].find('[data-test=record-amount]').classes()).toContain('in')
    const receipt = rows[0].find('[data-test=receipt]')
    expect(receipt.attributes('href')).toBe('/api/v1/tenant/bindings/7/receipt?transfer=pay%3Asandbox%3ASBX1a2b')
    expect(receipt.attributes('target')).toBe('_blank')

    // 全部
    await w.findAll('.van-tab')[2].trigger('click')
    await flushPromises()
    expect(callsTo('GET', 'bindings/7/records?kind=all')).toHaveLength(1)
    rows = w.findAll('[data-test=record]')
    expect(rows.map((r) => r.find('.what').text())).toEqual(['扣费', '退款 · 现金', '补贴', 'loyalty_bonus'])
    expect(rows[0].find('[data-test=record-amount]').text()).toBe('-3.20')
    expect(rows[0].find('[data-test=record-amount]').classes()).toContain('out')
    expect(rows[0].find('[data-test=receipt]').exists()).toBe(false)
    expect(rows[1].find('[data-test=receipt]').attributes('href')).toBe('/api/v1/tenant/bindings/7/receipt?transfer=refund-529')
    expect(rows[2].find('[data-test=record-amount]').text()).toBe('+5.00')
    w.unmount()
  })
})

describe('TenantUsage', () => {
  // 17:30 UTC on the 23rd is already 01:30 on the 24th in the project (China time): that is today,
  // whatever zone the phone (or the test machine) is in.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-11-23T17:30:00Z'))
  })
  afterEach(() => vi.useRealTimers())

  it('shows today\'s totals, a bar for each of the last 31 days and the month view', async () => {
    serve((_m, path) => {
      if (path === 'bindings/7/usage?period=day') {
        return json({ items: [
          { period: '2026-11-20', utility: 'electricity', energy: '6.100', charged: '3.66' },
          { period: '2026-11-20', utility: 'water', energy: '0.200', charged: '1.00' },
          { period: '2026-11-24', utility: 'electricity', energy: '2.000', charged: '1.20' },
          { period: '2026-11-24', utility: 'water', energy: '0.100', charged: '0.50' },
        ] })
      }
      if (path === 'bindings/7/usage?period=month') {
        return json({ items: [{ period: '2026-11', utility: 'electricity', energy: '80.000', charged: '48.00' }] })
      }
      return undefined
    })
    const { w } = await mountTenant('/usage')
    expect(w.find('[data-test=usage-current-charged]').text()).toBe('¥1.70') // 1.20 + 0.50, exactly
    expect(w.find('[data-test=usage-totals]').text()).toContain('2.000 kWh')
    expect(w.find('[data-test=usage-totals]').text()).toContain('0.100 m³')
    // 2026-10-25 .. 2026-11-24: days without usage are zero bars.
    const bars = w.findAll('[data-test=chart-bar]')
    expect(bars).toHaveLength(31)
    expect(bars.filter((b) => b.attributes('height') !== '0')).toHaveLength(2)
    expect(Number(bars[26].attributes('height'))).toBeGreaterThan(0) // the 20th
    expect(bars[29].attributes('height')).toBe('0') // the 23rd
    expect(w.find('[data-test=usage-chart]').text()).toContain('2026-10-25')
    expect(w.find('[data-test=chart-picked]').text()).toBe('2026-11-24 · ¥1.70')
    const rows = w.findAll('[data-test=usage-row]')
    expect(rows).toHaveLength(2) // the list: only days with usage
    expect(rows[0].text()).toContain('2026-11-24') // newest first
    expect(rows[1].text()).toContain('¥4.66')

    await w.findAll('.van-tab')[1].trigger('click')
    await flushPromises()
    expect(w.find('[data-test=usage-current-charged]').text()).toBe('¥48.00')
    expect(w.find('[data-test=usage-totals]').text()).toContain('本月')
    expect(w.findAll('[data-test=chart-bar]')).toHaveLength(1)
    w.unmount()
  })

  it('shows nothing for today when the newest day is not today in the project', async () => {
    serve((_m, path) => {
      if (path === 'bindings/7/usage?period=day') {
        // The 23rd: today in UTC, yesterday in the project.
        return json({ items: [{ period: '2026-11-23', utility: 'electricity', energy: '6.100', charged: '3.66' }] })
      }
      return undefined
    })
    const { w } = await mountTenant('/usage')
    expect(w.find('[data-test=usage-current-charged]').text()).toBe('¥0.00')
    expect(w.find('[data-test=usage-totals]').text()).not.toContain('kWh')
    const bars = w.findAll('[data-test=chart-bar]')
    expect(bars).toHaveLength(31)
    expect(Number(bars[29].attributes('height'))).toBeGreaterThan(0)
    expect(bars[30].attributes('height')).toBe('0')
    expect(w.find('[data-test=chart-picked]').text()).toBe('2026-11-24 · ¥0.00')
    w.unmount()
  })
})

describe('TenantAlarms', () => {
  it('names the alarm kinds and shows when they were raised and cleared', async () => {
    serve((_m, path) => {
      if (path === 'bindings/7/alarms') {
        return json({ items: [
          { id: 4, kind: 'top_up', raised_at: '2026-11-22T03:00:00Z', cleared_at: '2026-11-22T03:00:00Z' },
          { id: 3, kind: 'arrears_trip', open: true, raised_at: '2026-11-22T01:00:00Z', cleared_at: '' },
          { id: 2, kind: 'low_balance_2', raised_at: '2026-11-21T01:00:00Z', cleared_at: '2026-11-21T05:00:00Z' },
          { id: 1, kind: 'new_kind', raised_at: '2026-11-20T01:00:00Z', cleared_at: '2026-11-20T02:00:00Z' },
        ] })
      }
      return undefined
    })
    const { w } = await mountTenant('/alarms')
    const rows = w.findAll('[data-test=alarm]')
    expect(rows.map((r) => r.find('.kind').text())).toEqual(['充值到账', '欠费断电', '余额不足（二级）', 'new_kind'])
    expect(rows[1].text()).toContain('未解除')
    expect(rows[2].text()).toContain('解除')
    expect(rows[2].text()).not.toContain('未解除')
    w.unmount()
  })
})

describe('TenantMembers', () => {
  const members = [
    { binding: 7, phone: '138****0001', role: 'holder', since: '2026-10-01T00:00:00Z', me: true },
    { binding: 11, phone: '139****0002', role: 'member', since: '2026-11-01T00:00:00Z', me: false },
  ]

  it('lets the holder remove a member after confirming', async () => {
    let list = [...members]
    serve((method, path) => {
      if (path === 'bindings/7/members') return json({ items: list })
      if (method === 'DELETE' && path === 'bindings/11') {
        list = list.filter((m) => m.binding !== 11)
        return noContent()
      }
      return undefined
    })
    const { w } = await mountTenant('/members')
    expect(w.findAll('[data-test=member]')).toHaveLength(2)
    expect(w.find('[data-test=remove-7]').exists()).toBe(false) // not oneself
    await w.find('[data-test=remove-11]').trigger('click')
    await flushPromises()
    const dialog = document.querySelector('.van-dialog')!
    expect(dialog.textContent).toContain('移除成员 139****0002？')
    ;(document.querySelector('.van-dialog__confirm') as HTMLElement).click()
    await flushPromises()
    const removed = callsTo('DELETE', 'bindings/11')
    expect(removed).toHaveLength(1)
    expect(removed[0].headers['X-CSRF-Token']).toBe('csrf-abc')
    expect(w.findAll('[data-test=member]')).toHaveLength(1)
    w.unmount()
  })

  it('goes by the roles the members list reads now, and never offers to remove a holder', async () => {
    // GET me said member; the account's phone has since become this person's: the list says holder.
    accounts = [binding({ role: 'member' })]
    serve((_m, path) => {
      if (path === 'bindings/7/members') {
        return json({ items: [...members, { binding: 12, phone: '138****0001', role: 'holder', since: '2026-11-02T00:00:00Z', me: false }] })
      }
      return undefined
    })
    const { w } = await mountTenant('/members')
    expect(w.findAll('[data-test=member]')).toHaveLength(3)
    expect(w.find('[data-test=remove-11]').exists()).toBe(true)
    expect(w.find('[data-test=remove-12]').exists()).toBe(false) // a holder
    expect(w.find('[data-test=remove-7]').exists()).toBe(false) // me
    w.unmount()
  })

  it('offers no removal when the list says the viewer is no longer the holder', async () => {
    serve((_m, path) => {
      if (path === 'bindings/7/members') return json({ items: members.map((m) => ({ ...m, role: m.binding === 7 ? 'member' : 'holder' })) })
      return undefined
    })
    const { w } = await mountTenant('/members')
    expect(w.findAll('[data-test=member]')).toHaveLength(2)
    expect(w.find('[data-test=remove-11]').exists()).toBe(false)
    w.unmount()
  })

  it('lets a member unbind themselves but remove no one', async () => {
    accounts = [binding({ role: 'member' })]
    serve((method, path) => {
      if (path === 'bindings/7/members') return json({ items: members.map((m) => ({ ...m, me: m.binding === 11 })) })
      if (method === 'DELETE' && path === 'bindings/7') {
        accounts = []
        return noContent()
      }
      if (path === 'projects') return json({ items: [{ code: 'P1', name: '阳光公寓' }] })
      return undefined
    })
    const { w, router } = await mountTenant('/members')
    expect(w.find('[data-test=remove-7]').exists()).toBe(false)
    expect(w.find('[data-test=remove-11]').exists()).toBe(false)
    await w.find('[data-test=unbind]').trigger('click')
    await flushPromises()
    ;(document.querySelector('.van-dialog__confirm') as HTMLElement).click()
    await flushPromises()
    expect(callsTo('DELETE', 'bindings/7')).toHaveLength(1)
    expect(router.currentRoute.value.name).toBe('bind') // nothing bound any more
    w.unmount()
  })
})
