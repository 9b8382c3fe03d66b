// Payment notifications as WeChat Pay and Alipay send them, made with Node's own crypto — an
// implementation that is not ours — for the platform's verification tests
// (tests/integration/payment_signatures_test.cpp). Every key is generated here, per run.
// Usage: node sign_notifications.mjs OUT.json
// OUT.json: { now, wechat: {config, cases}, alipay: {config, cases}, merchant: {...} }; each case
// is {name, headers?, body, expect} where expect is "paid", "unpaid" or the field the refusal names.
import { createCipheriv, createSign, generateKeyPairSync, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'

const out = process.argv[2]
if (!out) throw new Error('usage: node sign_notifications.mjs OUT.json')

const now = Math.floor(Date.now() / 1000)
const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } })
const rsaSign = (privateKey, text) => createSign('RSA-SHA256').update(text, 'utf8').sign(privateKey, 'base64')
const alphanumeric = (n) => [...randomBytes(n)].map((b) => 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'[b % 57]).join('')

// ---- WeChat Pay v3
const platform = pair()
const stranger = pair()
const wechat = { app_id: 'wx8888888888888888', mch_id: '1900000109', api_v3_key: alphanumeric(32), serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1', platform_public_pem: platform.publicKey, cases: [] }

function sealed(plain, key = wechat.api_v3_key) {
  const nonce = alphanumeric(12)
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'utf8'), Buffer.from(nonce, 'utf8'))
  cipher.setAAD(Buffer.from('transaction', 'utf8'))
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()])
  return { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext: body.toString('base64'), associated_data: 'transaction', nonce }
}

function transaction(overrides = {}) {
  return {
    mchid: wechat.mch_id, appid: wechat.app_id, out_trade_no: 'P20261121000001', transaction_id: '4200000000202611210000000001',
    trade_type: 'JSAPI', trade_state: 'SUCCESS', trade_state_desc: '支付成功', bank_type: 'CMC', attach: '',
    success_time: '2026-11-21T10:04:05+08:00', payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 5000, payer_total: 5000, currency: 'CNY', payer_currency: 'CNY' }, ...overrides,
  }
}

function wechatCase(name, expect, { tx = transaction(), event = 'TRANSACTION.SUCCESS', key = platform.privateKey, timestamp = now, serial = wechat.serial, signature, tamper, apiKey, message, tamperResource } = {}) {
  const resource = sealed(JSON.stringify(tx), apiKey)
  if (tamperResource) tamperResource(resource) // before signing: WeChat signed it, the key cannot open it
  const body = JSON.stringify({ id: 'EV-' + alphanumeric(20), create_time: '2026-11-21T10:04:06+08:00', resource_type: 'encrypt-resource', event_type: event, summary: '支付成功', resource })
  const nonce = alphanumeric(32)
  const sig = signature ?? rsaSign(key, `${timestamp}\n${nonce}\n${body}\n`)
  wechat.cases.push({
    name, expect, ...(message ? { message } : {}),
    headers: { 'Wechatpay-Timestamp': String(timestamp), 'Wechatpay-Nonce': nonce, 'Wechatpay-Signature': sig, 'Wechatpay-Serial': serial, 'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048' },
    body: tamper ? tamper(body) : body,
  })
}

wechatCase('a paid transaction', 'paid')
wechatCase('a closed transaction', 'unpaid', { tx: transaction({ trade_state: 'CLOSED', trade_state_desc: '已关闭' }) })
wechatCase('a refund event', 'unpaid', { event: 'REFUND.SUCCESS', tx: { refund_status: 'SUCCESS' } })
wechatCase('a tampered body', 'Wechatpay-Signature', { tamper: (b) => b.replace('TRANSACTION.SUCCESS', 'TRANSACTION.SUCCESs') })
wechatCase('a signature by another key', 'Wechatpay-Signature', { key: stranger.privateKey })
wechatCase('a stale timestamp', 'Wechatpay-Timestamp', { timestamp: now - 600 })
wechatCase('a timestamp from the future', 'Wechatpay-Timestamp', { timestamp: now + 600 })
// The probe's text is valid Base64 (19 + 1 + 64 characters), so only the probe check refuses it
// before the signature check would: the refusal must say "probe".
wechatCase('a signature-test probe', 'Wechatpay-Signature', { signature: 'WECHATPAY/SIGNTEST/A' + randomBytes(48).toString('base64'), message: 'probe' })
wechatCase('an unknown platform serial', 'Wechatpay-Serial', { serial: '0000000000000000000000000000000000000000' })
wechatCase('another app id', 'resource.appid', { tx: transaction({ appid: 'wx0000000000000000' }) })
wechatCase('another merchant', 'resource.mchid', { tx: transaction({ mchid: '1900000999' }) })
wechatCase('a resource sealed with another key', 'resource.ciphertext', { apiKey: alphanumeric(32) })
wechatCase('a signature that is not Base64', 'Wechatpay-Signature', { signature: 'not base64!' })
wechatCase('a tampered resource nonce', 'resource.ciphertext', { tamperResource: (r) => (r.nonce = r.nonce.slice(1) + 'x') })
wechatCase('tampered associated data', 'resource.ciphertext', { tamperResource: (r) => (r.associated_data = 'transactioN') })

// ---- Alipay (RSA2 over the sorted parameters)
const alipayKey = pair()
const alipay = { app_id: '2021000000000001', seller_id: '2088102146225135', alipay_public_pem: alipayKey.publicKey, cases: [] }

function alipayParams(overrides = {}) {
  return {
    notify_time: '2026-11-21 10:04:06', notify_type: 'trade_status_sync', notify_id: 'ac05099524730693a8b330c5ecf72da9786', charset: 'utf-8', version: '1.0',
    app_id: alipay.app_id, seller_id: alipay.seller_id, trade_no: '2026112122001414760000000001', out_trade_no: 'P20261121000002',
    buyer_id: '2088102122524333', total_amount: '88.88', receipt_amount: '88.88', trade_status: 'TRADE_SUCCESS',
    gmt_payment: '2026-11-21 10:04:05', subject: '电费充值 A101', fund_bill_list: '[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]', buyer_logon_id: '',
    ...overrides,
  }
}

function alipayCase(name, expect, { params = alipayParams(), key = alipayKey.privateKey, signType = 'RSA2', tamper } = {}) {
  const content = Object.keys(params).filter((k) => params[k] !== '').sort().map((k) => `${k}=${params[k]}`).join('&')
  const signed = { ...params, sign_type: signType, sign: rsaSign(key, content) }
  if (tamper) tamper(signed)
  const body = Object.entries(signed).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
  alipay.cases.push({ name, expect, body })
}

alipayCase('a paid trade', 'paid')
alipayCase('a finished trade', 'paid', { params: alipayParams({ trade_status: 'TRADE_FINISHED' }) })
alipayCase('a trade waiting for the buyer', 'unpaid', { params: alipayParams({ trade_status: 'WAIT_BUYER_PAY', gmt_payment: '' }) })
alipayCase('a tampered amount', 'sign', { tamper: (p) => (p.total_amount = '888.88') })
alipayCase('a signature by another key', 'sign', { key: stranger.privateKey })
alipayCase('sign_type RSA', 'sign_type', { signType: 'RSA' })
alipayCase('another app id', 'app_id', { params: alipayParams({ app_id: '2021000000009999' }) })
alipayCase('another seller', 'seller_id', { params: alipayParams({ seller_id: '2088000000000000' }) })
alipayCase('an amount with three decimals', 'total_amount', { params: alipayParams({ total_amount: '1.005' }) })

// ---- a merchant key for the calls we sign (verified with the openssl command line)
const merchant = pair()

writeFileSync(out, JSON.stringify({ now, wechat, alipay, merchant: { private_pem: merchant.privateKey, public_pem: merchant.publicKey } }, null, 1))
