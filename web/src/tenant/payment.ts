// Paying a top-up online: make the order, then the provider's own step, then wait for the paid
// notification to have credited it (the paid order names its ledger transfer: the receipt).
//
// The provider's step, by the order's `pay` (or, for the sandbox, its provider):
// - sandbox: the sandbox cashier on the page; its confirm pays the order;
// - WeChat Pay inside WeChat's browser (channel jsapi): WeChat's JS bridge opens the cashier with
//   the parameters the server signed; the payer's openid must be known first, so a 409 naming
//   `openid` sends the payer through the server's WeChat OAuth and back to 充值 (resumeQuery);
// - WeChat Pay in another phone browser (h5) and Alipay (wap): the whole page goes to the
//   provider, which sends the payer back to /m/#/paid/<order> (PaidPage), where the order is
//   waited for;
// - anything else (a QR code, no step at all): this page cannot pay it.
// The decisions are plain functions here; the pages only show what they say.
import { apiBase, get, post, TenantApiError } from './api'
import type { JsapiParams, Order } from './types'

// What the page runs with; tests replace these.
export const browser = {
  userAgent: (): string => (typeof navigator !== 'undefined' ? navigator.userAgent : ''),
  // The whole page to `url`. Through a link rather than location.assign: the server's pages say
  // Referrer-Policy same-origin, and WeChat Pay's H5 page refuses a payer whose browser names no
  // page of the merchant's domain, so this one navigation names our origin.
  go: (url: string): void => {
    const a = document.createElement('a')
    a.href = url
    a.referrerPolicy = 'strict-origin-when-cross-origin'
    a.style.display = 'none'
    document.body.appendChild(a)
    a.click()
    a.remove()
  },
}

export const inWeChat = (userAgent: string) => /MicroMessenger/i.test(userAgent)

// The provider offered first: WeChat Pay inside WeChat, otherwise the server's first.
export function defaultProvider(providers: string[], userAgent: string): string {
  if (inWeChat(userAgent) && providers.includes('wechat')) return 'wechat'
  return providers[0] ?? ''
}

// The channel an order is made for: WeChat Pay by JSAPI inside WeChat's browser and H5 in any
// other, Alipay's phone page, the sandbox's own. '' for a provider this page knows nothing of.
export function channelFor(provider: string, userAgent: string): string {
  switch (provider) {
    case 'wechat':
      return inWeChat(userAgent) ? 'jsapi' : 'h5'
    case 'alipay':
      return 'wap'
    case 'sandbox':
      return 'sandbox'
  }
  return ''
}

// Where the provider sends the payer back after paying on its own page; the server puts the
// order number in for {order_no}.
export const paidReturnPath = '/m/#/paid/{order_no}'

export interface OrderBody {
  amount: string
  provider: string
  channel?: string
  return_path?: string
}

// POST payments' body. The sandbox's channel is the server's default and is left out.
export function orderBody(amount: string, provider: string, userAgent: string): OrderBody {
  const channel = channelFor(provider, userAgent)
  if (!channel || channel === 'sandbox') return { amount, provider }
  if (channel === 'jsapi') return { amount, provider, channel }
  return { amount, provider, channel, return_path: paidReturnPath }
}

export function createOrder(binding: number, body: OrderBody): Promise<Order> {
  return post<Order>(`bindings/${binding}/payments`, body)
}

// What the page does with a new order.
export type Next =
  | { step: 'sandbox-cashier' }
  | { step: 'jsapi'; jsapi: JsapiParams }
  | { step: 'redirect'; url: string }
  | { step: 'unsupported' } // a QR code, or no step: not payable from the phone

const isWebAddress = (url: string) => {
  try {
    const u = new URL(url)
    return u.protocol === 'https:' || u.protocol === 'http:'
  } catch {
    return false
  }
}

export function nextStep(order: Order): Next {
  if (order.provider === 'sandbox') return { step: 'sandbox-cashier' }
  const pay = order.pay
  if (pay?.kind === 'jsapi' && pay.jsapi) return { step: 'jsapi', jsapi: pay.jsapi }
  // Only a web address: never a javascript: or data: one, whoever wrote it.
  if (pay?.kind === 'redirect' && typeof pay.url === 'string' && isWebAddress(pay.url)) return { step: 'redirect', url: pay.url }
  return { step: 'unsupported' }
}

// A refused order the page answers by itself rather than with errorText:
// - 'authorize': JSAPI needs the payer's openid and the server can learn it: off to WeChat's OAuth;
// - 'no-oauth': it needs one but the server cannot learn it: WeChat Pay works only outside WeChat;
// - 'authorize-failed': back from the OAuth and still none (the payer refused, or it failed);
// - 'error': errorText says it.
export type OrderRefusal = 'authorize' | 'no-oauth' | 'authorize-failed' | 'error'

export function refusalOf(e: unknown, wechatOauth: boolean, afterAuthorize: boolean): OrderRefusal {
  if (!(e instanceof TenantApiError) || e.status !== 409 || e.field !== 'openid') return 'error'
  if (!wechatOauth) return 'no-oauth'
  return afterAuthorize ? 'authorize-failed' : 'authorize'
}

// Back to 充值 after the OAuth, with what the payer chose; `authorized` marks the return.
export function resumePath(binding: number, amount: string, provider: string): string {
  const q = new URLSearchParams({ amount, binding: String(binding), provider, authorized: '1' })
  return `/m/#/topup?${q.toString()}`
}

// The server's WeChat OAuth, which comes back to `returnPath` (a /m/ path) with the openid known.
export const authorizeUrl = (returnPath: string) => `${apiBase}wechat/authorize?return=${encodeURIComponent(returnPath)}`

export interface Resume {
  amount: string
  binding: number
  provider: string
  afterAuthorize: boolean
}

// What 充值's query (from resumePath) asks to preselect; '' and 0 where it says nothing.
export function resumeFrom(query: Record<string, unknown>): Resume {
  const one = (v: unknown) => (Array.isArray(v) ? v[0] : v)
  const text = (v: unknown) => (typeof one(v) === 'string' ? (one(v) as string) : '')
  return {
    amount: text(query.amount),
    binding: Number.parseInt(text(query.binding), 10) || 0,
    provider: text(query.provider),
    afterAuthorize: text(query.authorized) === '1',
  }
}

// The WeChat JS bridge's answer to getBrandWCPayRequest: finished (the notification still has to
// come), cancelled by the payer, or failed.
export type BridgeResult = 'ok' | 'cancel' | 'fail'

export function bridgeResult(errMsg: unknown): BridgeResult {
  const m = typeof errMsg === 'string' ? errMsg.trim().toLowerCase() : ''
  if (m === 'get_brand_wcpay_request:ok') return 'ok'
  if (m === 'get_brand_wcpay_request:cancel') return 'cancel'
  return 'fail'
}

interface WeixinJSBridge {
  invoke(name: string, params: JsapiParams, done: (res: { err_msg?: string }) => void): void
}

// How long to wait for WeChat to ready its bridge before saying the cashier cannot open.
export const bridgeTiming = { readyMs: 10_000 }

// Opens WeChat Pay's cashier; resolves with what it answered (err_msg "no_bridge" when WeChat
// never made its bridge ready: not WeChat's browser after all).
export function payInWeChat(jsapi: JsapiParams, win: Window = window): Promise<{ result: BridgeResult; errMsg: string }> {
  return new Promise((resolve) => {
    const invoke = (bridge: WeixinJSBridge) =>
      bridge.invoke('getBrandWCPayRequest', jsapi, (res) => {
        const errMsg = String(res?.err_msg ?? '')
        resolve({ result: bridgeResult(errMsg), errMsg })
      })
    const ready = () => (win as unknown as { WeixinJSBridge?: WeixinJSBridge }).WeixinJSBridge
    const bridge = ready()
    if (bridge) {
      invoke(bridge)
      return
    }
    const doc = win.document
    const onReady = () => {
      clearTimeout(timer)
      const b = ready()
      if (b) invoke(b)
      else resolve({ result: 'fail', errMsg: 'no_bridge' })
    }
    const timer = setTimeout(() => {
      doc.removeEventListener('WeixinJSBridgeReady', onReady)
      resolve({ result: 'fail', errMsg: 'no_bridge' })
    }, bridgeTiming.readyMs)
    doc.addEventListener('WeixinJSBridgeReady', onReady, { once: true })
  })
}

// A hint under a provider that will not work as the page is opened, as a text key; '' for none.
export function providerHint(provider: string, userAgent: string, wechatOauth: boolean, wechatOpenid: boolean): string {
  if (!inWeChat(userAgent)) return ''
  // WeChat's browser does not open Alipay's pages.
  if (provider === 'alipay') return 'topup.alipay_in_wechat'
  if (provider === 'wechat' && !wechatOauth && !wechatOpenid) return 'topup.wechat_outside'
  return ''
}

// The sandbox's notification outcomes that mean the money is on the account.
export const creditedOutcomes = ['credited', 'already_credited']

export function sandboxPay(orderNo: string): Promise<{ outcome: string; order: Order }> {
  return post(`payments/${encodeURIComponent(orderNo)}/sandbox-pay`)
}

// How often and how long to ask whether an order is paid.
export const pollTiming = { intervalMs: 1000, timeoutMs: 30_000 }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// The order as last read: paid, closed, or still created when the wait gave up or `stopped()`
// said so.
export async function waitForOrder(orderNo: string, stopped: () => boolean = () => false): Promise<Order> {
  const deadline = Date.now() + pollTiming.timeoutMs
  for (;;) {
    const order = await get<Order>(`payments/${encodeURIComponent(orderNo)}`)
    if (order.state === 'paid' || order.state === 'closed' || stopped() || Date.now() + pollTiming.intervalMs > deadline) return order
    await sleep(pollTiming.intervalMs)
  }
}

// The order once paid; null when it was closed, the wait gave up or `stopped()` says so.
export async function waitUntilPaid(orderNo: string, stopped: () => boolean = () => false): Promise<Order | null> {
  const order = await waitForOrder(orderNo, stopped)
  return order.state === 'paid' ? order : null
}

// Which of the person's bindings an order (naming only its account) was paid for: the chosen one
// when it is that account, else the first bound to it.
export function bindingForOrder<B extends { binding: number; account: string }>(account: string, accounts: B[], current?: B): B | undefined {
  if (current && current.account === account) return current
  return accounts.find((b) => b.account === account)
}
