// The payment providers' side of the end-to-end tests and the payment bench
// (tests/e2e/payment_e2e_test.cpp, bench/payments.sh), with Node's crypto — not our code:
//   node provider_http.mjs keys DIR
//     writes DIR/platform.key.pem (WeChat's private key, kept by the "provider"),
//     DIR/platform.pub.pem (what the platform is configured with), DIR/apiv3.key,
//     DIR/alipay.key.pem and DIR/alipay.pub.pem (Alipay's), the platform's own keys
//     DIR/merchant.key.pem (WeChat Pay) and DIR/alipay_app.key.pem (Alipay) with their public
//     halves, DIR/wechat_app_secret (the official account's AppSecret), and
//     DIR/config.json {app_id, mch_id, serial, alipay_app_id, alipay_seller_id}
//   node provider_http.mjs serve DIR PORT.json
//     WeChat Pay's API for the order query [PAY-4] on a loopback port (written to PORT.json):
//     GET /v3/pay/transactions/out-trade-no/{no}?mchid= checks the platform's Authorization
//     (SHA256withRSA with DIR/merchant.pub.pem over "GET\npath\nts\nnonce\n\n", its mchid and
//     serial) and answers the order as the test set it, signed with the platform key:
//     POST /mock/orders {order_no, state: NOTPAY|SUCCESS|CLOSED, amount, transaction_id, forged}
//     (forged: signed with another key); an order never set is 404 ORDER_NOT_EXIST.
//     GET /mock/asked: how many times each order was asked about.
//     Order creation (POST /v3/pay/transactions/jsapi|native|h5, signed and checked like the
//     query) answers prepay_id, code_url or h5_url; POST /mock/refuse {status, code} refuses the
//     next one; GET /mock/created lists the orders made (WeChat's and Alipay's) with their bodies;
//     POST /mock/verify-jsapi checks a JSAPI page's paySign with the merchant key, as WeChat's
//     client does; POST /mock/pay {order_no | prepay_id} pays an order made here: its provider's
//     signed notification is posted to the order's notify_url. The H5 cashier (GET /h5pay) and
//     Alipay's page opened by a browser pay at once and send the payer back to the merchant.
//     Refunds: POST /v3/refund/domestic/refunds (signed and checked) answers the refund with the
//     status set by POST /mock/refund-status {status} (SUCCESS by default), the same refund for
//     the same out_refund_no, and GET /v3/refund/domestic/refunds/{no} says where one is; Alipay's
//     alipay.trade.refund refunds at once (fund_change Y, N when asked again) and
//     alipay.trade.fastpay.refund.query confirms it; /mock/refuse refuses
//     the next one; GET /mock/refunds lists them with how often each was asked.
//     The official account's OAuth: GET /connect/oauth2/authorize redirects straight back with a
//     code; GET /sns/oauth2/access_token trades it (with DIR/wechat_app_secret) for an openid.
//     Alipay's gateway (/gateway.do) checks the platform's RSA2 signature with
//     DIR/alipay_app.pub.pem: GET is the cashier page (wap, page); POST answers
//     alipay.trade.precreate and alipay.trade.query (orders set by /mock/orders with
//     state TRADE_SUCCESS, WAIT_BUYER_PAY, TRADE_CLOSED), signed with Alipay's key.
//     Statements [PAY-3], of the payments made here and their refunds on the day asked for:
//     WeChat's GET /v3/bill/tradebill (signed and checked) names the trade bill's download
//     address and SHA1 (NO_STATEMENT_EXIST for a day without any), GET /v3/billdownload/file
//     gives it; Alipay's alipay.data.dataservice.bill.downloadurl.query names the address of a
//     zip of the business detail (isp.bill_not_exist for a day without any). POST /mock/bill
//     {mode: normal|creating|tamper, payments: [{provider, order_no, amount, transaction_id, at}]}
//     makes WeChat answer STATEMENT_CREATING, or give a file that is not the one hashed, and adds
//     payments taken at `at` (now without): the test's own, or ones the platform
//     never made.
//   node provider_http.mjs wechat|alipay DIR ORDERS.json OUT.json
//     ORDERS.json: [{order_no, amount (fen), transaction_id, variant}]; OUT.json: [{headers, body}]
//     in order, each as that provider posts it. Variants: valid, tampered, wrong_key, wrong_app;
//     WeChat also stale and probe; Alipay also closed (TRADE_CLOSED).
import { createCipheriv, createHash, createSign, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto'
import { crc32, deflateRawSync } from 'node:zlib'
import { createServer } from 'node:http'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const [command, dir, ordersFile, outFile] = process.argv.slice(2)

// Beijing time (UTC+8) of a Date: ["2026-11-22", "2026-11-22 10:00:00"].
const beijing = (d) => {
  const t = new Date(d.getTime() + 8 * 3600 * 1000).toISOString()
  return [t.slice(0, 10), `${t.slice(0, 10)} ${t.slice(11, 19)}`]
}
const yuan = (fen) => `${fen < 0 ? '-' : ''}${Math.floor(Math.abs(fen) / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`

// WeChat Pay's trade bill (bill_type ALL) of payments [{at, transaction_id, order_no, amount}] and
// refunds [{at, transaction_id, order_no, refund_id, refund_no, amount}]: every value behind a
// backtick, then the totals.
function wechatTradeBill(payments, refunds) {
  const header = '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注'
  const row = (values) => values.map((v) => '`' + v).join(',')
  const lines = [header]
  let settled = 0
  for (const p of payments) {
    settled += p.amount
    lines.push(row([beijing(p.at)[1], 'wx8888888888888888', '1900000109', '0', '', p.transaction_id, p.order_no, 'o-payer', 'JSAPI', 'SUCCESS', 'OTHERS', 'CNY',
      yuan(p.amount), '0.00', '', '', '0.00', '0.00', '', '', '电费充值', '', '0.00', '0.60%', yuan(p.amount), '0.00', '']))
  }
  let refunded = 0
  for (const r of refunds) {
    refunded += r.amount
    lines.push(row([beijing(r.at)[1], 'wx8888888888888888', '1900000109', '0', '', r.transaction_id, r.order_no, 'o-payer', 'JSAPI', 'REFUND', 'OTHERS', 'CNY',
      '0.00', '0.00', r.refund_id, r.refund_no, yuan(r.amount), '0.00', 'ORIGINAL', 'SUCCESS', '电费充值', '', '0.00', '0.60%', '0.00', yuan(r.amount), '']))
  }
  lines.push('总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额')
  lines.push(row([String(payments.length + refunds.length), yuan(settled), yuan(refunded), '0.00', '0.00', yuan(settled), yuan(refunded)]))
  return lines.join('\r\n') + '\r\n'
}

// Alipay's business detail (业务明细) of the same, as its bill zip holds it.
function alipayDetail(day, payments, refunds) {
  const lines = ['#支付宝业务明细查询', '#账号：[20881021462251350156]', `#起始日期：[${day} 00:00:00]   终止日期：[${day} 23:59:59]`,
    '#-----------------------------------------业务明细列表----------------------------------------',
    '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注']
  for (const p of payments) {
    const at = beijing(p.at)[1]
    lines.push(`${p.transaction_id}\t,${p.order_no}\t,交易,电费充值,${at},${at},,,,,buyer@example.com,${yuan(p.amount)},${yuan(p.amount)},0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,0.00,0.00,`)
  }
  for (const r of refunds) {
    const at = beijing(r.at)[1]
    lines.push(`${r.transaction_id}\t,${r.order_no}\t,退款,电费充值,${at},${at},,,,,buyer@example.com,${yuan(-r.amount)},${yuan(-r.amount)},0.00,0.00,0.00,0.00,0.00,,0.00,0.00,${r.refund_no},0.00,0.00,`)
  }
  lines.push('#-----------------------------------------业务明细列表结束------------------------------------')
  return lines.join('\r\n') + '\r\n'
}

// A zip of [{name, data}] (deflated, UTF-8 names), written here so our reader meets a zip that is
// not libzip's.
function zipOf(entries) {
  const locals = []
  const centrals = []
  let offset = 0
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8')
    const packed = deflateRawSync(data)
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0x0800, 6); local.writeUInt16LE(8, 8)
    local.writeUInt32LE(crc, 14); local.writeUInt32LE(packed.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(nameBytes.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(0x0800, 8); central.writeUInt16LE(8, 10)
    central.writeUInt32LE(crc, 16); central.writeUInt32LE(packed.length, 20); central.writeUInt32LE(data.length, 24); central.writeUInt16LE(nameBytes.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, nameBytes, packed)
    centrals.push(central, nameBytes)
    offset += local.length + nameBytes.length + packed.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12); end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}
const alphanumeric = (n) => [...randomBytes(n)].map((b) => 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'[b % 57]).join('')
const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })

// WeChat Pay's notification of a paid order ({headers, body}), as WeChat posts it: the transaction
// sealed with the APIv3 key, the whole signed with the platform key. Variants: valid, tampered,
// wrong_key, wrong_app, stale, probe.
function wechatNotification(dir, { order_no, amount, transaction_id, variant }) {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))
  const apiKey = readFileSync(join(dir, 'apiv3.key'), 'utf8').trim()
  const platformKey = readFileSync(join(dir, 'platform.key.pem'), 'utf8')
  const strangerKey = readFileSync(join(dir, 'stranger.key.pem'), 'utf8')
  const now = Math.floor(Date.now() / 1000)
  const tx = {
    mchid: config.mch_id, appid: variant === 'wrong_app' ? 'wx0000000000000000' : config.app_id, out_trade_no: order_no, transaction_id,
    trade_type: 'JSAPI', trade_state: 'SUCCESS', trade_state_desc: '支付成功', bank_type: 'OTHERS', attach: '',
    success_time: new Date(now * 1000).toISOString().replace('.000Z', '+00:00'), payer: { openid: 'o-e2e-payer' },
    amount: { total: amount, payer_total: amount, currency: 'CNY', payer_currency: 'CNY' },
  }
  const nonce = alphanumeric(12)
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiKey, 'utf8'), Buffer.from(nonce, 'utf8'))
  cipher.setAAD(Buffer.from('transaction', 'utf8'))
  const sealed = Buffer.concat([cipher.update(JSON.stringify(tx), 'utf8'), cipher.final(), cipher.getAuthTag()])
  let body = JSON.stringify({
    id: 'EV-' + alphanumeric(20), create_time: tx.success_time, resource_type: 'encrypt-resource', event_type: 'TRANSACTION.SUCCESS', summary: '支付成功',
    resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext: sealed.toString('base64'), associated_data: 'transaction', nonce },
  })
  const timestamp = variant === 'stale' ? now - 600 : now
  const headerNonce = alphanumeric(32)
  const key = variant === 'wrong_key' ? strangerKey : platformKey
  let signature = createSign('RSA-SHA256').update(`${timestamp}\n${headerNonce}\n${body}\n`, 'utf8').sign(key, 'base64')
  if (variant === 'probe') signature = 'WECHATPAY/SIGNTEST/A' + randomBytes(48).toString('base64')
  if (variant === 'tampered') body = body.replace('"summary":"支付成功"', '"summary":"支付成功!"')
  return {
    headers: { 'Wechatpay-Timestamp': String(timestamp), 'Wechatpay-Nonce': headerNonce, 'Wechatpay-Signature': signature, 'Wechatpay-Serial': config.serial, 'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048', 'Content-Type': 'application/json' },
    body,
  }
}

// Alipay's notification ({headers, body}): form-encoded, RSA2 over the sorted non-empty parameters
// without sign and sign_type. Variants: valid, tampered, wrong_key, wrong_app, closed.
function alipayNotification(dir, { order_no, amount, transaction_id, variant }) {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))
  const alipayKey = readFileSync(join(dir, 'alipay.key.pem'), 'utf8')
  const strangerKey = readFileSync(join(dir, 'stranger.key.pem'), 'utf8')
  const pad = (n) => String(n).padStart(2, '0')
  const beijing = new Date(Date.now() + 8 * 3600 * 1000)
  const time = `${beijing.getUTCFullYear()}-${pad(beijing.getUTCMonth() + 1)}-${pad(beijing.getUTCDate())} ${pad(beijing.getUTCHours())}:${pad(beijing.getUTCMinutes())}:${pad(beijing.getUTCSeconds())}`
  const params = {
    notify_time: time, notify_type: 'trade_status_sync', notify_id: alphanumeric(32), charset: 'utf-8', version: '1.0',
    app_id: variant === 'wrong_app' ? '2021000000009999' : config.alipay_app_id, seller_id: config.alipay_seller_id,
    trade_no: transaction_id, out_trade_no: order_no, buyer_id: '2088102122524333',
    total_amount: `${Math.floor(amount / 100)}.${pad(amount % 100)}`, receipt_amount: `${Math.floor(amount / 100)}.${pad(amount % 100)}`,
    trade_status: variant === 'closed' ? 'TRADE_CLOSED' : 'TRADE_SUCCESS', gmt_payment: variant === 'closed' ? '' : time, subject: '电费充值',
  }
  const content = Object.keys(params).filter((k) => params[k] !== '').sort().map((k) => `${k}=${params[k]}`).join('&')
  const signed = { ...params, sign_type: 'RSA2', sign: createSign('RSA-SHA256').update(content, 'utf8').sign(variant === 'wrong_key' ? strangerKey : alipayKey, 'base64') }
  if (variant === 'tampered') signed.total_amount = '99999.00'
  const body = Object.entries(signed).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
  return { headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' }, body }
}

if (command === 'keys') {
  const platform = pair()
  writeFileSync(join(dir, 'platform.key.pem'), platform.privateKey)
  writeFileSync(join(dir, 'platform.pub.pem'), platform.publicKey)
  writeFileSync(join(dir, 'stranger.key.pem'), pair().privateKey)
  writeFileSync(join(dir, 'apiv3.key'), alphanumeric(32) + '\n')
  const alipay = pair()
  writeFileSync(join(dir, 'alipay.key.pem'), alipay.privateKey)
  writeFileSync(join(dir, 'alipay.pub.pem'), alipay.publicKey)
  const merchant = pair()  // the platform's own key for its calls (apiclient_key.pem)
  writeFileSync(join(dir, 'merchant.key.pem'), merchant.privateKey)
  writeFileSync(join(dir, 'merchant.pub.pem'), merchant.publicKey)
  const alipayApp = pair()  // the platform's own Alipay app key, signing its orders and queries
  writeFileSync(join(dir, 'alipay_app.key.pem'), alipayApp.privateKey)
  writeFileSync(join(dir, 'alipay_app.pub.pem'), alipayApp.publicKey)
  writeFileSync(join(dir, 'wechat_app_secret'), alphanumeric(32) + '\n')  // the official account's AppSecret
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ app_id: 'wx8888888888888888', mch_id: '1900000109', serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1', merchant_serial: '3775B6A45ACD588826D15E583A95F5DD2C5F7A1B', alipay_app_id: '2021000000000001', alipay_seller_id: '2088102146225135' }))
} else if (command === "wechat") {
  const orders = JSON.parse(readFileSync(ordersFile, 'utf8'))
  writeFileSync(outFile, JSON.stringify(orders.map((o) => wechatNotification(dir, o))))
} else if (command === 'alipay') {
  const orders = JSON.parse(readFileSync(ordersFile, 'utf8'))
  writeFileSync(outFile, JSON.stringify(orders.map((o) => alipayNotification(dir, o))))
} else if (command === 'serve') {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))
  const platformKey = readFileSync(join(dir, 'platform.key.pem'), 'utf8')
  const strangerKey = readFileSync(join(dir, 'stranger.key.pem'), 'utf8')
  const merchantPub = readFileSync(join(dir, 'merchant.pub.pem'), 'utf8')
  const orders = new Map()
  const asked = {}
  const reply = (res, status, object, key = platformKey) => {
    const body = JSON.stringify(object)
    const timestamp = String(Math.floor(Date.now() / 1000))
    const nonce = alphanumeric(32)
    const signature = createSign('RSA-SHA256').update(`${timestamp}\n${nonce}\n${body}\n`, 'utf8').sign(key, 'base64')
    res.writeHead(status, {
      'Content-Type': 'application/json', 'Wechatpay-Timestamp': timestamp, 'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': signature, 'Wechatpay-Serial': config.serial, 'Request-ID': alphanumeric(16),
    })
    res.end(body)
  }
  const alipayKey = readFileSync(join(dir, 'alipay.key.pem'), 'utf8')
  const alipayAppPub = readFileSync(join(dir, 'alipay_app.pub.pem'), 'utf8')
  const appSecret = readFileSync(join(dir, 'wechat_app_secret'), 'utf8').trim()
  const created = []  // the orders made at WeChat Pay and Alipay: {provider, channel, body}
  let refuseNext = null  // {status, code}: the next order or refund is refused so
  const takeRefusal = () => {
    const refusal = refuseNext
    refuseNext = null
    return refusal
  }
  let refundStatus = 'SUCCESS'  // what WeChat says of refunds now: PROCESSING, SUCCESS, CLOSED, ABNORMAL
  const refunds = new Map()  // out_refund_no -> {refund_id, out_trade_no, amount, asked}
  const json = (res, status, object) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(object))
  // Alipay signs the exact text of its response object.
  const alipayReply = (res, method, object) => {
    const inner = JSON.stringify(object)
    const sign = createSign('RSA-SHA256').update(inner, 'utf8').sign(alipayKey, 'base64')
    res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8' })
    res.end(`{"${method.replaceAll('.', '_')}_response":${inner},"sign":"${sign}"}`)
  }
  // The platform's Alipay request: RSA2 over the sorted parameters with its app key.
  const alipaySigned = (params) => {
    // A request signs sign_type too: only sign and empty values are left out.
    const content = Object.keys(params).filter((k) => k !== 'sign' && params[k] !== '').sort().map((k) => `${k}=${params[k]}`).join('&')
    return params.sign_type === 'RSA2' && params.app_id === config.alipay_app_id && params.charset === 'utf-8' &&
      createVerify('RSA-SHA256').update(content, 'utf8').verify(alipayAppPub, params.sign ?? '', 'base64')
  }
  // Pays an order made here: its notification, signed as its provider signs, to its notify_url.
  const pay = async (made) => {
    const amount = made.provider === 'wechat' ? made.body.amount.total : Math.round(Number(made.body.total_amount) * 100)
    const transaction_id = (made.provider === 'wechat' ? '4200' : '2026') + String(Date.now()) + alphanumeric(6)
    const n = made.provider === 'wechat' ? wechatNotification(dir, { order_no: made.out_trade_no, amount, transaction_id, variant: 'valid' })
      : alipayNotification(dir, { order_no: made.out_trade_no, amount, transaction_id, variant: 'valid' })
    const r = await fetch(made.notify_url, { method: 'POST', headers: n.headers, body: n.body })
    made.paid = r.status
    Object.assign(made, { transaction_id, amount, paid_at: new Date() })
    return r.status
  }
  // The day's statements, from the payments made here (and refunds), as each provider makes them.
  let billMode = 'normal'  // creating: WeChat's STATEMENT_CREATING; tamper: the file is not the one hashed
  let billPayments = []  // payments the test says were taken: [{provider, order_no, amount, transaction_id, at}]
  const bills = new Map()  // download token -> file
  const ofDay = (provider, day) => {
    const payments = created.filter((c) => c.provider === provider && c.paid_at && beijing(c.paid_at)[0] === day)
      .map((c) => ({ at: c.paid_at, transaction_id: c.transaction_id, order_no: c.out_trade_no, amount: c.amount }))
      .concat(billPayments.filter((e) => e.provider === provider && beijing(new Date(e.at))[0] === day)
        .map((e) => ({ ...e, at: new Date(e.at) })))
    const refundLines = [...refunds].filter(([, r]) => r.provider === provider && beijing(r.at)[0] === day).map(([no, r]) => ({
      at: r.at, transaction_id: created.find((c) => c.out_trade_no === r.out_trade_no)?.transaction_id ?? billPayments.find((p) => p.order_no === r.out_trade_no)?.transaction_id ?? '',
      order_no: r.out_trade_no,
      refund_id: r.refund_id || no, refund_no: no, amount: Math.round(Number(r.amount) * (provider === 'alipay' ? 100 : 1)),
    }))
    return [payments, refundLines]
  }
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const url = new URL(req.url, 'http://wechat')
      if (req.method === 'POST' && url.pathname === '/mock/orders') {
        const o = JSON.parse(raw)
        orders.set(o.order_no, o)
        res.writeHead(204).end()
        return
      }
      if (req.method === 'GET' && url.pathname === '/mock/asked') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(asked))
        return
      }
      if (req.method === 'GET' && url.pathname === '/mock/created') return json(res, 200, created)
      if (req.method === 'POST' && url.pathname === '/mock/pay') {
        // The payer paid: the provider posts its signed notification to the order's notify_url.
        const { order_no, prepay_id } = JSON.parse(raw)
        const made = created.find((c) => (order_no && c.out_trade_no === order_no) || (prepay_id && c.prepay_id === prepay_id))
        if (!made) return json(res, 404, { error: 'no such order made here' })
        return pay(made).then((status) => json(res, 200, { status, order_no: made.out_trade_no }), (e) => json(res, 502, { error: String(e) }))
      }
      if (req.method === 'GET' && url.pathname === '/h5pay') {
        // WeChat's H5 cashier: the payer pays, then goes back to the merchant's redirect_url.
        const made = created.find((c) => c.token === url.searchParams.get('token'))
        if (!made) return json(res, 404, { error: 'no such H5 order' })
        return pay(made).then(() => {
          res.writeHead(302, { Location: url.searchParams.get('redirect_url') ?? 'about:blank' }).end()
        }, (e) => json(res, 502, { error: String(e) }))
      }
      if (req.method === 'POST' && url.pathname === '/mock/refuse') {
        refuseNext = JSON.parse(raw)
        res.writeHead(204).end()
        return
      }
      if (req.method === 'POST' && url.pathname === '/mock/refund-status') {
        refundStatus = JSON.parse(raw).status
        res.writeHead(204).end()
        return
      }
      if (req.method === 'GET' && url.pathname === '/mock/refunds') return json(res, 200, Object.fromEntries(refunds))
      if (req.method === 'POST' && url.pathname === '/mock/bill') {
        const b = JSON.parse(raw)
        billMode = b.mode ?? 'normal'
        billPayments = (b.payments ?? []).map((p) => ({ ...p, at: p.at ?? new Date().toISOString() }))
        res.writeHead(204).end()
        return
      }
      if (req.method === 'GET' && url.pathname === '/alipay/bill') {  // Alipay's bill address: not signed, short-lived
        const file = bills.get(url.searchParams.get('token'))
        if (!file) return json(res, 404, { error: 'no such bill' })
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(file)
        return
      }
      if (req.method === 'POST' && url.pathname === '/mock/verify-jsapi') {
        // What WeChat's client checks before it opens the payment: paySign with the merchant's key.
        const p = JSON.parse(raw)
        const ok = p.signType === 'RSA' && p.appId === config.app_id && /^prepay_id=wx/.test(p.package) &&
          createVerify('RSA-SHA256').update(`${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`, 'utf8').verify(merchantPub, p.paySign ?? '', 'base64')
        return json(res, ok ? 200 : 400, { ok })
      }
      // The official account's silent OAuth: the payer comes straight back with a code.
      if (req.method === 'GET' && url.pathname === '/connect/oauth2/authorize') {
        const ok = url.searchParams.get('appid') === config.app_id && url.searchParams.get('scope') === 'snsapi_base' &&
          url.searchParams.get('response_type') === 'code'
        if (!ok) return json(res, 400, { errcode: 10003, errmsg: 'redirect_uri or appid' })
        const back = new URL(url.searchParams.get('redirect_uri'))
        back.searchParams.set('code', 'good-' + alphanumeric(12))
        back.searchParams.set('state', url.searchParams.get('state') ?? '')
        res.writeHead(302, { Location: back.toString() }).end()
        return
      }
      if (req.method === 'GET' && url.pathname === '/sns/oauth2/access_token') {
        const code = url.searchParams.get('code') ?? ''
        if (url.searchParams.get('appid') !== config.app_id || url.searchParams.get('secret') !== appSecret) return json(res, 200, { errcode: 40125, errmsg: 'invalid appsecret' })
        if (!code.startsWith('good-')) return json(res, 200, { errcode: 40029, errmsg: 'invalid code' })
        return json(res, 200, { access_token: 'AT', expires_in: 7200, refresh_token: 'RT', openid: 'o-' + code.slice(5), scope: 'snsapi_base' })
      }
      if (url.pathname === '/gateway.do') {
        const params = Object.fromEntries(req.method === 'GET' ? url.searchParams : new URLSearchParams(raw))
        if (!alipaySigned(params)) return json(res, 400, { error: 'the request does not verify with the app key' })
        const biz = JSON.parse(params.biz_content ?? '{}')
        if (req.method === 'GET') {  // the cashier page the payer's browser opens (wap, page)
          const made = { provider: 'alipay', method: params.method, out_trade_no: biz.out_trade_no, notify_url: params.notify_url, return_url: params.return_url, body: biz }
          created.push(made)
          // A browser pays at once and goes back to the merchant's return_url.
          if ((req.headers.accept ?? '').includes('text/html') && params.return_url) {
            return pay(made).then(() => {
              res.writeHead(302, { Location: params.return_url }).end()
            }, (e) => json(res, 502, { error: String(e) }))
          }
          return json(res, 200, { ok: true, method: params.method, out_trade_no: biz.out_trade_no })
        }
        if (params.method === 'alipay.trade.precreate') {
          created.push({ provider: 'alipay', method: params.method, out_trade_no: biz.out_trade_no, notify_url: params.notify_url, body: biz })
          return alipayReply(res, params.method, { code: '10000', msg: 'Success', out_trade_no: biz.out_trade_no, qr_code: 'https://qr.alipay.com/bax' + alphanumeric(20) })
        }
        if (params.method === 'alipay.trade.refund') {
          const refusal = takeRefusal()
          if (refusal) {
            const { code } = refusal
            return alipayReply(res, params.method, { code: '40004', msg: 'Business Failed', sub_code: code, sub_msg: 'refused by the test' })
          }
          const known = refunds.get(biz.out_request_no)
          const r = known ?? { provider: 'alipay', at: new Date(), refund_id: '', out_trade_no: biz.out_trade_no, amount: biz.refund_amount, asked: 0 }
          r.asked += 1
          refunds.set(biz.out_request_no, r)
          return alipayReply(res, params.method, { code: '10000', msg: 'Success', trade_no: '2026112322001400000077', out_trade_no: biz.out_trade_no, buyer_logon_id: '159****5620', fund_change: known ? 'N' : 'Y', refund_fee: biz.refund_amount })
        }
        if (params.method === 'alipay.trade.fastpay.refund.query') {
          const r = refunds.get(biz.out_request_no)
          if (r) r.asked += 1
          return alipayReply(res, params.method, { code: '10000', msg: 'Success', out_trade_no: biz.out_trade_no, out_request_no: biz.out_request_no,
            ...(r ? { refund_amount: r.amount, refund_status: 'REFUND_SUCCESS' } : {}) })
        }
        if (params.method === 'alipay.data.dataservice.bill.downloadurl.query') {
          const [payments, refundLines] = ofDay('alipay', biz.bill_date)
          if (biz.bill_type !== 'trade' || !/^\d{4}-\d\d-\d\d$/.test(biz.bill_date ?? '')) {
            return alipayReply(res, params.method, { code: '40004', msg: 'Business Failed', sub_code: 'isv.invalid-parameter', sub_msg: 'bill_type or bill_date' })
          }
          if (payments.length + refundLines.length === 0) {
            return alipayReply(res, params.method, { code: '40004', msg: 'Business Failed', sub_code: 'isp.bill_not_exist', sub_msg: '账单不存在' })
          }
          const token = alphanumeric(20)
          const compact = biz.bill_date.replaceAll('-', '')
          bills.set(token, zipOf([
            { name: `20881021462251350156_${compact}_业务明细.csv`, data: Buffer.from(alipayDetail(biz.bill_date, payments, refundLines), 'utf8') },
            { name: `20881021462251350156_${compact}_业务明细(汇总).csv`, data: Buffer.from('#支付宝业务汇总查询\r\n', 'utf8') },
          ]))
          return alipayReply(res, params.method, { code: '10000', msg: 'Success', bill_download_url: `http://127.0.0.1:${server.address().port}/alipay/bill?token=${token}` })
        }
        if (params.method === 'alipay.trade.query') {
          const no = biz.out_trade_no
          asked[no] = (asked[no] ?? 0) + 1
          const o = orders.get(no)
          if (!o) return alipayReply(res, params.method, { code: '40004', msg: 'Business Failed', sub_code: 'ACQ.TRADE_NOT_EXIST', sub_msg: '交易不存在' })
          const amount = `${Math.floor(o.amount / 100)}.${String(o.amount % 100).padStart(2, '0')}`
          return alipayReply(res, params.method, { code: '10000', msg: 'Success', trade_no: o.transaction_id ?? '', out_trade_no: no, buyer_logon_id: '159****5620', trade_status: o.state, total_amount: amount, buyer_user_id: '2088101117955611', send_pay_date: '2026-11-23 10:00:00' })
        }
        return alipayReply(res, params.method ?? 'unknown', { code: '40004', sub_code: 'ACQ.NOT_SUPPORTED', sub_msg: 'not in this fake' })
      }
      // The platform's signature on its call, as WeChat checks it.
      const auth = req.headers.authorization ?? ''
      const fields = Object.fromEntries([...auth.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
      const message = `${req.method}\n${url.pathname}${url.search}\n${fields.timestamp}\n${fields.nonce_str}\n${raw}\n`
      const signed = auth.startsWith('WECHATPAY2-SHA256-RSA2048 ') && fields.mchid === config.mch_id &&
        fields.serial_no === config.merchant_serial && Math.abs(Date.now() / 1000 - Number(fields.timestamp)) < 300 &&
        createVerify('RSA-SHA256').update(message, 'utf8').verify(merchantPub, fields.signature ?? '', 'base64')
      const prepay = url.pathname.match(/^\/v3\/pay\/transactions\/(jsapi|native|h5)$/)
      if (req.method === 'POST' && prepay) {
        if (!signed) return reply(res, 401, { code: 'SIGN_ERROR', message: 'signature does not verify' })
        const refusal = takeRefusal()
        if (refusal) return reply(res, refusal.status, { code: refusal.code, message: 'refused by the test' })
        const o = JSON.parse(raw)
        const channel = prepay[1]
        const valid = o.appid === config.app_id && o.mchid === config.mch_id && /^https?:\/\//.test(o.notify_url) &&
          Number.isInteger(o.amount?.total) && o.amount.total > 0 && o.amount.currency === 'CNY' && o.description &&
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/.test(o.time_expire) &&
          (channel !== 'jsapi' || o.payer?.openid) && (channel !== 'h5' || o.scene_info?.payer_client_ip)
        if (!valid) return reply(res, 400, { code: 'PARAM_ERROR', message: 'a field is missing or wrong' })
        const made = { provider: 'wechat', channel, out_trade_no: o.out_trade_no, notify_url: o.notify_url, body: o, prepay_id: 'wx' + alphanumeric(30), token: alphanumeric(16) }
        created.push(made)
        return reply(res, 200, channel === 'jsapi' ? { prepay_id: made.prepay_id }
          : channel === 'native' ? { code_url: 'weixin://wxpay/bizpayurl?pr=' + alphanumeric(7) }
            : { h5_url: `http://127.0.0.1:${server.address().port}/h5pay?prepay_id=${made.prepay_id}&token=${made.token}` })
      }
      if (req.method === 'POST' && url.pathname === '/v3/refund/domestic/refunds') {
        if (!signed) return reply(res, 401, { code: 'SIGN_ERROR', message: 'signature does not verify' })
        const refusal = takeRefusal()
        if (refusal) return reply(res, refusal.status, { code: refusal.code, message: 'refused by the test' })
        const o = JSON.parse(raw)
        if (!o.out_trade_no || !o.out_refund_no || !Number.isInteger(o.amount?.refund) || !Number.isInteger(o.amount?.total) ||
          o.amount.refund <= 0 || o.amount.refund > o.amount.total || o.amount.currency !== 'CNY') {
          return reply(res, 400, { code: 'PARAM_ERROR', message: 'a field is missing or wrong' })
        }
        const r = refunds.get(o.out_refund_no) ?? { provider: 'wechat', at: new Date(), refund_id: '50300' + alphanumeric(20), out_trade_no: o.out_trade_no, amount: o.amount.refund, asked: 0 }
        r.asked += 1
        refunds.set(o.out_refund_no, r)
        return reply(res, 200, {
          refund_id: r.refund_id, out_refund_no: o.out_refund_no, transaction_id: '4200000000000099', out_trade_no: o.out_trade_no,
          channel: 'ORIGINAL', user_received_account: '支付用户零钱', create_time: new Date().toISOString().replace(/\.\d+Z$/, '+00:00'),
          status: refundStatus, funds_account: 'AVAILABLE',
          amount: { total: o.amount.total, refund: o.amount.refund, payer_total: o.amount.total, payer_refund: o.amount.refund, settlement_refund: o.amount.refund, settlement_total: o.amount.total, discount_refund: 0, currency: 'CNY' },
        })
      }
      if (req.method === 'GET' && url.pathname === '/v3/bill/tradebill') {
        if (!signed) return reply(res, 401, { code: 'SIGN_ERROR', message: 'signature does not verify' })
        const day = url.searchParams.get('bill_date') ?? ''
        if (!/^\d{4}-\d\d-\d\d$/.test(day) || url.searchParams.get('bill_type') !== 'ALL') return reply(res, 400, { code: 'PARAM_ERROR', message: 'bill_date or bill_type' })
        if (billMode === 'creating') return reply(res, 400, { code: 'STATEMENT_CREATING', message: '账单生成中' })
        const [payments, refundLines] = ofDay('wechat', day)
        if (payments.length + refundLines.length === 0) return reply(res, 400, { code: 'NO_STATEMENT_EXIST', message: '请求的账单文件不存在' })
        const file = wechatTradeBill(payments, refundLines)
        const token = alphanumeric(20)
        bills.set(token, billMode === 'tamper' ? file.replace('SUCCESS', 'REVOKED') : file)
        return reply(res, 200, { hash_type: 'SHA1', hash_value: createHash('sha1').update(file, 'utf8').digest('hex'), download_url: `http://127.0.0.1:${server.address().port}/v3/billdownload/file?token=${token}` })
      }
      if (req.method === 'GET' && url.pathname === '/v3/billdownload/file') {
        if (!signed) return reply(res, 401, { code: 'SIGN_ERROR', message: 'signature does not verify' })
        const file = bills.get(url.searchParams.get('token'))
        if (!file) return reply(res, 404, { code: 'RESOURCE_NOT_EXISTS', message: 'no such bill' })
        res.writeHead(200, { 'Content-Type': 'text/plain;charset=utf-8' }).end(file)
        return
      }
      const refundQuery = url.pathname.match(/^\/v3\/refund\/domestic\/refunds\/([^/]+)$/)
      if (req.method === 'GET' && refundQuery) {
        if (!signed) return reply(res, 401, { code: 'SIGN_ERROR', message: 'signature does not verify' })
        const no = decodeURIComponent(refundQuery[1])
        const r = refunds.get(no)
        if (!r) return reply(res, 404, { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' })
        r.asked += 1
        return reply(res, 200, { refund_id: r.refund_id, out_refund_no: no, out_trade_no: r.out_trade_no, status: refundStatus,
          amount: { refund: r.amount, currency: 'CNY' } })
      }
      const match = url.pathname.match(/^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/)
      if (req.method !== 'GET' || !match) return reply(res, 404, { code: 'NOT_FOUND', message: 'no such API' })
      if (!signed) return reply(res, 401, { code: 'SIGN_ERROR', message: 'signature does not verify' })
      if (url.searchParams.get('mchid') !== config.mch_id) return reply(res, 400, { code: 'PARAM_ERROR', message: 'mchid' })
      const no = decodeURIComponent(match[1])
      asked[no] = (asked[no] ?? 0) + 1
      const o = orders.get(no)
      if (!o) return reply(res, 404, { code: 'ORDER_NOT_EXIST', message: '订单不存在' })
      const paid = o.state === 'SUCCESS'
      reply(res, 200, {
        appid: config.app_id, mchid: config.mch_id, out_trade_no: no, trade_state: o.state, trade_state_desc: o.state,
        ...(paid ? {
          transaction_id: o.transaction_id, trade_type: 'JSAPI', bank_type: 'OTHERS', success_time: new Date().toISOString().replace(/\.\d+Z$/, '+00:00'),
          payer: { openid: 'o-query-payer' }, amount: { total: o.amount, payer_total: o.amount, currency: 'CNY', payer_currency: 'CNY' },
        } : {}),
      }, o.forged ? strangerKey : platformKey)
    })
  })
  server.listen(0, '127.0.0.1', () => writeFileSync(ordersFile, JSON.stringify({ port: server.address().port })))
} else {
  console.error('usage: node provider_http.mjs keys DIR | serve DIR PORT.json | wechat|alipay DIR ORDERS.json OUT.json')
  process.exit(2)
}
