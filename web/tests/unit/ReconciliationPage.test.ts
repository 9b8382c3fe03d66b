// 对账: the imported statements listed newest first with their mismatches counted (red when any),
// one opened to its mismatches (the two where a tenant paid and was not credited as danger tags,
// filtered by kind); a statement imported as the file's own bytes (text/csv, CSRF) showing its
// mismatches at once; the API's errors naming the field (file, date, a statement's row); importing
// only with money.refund; the menu entry with reports.view.
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
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status })

beforeEach(() => {
  calls = []
  runs = [run(8, { provider: 'alipay', mismatches: 0, matched: 120 }), run(5)]
  importAnswer = () => json({ ...run(9, { bill_date: '2026-11-22', mismatches: 2 }), mismatch_list: [mismatch('not_credited'), mismatch('duplicate_line', { row: 30 })] }, 201)
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    calls.push({ method, url, body: init.body, headers: { ...(init.headers as Record<string, string>) } })
    if (method === 'POST' && url.startsWith('/api/v1/projects/p1/reconciliations?')) {
      const answer = importAnswer()
      if (answer.status === 201) runs = [run(9, { bill_date: '2026-11-22', mismatches: 2 }), ...runs]
      return answer
    }
    if (url.startsWith('/api/v1/projects/p1/reconciliations?')) return json({ items: runs, page: 1, page_size: 20, total: runs.length })
    const one = /\/reconciliations\/(\d+)$/.exec(url)
    if (one) return json(detailOf(Number(one[1])))
    return json({ code: 'not_found', message: 'no mock', field: '' }, 404)
  })
})
afterEach(() => {
  vi.unstubAllGlobals()
  session.user = null
  document.body.innerHTML = ''
})

const mountIt = () => mount(ReconciliationPage, { global: { plugins: [ElementPlus] }, attachTo: document.body })
type Page = ReturnType<typeof mountIt>
const vm = (w: Page) => w.vm as unknown as { kindFilter: string; form: { provider: string; date: string | null } }
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
