// Hash routes (/m/#/topup) so `joule serve` needs no fallback for the phone pages. Not signed in
// → 登录; signed in without a bound account → 绑定户号. A 401 from any later call ends up at 登录.
import { createRouter, createWebHashHistory, type Router, type RouterHistory } from 'vue-router'
import { onUnauthorized } from './api'
import { loadMe, session, signedOutLocally } from './session'
import LoginPage from './pages/LoginPage.vue'
import BindPage from './pages/BindPage.vue'
import HomePage from './pages/HomePage.vue'
import TopUpPage from './pages/TopUpPage.vue'
import PaidPage from './pages/PaidPage.vue'
import UsagePage from './pages/UsagePage.vue'
import RecordsPage from './pages/RecordsPage.vue'
import AlarmsPage from './pages/AlarmsPage.vue'
import MembersPage from './pages/MembersPage.vue'
import MePage from './pages/MePage.vue'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean // open without signing in
    tab?: boolean // shows the tab bar
    noBinding?: boolean // open while no account is bound
  }
}

export function makeRouter(history: RouterHistory = createWebHashHistory()): Router {
  const router = createRouter({
    history,
    routes: [
      { path: '/login', name: 'login', component: LoginPage, meta: { public: true } },
      { path: '/bind', name: 'bind', component: BindPage, meta: { noBinding: true } },
      { path: '/', name: 'home', component: HomePage, meta: { tab: true } },
      { path: '/topup', name: 'topup', component: TopUpPage, meta: { tab: true } },
      // Where WeChat Pay and Alipay send the payer back (the orders' return_path, payment.ts).
      { path: '/paid/:order', name: 'paid', component: PaidPage },
      { path: '/records', name: 'records', component: RecordsPage, meta: { tab: true } },
      { path: '/me', name: 'me', component: MePage, meta: { tab: true, noBinding: true } },
      { path: '/usage', name: 'usage', component: UsagePage },
      { path: '/alarms', name: 'alarms', component: AlarmsPage },
      { path: '/members', name: 'members', component: MembersPage },
      { path: '/:rest(.*)*', redirect: '/' },
    ],
  })
  router.beforeEach(async (to) => {
    if (!session.known) {
      try {
        await loadMe()
      } catch {
        // The server did not answer: sign-in shows, and says so when the person tries.
      }
    }
    if (to.meta.public) return session.signedIn && to.name === 'login' ? { name: 'home' } : true
    if (!session.signedIn) return { name: 'login' }
    if (!session.accounts.length && !to.meta.noBinding) return { name: 'bind' }
    return true
  })
  onUnauthorized(() => {
    signedOutLocally()
    const here = router.currentRoute.value
    // During the first navigation the guard itself sends to sign-in.
    if (here.matched.length && !here.meta.public) router.replace({ name: 'login' })
  })
  return router
}
