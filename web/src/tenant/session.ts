// Who is signed in (GET me) and which of their bound accounts the pages show. The chosen account
// is remembered in the browser, so a person with several opens on the one they looked at last.
import { computed, reactive } from 'vue'
import { get, setCsrfToken, TenantApiError } from './api'
import type { AccountDetail, Binding, Me } from './types'

const currentKey = 'joule.tenant.binding'
const projectKey = 'joule.tenant.project'

export const session = reactive({
  known: false, // GET me has answered (or said 401) since the page loaded
  signedIn: false,
  phone: '',
  accounts: [] as Binding[],
  providers: [] as string[],
  presets: [] as string[],
  wechatOauth: false, // the server can learn the payer's WeChat openid
  wechatOpenid: false, // … and has it for this session
  current: Number(typeof localStorage !== 'undefined' ? localStorage.getItem(currentKey) : 0) || 0,
})

export const currentBinding = computed<Binding | undefined>(
  () => session.accounts.find((b) => b.binding === session.current) ?? session.accounts[0],
)

export function selectBinding(binding: number): void {
  session.current = binding
  localStorage.setItem(currentKey, String(binding))
}

export function applyMe(me: Me): void {
  session.known = true
  session.signedIn = true
  session.phone = me.phone
  session.accounts = me.accounts ?? []
  session.providers = me.providers ?? []
  session.presets = me.top_up_presets ?? []
  session.wechatOauth = me.wechat_oauth === true
  session.wechatOpenid = me.wechat_openid === true
  setCsrfToken(me.csrf_token)
  // A remembered account no longer bound (removed by the holder) falls back to the first.
  if (!session.accounts.some((b) => b.binding === session.current) && session.accounts.length) {
    selectBinding(session.accounts[0].binding)
  }
}

// GET me; a 401 is the answer "not signed in", anything else is thrown.
export async function loadMe(): Promise<void> {
  try {
    applyMe(await get<Me>('me'))
  } catch (e) {
    if (e instanceof TenantApiError && e.status === 401) {
      signedOutLocally()
      return
    }
    throw e
  }
}

export function signedOutLocally(): void {
  session.known = true
  session.signedIn = false
  session.phone = ''
  session.accounts = []
  session.providers = []
  session.presets = []
  session.wechatOauth = false
  session.wechatOpenid = false
  setCsrfToken('')
}

// The account's balance after a top-up, also put on the session's copy so 首页 shows it; '' when
// it cannot be read just now.
export async function refreshBalance(binding: number): Promise<string> {
  try {
    const d = await get<AccountDetail>(`bindings/${binding}`)
    const b = session.accounts.find((x) => x.binding === binding)
    if (b) Object.assign(b, { available: d.available, relay: d.relay, state: d.state, days_left: d.days_left })
    return d.available
  } catch {
    return ''
  }
}

// The project of the page's link: ?p=CODE on /m/ (the QR code on the meter box), or on the route.
export function linkedProject(routeP: unknown): string {
  const fromPage = typeof window !== 'undefined' ? new URLSearchParams(window.location.search).get('p') : null
  return fromPage || (typeof routeP === 'string' ? routeP : '')
}

// The project last signed in to or bound in, offered first next time on a server with several.
export const lastProject = (): string => localStorage.getItem(projectKey) ?? ''
export function rememberProject(code: string): void {
  if (code) localStorage.setItem(projectKey, code)
}
