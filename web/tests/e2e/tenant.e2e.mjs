// The tenants' phone pages (/m/) in Debian's Chromium at a phone's viewport, against the real
// `joule serve` reading a simulated mall (`joule sim` over a DTU), all on 127.0.0.1, started and
// stopped here. The SMS codes go through the real notifier to an Aliyun-style SMS sink written in
// Node (tests/notify/sinks.mjs), which checks the request's signature, and the test reads the code
// from what the sink received — as a tenant reads their phone.
//
// A shop is run down to zero by a refund (staff API), so its meter opens its relay. Then, as the
// tenant: sign in with the code, bind the shop's account (the account's own phone: the holder),
// see the supply cut, top up 100 yuan through the sandbox provider, see the balance rise and the
// meter close its relay; the records show the top-up with its receipt. Env: JOULE_BINARY (default
// build/release/src/app/joule), WEB_ROOT (web/dist), CHROMIUM (/usr/bin/chromium), JOULE_E2E_OUT
// (screenshots; default a new temporary folder).
import { chromium } from 'playwright-core'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import assert from 'node:assert/strict'
import { browserTestSetup, Children, fen, freePort, staffLogin, waitFor, yuan } from './harness.mjs'

const { repo, joule, webRoot, chromiumPath, work, shots } = browserTestSetup('tenant', 'the tenant pages (make web)', 'm/index.html')
const children = new Children(work)
const run = (args, input) => execFileSync(joule, args, { input, cwd: work, stdio: ['pipe', 'pipe', 'pipe'] }).toString()

// ---- the SMS provider's stand-in, then the server and the simulated mall
const smsSecret = 'tenant-e2e-sms-secret'
const portsFile = join(work, 'sinks.json')
children.start('sinks', process.execPath, [join(repo, 'tests/notify/sinks.mjs'), portsFile, smsSecret, 'webhook-secret-0123456789', 'wx-e2e', 'wx-secret'])
await waitFor('the SMS sink', () => existsSync(portsFile) && JSON.parse(readFileSync(portsFile, 'utf8')).http, 15)
const sink = `http://127.0.0.1:${JSON.parse(readFileSync(portsFile, 'utf8')).http}`
writeFileSync(join(work, 'sms.secret'), smsSecret + '\n')

const db = join(work, 'mall.db')
const [httpPort, dtuPort, modbusPort] = [await freePort(), await freePort(), await freePort()]
run(['demo-site', '--db', db, '--modbus-port', String(modbusPort)])
run(['admin', 'create', '--db', db, '--username', 'admin', '--role', 'admin', '--all-projects'], 'Tenant-e2e-1\n')
children.start('serve', joule, [
  'serve', '--db', db, '--http', `127.0.0.1:${httpPort}`, '--dtu-listen', `127.0.0.1:${dtuPort}`,
  '--read-interval', '5', '--no-access-log', '--web-root', webRoot, '--run-for', '600', '--payments-sandbox',
  '--sms-endpoint', sink + '/sms', '--sms-access-key-id', 'LTAI-tenant-e2e', '--sms-access-key-secret-file', join(work, 'sms.secret'),
  '--sms-sign-name', 'Joule', '--sms-template', 'verification_code=SMS_CODE', '--sms-template', 'top_up=SMS_TOPUP',
])
const base = `http://127.0.0.1:${httpPort}`
await waitFor('joule serve', async () => (await fetch(base + '/healthz')).ok)
children.start('sim', joule, ['sim', '--db', db, '--dtu-connect', `127.0.0.1:${dtuPort}`, '--speed', '4', '--run-for', '600'])

// ---- staff, through the API: pick the first shop and run it down to zero
const staff = await staffLogin(base, 'admin', 'Tenant-e2e-1')
async function api(method, path, body, headers = {}) {
  const r = await fetch(base + '/api/v1/projects/demo-mall' + path, {
    method,
    headers: { cookie: staff.cookie, 'x-csrf-token': staff.csrf, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await r.text()
  return { status: r.status, body: text.startsWith('{') ? JSON.parse(text) : text, etag: r.headers.get('etag') }
}
const phone = '13800000001' // the demo site's first shop
const listed = await api('GET', '/accounts?page_size=500')
const shop = listed.body.items.find((a) => a.phone === phone)
assert.ok(shop, `an account with the phone ${phone}`)
const account = await api('GET', `/accounts/${shop.number}`)
const meter = account.body.meters[0].code
// No friendly hours: the trip at zero must happen whatever the hour the test runs at.
const scheme = { ...account.body.scheme, friendly: { ...account.body.scheme.friendly, nights: false, weekends: false, holidays: false } }
const patched = await api('PATCH', `/accounts/${shop.number}`, { scheme }, { 'if-match': account.etag })
assert.equal(patched.status, 200, JSON.stringify(patched.body))
await waitFor(`meter ${meter} reporting`, async () => ['closed', 'open'].includes((await api("GET", `/meters/${meter}`)).body.relay), 60)
for (let attempt = 0; ; attempt++) {
  const paid = fen((await api('GET', `/accounts/${shop.number}`)).body.balance.paid)
  if (paid <= 0) break
  const r = await api('POST', `/accounts/${shop.number}/refunds`, { amount: yuan(paid), reason: 'tenant e2e: run down to zero' }, { 'idempotency-key': `e2e-refund-${attempt}` })
  if (r.status === 201) break
  assert.ok(attempt < 5, 'the refund went through: ' + JSON.stringify(r.body)) // a reading deducted in between: again
}
await waitFor(`meter ${meter} opened its relay`, async () => (await api("GET", `/meters/${meter}`)).body.relay === 'open', 90)

// ---- the tenant, on a phone
const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const report = { screenshots: shots }
let failed = false
const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' })
const page = await context.newPage()
// The page must run clean: no script errors, nothing the Content-Security-Policy blocks.
const pageErrors = []
page.on('pageerror', (e) => pageErrors.push(String(e)))
page.on('console', (m) => {
  if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) pageErrors.push(m.text())
})
const shot = (name) => page.screenshot({ path: join(shots, name + '.png'), fullPage: true })
try {
  const started = Date.now()
  await page.goto(base + '/m/?p=demo-mall')
  await page.waitForSelector('input[data-test=phone]')
  report.login_visible_ms = Date.now() - started
  await shot('01-login')

  // The code, as the phone received it: from the SMS sink, signed as Aliyun checks it.
  const sentBefore = (await (await fetch(sink + '/received')).json()).length
  await page.fill('input[data-test=phone]', phone)
  await page.click('[data-test=send-code]')
  let sms
  await waitFor('the sign-in code by SMS', async () => {
    const got = (await (await fetch(sink + '/received')).json()).slice(sentBefore)
    sms = got.find((m) => m.channel === 'sms' && m.phone === phone && m.template === 'SMS_CODE')
    return sms
  }, 30)
  assert.ok(sms.ok, 'the SMS request carries a valid Aliyun signature')
  assert.match(sms.values.code, /^\d{6}$/)
  assert.equal(await page.locator('[data-test=demo-code]').count(), 0, 'no code is shown on a real server')
  await page.fill('input[data-test=code]', sms.values.code)
  await page.click('[data-test=login]')

  // Bind: the account's own phone binds as its holder at once.
  await page.waitForSelector('input[data-test=bind-account]')
  await shot('02-bind')
  await page.fill('input[data-test=bind-account]', shop.number)
  await page.click('[data-test=bind-submit]')
  await page.waitForSelector('[data-test=balance]')
  await waitFor('the supply shown cut', async () => (await page.getAttribute('[data-test=relay]', 'data-relay')) === 'open', 30)
  const before = fen(await page.textContent('[data-test=balance]'))
  assert.ok(before <= 0, `run down to zero: ${yuan(Math.max(before, 0))}`)
  await page.waitForSelector(`[data-test=meter-relay-${meter}][data-relay=open]`)
  await waitFor('the icon font', () => page.evaluate(() => document.fonts.check('16px vant-icon')), 10)
  await shot('03-home-cut')

  // Top up 100 yuan with the sandbox provider, as a tenant pays in their payment app.
  await page.click('[data-test=go-topup]')
  await page.click('[data-test=preset-100\\.00]')
  await page.click('[data-test=provider-sandbox]')
  await shot('04-topup')
  const paidAt = Date.now()
  await page.click('[data-test=pay]')
  await page.click('[data-test=sandbox-confirm]')
  await page.waitForSelector('[data-test=pay-success]', { timeout: 30000 })
  report.pay_to_success_ms = Date.now() - paidAt
  await shot('05-paid')

  // Home: the balance rose by the 100 yuan (less what readings took meanwhile), supply restored,
  // and the simulated meter closes its relay when the command reaches it.
  await page.click('[data-test=tab-home]')
  await waitFor('the balance to rise', async () => fen(await page.textContent('[data-test=balance]')) > before + 9000, 30)
  const after = fen(await page.textContent('[data-test=balance]'))
  assert.ok(after <= before + 10000, `at most the 100 yuan paid: ${yuan(after)}`)
  await waitFor('the supply shown restored', async () => (await page.getAttribute('[data-test=relay]', 'data-relay')) === 'closed', 30)
  const closing = Date.now()
  await waitFor(`meter ${meter} closed its relay`, async () => (await page.getAttribute(`[data-test=meter-relay-${meter}]`, 'data-relay')) === 'closed', 90)
  report.relay_closed_seen_ms = Date.now() - closing
  await shot('06-home-restored')

  // Usage by day and by month.
  await page.click('[data-test=go-usage]')
  await page.waitForSelector('[data-test=usage-totals]')
  await shot('07-usage')
  await page.goBack()

  // The records: the top-up first, with its receipt.
  await page.click('[data-test=tab-records]')
  await page.waitForSelector('[data-test=record]')
  const first = await page.textContent('[data-test=record] >> nth=0')
  assert.match(first, /100\.00/)
  const receiptHref = await page.getAttribute('[data-test=receipt] >> nth=0', 'href')
  const receipt = await page.request.get(base + receiptHref)
  assert.equal(receipt.status(), 200)
  assert.match(await receipt.text(), /壹佰元整/)
  await shot('08-records')

  // The server agrees: one paid order, one credit of 100 yuan, the ledger's side of it.
  const orders = await api('GET', `/accounts/${shop.number}/payments`)
  const paid = orders.body.items.filter((o) => o.state === 'paid')
  assert.equal(paid.length, 1)
  assert.equal(paid[0].amount, '100.00')
  assert.match(paid[0].created_by, /^tenant:\d+:138\*\*\*\*0001$/)

  // English, and signing out.
  await page.click('[data-test=tab-me]')
  await page.click('[data-test=lang-toggle]')
  await page.waitForSelector('text=Sign out')
  await shot('09-me-en')
  await page.click('[data-test=logout]')
  await page.waitForSelector('input[data-test=phone]')
  assert.deepEqual(pageErrors, [], 'the pages logged no errors')
} catch (e) {
  failed = true
  console.error('tenant e2e failed:', e)
  await shot('failure').catch(() => {})
} finally {
  await browser.close()
  children.stopAll()
  writeFileSync(join(work, 'report.json'), JSON.stringify(report, null, 2))
  console.log(JSON.stringify(report, null, 2))
  console.log('logs and screenshots in ' + work)
}
process.exit(failed ? 1 : 0)
