#!/usr/bin/env bash
# Payment notifications (issue 6) against `joule serve` on 127.0.0.1: WeChat Pay notifications
# signed by Node's crypto, verified (SHA256withRSA, AES-256-GCM), credited with a durable commit
# and answered, sent at BENCH_RATE a second (default 1000) for BENCH_SECONDS (default 30), each
# to its own order on the demo mall's accounts, in a seeded random order; a quarter of the
# accounts are in arrears first and paid once, so that credit queues the relay's close. Prints
# the latency percentiles (per second of the run in result.json). BENCH_HTTP_THREADS sets the
# server's HTTP threads (default 2, as `joule serve`). Bounded by count; the server is stopped on
# exit. Needs the release build (make build-release) and node.
set -euo pipefail
cd "$(dirname "$0")/.."
joule=build/release/src/app/joule
rate=${BENCH_RATE:-1000}
seconds=${BENCH_SECONDS:-30}
shops=${BENCH_SHOPS:-1000}
count=$((rate * seconds))
dir=$PWD/build/bench-payments
rm -rf "$dir" && mkdir -p "$dir"
db=$dir/bench.db

# shellcheck source=bench/ports.sh
source bench/ports.sh
http_port=$(free_port 18480)

"$joule" demo-site --db "$db" --shops "$shops" > /dev/null
password="Bench1$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
echo "$password" | "$joule" admin create --db "$db" --username bench --role admin \
    --all-projects > /dev/null
node tests/pay/provider_http.mjs keys "$dir"
app_id=$(sed -n 's/.*"app_id":"\([^"]*\)".*/\1/p' "$dir/config.json")
mch_id=$(sed -n 's/.*"mch_id":"\([^"]*\)".*/\1/p' "$dir/config.json")
serial=$(sed -n 's/.*"serial":"\([^"]*\)".*/\1/p' "$dir/config.json")
merchant_serial=$(sed -n 's/.*"merchant_serial":"\([^"]*\)".*/\1/p' "$dir/config.json")

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
# WeChat Pay's API (the orders are made there, as on a live site), played by Node on loopback.
node tests/pay/provider_http.mjs serve "$dir" "$dir/provider.json" > "$dir/provider.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do if [ -s "$dir/provider.json" ]; then break; fi; sleep 0.1; done
provider=http://127.0.0.1:$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$dir/provider.json")
# The bench makes all its orders minutes before their notifications, which a site never sees (a
# payer pays within a minute or two): the query of unpaid orders would otherwise ask Node about
# thousands of them during the run, on the same 2 cores. It waits a day here.
"$joule" serve --db "$db" --http "127.0.0.1:$http_port" --http-threads "${BENCH_HTTP_THREADS:-2}" --no-access-log \
    --dtu-listen "127.0.0.1:$(free_port 18580)" --wechat-app-id "$app_id" \
    --wechat-mch-id "$mch_id" --wechat-api-v3-key-file "$dir/apiv3.key" \
    --wechat-platform-key "$serial=$dir/platform.pub.pem" --public-url "http://127.0.0.1:$http_port" \
    --wechat-merchant-serial "$merchant_serial" --wechat-merchant-key-file "$dir/merchant.key.pem" \
    --wechat-api-base "$provider" --payments-query-after 86400 > "$dir/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do if ! port_free "$http_port"; then break; fi; sleep 0.1; done
base=http://127.0.0.1:$http_port

# Orders, and a quarter of the accounts run into arrears, through the API (node: it is quicker
# than a curl per request).
BENCH_DIR=$dir BENCH_BASE=$base BENCH_PASSWORD=$password BENCH_COUNT=$count node --input-type=module -e '
import { writeFileSync } from "node:fs"
const base = process.env.BENCH_BASE
const login = await fetch(base + "/api/v1/auth/login", { method: "POST", headers: { "content-type": "application/json" },
  body: JSON.stringify({ username: "bench", password: process.env.BENCH_PASSWORD }) })
const cookie = login.headers.get("set-cookie").split(";")[0]
const csrf = (await login.json()).csrf_token
const headers = { cookie, "x-csrf-token": csrf, "content-type": "application/json" }
const p = base + "/api/v1/projects/demo-mall"
const accounts = []
for (let page = 1; ; page++) {
  const r = await (await fetch(`${p}/accounts?page=${page}&page_size=500`, { headers })).json()
  accounts.push(...r.items.map((a) => a.number))
  if (r.items.length < 500) break
}
const tripped = new Set()
for (const [i, number] of accounts.entries()) {
  if (i % 4 !== 0) continue
  const view = await (await fetch(`${p}/accounts/${number}`, { headers })).json()
  const paid = view.balance.paid
  if (paid === "0.00") continue
  const r = await fetch(`${p}/accounts/${number}/refunds`, { method: "POST", headers: { ...headers, "idempotency-key": "bench-arrears-" + number },
    body: JSON.stringify({ amount: paid, reason: "bench: into arrears" }) })
  if (r.ok) tripped.add(number)
}
// An account in arrears is paid once, by the credit that closes its relay; the other accounts take
// the rest of the payments in turn.
const others = accounts.filter((number) => !tripped.has(number))
const payees = [...tripped]
const count = Number(process.env.BENCH_COUNT)
for (let i = 0; payees.length < count; i++) payees.push(others[i % others.length])
const orders = []
const batch = 16
for (let i = 0; i < count; i += batch) {
  const numbers = payees.slice(i, i + batch)
  const made = await Promise.all(numbers.map((number) =>
    fetch(`${p}/accounts/${number}/payments`, { method: "POST", headers, body: JSON.stringify({ provider: "wechat", channel: "native", amount: "5.00" }) }).then((r) => r.json())))
  for (const [k, o] of made.entries()) orders.push({ order_no: o.order_no, amount: 500, transaction_id: "4200" + String(i + k).padStart(12, "0"), variant: "valid",
    account: numbers[k] })
}
// Sent in a seeded random order, as payments come: the credits that close a relay fall anywhere
// in the run, at full load.
let seed = 20261123
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296
for (let i = orders.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1))
  ;[orders[i], orders[j]] = [orders[j], orders[i]]
}
// The payment to an account in arrears is the one whose credit queues the relay close.
for (const o of orders) {
  o.closes = tripped.has(o.account)
  delete o.account
}
writeFileSync(process.env.BENCH_DIR + "/orders.json", JSON.stringify(orders))
console.log(`accounts ${accounts.length}, ${tripped.size} run into arrears, ${orders.length} orders`)
'
node tests/pay/provider_http.mjs wechat "$dir" "$dir/orders.json" "$dir/notifications.json"
# The setup's 30,000 orders leave a large WAL behind: it is checkpointed before the measured run,
# so the run measures crediting, not the flush of the setup's writes.
sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
sleep 2
closes_before=$(sqlite3 "$db" "SELECT COUNT(*) FROM commands WHERE kind = 'close'")
echo "== $count WeChat Pay notifications at $rate/s ($(nproc) cores: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1))"
node bench/pay_load.mjs "$base" "$dir/notifications.json" "$rate" "$dir/result.json" "$dir/orders.json"
# Each credit to an account in arrears queued the relay's close in the same transaction.
credited=$(sqlite3 "$db" "SELECT COUNT(*) FROM payment_notifications WHERE outcome = 'credited'")
closes=$(( $(sqlite3 "$db" "SELECT COUNT(*) FROM commands WHERE kind = 'close'") - closes_before ))
echo "credited $credited; close commands queued with their credits: $closes"
