// Who is signed in, what they may do and which project they work in. Menus and buttons ask can().
import { reactive } from 'vue'
import { api, get, setCsrfToken } from './api'

export interface ProjectRef {
  code: string
  name: string
}

export interface Me {
  username: string
  role: string
  permissions: string[]
  projects: ProjectRef[]
  csrf_token: string
}

export const session = reactive({
  loaded: false,
  user: null as Me | null,
  project: '' as string,
})

const projectKey = 'joule.project'

export function can(permission: string): boolean {
  return session.user?.permissions.includes(permission) ?? false
}

function adopt(me: Me | null): void {
  session.user = me
  session.loaded = true
  setCsrfToken(me?.csrf_token ?? '')
  if (!me) {
    session.project = ''
    return
  }
  const saved = localStorage.getItem(projectKey) ?? ''
  const codes = me.projects.map((p) => p.code)
  session.project = codes.includes(saved) ? saved : (codes[0] ?? '')
}

// The session from the cookie, if there is one.
export async function loadSession(): Promise<Me | null> {
  try {
    adopt(await get<Me>('/auth/me'))
  } catch {
    adopt(null)
  }
  return session.user
}

export async function login(username: string, password: string): Promise<void> {
  await api('POST', '/auth/login', { body: { username, password } })
  await loadSession()
}

export async function logout(): Promise<void> {
  try {
    await api('POST', '/auth/logout')
  } finally {
    adopt(null)
  }
}

export function selectProject(code: string): void {
  session.project = code
  localStorage.setItem(projectKey, code)
}

// The API path of the current project: "/projects/demo-mall".
export function projectPath(): string {
  return '/projects/' + encodeURIComponent(session.project)
}

// The current project's time zone (its days are cut there), read once per project; undefined
// when it cannot be read (the browser's zone is used then, and the next call tries again).
const zones = new Map<string, Promise<string | undefined>>()
export function projectZone(): Promise<string | undefined> {
  const code = session.project
  let zone = zones.get(code)
  if (!zone) {
    zone = get<{ time_zone: string }>(projectPath()).then(
      (p) => p.time_zone,
      () => {
        zones.delete(code)
        return undefined
      },
    )
    zones.set(code, zone)
  }
  return zone
}
