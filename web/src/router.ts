// Every page but the login is loaded when first opened (its own chunk), and each names the
// permission it needs: the menu hides what the user cannot open, and the guard refuses it.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { can, loadSession, session } from './session'

declare module 'vue-router' {
  interface RouteMeta {
    permission?: string
    anyOf?: string[] // instead of one permission: any of these
    title?: string
    menu?: boolean
  }
}

export const pages: RouteRecordRaw[] = [
  { path: '/', name: 'dashboard', component: () => import('./pages/DashboardPage.vue'), meta: { title: 'menu.dashboard', permission: 'projects.view', menu: true } },
  { path: '/rooms', name: 'rooms', component: () => import('./pages/RoomsPage.vue'), meta: { title: 'menu.rooms', permission: 'accounts.view', menu: true } },
  { path: '/accounts/:number', name: 'account', component: () => import('./pages/AccountPage.vue'), meta: { title: 'menu.rooms', permission: 'accounts.view' } },
  { path: '/alarms', name: 'alarms', component: () => import('./pages/AlarmsPage.vue'), meta: { title: 'menu.alarms', permission: 'alarms.view', menu: true } },
  { path: '/notifications', name: 'notifications', component: () => import('./pages/NotificationsPage.vue'), meta: { title: 'menu.notifications', permission: 'alarms.view', menu: true } },
  { path: '/reconciliation', name: 'reconciliation', component: () => import('./pages/ReconciliationPage.vue'), meta: { title: 'menu.reconciliation', permission: 'reports.view', menu: true } },
  { path: '/commands', name: 'commands', component: () => import('./pages/CommandsPage.vue'), meta: { title: 'menu.commands', permission: 'devices.view', menu: true } },
  { path: '/devices', name: 'devices', component: () => import('./pages/DevicesPage.vue'), meta: { title: 'menu.devices', permission: 'devices.view', menu: true } },
  { path: '/tariffs', name: 'tariffs', component: () => import('./pages/TariffsPage.vue'), meta: { title: 'menu.tariffs', permission: 'tariffs.view', menu: true } },
  { path: '/imports', name: 'imports', component: () => import('./pages/ImportPage.vue'), meta: { title: 'menu.imports', anyOf: ['projects.manage', 'devices.manage', 'accounts.manage'], menu: true } },
  { path: '/users', name: 'users', component: () => import('./pages/UsersPage.vue'), meta: { title: 'menu.users', permission: 'users.manage', menu: true } },
  { path: '/operations', name: 'operations', component: () => import('./pages/OperationsPage.vue'), meta: { title: 'menu.operations', permission: 'operations.view', menu: true } },
]

// Whether the signed-in user may open a page.
export function allowed(meta: RouteRecordRaw['meta']): boolean {
  if (meta?.anyOf) return meta.anyOf.some(can)
  return !meta?.permission || can(meta.permission)
}

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue') },
    { path: '/', component: () => import('./layout/AppLayout.vue'), children: pages },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach(async (to) => {
  if (!session.loaded) await loadSession()
  if (to.name === 'login') return session.user ? { name: 'dashboard' } : true
  if (!session.user) return { name: 'login', query: { next: to.fullPath } }
  if (!allowed(to.meta)) {
    // The first page this user may open instead.
    const first = pages.find((p) => p.meta?.menu && allowed(p.meta))
    return first && first.name !== to.name ? { name: first.name } : false
  }
  return true
})
