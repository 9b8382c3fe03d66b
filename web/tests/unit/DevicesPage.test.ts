// The devices page: a gateway's bus statistics from the API's integers; binding a pending device
// found by a scanned or typed label code, with only what the form changed; the scan bar only for
// devices.manage; the camera explains itself where the browser gives none.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import DevicesPage from '../../src/pages/DevicesPage.vue'
import QrScanner from '../../src/components/QrScanner.vue'
import { session } from '../../src/session'
import { setCsrfToken } from '../../src/api'

function signIn(permissions: string[]) {
  session.user = { username: 'u', role: 'r', permissions, projects: [{ code: 'p1', name: 'P1' }], csrf_token: 'csrf' }
  session.project = 'p1'
  setCsrfToken('csrf')
}

const page = (items: unknown[]) => new Response(JSON.stringify({ items, page: 1, page_size: 500, total: items.length }))
const bus = { source: 'platform', since: '2026-11-20T00:00:00Z', last_activity: '', requests: 6, answered: 5, timeouts: 1, retries: 1, bad_frames: 0, meter_errors: 0, link_losses: 0, noise_bytes: 0, success_permille: 833, average_ms: 0, max_ms: 0 }
const pending = [
  { id: 1, gateway: 'GW1', bus_address: '000000001234', serial: 'A77-1234', model: 'dds' },
  { id: 2, gateway: 'GW1', bus_address: '000000005678', serial: '000000005678', model: 'dds' },
]

let calls: { method: string; url: string; body: unknown }[] = []
beforeEach(() => {
  calls = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ method: init.method ?? 'GET', url, body: init.body ? JSON.parse(String(init.body)) : undefined })
    if (url.includes('/gateways')) return page([{ code: 'GW1', name: 'DTU', transport: 'dtu', online: true, last_seen: '', meters: 3, bus }])
    if (url.includes('/pending-devices') && init.method === 'POST') return new Response(JSON.stringify({ meter: 'M-1' }), { status: 201 })
    if (url.includes('/pending-devices')) return page(pending)
    if (url.includes('/models')) return page([{ code: 'dds', name: 'single phase' }, { code: 'dts', name: 'three phase' }])
    if (url.includes('/rooms')) return page([{ code: 'R1', name: 'Room 1' }])
    return page([])
  })
})
afterEach(() => {
  vi.unstubAllGlobals()
  session.user = null
  document.body.innerHTML = ''
})

const mountIt = () => mount(DevicesPage, { global: { plugins: [ElementPlus] }, attachTo: document.body })
// Mounted with the pending devices' tab open.
async function mountOnPending() {
  const w = mountIt()
  await flushPromises()
  ;(w.vm as unknown as { tab: string }).tab = 'pending'
  await flushPromises()
  return w
}

describe('DevicesPage', () => {
  it('shows a bus answering 5 of 6 as 83.3% with sub-millisecond replies', async () => {
    signIn(['devices.view'])
    const w = mountIt()
    await flushPromises()
    expect(w.find('[data-test=bus-GW1]').text()).toBe('83.3%')
    expect(w.text()).toContain('<1 ms')
    w.unmount()
  })

  it('binds the device a scanned label names, sending only what the form holds', async () => {
    signIn(['devices.view', 'devices.manage'])
    const w = await mountOnPending()
    const input = w.find('[data-test=scan-input]')
    await input.setValue('SN:A77-1234;MODEL:DDSY')
    await input.trigger('keyup', { key: 'Enter' })
    await flushPromises()
    const device = document.querySelector('[data-test=bind-device]')
    expect(device?.textContent).toContain('000000001234')
    const meter = document.querySelector('[data-test=bind-meter]') as HTMLInputElement
    expect(meter.value).toBe('A77-1234') // the serial, until staff type the code they use
    meter.value = 'M-1'
    meter.dispatchEvent(new Event('input'))
    ;(document.querySelector('[data-test=bind-confirm]') as HTMLElement).click()
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')
    expect(post?.url).toBe('/api/v1/projects/p1/pending-devices/1/bind')
    expect(post?.body).toEqual({ meter: 'M-1' }) // the detected model is not re-sent
    w.unmount()
  })

  it('says when a code names no pending device', async () => {
    signIn(['devices.view', 'devices.manage'])
    const w = await mountOnPending()
    const input = w.find('[data-test=scan-input]')
    await input.setValue('99999')
    await input.trigger('keyup', { key: 'Enter' })
    await flushPromises()
    expect(w.find('[data-test=scan-message]').text()).toContain('99999')
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    w.unmount()
  })

  it('offers no scanning without devices.manage', async () => {
    signIn(['devices.view'])
    const w = await mountOnPending()
    expect(w.find('[data-test=scan-input]').exists()).toBe(false)
    w.unmount()
  })
})

describe('QrScanner', () => {
  it('explains that the camera needs a secure page when the browser offers none', async () => {
    const w = mount(QrScanner, { props: { open: false }, global: { plugins: [ElementPlus] }, attachTo: document.body })
    await w.setProps({ open: true })
    await flushPromises()
    expect(document.querySelector('[data-test=scan-error]')?.textContent).toContain('HTTPS')
    w.unmount()
  })
})
