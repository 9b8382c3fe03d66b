// 充值: amounts checked before anything is sent, presets filling the amount, and the sandbox
// payment end to end: order → sandbox cashier → confirm → poll the order until paid → 支付成功
// with the new balance and the receipt of the transfer the paid order names. WeChat Pay / Alipay say
// they cannot pay here yet.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { pollTiming } from '../../src/tenant/payment'
import { callsTo, detail, json, me, mockApi, mountTenant, resetSession } from './tenantFixtures'
import type { Order } from '../../src/tenant/types'

const order = (state: Order['state'], extra: Partial<Order> = {}): Order => ({
  order_no: 'J1795400000ab12cd34',
  account: 'A-101',
  provider: 'sandbox',
  channel: 'sandbox',
  amount: '100.00',
  state,
  created_at: '2026-11-23T02:00:00Z',
  paid_at: state === 'paid' ? '2026-11-23T02:00:03Z' : null,
  transfer: state === 'paid' ? paidTransfer : '',
  ...extra,
})
let orderPolls: Order['state'][] = []
let paidBalance = '223.45'
let paidTransfer = 'pay:sandbox:SBX1a2b'

beforeEach(() => {
  resetSession()
  orderPolls = ['created', 'created', 'paid']
  paidTransfer = 'pay:sandbox:SBX1a2b'
  pollTiming.intervalMs = 5
  pollTiming.timeoutMs = 2000
  mockApi((method, path, body) => {
    if (path === 'me') return json(me())
    if (method === 'POST' && path === 'bindings/7/payments') {
      const b = body as { amount: string; provider: string }
      return json({ ...order('created', { amount: b.amount, provider: b.provider, channel: b.provider === 'wechat' ? 'jsapi' : 'sandbox' }), ...(b.provider === 'sandbox' ? { sandbox_pay: '/api/v1/tenant/payments/J1795400000ab12cd34/sandbox-pay' } : {}) }, 201)
    }
    if (method === 'POST' && path === 'payments/J1795400000ab12cd34/sandbox-pay') return json({ outcome: 'credited', order: order('created') })
    if (path === 'payments/J1795400000ab12cd34') return json(order(orderPolls.length > 1 ? orderPolls.shift()! : orderPolls[0]))
    if (path === 'bindings/7') return json(detail({ available: paidBalance }))
    if (path === 'bindings/7/records?kind=top_up') return json({ items: [] })
    return undefined
  })
})
afterEach(() => {
  pollTiming.intervalMs = 1000
  pollTiming.timeoutMs = 30_000
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const amountInput = (w: VueWrapper) => w.find('input[data-test=custom-amount]')
// Waits for the page to get somewhere: polling sleeps between calls.
async function until(check: () => boolean, ms = 1500) {
  const end = Date.now() + ms
  while (!check() && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 5))
    await flushPromises()
  }
}

describe('TenantTopUp', () => {
  it('refuses 0, more than 50000 and three decimals with a message, and sends nothing', async () => {
    const { w } = await mountTenant('/topup')
    const pay = async (amount: string) => {
      await amountInput(w).setValue(amount)
      await w.find('[data-test=pay]').trigger('click')
      await flushPromises()
    }
    await pay('0')
    expect(w.text()).toContain('充值金额最低 0.01 元')
    await pay('50000.01')
    expect(w.text()).toContain('单笔充值最多 50000 元')
    await pay('12.345')
    expect(w.text()).toContain('金额须为数字，最多两位小数')
    await pay('')
    expect(w.text()).toContain('请输入充值金额')
    expect(amountInput(w).attributes('aria-invalid')).toBe('true')
    expect(callsTo('POST', 'bindings/7/payments')).toHaveLength(0)

    await amountInput(w).setValue('50000')
    expect(amountInput(w).attributes('aria-invalid')).toBeUndefined()
    expect(w.find('[data-test=pay]').text()).toBe('立即支付 ¥50000.00')
    w.unmount()
  })

  it('fills the amount from a preset', async () => {
    const { w } = await mountTenant('/topup')
    expect(['50.00', '100.00', '200.00', '500.00'].every((p) => w.find(`[data-test="preset-${p}"]`).exists())).toBe(true)
    await w.find('[data-test="preset-200.00"]').trigger('click')
    expect((amountInput(w).element as HTMLInputElement).value).toBe('200.00')
    expect(w.find('[data-test="preset-200.00"]').classes()).toContain('active')
    expect(w.find('[data-test=pay]').text()).toBe('立即支付 ¥200.00')
    w.unmount()
  })

  it('pays a sandbox order: cashier, confirm, poll until paid, new balance and receipt', async () => {
    const { w } = await mountTenant('/topup')
    expect(w.find('[data-test=provider-sandbox]').text()).toContain('沙箱支付')
    expect(w.find('[data-test=provider-wechat]').text()).toContain('微信支付')
    await w.find('[data-test=provider-sandbox]').trigger('click')
    await w.find('[data-test="preset-100.00"]').trigger('click')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()

    const created = callsTo('POST', 'bindings/7/payments')
    expect(created).toHaveLength(1)
    expect(created[0].body).toEqual({ amount: '100.00', provider: 'sandbox' })
    expect(created[0].headers['X-CSRF-Token']).toBe('csrf-abc')
    expect(w.find('[data-test=sandbox-cashier]').isVisible()).toBe(true)
    expect(w.find('[data-test=cashier-amount]').text()).toBe('¥100.00')
    expect(w.find('[data-test=cashier-order]').text()).toContain('J1795400000ab12cd34')

    await w.find('[data-test=sandbox-confirm]').trigger('click')
    await until(() => w.find('[data-test=pay-success]').exists())
    expect(callsTo('POST', 'payments/J1795400000ab12cd34/sandbox-pay')).toHaveLength(1)
    expect(callsTo('POST', 'payments/J1795400000ab12cd34/sandbox-pay')[0].headers['X-CSRF-Token']).toBe('csrf-abc')
    expect(callsTo('GET', 'payments/J1795400000ab12cd34')).toHaveLength(3) // created, created, paid
    const success = w.find('[data-test=pay-success]')
    expect(success.text()).toContain('支付成功')
    expect(success.text()).toContain('当前余额 ¥223.45')
    // The receipt of the transfer the paid order names, its id escaped; nothing guessed from 记录.
    expect(w.find('[data-test=pay-receipt]').attributes('href')).toBe('/api/v1/tenant/bindings/7/receipt?transfer=pay%3Asandbox%3ASBX1a2b')
    expect(w.find('[data-test=pay-receipt]').attributes('target')).toBe('_blank')
    expect(callsTo('GET', 'bindings/7/records?kind=top_up')).toHaveLength(0)
    w.unmount()
  })

  it('opens 记录 for the receipt when the paid order names no transfer', async () => {
    paidTransfer = ''
    const { w, router } = await mountTenant('/topup')
    await w.find('[data-test="preset-100.00"]').trigger('click')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    await w.find('[data-test=sandbox-confirm]').trigger('click')
    await until(() => w.find('[data-test=pay-success]').exists())
    const receipt = w.find('[data-test=pay-receipt]')
    expect(receipt.attributes('href')).toBeUndefined()
    await receipt.trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('records')
    w.unmount()
  })

  it('says so when the payment is not confirmed in time', async () => {
    orderPolls = ['created']
    pollTiming.timeoutMs = 40
    const { w } = await mountTenant('/topup')
    await amountInput(w).setValue('0.5')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'bindings/7/payments')[0].body).toEqual({ amount: '0.50', provider: 'sandbox' })
    await w.find('[data-test=sandbox-confirm]').trigger('click')
    await until(() => w.find('[data-test=pay-message]').exists())
    expect(w.find('[data-test=pay-message]').text()).toContain('暂未确认到账，请稍后在记录中查看')
    expect(w.find('[data-test=pay-success]').exists()).toBe(false)
    expect(callsTo('GET', 'payments/J1795400000ab12cd34').length).toBeGreaterThan(1)
    w.unmount()
  })

  it('tells that WeChat Pay cannot pay in this build yet', async () => {
    const { w } = await mountTenant('/topup')
    await w.find('[data-test=provider-wechat]').trigger('click')
    await amountInput(w).setValue('30')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'bindings/7/payments')[0].body).toEqual({ amount: '30.00', provider: 'wechat' })
    expect(w.find('[data-test=pay-message]').text()).toContain('微信支付暂不可用')
    expect(w.find('[data-test=sandbox-cashier]').exists()).toBe(false)
    w.unmount()
  })
})
