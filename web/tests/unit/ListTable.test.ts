// The list component asks the API for the page with the filters and offers the same query as
// CSV and XLSX exports.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import ListTable from '../../src/components/ListTable.vue'

afterEach(() => vi.unstubAllGlobals())

describe('ListTable', () => {
  it('loads the filtered page and links the exports', async () => {
    const calls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      calls.push(url)
      return new Response(JSON.stringify({ items: [{ code: 'G1', online: true }], page: 1, page_size: 50, total: 1 }), { status: 200 })
    })
    const w = mount(ListTable, {
      props: { path: '/projects/p1/gateways', filters: { state: 'online', empty: '' }, columns: [{ prop: 'code', label: 'Code' }] },
      global: { plugins: [ElementPlus] },
    })
    await flushPromises()
    expect(calls).toEqual(['/api/v1/projects/p1/gateways?state=online&page=1&page_size=50'])
    expect(w.text()).toContain('G1')
    const hrefs = w.findAll('a').map((a) => a.attributes('href'))
    expect(hrefs).toContain('/api/v1/projects/p1/gateways?state=online&format=csv')
    expect(hrefs).toContain('/api/v1/projects/p1/gateways?state=online&format=xlsx')
  })

  it('shows the API error instead of rows', async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ code: 'permission_denied', message: 'no devices.view', field: '' }), { status: 403 }))
    const w = mount(ListTable, {
      props: { path: '/projects/p1/gateways', columns: [{ prop: 'code', label: 'Code' }] },
      global: { plugins: [ElementPlus] },
    })
    await flushPromises()
    expect(w.text()).toContain('no devices.view')
  })
})
