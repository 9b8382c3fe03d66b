// Shared by the tenant page tests: the API mocked at fetch (every call recorded with its headers),
// the tenant app mounted on a memory-history router, and the answers' shapes from docs/tenant.md.
import { vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory } from 'vue-router'
import App from '../../src/tenant/App.vue'
import { makeRouter } from '../../src/tenant/router'
import { session, signedOutLocally } from '../../src/tenant/session'
import type { AccountDetail, Binding, Me } from '../../src/tenant/types'

export interface Call {
  method: string
  path: string // after /api/v1/tenant/
  body: unknown
  headers: Record<string, string>
  credentials: RequestCredentials | undefined
}
export type Handler = (method: string, path: string, body: unknown) => Response | undefined

export const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
export const noContent = () => new Response(null, { status: 204 })
export const apiError = (status: number, code: string, message: string, field = '') => json({ code, message, field }, status)

export let calls: Call[] = []
export function mockApi(handler: Handler): void {
  calls = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    const body = init.body ? JSON.parse(String(init.body)) : undefined
    const path = url.replace(/^\/api\/v1\/tenant\//, '')
    calls.push({ method, path, body, headers: { ...(init.headers as Record<string, string>) }, credentials: init.credentials })
    return handler(method, path, body) ?? apiError(404, 'not_found', `no mock for ${method} ${path}`)
  })
}
export const callsTo = (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path)

export function binding(extra: Partial<Binding> = {}): Binding {
  return {
    binding: 7,
    role: 'holder',
    project: 'P1',
    project_name: '阳光公寓',
    account: 'A-101',
    tenant_name: '张三',
    state: 'normal',
    relay: 'closed',
    available: '123.45',
    days_left: 12,
    ...extra,
  }
}
export function detail(extra: Partial<AccountDetail> = {}): AccountDetail {
  const b = binding(extra)
  return {
    ...b,
    balance: { available: b.available, paid: b.available, granted: '0.00', debt: '0.00' },
    usage: { charged_today: '3.20', daily_average: '4.10', days_left: b.days_left },
    meters: [{ code: 'E101', utility: 'electricity', today: { energy: '5.300', charged: '3.20' } }],
    alarm_levels: { alarm1: '30.00', alarm2: '20.00', alarm3: '10.00' },
    ...extra,
  }
}
export function me(extra: Partial<Me> = {}): Me {
  return {
    phone: '13800000001',
    csrf_token: 'csrf-abc',
    accounts: [binding()],
    providers: ['sandbox', 'wechat'],
    top_up_presets: ['50.00', '100.00', '200.00', '500.00'],
    ...extra,
  }
}

// A fresh, signed-out tenant session: the guard asks GET me again.
export function resetSession(): void {
  signedOutLocally()
  session.known = false
  session.current = 0
  localStorage.clear()
}

export async function mountTenant(path: string) {
  const router = makeRouter(createMemoryHistory())
  router.push(path)
  await router.isReady()
  const w = mount(App, { global: { plugins: [router] }, attachTo: document.body })
  await flushPromises()
  return { w, router }
}

