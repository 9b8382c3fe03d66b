// 充值: amounts checked before anything is sent, presets filling the amount, and the sandbox
// payment end to end: order → sandbox cashier → confirm → poll the order until paid → 支付成功
// with the new balance and the receipt of the transfer the paid order names. WeChat Pay and
// Alipay: the provider's page in a phone browser (and 支付结果 when it sends the payer back),
// WeChat's JS bridge inside WeChat after its OAuth made the openid known; what cannot pay here
// says so.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { browser, pollTiming } from '../../src/tenant/payment'
import { setLocale } from '../../src/tenant/i18n'
import { apiError, callsTo, detail, json, me, mockApi, mountTenant, resetSession } from './tenantFixtures'
import type { JsapiParams, Me, Order, PayStep } from '../../src/tenant/types'

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
let meExtra: Partial<Me> = {}
let pay: PayStep | undefined // what a WeChat Pay / Alipay order answers
let refusal: (() => Response) | null = null // POST payments' answer instead of the order

beforeEach(() => {
  resetSession()
  orderPolls = ['created', 'created', 'paid']
  paidTransfer = 'pay:sandbox:SBX1a2b'
  meExtra = {}
  pay = undefined
  refusal = null
  pollTiming.intervalMs = 5
  pollTiming.timeoutMs = 2000
  mockApi((method, path, body) => {
    if (path === 'me') return json(me(meExtra))
    if (method === 'POST' && path === 'bindings/7/payments') {
      if (refusal) return refusal()
      const b = body as { amount: string; provider: string; channel?: string }
      const made = order('created', { amount: b.amount, provider: b.provider, channel: b.channel ?? 'sandbox' })
      return json(b.provider === 'sandbox' ? { ...made, sandbox_pay: '/api/v1/tenant/payments/J1795400000ab12cd34/sandbox-pay' } : { ...made, ...(pay ? { pay } : {}) }, 201)
    }
    if (method === 'POST' && path === 'payments/J1795400000ab12cd34/sandbox-pay') return json({ outcome: 'credited', order: order('created') })
    if (path === 'payments/J1795400000ab12cd34') return json(order(orderPolls.length > 1 ? orderPolls.shift()! : orderPolls[0]))
    if (path === 'bindings/7') return json(detail({ available: paidBalance }))
    if (path === 'bindings/7/records?kind=top_up') return json({ items: [] })
    if (method === 'GET' && path.startsWith('payments/')) return apiError(404, 'not_found', `no payment order ${path.slice(9)}`, 'order')
    return undefined
  })
})
afterEach(() => {
  pollTiming.intervalMs = 1000
  pollTiming.timeoutMs = 30_000
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
  delete (window as { WeixinJSBridge?: unknown }).WeixinJSBridge
  setLocale('zh-CN')
  document.body.innerHTML = ''
})

const wechatUA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F30) NetType/WIFI Language/zh_CN'
const jsapi: JsapiParams = { appId: 'wx123', timeStamp: '1795400000', nonceStr: 'n0nce', package: 'prepay_id=wx2026', signType: 'RSA', paySign: 'c2ln' }
// Inside WeChat, with its JS bridge answering `errMsg`; the page's navigations recorded.
function insideWeChat(errMsg = 'get_brand_wcpay_request:ok') {
  vi.spyOn(browser, 'userAgent').mockReturnValue(wechatUA)
  const invoke = vi.fn((_name: string, _params: JsapiParams, done: (res: { err_msg: string }) => void) => done({ err_msg: errMsg }))
  ;(window as { WeixinJSBridge?: unknown }).WeixinJSBridge = { invoke }
  return invoke
}
const navigations = () => vi.spyOn(browser, 'go').mockImplementation(() => undefined)

const amountInput = (w: VueWrapper) => w.find('input[data-test=custom-amount]')
// Waits for the page to get somewhere: polling sleeps between calls. The bound is generous for a
// loaded machine; the checks after it say what was expected.
async function until(check: () => boolean, ms = 5000) {
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
    // How many times it asked within the 40 ms depends on the machine; the asking itself is
    // tested on fake time in tenantPayment.test.ts.
    expect(callsTo('GET', 'payments/J1795400000ab12cd34').length).toBeGreaterThan(0)
    w.unmount()
  })

  it('sends a phone browser to WeChat Pay\'s H5 page, naming where to come back', async () => {
    const go = navigations()
    pay = { kind: 'redirect', url: 'https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx2026&package=1' }
    const { w } = await mountTenant('/topup')
    expect(w.find('[data-test=provider-wechat] .van-cell__label').exists()).toBe(false)
    await w.find('[data-test=provider-wechat]').trigger('click')
    await amountInput(w).setValue('30')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'bindings/7/payments')[0].body).toEqual({ amount: '30.00', provider: 'wechat', channel: 'h5', return_path: '/m/#/paid/{order_no}' })
    expect(go).toHaveBeenCalledWith('https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx2026&package=1')
    expect(w.find('[data-test=pay]').text()).toContain('正在前往微信支付…')
    expect(w.find('[data-test=sandbox-cashier]').exists()).toBe(false)
    w.unmount()
  })

  it('sends the payer to Alipay\'s phone page', async () => {
    const go = navigations()
    meExtra = { providers: ['alipay', 'sandbox'] }
    pay = { kind: 'redirect', url: 'https://openapi.alipay.com/gateway.do?method=alipay.trade.wap.pay&sign=x' }
    const { w } = await mountTenant('/topup')
    await w.find('[data-test="preset-50.00"]').trigger('click')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'bindings/7/payments')[0].body).toEqual({ amount: '50.00', provider: 'alipay', channel: 'wap', return_path: '/m/#/paid/{order_no}' })
    expect(go).toHaveBeenCalledWith('https://openapi.alipay.com/gateway.do?method=alipay.trade.wap.pay&sign=x')
    w.unmount()
  })

  it('says so when an order comes with nothing the phone can pay with', async () => {
    const go = navigations()
    pay = { kind: 'qr', url: 'weixin://wxpay/bizpayurl?pr=abc' }
    const { w } = await mountTenant('/topup')
    await w.find('[data-test=provider-wechat]').trigger('click')
    await amountInput(w).setValue('30')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(w.find('[data-test=pay-message]').text()).toContain('微信支付无法在本页面完成支付，请选择其他方式')
    expect(w.find('[data-test=pay-message]').text()).toContain('J1795400000ab12cd34')
    expect(go).not.toHaveBeenCalled()
    w.unmount()
  })

  it('says when the payment service cannot be reached', async () => {
    refusal = () => apiError(503, 'unavailable', 'wechat: connection refused', 'provider')
    const { w } = await mountTenant('/topup')
    await w.find('[data-test=provider-wechat]').trigger('click')
    await amountInput(w).setValue('30')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(w.find('[data-test=pay-message]').text()).toBe('支付服务暂时不可用，请稍后再试')
    expect(w.find('[data-test=pay]').attributes('disabled')).toBeUndefined()
    w.unmount()
  })

  it('inside WeChat: OAuth for the openid, back with the amount chosen, then WeChat\'s cashier and 支付结果', async () => {
    const invoke = insideWeChat()
    const go = navigations()
    meExtra = { wechat_oauth: true, wechat_openid: false }
    refusal = () => apiError(409, 'failed_precondition', 'a JSAPI payment needs the payer\'s openid', 'openid')
    let { w, router } = await mountTenant('/topup')
    // WeChat Pay is offered first inside WeChat.
    expect(w.find('[data-test=provider-wechat] .van-radio__icon--checked').exists()).toBe(true)
    await w.find('[data-test="preset-100.00"]').trigger('click')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'bindings/7/payments')[0].body).toEqual({ amount: '100.00', provider: 'wechat', channel: 'jsapi' })
    expect(go).toHaveBeenCalledWith('/api/v1/tenant/wechat/authorize?return=' + encodeURIComponent('/m/#/topup?amount=100.00&binding=7&provider=wechat&authorized=1'))
    expect(w.find('[data-test=pay]').text()).toContain('正在获取微信授权…')
    expect(w.find('[data-test=pay-message]').exists()).toBe(false)
    w.unmount()

    // The server's OAuth brings the payer back, the openid now known.
    resetSession()
    meExtra = { wechat_oauth: true, wechat_openid: true }
    refusal = null
    pay = { kind: 'jsapi', jsapi }
    ;({ w, router } = await mountTenant('/topup?amount=100.00&binding=7&provider=wechat&authorized=1'))
    expect((amountInput(w).element as HTMLInputElement).value).toBe('100.00')
    expect(w.find('[data-test=pay]').text()).toBe('立即支付 ¥100.00')
    expect(w.find('[data-test=pay-message]').text()).toContain('微信授权已完成，请点击支付')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(callsTo('POST', 'bindings/7/payments')[0].body).toEqual({ amount: '100.00', provider: 'wechat', channel: 'jsapi' })
    expect(invoke).toHaveBeenCalledWith('getBrandWCPayRequest', jsapi, expect.any(Function))
    await until(() => w.find('[data-test=pay-success]').exists())
    expect(router.currentRoute.value.fullPath).toBe('/paid/J1795400000ab12cd34')
    expect(w.find('[data-test=pay-success]').text()).toContain('当前余额 ¥223.45')
    expect(w.find('[data-test=pay-receipt]').attributes('href')).toBe('/api/v1/tenant/bindings/7/receipt?transfer=pay%3Asandbox%3ASBX1a2b')
    expect(go).toHaveBeenCalledTimes(1)
    w.unmount()
  })

  it('inside WeChat: a cancelled cashier is only a notice; a failed one says why', async () => {
    insideWeChat('get_brand_wcpay_request:cancel')
    meExtra = { wechat_oauth: true, wechat_openid: true }
    pay = { kind: 'jsapi', jsapi }
    const { w, router } = await mountTenant('/topup')
    await w.find('[data-test="preset-100.00"]').trigger('click')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(w.find('[data-test=pay-message]').text()).toContain('已取消支付')
    expect(router.currentRoute.value.name).toBe('topup')
    expect(callsTo('GET', 'payments/J1795400000ab12cd34')).toHaveLength(0)

    ;(window as { WeixinJSBridge?: { invoke: unknown } }).WeixinJSBridge = {
      invoke: (_n: string, _p: JsapiParams, done: (res: { err_msg: string }) => void) => done({ err_msg: 'get_brand_wcpay_request:fail' }),
    }
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(w.find('[data-test=pay-message]').text()).toContain('微信支付未完成（get_brand_wcpay_request:fail），请重试或选择其他方式')
    expect(router.currentRoute.value.name).toBe('topup')
    w.unmount()
  })

  it('inside WeChat without the server\'s OAuth: WeChat Pay only outside WeChat, and Alipay not inside it', async () => {
    insideWeChat()
    const go = navigations()
    meExtra = { providers: ['wechat', 'alipay'], wechat_oauth: false, wechat_openid: false }
    refusal = () => apiError(409, 'failed_precondition', 'needs the openid', 'openid')
    const { w } = await mountTenant('/topup')
    expect(w.find('[data-test=provider-wechat]').text()).toContain('请在手机浏览器中打开本页后支付')
    expect(w.find('[data-test=provider-alipay]').text()).toContain('微信内无法打开支付宝')
    await amountInput(w).setValue('20')
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(w.find('[data-test=pay-message]').text()).toContain('本服务暂不支持在微信内使用微信支付')
    expect(go).not.toHaveBeenCalled()
    w.unmount()
  })

  it('inside WeChat: back from an OAuth that gave no openid, says so, then tries it again', async () => {
    insideWeChat()
    const go = navigations()
    meExtra = { wechat_oauth: true, wechat_openid: false }
    refusal = () => apiError(409, 'failed_precondition', 'needs the openid', 'openid')
    const { w } = await mountTenant('/topup?amount=20.00&binding=7&provider=wechat&authorized=1')
    expect(w.find('[data-test=pay-message]').exists()).toBe(false)
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(w.find('[data-test=pay-message]').text()).toContain('未能完成微信授权，请重试或选择其他方式')
    expect(go).not.toHaveBeenCalled()
    await w.find('[data-test=pay]').trigger('click')
    await flushPromises()
    expect(go).toHaveBeenCalledTimes(1)
    w.unmount()
  })
})

describe('TenantPaid', () => {
  beforeEach(() => {
    paidTransfer = 'pay:alipay:2026112322001'
  })

  it('waits for the order the provider sent the payer back with, then shows it paid', async () => {
    // Alipay adds its own parameters after the return path.
    const { w, router } = await mountTenant('/paid/J1795400000ab12cd34?charset=utf-8&out_trade_no=J1795400000ab12cd34')
    expect(w.find('[data-test=paid-waiting]').text()).toContain('正在确认支付结果…')
    expect(w.find('[data-test=tabbar]').exists()).toBe(false)
    await until(() => w.find('[data-test=pay-success]').exists())
    expect(callsTo('GET', 'payments/J1795400000ab12cd34')).toHaveLength(3)
    expect(w.find('[data-test=pay-success]').text()).toContain('¥100.00')
    expect(w.find('[data-test=new-balance]').text()).toBe('当前余额 ¥223.45')
    expect(w.find('[data-test=pay-receipt]').attributes('href')).toBe('/api/v1/tenant/bindings/7/receipt?transfer=pay%3Aalipay%3A2026112322001')
    await w.find('[data-test=pay-again]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('topup')
    w.unmount()
  })

  it('says the payment is being confirmed when the wait gives up, and asks again on a tap', async () => {
    orderPolls = ['created']
    pollTiming.timeoutMs = 40
    const { w } = await mountTenant('/paid/J1795400000ab12cd34')
    await until(() => w.find('[data-test=paid-pending]').exists())
    expect(w.find('[data-test=paid-message]').text()).toBe('支付结果确认中，到账后余额会自动更新，请稍后查看')
    expect(w.find('[data-test=paid-pending]').text()).toContain('J1795400000ab12cd34')
    setLocale('en')
    await flushPromises()
    expect(w.find('[data-test=paid-message]').text()).toBe('The payment is being confirmed; your balance will update shortly')
    expect(w.find('[data-test=paid-check]').text()).toBe('Check again')
    setLocale('zh-CN')

    orderPolls = ['paid']
    await w.find('[data-test=paid-check]').trigger('click')
    await until(() => w.find('[data-test=pay-success]').exists())
    expect(w.find('[data-test=pay-success]').text()).toContain('支付成功')
    w.unmount()
  })

  it('tells a closed order, and an order that is not the person\'s', async () => {
    orderPolls = ['closed']
    let { w } = await mountTenant('/paid/J1795400000ab12cd34')
    await until(() => w.find('[data-test=paid-closed]').exists())
    expect(w.find('[data-test=paid-message]').text()).toBe('该订单已关闭，未完成支付')
    expect(w.find('[data-test=paid-check]').exists()).toBe(false)
    w.unmount()

    ;({ w } = await mountTenant('/paid/J0000'))
    await until(() => w.find('[data-test=paid-error]').exists())
    expect(w.find('[data-test=paid-message]').text()).toBe('未找到该订单')
    expect(w.find('[data-test=paid-check]').exists()).toBe(true)
    w.unmount()
  })
})
