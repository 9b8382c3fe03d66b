// Tenants paying through WeChat Pay and Alipay from the phone pages (/m/) in Debian's Chromium,
// against the real `joule serve`, with both providers played by Node (tests/pay/provider_http.mjs
// serve: its crypto checks our signed calls and signs what it sends), all on 127.0.0.1.
//
// - Inside WeChat's browser (its user agent; WeixinJSBridge stood in by the test, which checks the
//   paySign with the merchant's public key as WeChat's client does): the first tap on 支付 sends the
//   tenant through the official account's OAuth and back; the second opens the cashier, the
//   "provider" posts its signed, encrypted notification and the page shows the payment credited.
// - In another phone browser: WeChat Pay's H5 page and Alipay's wap page, each paying and sending
//   the tenant back to the page that waits for the credit.
// The server's ledger agrees: one credit per order. Env: JOULE_BINARY (default
// build/release/src/app/joule), WEB_ROOT (web/dist), CHROMIUM (/usr/bin/chromium), JOULE_E2E_OUT.
import { chromium } from 'playwright-core'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import assert from 'node:assert/strict'
import { browserTestSetup, Children, fen, freePort, staffLogin, waitFor } from './harness.mjs'

const { repo, joule, webRoot, chromiumPath, work, shots } = browserTestSetup('tenant-pay', 'the tenant pages (make web)', 'm/index.html')
const children = new Children(work)
const run = (args, input) => execFileSync(joule, args, { input, cwd: work, stdio: ['pipe', 'pipe', 'pipe'] }).toString()

// ---- the providers, then the server
const script = join(repo, 'tests/pay/provider_http.mjs')
execFileSync(process.execPath, [script, 'keys', work])
const config = JSON.parse(readFileSync(join(work, 'config.json'), 'utf8'))
children.start('providers', process.execPath, [script, 'serve', work, join(work, 'provider.json')])
await waitFor('the providers', () => existsSync(join(work, 'provider.json')), 15)
const providers = `http://127.0.0.1:${JSON.parse(readFileSync(join(work, 'provider.json'), 'utf8')).port}`

const db = join(work, 'mall.db')
const [httpPort, dtuPort, modbusPort] = [await freePort(), await freePort(), await freePort()]
run(['demo-site', '--db', db, '--modbus-port', String(modbusPort)])
run(['admin', 'create', '--db', db, '--username', 'admin', '--role', 'admin', '--all-projects'], 'Tenant-e2e-1\n')
const base = `http://127.0.0.1:${httpPort}`
children.start('serve', joule, [
  'serve', '--db', db, '--http', `127.0.0.1:${httpPort}`, '--dtu-listen', `127.0.0.1:${dtuPort}`,
  '--no-access-log', '--web-root', webRoot, '--run-for', '600', '--tenant-show-codes',
  '--public-url', base,
  '--wechat-app-id', config.app_id, '--wechat-mch-id', config.mch_id, '--wechat-api-v3-key-file', join(work, 'apiv3.key'),
  '--wechat-platform-key', `${config.serial}=${join(work, 'platform.pub.pem')}`,
  '--wechat-merchant-serial', config.merchant_serial, '--wechat-merchant-key-file', join(work, 'merchant.key.pem'),
  '--wechat-api-base', providers, '--wechat-app-secret-file', join(work, 'wechat_app_secret'),
  '--wechat-oauth-base', providers, '--wechat-oauth-api-base', providers,
  '--alipay-app-id', config.alipay_app_id, '--alipay-seller-id', config.alipay_seller_id,
  '--alipay-public-key-file', join(work, 'alipay.pub.pem'), '--alipay-private-key-file', join(work, 'alipay_app.key.pem'),
  '--alipay-gateway', providers + '/gateway.do',
])
await waitFor('joule serve', async () => (await fetch(base + '/healthz')).ok)

const staff = await staffLogin(base, 'admin', 'Tenant-e2e-1')
async function api(path) {
  const r = await fetch(base + '/api/v1/projects/demo-mall' + path, { headers: { cookie: staff.cookie } })
  return r.json()
}
const accounts = (await api('/accounts?page_size=500')).items
const shopOf = (phone) => accounts.find((a) => a.phone === phone)

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const report = { screenshots: shots }
let failed = false
const pageErrors = []

async function phonePage(userAgent) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', userAgent })
  const page = await context.newPage()
  page.on('pageerror', (e) => pageErrors.push(String(e)))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) pageErrors.push(m.text())
  })
  return { context, page }
}

// Sign in with the code the demo server shows, and bind the shop whose phone it is (its holder).
async function signInAndBind(page, phone, account) {
  await page.goto(base + '/m/?p=demo-mall')
  await page.fill('input[data-test=phone]', phone)
  await page.click('[data-test=send-code]')
  await page.waitForSelector('[data-test=demo-code]')
  const code = (await page.textContent('[data-test=demo-code]')).match(/\d{6}/)[0]
  await page.fill('input[data-test=code]', code)
  await page.click('[data-test=login]')
  await page.waitForSelector('input[data-test=bind-account]')
  await page.fill('input[data-test=bind-account]', account)
  await page.click('[data-test=bind-submit]')
  await page.waitForSelector('[data-test=balance]')
  return fen(await page.textContent('[data-test=balance]'))
}

async function chooseTopUp(page, amount, provider) {
  await page.click('[data-test=go-topup]')
  await page.click(`[data-test=preset-${amount.replace('.', '\\.')}]`)
  await page.click(`[data-test=provider-${provider}]`)
}

async function paidOrders(account) {
  return (await api(`/accounts/${account}/payments`)).items.filter((o) => o.state === 'paid')
}

const wechatUa = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN'
const phoneUa = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36'

try {
  // ---- inside WeChat: OAuth, then JSAPI
  {
    const shop = shopOf('13800000001')
    const { context, page } = await phonePage(wechatUa)
    const shot = (name) => page.screenshot({ path: join(shots, name + '.png'), fullPage: true })
    // WeChat's client: checks the paySign with the merchant's public key, then the payer pays and
    // WeChat Pay notifies the server.
    const bridgeCalls = []
    await context.exposeBinding('joulePay', async (_source, name, params) => {
      bridgeCalls.push(name)
      const verified = await fetch(providers + '/mock/verify-jsapi', { method: 'POST', body: JSON.stringify(params) })
      if (name !== 'getBrandWCPayRequest' || verified.status !== 200) return 'get_brand_wcpay_request:fail'
      const paid = await (await fetch(providers + '/mock/pay', { method: 'POST', body: JSON.stringify({ prepay_id: params.package.replace('prepay_id=', '') }) })).json()
      return paid.status === 204 ? 'get_brand_wcpay_request:ok' : 'get_brand_wcpay_request:fail'
    })
    await context.addInitScript(() => {
      window.WeixinJSBridge = { invoke: (name, params, done) => window.joulePay(name, params).then((errMsg) => done({ err_msg: errMsg })) }
    })
    const before = await signInAndBind(page, '13800000001', shop.number)
    await chooseTopUp(page, '100.00', 'wechat')
    await shot('w1-topup-in-wechat')
    await page.click('[data-test=pay]')
    // Off to WeChat's OAuth and back, with what was chosen.
    await page.waitForURL(/\/m\/#\/topup\?.*authorized=1/, { timeout: 15000 })
    await page.waitForSelector('[data-test=pay-message]')
    await shot('w2-back-from-oauth')
    const started = Date.now()
    await page.click('[data-test=pay]')
    await page.waitForSelector('[data-test=pay-success]', { timeout: 30000 })
    report.wechat_jsapi_pay_to_success_ms = Date.now() - started
    await shot('w3-paid')
    assert.deepEqual(bridgeCalls, ['getBrandWCPayRequest'])
    const paid = await paidOrders(shop.number)
    assert.equal(paid.length, 1)
    assert.equal(paid[0].amount, '100.00')
    assert.equal(paid[0].channel, 'jsapi')
    await page.click('[data-test=pay-home]')
    await waitFor('the balance to rise by 100', async () => fen(await page.textContent('[data-test=balance]')) === before + 10000, 20)
    await context.close()
  }

  // ---- another phone browser: WeChat Pay's H5 page, then Alipay's wap page
  {
    const shop = shopOf('13800000002')
    const { context, page } = await phonePage(phoneUa)
    const shot = (name) => page.screenshot({ path: join(shots, name + '.png'), fullPage: true })
    const before = await signInAndBind(page, '13800000002', shop.number)
    await chooseTopUp(page, '50.00', 'wechat')
    await shot('h1-topup-h5')
    let started = Date.now()
    await page.click('[data-test=pay]')
    // WeChat's H5 cashier (Node) pays and sends the payer back to the page that waits.
    await page.waitForURL(/\/m\/#\/paid\/J\d+/, { timeout: 15000 })
    await page.waitForSelector('[data-test=pay-success]', { timeout: 30000 })
    report.wechat_h5_pay_to_success_ms = Date.now() - started
    await shot('h2-paid-h5')

    await page.click('[data-test=pay-home]')
    await chooseTopUp(page, '200.00', 'alipay')
    started = Date.now()
    await page.click('[data-test=pay]')
    await page.waitForURL(/\/m\/#\/paid\/J\d+/, { timeout: 15000 })
    await page.waitForSelector('[data-test=pay-success]', { timeout: 30000 })
    report.alipay_wap_pay_to_success_ms = Date.now() - started
    await shot('h3-paid-alipay')

    const paid = await paidOrders(shop.number)
    assert.deepEqual(paid.map((o) => `${o.provider}/${o.channel}/${o.amount}`).sort(), ['alipay/wap/200.00', 'wechat/h5/50.00'])
    await page.click('[data-test=pay-home]')
    await waitFor('the balance to rise by 250', async () => fen(await page.textContent('[data-test=balance]')) === before + 25000, 20)
    await context.close()
  }
  assert.deepEqual(pageErrors, [], 'the pages logged no errors')
} catch (e) {
  failed = true
  console.error('tenant pay e2e failed:', e)
} finally {
  await browser.close()
  children.stopAll()
  writeFileSync(join(work, 'report.json'), JSON.stringify(report, null, 2))
  console.log(JSON.stringify(report, null, 2))
  console.log('logs and screenshots in ' + work)
}
process.exit(failed ? 1 : 0)
