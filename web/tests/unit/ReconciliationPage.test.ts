// 对账: the imported statements listed newest first with their mismatches counted (red when any),
// one opened to its mismatches (the two where a tenant paid and was not credited as danger tags,
// filtered by kind); a statement imported as the file's own bytes (text/csv, CSRF) showing its
// mismatches at once; the API's errors naming the field (file, date, a statement's row); importing
// only with money.refund; the menu entry with reports.view. A day's statement fetched from the
// provider (only those the server fetches from, GET /payments/providers) and reconciled at once,
// its errors naming the provider or the date; the runs the server fetched by itself each morning
// shown as such.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import ReconciliationPage from '../../src/pages/ReconciliationPage.vue'
import { session } from '../../src/session'
import { setCsrfToken } from '../../src/api'
import { allowed, pages } from '../../src/router'

function signIn(permissions: string[]) {
  session.user = { username: 'u', role: 'r', permissions, projects: [{ code: 'p1', name: 'P1' }], csrf_token: 'csrf' }
  session.project = 'p1'
  setCsrfToken('csrf')
}

const run = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  provider: 'wechat',
  bill_date: '2026-11-2' + (id % 10),
  imported_at: '2026-11-23T01:00:00Z',
  imported_by: 'finance1',
  file_sha256: 'ab'.repeat(32),
  lines: 120,
  other_projects: 4,
  matched: 113,
  mismatches: 3,
  statement_paid: '12345.60',
  statement_refunded: '20.00',
  credited: '12200.00',
  ...extra,
})
const mismatch = (kind: string, extra: Record<string, unknown> = {}) => ({
  kind,
  order_no: 'J1795400000ab12cd34',
  transaction_id: '4200001234202611220001',
  account: 'A-101',
  statement_amount: '100.00',
  our_amount: '100.00',
  statement_status: 'SUCCESS',
  our_status: 'paid',
  row: 7,
  detail: kind + ' detail',
  ...extra,
})
const detailOf = (id: number) => ({
  ...run(id),
  mismatch_list: [
    mismatch('not_credited', { our_status: 'created' }),
    mismatch('unknown_order', { order_no: '', account: '', our_amount: '', our_status: '', row: 9 }),
    mismatch('amount_differs', { statement_amount: '100.00', our_amount: '10.00', row: 12 }),
    mismatch('not_in_statement', { statement_amount: '', statement_status: '', row: 0 }),
  ],
})

interface Call { method: string; url: string; body: unknown; headers: Record<string, string> }
let calls: Call[] = []
let runs: unknown[] = []
let importAnswer: () => Response
let providersAnswer: () => Response
let detailExtra: Record<string, unknown> = {}
let fetchAnswer: () => Response | Promise<Response>
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status })

beforeEach(() => {
  calls = []
  runs = [run(8, { provider: 'alipay', mismatches: 0, matched: 120 }), run(5)]
  importAnswer = () => json({ ...run(9, { bill_date: '2026-11-22', mismatches: 2 }), mismatch_list: [mismatch('not_credited'), mismatch('duplicate_line', { row: 30 })] }, 201)
  // A server that fetches no statements (an older one): the providers are not found.
  providersAnswer = () => json({ code: 'not_found', message: 'no route', field: '' }, 404)
  detailExtra = {}
  fetchAnswer = () => json({ ...run(9, { bill_date: '2026-11-22', mismatches: 1 }), mismatch_list: [mismatch('not_credited')] }, 201)
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    calls.push({ method, url, body: init.body, headers: { ...(init.headers as Record<string, string>) } })
    if (method === 'GET' && url === '/api/v1/payments/providers') return providersAnswer()
    if (method === 'POST' && url === '/api/v1/projects/p1/reconciliations/fetch') {
      const answer = await fetchAnswer()
      if (answer.status === 201) runs = [run(9, { bill_date: '2026-11-22', mismatches: 1 }), ...runs]
      return answer
    }
    if (method === 'POST' && url.startsWith('/api/v1/projects/p1/reconciliations?')) {
      const answer = importAnswer()
      if (answer.status === 201) runs = [run(9, { bill_date: '2026-11-22', mismatches: 2 }), ...runs]
      return answer
    }
    if (url.startsWith('/api/v1/projects/p1/reconciliations?')) return json({ items: runs, page: 1, page_size: 20, total: runs.length })
    const one = /\/reconciliations\/(\d+)$/.exec(url)
    if (one) return json({ ...detailOf(Number(one[1])), ...detailExtra })
    return json({ code: 'not_found', message: 'no mock', field: '' }, 404)
  })
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  session.user = null
  document.body.innerHTML = ''
})

const mountIt = () => mount(ReconciliationPage, { global: { plugins: [ElementPlus] }, attachTo: document.body })
type Page = ReturnType<typeof mountIt>
const vm = (w: Page) =>
  w.vm as unknown as {
    kindFilter: string
    form: { provider: string; date: string | null }
    fetchForm: { provider: string; date: string | null }
    fetchable: string[]
    disabledFetchDay: (d: Date) => boolean
  }
// A tag: data-test falls through onto the element, or onto the transition around it in tests.
const tagOf = (el: ReturnType<Page['find']>) => (el.classes('el-tag') ? el : el.find('.el-tag'))

// The file picker given a file, as the browser does it.
async function chooseFile(w: Page, file: File) {
  const input = w.find('input[data-test=recon-file]')
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  await input.trigger('change')
}
async function clickImport(w: Page) {
  await w.find('[data-test=recon-import]').trigger('click')
  await flushPromises()
}

describe('ReconciliationPage', () => {
  it('lists the imported statements and opens one to its mismatches, filtered by kind', async () => {
    signIn(['reports.view'])
    const w = mountIt()
    await flushPromises()
    expect(calls[0]).toMatchObject({ method: 'GET', url: '/api/v1/projects/p1/reconciliations?page=1&page_size=20' })
    expect(w.find('[data-test=recon-import]').exists()).toBe(false) // importing needs money.refund
    const table = w.find('[data-test=recon-runs]')
    expect(table.text()).toContain('支付宝')
    expect(table.text()).toContain('微信支付')
    expect(table.text()).toContain('finance1')
    expect(table.text()).toContain('¥12345.60')
    expect(table.text()).toContain('¥12200.00')
    expect(w.find('[data-test=recon-run-mismatches-5]').classes()).toContain('bad')
    expect(w.find('[data-test=recon-run-mismatches-8]').classes()).not.toContain('bad')
    expect(w.find('[data-test=recon-detail]').exists()).toBe(false)

    await w.find('[data-test=recon-run-5]').trigger('click')
    await flushPromises()
    expect(calls[calls.length - 1].url).toBe('/api/v1/projects/p1/reconciliations/5')
    const rows = w.findAll('[data-test=recon-mismatch]')
    expect(rows.map((r) => r.attributes('data-kind'))).toEqual(['not_credited', 'unknown_order', 'amount_differs', 'not_in_statement'])
    expect(tagOf(rows[0]).text()).toBe('已付款未入账')
    expect(tagOf(rows[0]).classes()).toContain('el-tag--danger')
    expect(tagOf(rows[1]).text()).toBe('未知订单')
    expect(tagOf(rows[1]).classes()).toContain('el-tag--danger')
    expect(tagOf(rows[2]).text()).toBe('金额不符')
    expect(tagOf(rows[2]).classes()).not.toContain('el-tag--danger')
    expect(w.find('[data-test=recon-serious]').text()).toContain('有 2 笔租户已付款但未入账')
    const detail = w.find('[data-test=recon-detail]')
    expect(detail.text()).toContain('对账单 120 笔（其中其他项目 4 笔），匹配 113 笔，不符 3 笔')
    expect(detail.text()).toContain('¥10.00')
    expect(detail.text()).toContain('4200001234202611220001')

    vm(w).kindFilter = 'amount_differs'
    await flushPromises()
    expect(w.findAll('[data-test=recon-mismatch]').map((r) => r.attributes('data-kind'))).toEqual(['amount_differs'])
    vm(w).kindFilter = ''
    await flushPromises()
    expect(w.findAll('[data-test=recon-mismatch]')).toHaveLength(4)
    w.unmount()
  })

  it('imports a statement as the file it is and shows its mismatches', async () => {
    signIn(['reports.view', 'money.refund'])
    const w = mountIt()
    await flushPromises()
    // A GBK statement: its bytes go as they are, whatever type the browser gave the file.
    const bytes = new Uint8Array([0xce, 0xa2, 0xd0, 0xc5, 0x2c, 0x31, 0x0a])
    const file = new File([bytes], 'wechat-20261122.csv', { type: 'application/vnd.ms-excel' })
    await chooseFile(w, file)
    vm(w).form.date = '2026-11-22'
    await clickImport(w)

    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url).toBe('/api/v1/projects/p1/reconciliations?provider=wechat&date=2026-11-22')
    expect(post.body).toBe(file)
    expect(post.headers['Content-Type']).toBe('text/csv')
    expect(post.headers['X-CSRF-Token']).toBe('csrf')
    expect(w.find('[data-test=recon-error]').exists()).toBe(false)
    const rows = w.findAll('[data-test=recon-mismatch]')
    expect(rows.map((r) => r.attributes('data-kind'))).toEqual(['not_credited', 'duplicate_line'])
    expect(tagOf(rows[1]).text()).toBe('重复记录')
    expect(w.find('[data-test=recon-detail]').text()).toContain('2026-11-22 微信支付 对账明细')
    // The list is read again, the new statement first; no second read of the one just imported.
    expect(calls.filter((c) => c.method === 'GET' && c.url.endsWith('?page=1&page_size=20'))).toHaveLength(2)
    expect(w.find('[data-test=recon-run-9]').exists()).toBe(true)
    expect(calls.some((c) => c.url.endsWith('/reconciliations/9'))).toBe(false)
    expect((w.find('input[data-test=recon-file]').element as HTMLInputElement).value).toBe('')

    // Another provider, no date: only the provider is sent.
    vm(w).form.provider = 'alipay'
    vm(w).form.date = null
    await chooseFile(w, new File(['x'], 'alipay.txt', { type: 'text/plain' }))
    await clickImport(w)
    expect(calls.filter((c) => c.method === 'POST')[1].url).toBe('/api/v1/projects/p1/reconciliations?provider=alipay')
    w.unmount()
  })

  it("names the field of the API's error", async () => {
    signIn(['reports.view', 'money.refund'])
    const w = mountIt()
    await flushPromises()
    // No file chosen: nothing is sent.
    await clickImport(w)
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
    expect(w.find('[data-test=recon-error]').text()).toContain('对账单文件：请选择对账单文件')

    await chooseFile(w, new File(['a,b\n'], 'bill.csv', { type: 'text/csv' }))
    importAnswer = () => json({ code: 'invalid_argument', message: 'a line of 2026-11-21 in a statement of 2026-11-22', field: 'date' }, 400)
    await clickImport(w)
    let error = w.find('[data-test=recon-error]')
    expect(error.attributes('data-field')).toBe('date')
    expect(error.text()).toContain('对账日期：a line of 2026-11-21 in a statement of 2026-11-22')
    expect(error.text()).toContain('一份对账单只能包含同一天的交易')

    importAnswer = () => json({ code: 'invalid_argument', message: 'not a WeChat Pay trade bill, or cut off', field: 'file' }, 400)
    await clickImport(w)
    error = w.find('[data-test=recon-error]')
    expect(error.attributes('data-field')).toBe('file')
    expect(error.text()).toContain('对账单文件：not a WeChat Pay trade bill, or cut off')

    importAnswer = () => json({ code: 'invalid_argument', message: "'12,x' is not an amount", field: 'row 12: 应结订单金额' }, 400)
    await clickImport(w)
    error = w.find('[data-test=recon-error]')
    expect(error.attributes('data-field')).toBe('row')
    expect(error.text()).toContain("第 12 行（应结订单金额）：'12,x' is not an amount")
    expect(w.find('[data-test=recon-detail]').exists()).toBe(false)
    w.unmount()
  })

  it("fetches a day's statement from the provider and shows it", async () => {
    // 01:00 of the 23rd in Beijing, still the 22nd in UTC: yesterday is the 22nd.
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-11-22T17:00:00Z'))
    providersAnswer = () => json({ orders: ['wechat', 'alipay', 'sandbox'], refunds: ['wechat', 'alipay'], statements: ['wechat', 'alipay'] })
    signIn(['reports.view', 'money.refund'])
    const w = mountIt()
    await flushPromises()
    expect(calls.map((c) => c.url)).toContain('/api/v1/payments/providers')
    const card = w.find('[data-test=recon-fetch-card]')
    expect(card.exists()).toBe(true)
    expect(card.text()).toContain('从支付平台获取对账单')
    expect(w.find('[data-test=recon-fetch-hint]').text()).toContain('10:00')
    expect(w.find('[data-test=recon-fetch-hint]').text()).toContain('微信支付、支付宝')
    expect(w.find('[data-test=recon-auto-hint]').exists()).toBe(false) // said in the card
    // Only the providers the server fetches from; the first chosen, the day before in Beijing.
    expect(vm(w).fetchable).toEqual(['wechat', 'alipay'])
    expect(vm(w).fetchForm.provider).toBe('wechat')
    expect(vm(w).fetchForm.date).toBe('2026-11-22')
    expect((w.find('[data-test=recon-fetch-date] input').element as HTMLInputElement).value).toBe('2026-11-22')
    expect(w.find('[data-test=recon-fetch-provider]').exists()).toBe(true)
    expect(vm(w).disabledFetchDay(new Date(2026, 10, 23))).toBe(false)
    expect(vm(w).disabledFetchDay(new Date(2026, 10, 24))).toBe(true)
    // The file import is still there, unchanged.
    expect(w.find('[data-test=recon-import]').exists()).toBe(true)

    // Busy while the server fetches: the button loading, nothing sent twice.
    let answer!: (r: Response) => void
    fetchAnswer = () => new Promise<Response>((resolve) => (answer = resolve))
    vm(w).fetchForm.provider = 'alipay'
    await w.find('[data-test=recon-fetch-submit]').trigger('click')
    await flushPromises()
    const submit = w.find('[data-test=recon-fetch-submit]')
    expect(submit.classes()).toContain('is-loading')
    expect(submit.attributes('disabled')).toBeDefined()
    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts).toHaveLength(1)
    expect(posts[0].url).toBe('/api/v1/projects/p1/reconciliations/fetch')
    expect(JSON.parse(posts[0].body as string)).toEqual({ provider: 'alipay', date: '2026-11-22' })
    expect(posts[0].headers['Content-Type']).toBe('application/json')
    expect(posts[0].headers['X-CSRF-Token']).toBe('csrf')
    answer(json({ ...run(9, { provider: 'alipay', bill_date: '2026-11-22', mismatches: 1 }), mismatch_list: [mismatch('not_credited')] }, 201))
    await flushPromises()

    expect(w.find('[data-test=recon-fetch-submit]').classes()).not.toContain('is-loading')
    expect(w.find('[data-test=recon-fetch-error]').exists()).toBe(false)
    expect(document.body.querySelector('.el-message')?.textContent).toContain('已获取 2026-11-22 对账单：匹配 113 笔，不符 1 笔')
    // Opened at once, and the list read again with it first.
    expect(w.find('[data-test=recon-detail]').text()).toContain('2026-11-22 支付宝 对账明细')
    expect(w.findAll('[data-test=recon-mismatch]').map((r) => r.attributes('data-kind'))).toEqual(['not_credited'])
    expect(calls.filter((c) => c.method === 'GET' && c.url.endsWith('/reconciliations?page=1&page_size=20'))).toHaveLength(2)
    expect(w.find('[data-test=recon-run-9]').exists()).toBe(true)
    expect(calls.some((c) => c.url.endsWith('/reconciliations/9'))).toBe(false)
    w.unmount()
  })

  it('says why the statement could not be fetched, naming the provider or the date', async () => {
    providersAnswer = () => json({ orders: ['wechat'], refunds: ['wechat'], statements: ['wechat'] })
    signIn(['reports.view', 'money.refund'])
    const w = mountIt()
    await flushPromises()
    const fetchIt = async () => {
      await w.find('[data-test=recon-fetch-submit]').trigger('click')
      await flushPromises()
      return w.find('[data-test=recon-fetch-error]')
    }
    const notReady = "wechat's statement of 2026-11-22 could not be fetched: unavailable: WeChat Pay's trade bill is not ready (STATEMENT_CREATING)"
    fetchAnswer = () => json({ code: 'unavailable', message: notReady, field: 'provider' }, 503)
    let error = await fetchIt()
    expect(error.attributes('data-field')).toBe('provider')
    expect(error.text()).toContain('渠道：' + notReady)
    expect(error.text()).toContain('请稍后重试')
    // Still signed in and on the page; the import's error place is untouched.
    expect(w.find('[data-test=recon-fetch-card]').exists()).toBe(true)
    expect(w.find('[data-test=recon-error]').exists()).toBe(false)
    expect(w.find('[data-test=recon-detail]').exists()).toBe(false)

    fetchAnswer = () => json({ code: 'failed_precondition', message: 'this server fetches no statements from wechat', field: 'provider' }, 409)
    error = await fetchIt()
    expect(error.attributes('data-field')).toBe('provider')
    expect(error.text()).toContain('未配置从该渠道获取对账单')

    fetchAnswer = () => json({ code: 'invalid_argument', message: "'2026-13-01' is not a date", field: 'date' }, 400)
    error = await fetchIt()
    expect(error.attributes('data-field')).toBe('date')
    expect(error.text()).toContain("对账日期：'2026-13-01' is not a date")

    // No date: nothing is sent.
    const before = calls.filter((c) => c.method === 'POST').length
    vm(w).fetchForm.date = null
    error = await fetchIt()
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(before)
    expect(error.text()).toContain('对账日期：请选择对账日期')

    // Fetched after all: the error goes.
    vm(w).fetchForm.date = '2026-11-22'
    fetchAnswer = () => json({ ...run(9, { bill_date: '2026-11-22', lines: 0, matched: 0, mismatches: 0, file_sha256: '' }), mismatch_list: [] }, 201)
    error = await fetchIt()
    expect(error.exists()).toBe(false)
    expect(document.body.querySelector('.el-message')?.textContent).toContain('当天没有交易')
    expect(w.find('[data-test=recon-provenance]').text()).toContain('没有对账单文件')
    w.unmount()
  })

  it('shows nothing new when the server fetches no statements, or cannot say', async () => {
    signIn(['reports.view', 'money.refund'])
    for (const answer of [
      () => json({ orders: ['sandbox'], refunds: [], statements: [] }),
      () => json({ code: 'internal', message: 'boom', field: '' }, 500),
      () => json({ code: 'not_found', message: 'no route', field: '' }, 404),
    ]) {
      providersAnswer = answer
      const w = mountIt()
      await flushPromises()
      expect(w.find('[data-test=recon-fetch-card]').exists()).toBe(false)
      expect(w.find('[data-test=recon-auto-hint]').exists()).toBe(false)
      expect(w.find('[data-test=recon-import]').exists()).toBe(true)
      expect(w.find('[data-test=recon-run-5]').exists()).toBe(true)
      expect(w.find('.el-alert--error').exists()).toBe(false)
      w.unmount()
    }
  })

  it('shows the runs the server fetched by itself, and says it does so', async () => {
    providersAnswer = () => json({ orders: ['wechat'], refunds: ['wechat'], statements: ['wechat'] })
    runs = [run(7, { imported_by: 'statement-fetch' }), run(5)]
    // Without money.refund: nothing to fetch with, but told that it happens each morning.
    signIn(['reports.view'])
    const w = mountIt()
    await flushPromises()
    expect(w.find('[data-test=recon-fetch-card]').exists()).toBe(false)
    expect(w.find('[data-test=recon-auto-hint]').text()).toContain('自动获取微信支付前一天的对账单')
    const table = w.find('[data-test=recon-runs]')
    expect(w.find('[data-test=recon-run-auto-7]').text()).toBe('自动获取')
    expect(table.text()).not.toContain('statement-fetch')
    expect(table.text()).toContain('finance1')
    expect(w.find('[data-test=recon-run-auto-5]').exists()).toBe(false)
    detailExtra = { imported_by: 'statement-fetch' }
    await w.find('[data-test=recon-run-7]').trigger('click')
    await flushPromises()
    const provenance = w.find('[data-test=recon-provenance]').text()
    expect(provenance).toContain('于 2026-11-')
    expect(provenance).toContain('自动获取')
    expect(provenance).not.toContain('statement-fetch')
    expect(provenance).toContain('文件 SHA-256：' + 'ab'.repeat(32))
    w.unmount()
  })

  it('is in the menu for reports.view', () => {
    const meta = pages.find((p) => p.name === 'reconciliation')!.meta
    signIn(['reports.view'])
    expect(allowed(meta)).toBe(true)
    signIn(['alarms.view'])
    expect(allowed(meta)).toBe(false)
    const names = pages.filter((p) => p.meta?.menu).map((p) => p.name)
    expect(names.indexOf('reconciliation')).toBe(names.indexOf('notifications') + 1)
  })
})
