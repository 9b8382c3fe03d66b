// payment.ts's decisions, without a page: the channel from the browser and the provider, the
// order's body and return paths, what to do with each `pay` the server answers, a refused order
// that needs WeChat's OAuth, the way back to 充值 after it, WeChat's JS bridge and its err_msg,
// and waiting for an order.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { TenantApiError } from '../../src/tenant/api'
import {
  authorizeUrl,
  bindingForOrder,
  bridgeResult,
  bridgeTiming,
  channelFor,
  defaultProvider,
  inWeChat,
  nextStep,
  orderBody,
  payInWeChat,
  pollTiming,
  providerHint,
  refusalOf,
  resumeFrom,
  resumePath,
  waitForOrder,
  waitUntilPaid,
} from '../../src/tenant/payment'
import { json, mockApi } from './tenantFixtures'
import type { JsapiParams, Order } from '../../src/tenant/types'

const wechatUA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN'
const safariUA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
const androidUA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36'

const jsapi: JsapiParams = { appId: 'wx123', timeStamp: '1795400000', nonceStr: 'n0nce', package: 'prepay_id=wx2026', signType: 'RSA', paySign: 'c2ln' }
const order = (extra: Partial<Order> = {}): Order => ({
  order_no: 'J1',
  account: 'A-101',
  provider: 'wechat',
  channel: 'h5',
  amount: '100.00',
  state: 'created',
  created_at: '2026-11-23T02:00:00Z',
  paid_at: null,
  ...extra,
})
const err = (status: number, field: string) => new TenantApiError(status, 'x', 'm', field)

afterEach(() => {
  pollTiming.intervalMs = 1000
  pollTiming.timeoutMs = 30_000
  bridgeTiming.readyMs = 10_000
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

describe('tenant payment', () => {
  it('pays WeChat by JSAPI inside WeChat, by H5 in other phone browsers, Alipay by its phone page', () => {
    expect(inWeChat(wechatUA)).toBe(true)
    expect(inWeChat(safariUA)).toBe(false)
    expect(channelFor('wechat', wechatUA)).toBe('jsapi')
    expect(channelFor('wechat', safariUA)).toBe('h5')
    expect(channelFor('wechat', androidUA)).toBe('h5')
    expect(channelFor('alipay', androidUA)).toBe('wap')
    expect(channelFor('alipay', wechatUA)).toBe('wap')
    expect(channelFor('sandbox', wechatUA)).toBe('sandbox')
    expect(channelFor('unionpay', androidUA)).toBe('')
  })

  it('offers WeChat Pay first inside WeChat, otherwise the server\'s first', () => {
    expect(defaultProvider(['sandbox', 'alipay', 'wechat'], wechatUA)).toBe('wechat')
    expect(defaultProvider(['sandbox', 'alipay', 'wechat'], safariUA)).toBe('sandbox')
    expect(defaultProvider(['alipay'], wechatUA)).toBe('alipay')
    expect(defaultProvider([], wechatUA)).toBe('')
  })

  it('builds the order body: a return path for the provider\'s own page, none for JSAPI and the sandbox', () => {
    expect(orderBody('100.00', 'wechat', safariUA)).toEqual({ amount: '100.00', provider: 'wechat', channel: 'h5', return_path: '/m/#/paid/{order_no}' })
    expect(orderBody('100.00', 'alipay', wechatUA)).toEqual({ amount: '100.00', provider: 'alipay', channel: 'wap', return_path: '/m/#/paid/{order_no}' })
    expect(orderBody('0.50', 'wechat', wechatUA)).toEqual({ amount: '0.50', provider: 'wechat', channel: 'jsapi' })
    expect(orderBody('30.00', 'sandbox', wechatUA)).toEqual({ amount: '30.00', provider: 'sandbox' })
    expect(orderBody('30.00', 'unionpay', wechatUA)).toEqual({ amount: '30.00', provider: 'unionpay' })
  })

  it('decides what each new order needs', () => {
    expect(nextStep(order({ provider: 'sandbox', channel: 'sandbox' }))).toEqual({ step: 'sandbox-cashier' })
    expect(nextStep(order({ channel: 'jsapi', pay: { kind: 'jsapi', jsapi } }))).toEqual({ step: 'jsapi', jsapi })
    const h5 = 'https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx2026&package=1&redirect_url=https%3A%2F%2Fpay.example.com%2Fm%2F%23%2Fpaid%2FJ1'
    expect(nextStep(order({ pay: { kind: 'redirect', url: h5 } }))).toEqual({ step: 'redirect', url: h5 })
    expect(nextStep(order({ provider: 'alipay', channel: 'wap', pay: { kind: 'redirect', url: 'https://openapi.alipay.com/gateway.do?app_id=1' } })).step).toBe('redirect')
    // Not for the phone, not there, or not a web address.
    expect(nextStep(order({ pay: { kind: 'qr', url: 'weixin://wxpay/bizpayurl?pr=abc' } }))).toEqual({ step: 'unsupported' })
    expect(nextStep(order())).toEqual({ step: 'unsupported' })
    expect(nextStep(order({ pay: { kind: 'redirect', url: 'javascript:alert(1)' } }))).toEqual({ step: 'unsupported' })
    expect(nextStep(order({ pay: { kind: 'redirect', url: '/relative' } }))).toEqual({ step: 'unsupported' })
  })

  it('answers a 409 for the openid with WeChat\'s OAuth, once', () => {
    expect(refusalOf(err(409, 'openid'), true, false)).toBe('authorize')
    expect(refusalOf(err(409, 'openid'), true, true)).toBe('authorize-failed')
    expect(refusalOf(err(409, 'openid'), false, false)).toBe('no-oauth')
    expect(refusalOf(err(409, 'account'), true, false)).toBe('error')
    expect(refusalOf(err(503, 'provider'), true, false)).toBe('error')
    expect(refusalOf(new Error('boom'), true, false)).toBe('error')
  })

  it('comes back from the OAuth to 充值 with the amount, account and provider', () => {
    const back = resumePath(3, '100.00', 'wechat')
    expect(back).toBe('/m/#/topup?amount=100.00&binding=3&provider=wechat&authorized=1')
    expect(authorizeUrl(back)).toBe('/api/v1/tenant/wechat/authorize?return=%2Fm%2F%23%2Ftopup%3Famount%3D100.00%26binding%3D3%26provider%3Dwechat%26authorized%3D1')
    // What vue-router makes of the query after the '#'.
    const query = Object.fromEntries(new URLSearchParams(back.split('?')[1]))
    expect(resumeFrom(query)).toEqual({ amount: '100.00', binding: 3, provider: 'wechat', afterAuthorize: true })
    expect(resumeFrom({})).toEqual({ amount: '', binding: 0, provider: '', afterAuthorize: false })
    expect(resumeFrom({ amount: ['20.00', '30.00'], binding: 'x', provider: null })).toEqual({ amount: '20.00', binding: 0, provider: '', afterAuthorize: false })
  })

  it('reads the JS bridge\'s err_msg', () => {
    expect(bridgeResult('get_brand_wcpay_request:ok')).toBe('ok')
    expect(bridgeResult('get_brand_wcpay_request:cancel')).toBe('cancel')
    expect(bridgeResult('get_brand_wcpay_request:fail')).toBe('fail')
    expect(bridgeResult('get_brand_wcpay_request:fail_no_permission')).toBe('fail')
    expect(bridgeResult(undefined)).toBe('fail')
    expect(bridgeResult('')).toBe('fail')
  })

  it('opens WeChat\'s cashier through its bridge, waiting for the bridge when it is not there yet', async () => {
    const invoke = vi.fn((_name: string, _params: JsapiParams, done: (res: { err_msg?: string }) => void) => done({ err_msg: 'get_brand_wcpay_request:ok' }))
    const ready = { WeixinJSBridge: { invoke }, document } as unknown as Window
    expect(await payInWeChat(jsapi, ready)).toEqual({ result: 'ok', errMsg: 'get_brand_wcpay_request:ok' })
    expect(invoke).toHaveBeenCalledWith('getBrandWCPayRequest', jsapi, expect.any(Function))

    // Not ready yet: WeChat says so with the WeixinJSBridgeReady event.
    const later = { document } as unknown as Window & { WeixinJSBridge?: unknown }
    const paying = payInWeChat(jsapi, later)
    later.WeixinJSBridge = { invoke: (_n: string, _p: JsapiParams, done: (res: { err_msg?: string }) => void) => done({ err_msg: 'get_brand_wcpay_request:cancel' }) }
    document.dispatchEvent(new Event('WeixinJSBridgeReady'))
    expect(await paying).toEqual({ result: 'cancel', errMsg: 'get_brand_wcpay_request:cancel' })

    // Never ready: not WeChat after all.
    bridgeTiming.readyMs = 10
    expect(await payInWeChat(jsapi, { document } as unknown as Window)).toEqual({ result: 'fail', errMsg: 'no_bridge' })
  })

  it('warns of a provider that will not open where the page is', () => {
    expect(providerHint('alipay', wechatUA, true, false)).toBe('topup.alipay_in_wechat')
    expect(providerHint('alipay', safariUA, true, false)).toBe('')
    expect(providerHint('wechat', wechatUA, false, false)).toBe('topup.wechat_outside')
    expect(providerHint('wechat', wechatUA, false, true)).toBe('')
    expect(providerHint('wechat', wechatUA, true, false)).toBe('')
    expect(providerHint('wechat', safariUA, false, false)).toBe('')
  })

  it('finds the binding an order was paid for', () => {
    const a = { binding: 3, account: 'A-101' }
    const b = { binding: 4, account: 'B-202' }
    const c = { binding: 5, account: 'A-101' } // the same number in another project
    expect(bindingForOrder('A-101', [a, b, c], c)).toBe(c)
    expect(bindingForOrder('A-101', [a, b, c], b)).toBe(a)
    expect(bindingForOrder('Z-9', [a, b], a)).toBeUndefined()
  })

  it('waits for an order until paid or closed, or gives up with it as last read', async () => {
    // On fake time: how many times it asks must not depend on how fast the machine is.
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout'] })
    pollTiming.intervalMs = 1000
    pollTiming.timeoutMs = 30_000
    let polls = 0
    let states: Order['state'][] = ['created', 'created', 'paid']
    mockApi((_m, path) => {
      if (path !== 'payments/J1') return undefined
      polls += 1
      return json(order({ state: states.length > 1 ? states.shift()! : states[0] }))
    })
    const settled = async <T>(wait: Promise<T>): Promise<T> => {
      await vi.runAllTimersAsync()
      return wait
    }
    expect((await settled(waitForOrder('J1'))).state).toBe('paid')
    expect(polls).toBe(3)
    states = ['created', 'closed']
    expect((await settled(waitForOrder('J1'))).state).toBe('closed')
    states = ['closed']
    expect(await settled(waitUntilPaid('J1'))).toBeNull()
    // Never paid: at 0 s and once a second until the next ask would pass the 30 s, then the
    // order as read.
    states = ['created']
    polls = 0
    const start = Date.now()
    expect((await settled(waitForOrder('J1'))).state).toBe('created')
    expect(polls).toBe(31)
    expect(Date.now() - start).toBe(30_000)
    polls = 0
    expect((await settled(waitForOrder('J1', () => true))).state).toBe('created')
    expect(polls).toBe(1)
  })
})
