// Vite builds the console (dist/index.html) and the tenant phone pages (dist/m/index.html, served
// at /m/) into dist/, which `joule serve` serves (http.web_root); both load their assets from
// /assets/. `npm run dev` proxies the API to a `joule serve` on 127.0.0.1:8080.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import type { Plugin } from 'vite'

// Vant's icon font falls back to a copy on Alibaba's CDN. The pages must work offline and never
// reach out (the server's Content-Security-Policy forbids it too): only the embedded font stays.
const noRemoteFonts: Plugin = {
  name: 'no-remote-fonts',
  generateBundle(_options, bundle) {
    for (const file of Object.values(bundle)) {
      if (file.type === 'asset' && file.fileName.endsWith('.css') && typeof file.source === 'string') {
        file.source = file.source.replace(/,\s*url\((?:https?:)?\/\/[^)]*\)\s*format\("[^"]*"\)/g, '')
      }
    }
  },
}

export default defineConfig({
  plugins: [vue(), noRemoteFonts],
  build: {
    target: 'es2020',
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      input: {
        // Relative to the project root (web/), where npm runs the build.
        console: 'index.html',
        tenant: 'm/index.html',
      },
      output: {
        // Heavy libraries in their own long-cached chunks: Element Plus is needed by every console
        // page, ECharts only by the pages with charts (loaded when one opens), Vant only by the
        // tenant pages. Vue is shared by both entries.
        manualChunks(id: string) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts'
          if (id.includes('node_modules/element-plus') || id.includes('node_modules/@element-plus')) return 'element'
          if (id.includes('node_modules/vant') || id.includes('node_modules/@vant')) return 'vant'
          if (id.includes('node_modules/vue') || id.includes('node_modules/@vue')) return 'vue'
          return undefined
        },
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/unit/**/*.test.ts'],
  },
})
