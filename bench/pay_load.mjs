// The payment notification load of bench/payments.sh: WeChat Pay notifications (signed by
// tests/pay/provider_http.mjs with Node's crypto) posted to `joule serve` on 127.0.0.1 at a fixed
// rate, open loop (a slow reply does not slow the sender, as with a real provider), each
// latency measured from the send to the reply. Bounded by the count it is given; stops itself.
// With ORDERS.json (the orders the notifications pay, in order), the notifications of orders marked
// `closes` (a first payment to an account in arrears) are also summarised apart: their credit
// queued the relay's close in the same transaction, durable before the reply, so their latency
// bounds credit -> close command queued.
// Usage: node pay_load.mjs BASE NOTIFICATIONS.json RATE_PER_SECOND OUT.json [ORDERS.json]
import http from 'node:http'
import { readFileSync, writeFileSync } from 'node:fs'

const [base, file, rateText, outFile, ordersFile] = process.argv.slice(2)
const closes = ordersFile ? JSON.parse(readFileSync(ordersFile, 'utf8')).map((o) => o.closes === true) : []
const notifications = JSON.parse(readFileSync(file, 'utf8'))
const rate = Number(rateText)
const url = new URL('/api/v1/pay/notify/wechat', base)
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })

function post(n) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint()
    const req = http.request(url, { method: 'POST', agent, headers: { ...n.headers, 'Content-Length': Buffer.byteLength(n.body) } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }))
    })
    req.on('error', () => resolve({ status: -1, ms: Number(process.hrtime.bigint() - started) / 1e6 }))
    req.end(n.body)
  })
}

const results = []
const begun = process.hrtime.bigint()
const pending = []
for (let i = 0; i < notifications.length; i++) {
  // Send i at begun + i / rate: open loop, catching up if the timer was late.
  const due = Number(begun) / 1e6 + (i * 1000) / rate
  const wait = due - Number(process.hrtime.bigint()) / 1e6
  if (wait > 1) await new Promise((r) => setTimeout(r, wait))
  pending.push(post(notifications[i]).then((r) => results.push({ ...r, second: Math.floor(i / rate), closes: closes[i] === true })))
}
await Promise.all(pending)
const seconds = Number(process.hrtime.bigint() - begun) / 1e9
const percentiles = (list) => {
  const ms = list.map((r) => r.ms).sort((a, b) => a - b)
  if (ms.length === 0) return null
  const at = (q) => +ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(2)
  return { count: ms.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: +ms[ms.length - 1].toFixed(2) }
}
const statuses = {}
for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1
const summary = {
  notifications: results.length, target_rate: rate, achieved_rate: Math.round(results.length / seconds),
  seconds: Number(seconds.toFixed(1)), statuses,
  latency_ms: percentiles(results),
  credit_to_close_queued_ms: percentiles(results.filter((r) => r.closes)),
}
// Per second of the run (in OUT.json only), to tell a warm-up or a stall from the steady state.
const bySecond = []
for (let second = 0; second * rate < results.length; second++) {
  const of = results.filter((r) => r.second === second)
  bySecond.push({ second, ...percentiles(of), closes: of.filter((r) => r.closes).length })
}
writeFileSync(outFile, JSON.stringify({ ...summary, by_second: bySecond }, null, 1))
console.log(JSON.stringify(summary))
agent.destroy()
