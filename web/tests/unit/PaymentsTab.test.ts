// An account's online payments: an order's detail (fields, refunds with their state tags,
// notifications) and, with money.refund on a paid order with something left, the refund through
// the provider — checked before it is sent, confirmed, sent with one Idempotency-Key per
// submission, and each answer said plainly; the list, the detail and the account reloaded after.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import PaymentsTab from '../../src/components/PaymentsTab.vue'
import { session } from '../../src/session'
import { setCsrfToken } from '../../src/api'

function signIn(permissions: string[]) {
  session.user = { username: 'u', role: 'r', permissions, projects: [{ code: 'p1', name: 'P1' }], csrf_token: 'csrf' }
  session.project = 'p1'
  setCsrfToken('csrf')
}

const order = (extra: Record<string, unknown> = {}) => ({
  order_no: 'J2026112208000011aabbcc',
  account: 'A001',
  provider: 'wechat',
  channel: 'jsapi',
  amount: '88.00',
  state: 'paid',
  created_at: '2026-11-22T08:00:00Z',
  created_by: 'tenant:138',
  paid_at: '2026-11-22T08:00:30Z',
  transaction_id: '4200001234',
  transfer: 'pay:wechat:4200001234',
  payer: 'oPAYER123',
  ...extra,
})
const refund = (no: string, state: string, extra: Record<string, unknown> = {}) => ({
  refund_no: no,
  order_no: 'J2026112208000011aabbcc',
  provider: 'wechat',
  amount: '10.00',
  state,
  provider_refund_id: state === 'requested' ? '' : '5030' + no,
  reason: 'moved out',
  requested_by: 'finance1',
  requested_at: '2026-11-22T09:00:00Z',
  finished_at: state === 'succeeded' || state === 'failed' ? '2026-11-22T09:00:05Z' : '',
  detail: state === 'failed' ? 'NOT_ENOUGH: 余额不足' : '',
  tries: 1,
  transfer: 'refund:wechat:' + no,
  ...extra,
})
const detailOf = (o: Record<string, unknown>, refunds: unknown[], refunded: string) => ({
  ...o,
  notifications: [{ received_at: '2026-11-22T08:00:31Z', provider: 'wechat', transaction_id: '4200001234', outcome: 'credited', detail: '' }],
  refunds,
  refunded,
})

interface Call {
  method: string
  url: string
  headers: Record<string, string>
  body: unknown
}
let calls: Call[] = []
let detail: Record<string, unknown> = {}
let refundAnswers: { status: number; body: unknown }[] = []
const base = '/projects/p1/accounts/A001'
const detailUrl = '/api/v1/projects/p1/payments/J2026112208000011aabbcc'
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status })

beforeEach(() => {
  calls = []
  detail = detailOf(order(), [refund('R1', 'succeeded', { amount: '30.00' })], '30.00')
  refundAnswers = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const method = init.method ?? 'GET'
    calls.push({ method, url, headers: init.headers as Record<string, string>, body: init.body ? JSON.parse(String(init.body)) : undefined })
    if (url.endsWith('/refunds') && method === 'POST') {
      const a = refundAnswers.shift() ?? { status: 500, body: { code: 'internal', message: 'no answer set', field: '' } }
      return json(a.body, a.status)
    }
    if (url === detailUrl) return json(detail)
    if (url.startsWith('/api/v1/projects/p1/accounts/A001/payments')) return json({ items: [order()], page: 1, page_size: 50, total: 1 })
    return json({})
  })
})
afterEach(() => {
  vi.unstubAllGlobals()
  session.user = null
  document.body.innerHTML = ''
})

const mountIt = () => mount(PaymentsTab, { props: { base }, global: { plugins: [ElementPlus] }, attachTo: document.body })
const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector<T>(selector)
const type = (selector: string, value: string) => {
  const input = $<HTMLInputElement>(selector)!
  input.value = value
  input.dispatchEvent(new Event('input'))
}
async function openDetail() {
  const w = mountIt()
  await flushPromises()
  await w.find('[data-test="payment-open-J2026112208000011aabbcc"]').trigger('click')
  await flushPromises()
  return w
}
// The confirmation box: its text, then its confirm or cancel button.
const confirmBox = () => {
  const boxes = document.querySelectorAll('.el-message-box')
  return boxes[boxes.length - 1] as HTMLElement | undefined
}
async function answerConfirm(confirm: boolean) {
  await flushPromises()
  const box = confirmBox()!
  const buttons = box.querySelectorAll<HTMLButtonElement>('.el-message-box__btns button')
  ;(confirm ? buttons[buttons.length - 1] : buttons[0]).click()
  await flushPromises()
  await flushPromises()
}
const posts = () => calls.filter((c) => c.method === 'POST')
const gets = (url: string) => calls.filter((c) => c.method === 'GET' && c.url === url).length
const refundTag = (no: string) => $(`[data-test=refund-state-${no}] .el-tag`)!

describe('PaymentsTab: an order and its refunds', () => {
  it('opens an order with its fields, refunds as state tags and notifications', async () => {
    signIn(['accounts.view'])
    detail = detailOf(
      order(),
      [
        refund('R1', 'succeeded'),
        refund('R2', 'processing'),
        refund('R3', 'requested'),
        refund('R4', 'failed'),
        refund('R5', 'abnormal'),
      ],
      '40.00',
    )
    await openDetail()
    expect(gets(detailUrl)).toBe(1)
    const dialog = $('[data-test=payment-detail]')!
    expect(dialog.textContent).toContain('J2026112208000011aabbcc')
    expect(dialog.textContent).toContain('微信支付')
    expect(dialog.textContent).toContain('¥88.00')
    expect(dialog.textContent).toContain('oPAYER123')
    expect(dialog.textContent).toContain('tenant:138')
    expect($('[data-test=payment-state]')!.textContent).toBe('已支付')
    expect($('[data-test=payment-receipt]')!.getAttribute('href')).toBe('/api/v1/projects/p1/accounts/A001/receipt?transfer=pay%3Awechat%3A4200001234')
    expect($('[data-test=payment-sums]')!.textContent).toContain('已退金额 ¥40.00')
    expect($('[data-test=payment-sums]')!.textContent).toContain('可退金额 ¥48.00')
    expect(refundTag('R1').textContent!.trim()).toBe('已退款')
    expect(refundTag('R1').classList).toContain('el-tag--success')
    expect(refundTag('R2').classList).toContain('el-tag--primary')
    expect(refundTag('R3').classList).toContain('el-tag--info')
    expect(refundTag('R4').classList).toContain('el-tag--danger')
    expect(refundTag('R5').classList).toContain('el-tag--warning')
    expect($('[data-test=refund-abnormal-R5]')!.textContent).toBe('渠道退款异常（如付款人银行卡失效），请在商户平台处理')
    expect($('[data-test=refund-abnormal-R1]')).toBeNull()
    expect($('[data-test=refunds]')!.textContent).toContain('NOT_ENOUGH: 余额不足')
    expect($('[data-test=payment-notifications]')!.textContent).toContain('已到账')
    // Only viewing: no refund form.
    expect($('[data-test=refund-form]')).toBeNull()
  })

  it('offers the refund only with money.refund, on a paid order with something left', async () => {
    signIn(['accounts.view', 'money.refund'])
    let w = await openDetail()
    expect($('[data-test=refund-form]')).not.toBeNull()
    expect($<HTMLInputElement>('input[data-test=payment-refund-amount]')!.value).toBe('58.00') // 88.00 − 30.00
    w.unmount()
    document.body.innerHTML = ''

    for (const state of ['created', 'closed']) {
      detail = detailOf(order({ state, paid_at: '', transaction_id: '', transfer: '' }), [], '0.00')
      w = await openDetail()
      expect($('[data-test=payment-detail]')).not.toBeNull()
      expect($('[data-test=refund-form]')).toBeNull()
      w.unmount()
      document.body.innerHTML = ''
    }

    // Refunded whole (a failed refund does not count, so its 10.00 is not "left").
    detail = detailOf(order(), [refund('R1', 'succeeded', { amount: '78.00' }), refund('R2', 'processing'), refund('R3', 'failed')], '88.00')
    w = await openDetail()
    expect($('[data-test=refund-form]')).toBeNull()
    expect($('[data-test=fully-refunded]')!.textContent).toContain('已全额退款')
    w.unmount()
  })

  it('checks the amount and the reason before asking anything', async () => {
    signIn(['accounts.view', 'money.refund'])
    await openDetail()
    const error = () => $('[data-test=refund-error]')?.textContent
    const send = async () => {
      $<HTMLButtonElement>('[data-test=refund-submit]')!.click()
      await flushPromises()
    }

    type('input[data-test=payment-refund-reason]', 'moved out')
    for (const bad of ['', '0', '0.00', '12.345', '-5', 'abc']) {
      type('input[data-test=payment-refund-amount]', bad)
      await send()
      expect(error()).toBe('金额为 0.01 元以上，最多两位小数')
    }
    type('input[data-test=payment-refund-amount]', '58.01')
    await send()
    expect(error()).toBe('退款金额不能超过可退金额 ¥58.00')

    type('input[data-test=payment-refund-amount]', '58.00')
    type('input[data-test=payment-refund-reason]', '   ')
    await send()
    expect(error()).toBe('请填写退款原因')

    // 100 Chinese characters: 300 bytes, more than the API's 256.
    type('input[data-test=payment-refund-reason]', '退'.repeat(100))
    await send()
    expect(error()).toBe('退款原因最多 256 字节（约 85 个汉字）')

    expect(confirmBox()).toBeUndefined()
    expect(posts()).toHaveLength(0)
  })

  it('confirms, sends the body with an Idempotency-Key and reloads the detail, the list and the account', async () => {
    signIn(['accounts.view', 'money.refund'])
    const w = await openDetail()
    const listGets = calls.filter((c) => c.url.includes('/accounts/A001/payments')).length
    type('input[data-test=payment-refund-amount]', ' 20.00 ')
    type('input[data-test=payment-refund-reason]', ' 退租退款 ')
    $<HTMLButtonElement>('[data-test=refund-submit]')!.click()
    await flushPromises()
    expect(confirmBox()!.textContent).toContain('退款 ¥20.00 将原路退回付款人，并立即从账户余额中扣除')

    refundAnswers.push({ status: 201, body: refund('R9', 'succeeded', { amount: '20.00' }) })
    detail = detailOf(order(), [refund('R1', 'succeeded', { amount: '30.00' }), refund('R9', 'succeeded', { amount: '20.00' })], '50.00')
    await answerConfirm(true)

    expect(posts()).toHaveLength(1)
    const post = posts()[0]
    expect(post.url).toBe(detailUrl + '/refunds')
    expect(post.body).toEqual({ amount: '20.00', reason: '退租退款' })
    expect(post.headers['Idempotency-Key']).toMatch(/^web-[0-9a-f]{32}$/)
    expect(post.headers['X-CSRF-Token']).toBe('csrf')
    expect($('[data-test=refund-outcome]')!.textContent).toContain('已退款 ¥20.00')
    expect($('[data-test=refund-outcome]')!.dataset.type).toBe('success')
    expect(gets(detailUrl)).toBe(2)
    expect(calls.filter((c) => c.url.includes('/accounts/A001/payments')).length).toBe(listGets + 1)
    expect(w.emitted('refunded')).toHaveLength(1)
    // The form starts again from what is left now.
    expect($<HTMLInputElement>('input[data-test=payment-refund-amount]')!.value).toBe('38.00')
    expect($<HTMLInputElement>('input[data-test=payment-refund-reason]')!.value).toBe('')
    expect(refundTag('R9').textContent!.trim()).toBe('已退款')
  })

  it.each([
    [201, 'processing', '', 'info', '退款处理中（支付渠道处理中，稍后自动确认）'],
    [201, 'failed', 'NOT_ENOUGH: 商户余额不足', 'error', '退款失败，款项已退回账户余额：NOT_ENOUGH: 商户余额不足'],
    [202, 'requested', '', 'info', '已提交，支付渠道暂未应答，系统将自动重试'],
    [201, 'abnormal', '', 'warning', '渠道退款异常（如付款人银行卡失效），请在商户平台处理'],
  ])('says what a %s %s answer means', async (status, state, detailText, kind, message) => {
    signIn(['accounts.view', 'money.refund'])
    const w = await openDetail()
    type('input[data-test=payment-refund-reason]', 'moved out')
    $<HTMLButtonElement>('[data-test=refund-submit]')!.click()
    refundAnswers.push({ status, body: refund('R9', state, { amount: '58.00', detail: detailText }) })
    await answerConfirm(true)
    expect(posts()[0].body).toEqual({ amount: '58.00', reason: 'moved out' })
    expect($('[data-test=refund-outcome]')!.textContent!.trim()).toBe(message)
    expect($('[data-test=refund-outcome]')!.dataset.type).toBe(kind)
    expect(w.emitted('refunded')).toHaveLength(1)
  })

  it('shows the refusal and keeps the key for a retry of the same submission only', async () => {
    signIn(['accounts.view', 'money.refund'])
    const w = await openDetail()
    type('input[data-test=payment-refund-amount]', '58.00')
    type('input[data-test=payment-refund-reason]', 'moved out')

    refundAnswers.push({ status: 409, body: { code: 'failed_precondition', message: 'is more than the balance', field: 'amount' } })
    $<HTMLButtonElement>('[data-test=refund-submit]')!.click()
    await answerConfirm(true)
    expect($('[data-test=refund-error]')!.textContent).toBe('退款金额超过订单可退金额或账户余额: is more than the balance')
    expect($('[data-test=refund-outcome]')).toBeNull()
    expect(w.emitted('refunded')).toBeUndefined()

    // The same again (a retry): the same key.
    refundAnswers.push({ status: 503, body: { code: 'unavailable', message: 'try again', field: '' } })
    $<HTMLButtonElement>('[data-test=refund-submit]')!.click()
    await answerConfirm(true)
    expect($('[data-test=refund-error]')!.textContent).toBe('try again')
    expect(posts()).toHaveLength(2)
    expect(posts()[1].headers['Idempotency-Key']).toBe(posts()[0].headers['Idempotency-Key'])

    // Another amount is another refund: a new key.
    type('input[data-test=payment-refund-amount]', '8.00')
    refundAnswers.push({ status: 201, body: refund('R9', 'succeeded', { amount: '8.00' }) })
    $<HTMLButtonElement>('[data-test=refund-submit]')!.click()
    await answerConfirm(true)
    expect(posts()).toHaveLength(3)
    expect(posts()[2].body).toEqual({ amount: '8.00', reason: 'moved out' })
    expect(posts()[2].headers['Idempotency-Key']).not.toBe(posts()[0].headers['Idempotency-Key'])
    expect($('[data-test=refund-error]')).toBeNull()
  })

  it('sends nothing when the confirmation is cancelled', async () => {
    signIn(['accounts.view', 'money.refund'])
    await openDetail()
    type('input[data-test=payment-refund-reason]', 'moved out')
    $<HTMLButtonElement>('[data-test=refund-submit]')!.click()
    await answerConfirm(false)
    expect(posts()).toHaveLength(0)
    expect($('[data-test=refund-outcome]')).toBeNull()
  })
})
