// The notifications page: the delivery log's states as coloured tags, a failed delivery sent again
// (only with alarms.manage) and older ones loaded before the last; a webhook recipient added with
// the whole body the API takes; recipients on a channel the server cannot send on named.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import NotificationsPage from '../../src/pages/NotificationsPage.vue'
import { session } from '../../src/session'
import { setCsrfToken } from '../../src/api'

function signIn(permissions: string[]) {
  session.user = { username: 'u', role: 'r', permissions, projects: [{ code: 'p1', name: 'P1' }], csrf_token: 'csrf' }
  session.project = 'p1'
  setCsrfToken('csrf')
}

const delivery = (id: number, state: string, extra: Record<string, unknown> = {}) => ({
  id,
  event: 100 + id,
  kind: 'meter_offline',
  subject: 'M-' + id,
  recipient_id: 3,
  recipient: 'staff',
  recipient_name: 'Ops desk',
  channel: 'email',
  address: 'ops@example.com',
  language: 'zh-CN',
  title: '表计离线',
  body: '表计 M-' + id + ' 已离线',
  state,
  attempts: state === 'queued' ? 1 : 2,
  next_attempt_at: state === 'queued' ? '2026-11-20T08:05:00Z' : '',
  error: state === 'failed' ? 'smtp: 550 mailbox unavailable' : '',
  created_at: '2026-11-20T08:00:00Z',
  finished_at: state === 'sent' ? '2026-11-20T08:00:02Z' : '',
  ...extra,
})
const kinds = [
  { kind: 'meter_offline', audience: 'engineering', urgent: false, title_zh: '表计离线', title_en: 'Meter offline' },
  { kind: 'gateway_offline', audience: 'engineering', urgent: false, title_zh: '网关离线', title_en: 'Gateway offline' },
  { kind: 'payment_mismatch', audience: 'finance', urgent: true, title_zh: '支付异常', title_en: 'Payment mismatch' },
]
const recipient = (id: number, name: string, channel: string) => ({
  id, name, role: 'engineering', channel, address: channel === 'email' ? 'a@example.com' : 'oXYZ123456', language: 'zh-CN', kinds: [], has_secret: false, enabled: true, created_at: '2026-11-01T00:00:00Z',
})

let calls: { method: string; url: string; body: unknown }[] = []
let deliveries: { items: unknown[]; next_before: number }[] = []
let recipients: unknown[] = []
let serverChannels: string[] = []
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status })

beforeEach(() => {
  calls = []
  deliveries = [{ items: [delivery(9, 'failed'), delivery(8, 'sent'), delivery(7, 'queued'), delivery(6, 'suppressed')], next_before: 6 }]
  recipients = []
  serverChannels = ['email', 'webhook']
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const method = init.method ?? 'GET'
    const body = init.body ? JSON.parse(String(init.body)) : undefined
    calls.push({ method, url, body })
    if (url.includes('/notifications/kinds')) return json({ items: kinds })
    if (url.includes('/retry')) return json(delivery(9, 'queued', { attempts: 0 }))
    if (url.includes('/notifications/deliveries')) return json(deliveries.shift() ?? { items: [], next_before: 0 })
    if (url.includes('/notifications/recipients') && method === 'POST') return json({ ...body, id: 5, has_secret: true, created_at: '' }, 201)
    if (url.includes('/notifications/recipients')) return json({ items: recipients, page: 1, page_size: 500, total: recipients.length, channels: serverChannels })
    return json({})
  })
})
afterEach(() => {
  vi.unstubAllGlobals()
  session.user = null
  document.body.innerHTML = ''
})

const mountIt = () => mount(NotificationsPage, { global: { plugins: [ElementPlus] }, attachTo: document.body })
async function mountOnRecipients() {
  const w = mountIt()
  await flushPromises()
  ;(w.vm as unknown as { tab: string }).tab = 'recipients'
  await flushPromises()
  return w
}
// A state tag: data-test falls through to the tag, or onto the transition the test stubs around it.
const stateTag = (w: ReturnType<typeof mountIt>, id: number) => {
  const found = w.find(`[data-test=state-${id}]`)
  return found.classes('el-tag') ? found : found.find('.el-tag')
}
// Element Plus shows a form item's error message 100 ms after the error is set; on a loaded
// machine later, so this waits until `shown` says the test's subject is there (at most 5 s).
const settle = async (shown: () => boolean = () => true) => {
  const end = Date.now() + 5000
  do {
    await new Promise((r) => setTimeout(r, 150))
    await flushPromises()
  } while (!shown() && Date.now() < end)
}
const type = (selector: string, value: string) => {
  const input = document.querySelector<HTMLInputElement>(selector)!
  input.value = value
  input.dispatchEvent(new Event('input'))
}

describe('NotificationsPage', () => {
  it('shows the delivery log with state tags and resends a failed delivery', async () => {
    signIn(['alarms.view', 'alarms.manage'])
    const w = mountIt()
    await flushPromises()
    expect(calls[0].url).toContain('/api/v1/projects/p1/notifications/')
    expect(calls.some((c) => c.url === '/api/v1/projects/p1/notifications/deliveries?limit=50')).toBe(true)
    expect(stateTag(w, 9).text()).toBe('发送失败')
    expect(stateTag(w, 9).classes()).toContain('el-tag--danger')
    expect(stateTag(w, 8).classes()).toContain('el-tag--success')
    expect(stateTag(w, 7).classes()).toContain('el-tag--info')
    expect(stateTag(w, 6).classes()).toContain('el-tag--warning')
    expect(w.text()).toContain('下次尝试') // a queued delivery says when it is tried next
    expect(w.text()).toContain('表计离线') // the kind's title, from notifications/kinds
    expect(w.text()).toContain('smtp: 550 mailbox unavailable')
    // Resend only where it can be: failed and suppressed.
    expect(w.find('[data-test=retry-9]').exists()).toBe(true)
    expect(w.find('[data-test=retry-6]').exists()).toBe(true)
    expect(w.find('[data-test=retry-8]').exists()).toBe(false)
    expect(w.find('[data-test=retry-7]').exists()).toBe(false)

    await w.find('[data-test=retry-9]').trigger('click')
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url).toBe('/api/v1/projects/p1/notifications/deliveries/9/retry')
    expect(stateTag(w, 9).text()).toBe('待发送')

    // Older deliveries: before the last one shown.
    deliveries.push({ items: [delivery(5, 'sent')], next_before: 0 })
    await w.find('[data-test=deliveries-more]').trigger('click')
    await flushPromises()
    expect(calls[calls.length - 1].url).toBe('/api/v1/projects/p1/notifications/deliveries?before=6&limit=50')
    expect(w.find('[data-test=state-5]').exists()).toBe(true)
    expect(w.find('[data-test=state-9]').exists()).toBe(true)
    expect(w.find('[data-test=deliveries-more]').exists()).toBe(false)
    w.unmount()
  })

  it('offers no resend, add or edit without alarms.manage', async () => {
    signIn(['alarms.view'])
    recipients = [recipient(1, 'Ops desk', 'email')]
    const w = await mountOnRecipients()
    expect(w.find('[data-test=retry-9]').exists()).toBe(false)
    expect(w.find('[data-test=recipient-new]').exists()).toBe(false)
    expect(w.find('[data-test=recipient-edit-1]').exists()).toBe(false)
    expect(w.find('[data-test=recipient-enabled-1]').exists()).toBe(false)
    w.unmount()
  })

  it('adds a webhook recipient with the whole body the API takes', async () => {
    signIn(['alarms.view', 'alarms.manage'])
    const w = await mountOnRecipients()
    await w.find('[data-test=recipient-new]').trigger('click')
    await flushPromises()
    type('input[data-test=recipient-name]', 'Duty hook')
    document.querySelector<HTMLElement>('[data-test=recipient-channel-webhook] input')!.click()
    document.querySelector<HTMLElement>('[data-test=recipient-role-management] input')!.click()
    await flushPromises()
    type('input[data-test=recipient-address]', ' https://hooks.example.com/joule ')
    await flushPromises()
    // A new webhook without a secret never reaches the API.
    document.querySelector<HTMLButtonElement>('[data-test=recipient-save]')!.click()
    const dialogText = () => document.querySelector('[data-test=recipient-dialog]')?.textContent ?? ''
    await settle(() => dialogText().includes('Webhook 需要签名密钥'))
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
    expect(dialogText()).toContain('Webhook 需要签名密钥')

    type('input[data-test=recipient-secret]', 's3cret-s3cret-s3cret')
    await flushPromises()
    document.querySelector<HTMLButtonElement>('[data-test=recipient-save]')!.click()
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url).toBe('/api/v1/projects/p1/notifications/recipients')
    expect(post.body).toEqual({
      name: 'Duty hook',
      role: 'management',
      channel: 'webhook',
      address: 'https://hooks.example.com/joule',
      language: 'zh-CN',
      kinds: [],
      secret: 's3cret-s3cret-s3cret',
      enabled: true,
    })
    w.unmount()
  })

  it("shows the API's error at the field it names", async () => {
    signIn(['alarms.view', 'alarms.manage'])
    const w = await mountOnRecipients()
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ method: init.method ?? 'GET', url, body: undefined })
      return json({ code: 'invalid_argument', message: 'must be an email address', field: 'address' }, 400)
    })
    await w.find('[data-test=recipient-new]').trigger('click')
    await flushPromises()
    type('input[data-test=recipient-name]', 'Ops')
    type('input[data-test=recipient-address]', 'not-an-address')
    await flushPromises()
    document.querySelector<HTMLButtonElement>('[data-test=recipient-save]')!.click()
    const item = document.querySelector('input[data-test=recipient-address]')!.closest('.el-form-item')!
    await settle(() => item.textContent?.includes('must be an email address') ?? false)
    expect(item.classList.contains('is-error')).toBe(true)
    expect(item.textContent).toContain('must be an email address')
    expect(document.querySelector('[data-test=recipient-error]')).toBeNull()
    w.unmount()
  })

  it('warns of recipients on a channel the server cannot send on', async () => {
    signIn(['alarms.view'])
    recipients = [recipient(1, 'Ops desk', 'email'), recipient(2, '王工', 'wechat')]
    const w = await mountOnRecipients()
    expect(w.find('[data-test=channels-available]').text()).toContain('邮件、Webhook')
    const warning = w.find('[data-test=channels-warning]')
    expect(warning.exists()).toBe(true)
    expect(warning.text()).toContain('王工（微信）')
    expect(warning.text()).not.toContain('Ops desk')
    expect(w.find('[data-test=recipient-channel-2]').text()).toContain('未配置')
    expect(w.text()).toContain('按角色')
    w.unmount()
  })

  it('names no recipient when every channel is configured', async () => {
    signIn(['alarms.view'])
    recipients = [recipient(1, 'Ops desk', 'email')]
    const w = await mountOnRecipients()
    expect(w.find('[data-test=channels-available]').exists()).toBe(true)
    expect(w.find('[data-test=channels-warning]').exists()).toBe(false)
    w.unmount()
  })
})
