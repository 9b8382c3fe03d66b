// The tenant phone pages (/m/): Vue 3 + Vant, hash-routed. A separate Vite entry from the staff
// console, so neither Element Plus nor ECharts come along.
import { createApp } from 'vue'
import App from './App.vue'
import { makeRouter } from './router'
import './vant-styles'
import './tenant.css'

createApp(App).use(makeRouter()).mount('#app')
