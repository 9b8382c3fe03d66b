// Local sinks for the notification channels, with Node's crypto — not our code — checking the
// signatures (tests/integration/notify_channels_test.cpp, tests/e2e/notify_e2e_test.cpp,
// bench/notify.sh):
//   node sinks.mjs PORTS.json SMS_SECRET WEBHOOK_SECRET WECHAT_APP_ID WECHAT_APP_SECRET
// Listens on loopback only: an HTTP sink (SMS provider, WeChat API, webhooks) and an SMTP sink,
// on ports the system picks, written to PORTS.json as {"http": n, "smtp": n}.
//   POST /sms                 Aliyun SendSms: the signature is recomputed; 13900000000 is refused
//   GET  /cgi-bin/token       WeChat access token for the app id and secret
//   POST /cgi-bin/message/template/send?access_token=T
//   POST /hook/...            a webhook: X-Joule-Signature checked, 204 (401 when it is wrong)
//   POST /down/...            always 503
//   GET  /received            everything received, in order; GET /count: how many
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import { writeFileSync } from 'node:fs'

const [portsFile, smsSecret, webhookSecret, wechatAppId, wechatAppSecret] = process.argv.slice(2)
const received = []
const tokens = new Set()
let count = 0
const keepAll = process.env.SINK_KEEP !== 'count'  // the bench only counts

function record (entry) {
  count++
  if (keepAll) received.push(entry)
}

// Aliyun's percentEncode: encodeURIComponent plus the characters it leaves alone.
const percentEncode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())

function checkAliyun (params) {
  const keys = [...params.keys()].filter((k) => k !== 'Signature').sort()
  const query = keys.map((k) => percentEncode(k) + '=' + percentEncode(params.get(k))).join('&')
  const toSign = 'POST&' + percentEncode('/') + '&' + percentEncode(query)
  const expected = createHmac('sha1', smsSecret + '&').update(toSign).digest('base64')
  return expected === params.get('Signature')
}

function json (res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

const http = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8')
    const url = new URL(req.url, 'http://sink')
    if (req.method === 'GET' && url.pathname === '/received') return json(res, 200, received)
    if (req.method === 'GET' && url.pathname === '/count') return json(res, 200, { count })
    if (req.method === 'POST' && url.pathname === '/sms') {
      const params = new URLSearchParams(raw)
      const ok = checkAliyun(params)
      record({ channel: 'sms', ok, phone: params.get('PhoneNumbers'), template: params.get('TemplateCode'), sign_name: params.get('SignName'), values: JSON.parse(params.get('TemplateParam') || '{}') })
      if (!ok) return json(res, 200, { Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched with our calculation.' })
      if (params.get('PhoneNumbers') === '13900000000') return json(res, 200, { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: 'invalid number' })
      return json(res, 200, { Code: 'OK', Message: 'OK', BizId: String(count), RequestId: 'r' + count })
    }
    if (req.method === 'GET' && url.pathname === '/cgi-bin/token') {
      if (url.searchParams.get('appid') !== wechatAppId || url.searchParams.get('secret') !== wechatAppSecret) {
        return json(res, 200, { errcode: 40013, errmsg: 'invalid appid' })
      }
      const token = 'TOKEN-' + (tokens.size + 1)
      tokens.add(token)
      return json(res, 200, { access_token: token, expires_in: 7200 })
    }
    if (req.method === 'POST' && url.pathname === '/cgi-bin/message/template/send') {
      if (!tokens.has(url.searchParams.get('access_token'))) return json(res, 200, { errcode: 40001, errmsg: 'invalid credential' })
      const message = JSON.parse(raw)
      record({ channel: 'wechat', touser: message.touser, template_id: message.template_id, data: message.data })
      return json(res, 200, { errcode: 0, errmsg: 'ok', msgid: count })
    }
    if (req.method === 'POST' && url.pathname.startsWith('/hook/')) {
      const timestamp = req.headers['x-joule-timestamp'] || ''
      const expected = 'sha256=' + createHmac('sha256', webhookSecret).update(timestamp + '.' + raw).digest('hex')
      const given = String(req.headers['x-joule-signature'] || '')
      const ok = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))
      record({ channel: 'webhook', path: url.pathname, ok, delivery: req.headers['x-joule-delivery'], event: req.headers['x-joule-event'], age: Math.abs(Date.now() / 1000 - Number(timestamp)), body: keepAll ? JSON.parse(raw) : null })
      res.writeHead(ok ? 204 : 401)
      return res.end()
    }
    if (url.pathname.startsWith('/down/')) {
      res.writeHead(503)
      return res.end('down for maintenance')
    }
    res.writeHead(404)
    res.end()
  })
})
http.keepAliveTimeout = 60000

// SMTP: enough of RFC 5321 for a client that sends mail, one message per transaction.
const decodeWords = (text) => text.replace(/\r\n /g, '').replace(/=\?UTF-8\?B\?([^?]*)\?=/g, (_, b) => Buffer.from(b, 'base64').toString('utf8'))
const smtp = createTcpServer((socket) => {
  let buffer = ''
  let inData = false
  let envelope = { from: '', to: [] }
  socket.write('220 sink ESMTP\r\n')
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1')
    while (true) {
      if (inData) {
        const end = buffer.indexOf('\r\n.\r\n')
        if (end < 0) return
        const data = Buffer.from(buffer.slice(0, end), 'latin1').toString('utf8')
        buffer = buffer.slice(end + 5)
        inData = false
        const split = data.indexOf('\r\n\r\n')
        const headers = data.slice(0, split)
        const subject = (headers.match(/^Subject: (.*(?:\r\n .*)*)/m) || [])[1] || ''
        const messageId = (headers.match(/^Message-ID: (.*)$/m) || [])[1] || ''
        const body = Buffer.from(data.slice(split + 4).replace(/\r\n/g, ''), 'base64').toString('utf8')
        record({ channel: 'email', from: envelope.from, to: envelope.to, subject: decodeWords(subject), body, message_id: messageId.trim() })
        envelope = { from: '', to: [] }
        socket.write('250 OK queued\r\n')
        continue
      }
      const eol = buffer.indexOf('\r\n')
      if (eol < 0) return
      const line = buffer.slice(0, eol)
      buffer = buffer.slice(eol + 2)
      const verb = line.slice(0, 4).toUpperCase()
      if (verb === 'EHLO' || verb === 'HELO') socket.write('250-sink\r\n250 8BITMIME\r\n')
      else if (verb === 'MAIL') { envelope.from = line.replace(/^MAIL FROM:\s*/i, ''); socket.write('250 OK\r\n') } else if (verb === 'RCPT') {
        const to = line.replace(/^RCPT TO:\s*/i, '')
        if (to.startsWith('<reject')) socket.write('550 no such mailbox\r\n')
        else { envelope.to.push(to); socket.write('250 OK\r\n') }
      } else if (verb === 'DATA') { inData = true; socket.write('354 go ahead\r\n') } else if (verb === 'QUIT') { socket.end('221 bye\r\n'); return } else socket.write('250 OK\r\n')
    }
  })
  socket.on('error', () => {})
})

http.listen(0, '127.0.0.1', () => {
  smtp.listen(0, '127.0.0.1', () => {
    writeFileSync(portsFile, JSON.stringify({ http: http.address().port, smtp: smtp.address().port }))
  })
})
