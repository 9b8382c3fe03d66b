#!/usr/bin/env bash
# HTTP API throughput with wrk against 127.0.0.1 (issue 4): `joule serve` on the demo mall's store,
# authenticated with an API key, versus nginx (Debian) serving a static file of the same size on
# loopback as the ceiling. Bounded: each wrk run lasts BENCH_SECONDS (default 15) and stops by
# itself; both servers are stopped on exit. Needs the release build (make build-release) and the
# packages wrk and nginx-light (scripts/install-deps.sh --bench installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
joule=build/release/src/app/joule
seconds=${BENCH_SECONDS:-15}
connections=${BENCH_CONNECTIONS:-50}
threads=${BENCH_THREADS:-2}
shops=${BENCH_SHOPS:-10000}  # the issue's scale: 10,000 rooms with prepaid accounts
# ... and a year of readings: every meter read every 30 minutes (17,520 a meter; about 4 minutes
# and 7 GB for 10,000 shops). BENCH_READING_DAYS=0 skips it.
reading_days=${BENCH_READING_DAYS:-365}
dir=$PWD/build/bench-http
rm -rf "$dir" && mkdir -p "$dir"
db=$dir/bench.db

# shellcheck source=bench/ports.sh
source bench/ports.sh
http_port=$(free_port 18180)
nginx_port=$(free_port 18280)

"$joule" demo-site --db "$db" --shops "$shops" > /dev/null
if [ "$reading_days" -gt 0 ]; then
    # Written in key order, without a journal (a bench store: nothing to recover); joule serve
    # puts the store back in WAL mode when it opens it.
    start=$(date +%s)
    sqlite3 "$db" > /dev/null <<SQL
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $reading_days * 48)
INSERT INTO readings(meter_id, meter_time, received_at, total, verdict, reason, delta,
                     charge_fine, deducted, account_id, source)
SELECT m.id, s.t0 + n.i * 1800, s.t0 + n.i * 1800, n.i * 100, 1, 0, 100, 0, 0, NULL, 0
FROM meters m
CROSS JOIN (SELECT unixepoch() / 1800 * 1800 - $reading_days * 86400 AS t0) s
CROSS JOIN n;
-- The billing service keeps the day totals per batch; a bench store written past it gets them here.
INSERT INTO meter_days(day, meter_id, account_id, energy, deducted, readings)
SELECT (r.meter_time + p.day_offset_s - 1) / 86400, r.meter_id, 0, SUM(r.delta), 0, COUNT(*)
FROM readings r JOIN meters m ON m.id = r.meter_id JOIN projects p ON p.id = m.project_id
GROUP BY 1, 2;
SQL
    echo "readings: $(sqlite3 "$db" 'SELECT COUNT(*) FROM readings') in $(($(date +%s) - start)) s," \
        "store $(du -h "$db" | cut -f1)"
fi
password="Bench1$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
echo "$password" | "$joule" admin create --db "$db" --username bench --role admin \
    --all-projects > /dev/null

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
"$joule" serve --db "$db" --http "127.0.0.1:$http_port" --http-threads 2 --no-access-log \
    --dtu-listen "127.0.0.1:$(free_port 18380)" > "$dir/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do if ! port_free "$http_port"; then break; fi; sleep 0.1; done

base=http://127.0.0.1:$http_port
cookies=$dir/cookies
login=$(curl -s -c "$cookies" -H 'content-type: application/json' \
    -d "{\"username\":\"bench\",\"password\":\"$password\"}" "$base/api/v1/auth/login")
csrf=$(echo "$login" | sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p')
key=$(curl -s -b "$cookies" -H "X-CSRF-Token: $csrf" -H 'content-type: application/json' \
    -d '{"name":"bench","scopes":["projects.view","accounts.view"]}' "$base/api/v1/api-keys" |
    sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
auth="Authorization: Bearer $key"

# The simple authenticated GET: one project's summary.
target=/api/v1/projects
curl -s -H "$auth" "$base$target" > "$dir/body.json"
size=$(stat -c %s "$dir/body.json")

mkdir -p "$dir/www"
cp "$dir/body.json" "$dir/www/projects.json"
cat > "$dir/nginx.conf" <<CONF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$nginx_port;
        root $dir/www;
        location / { default_type application/json; }
    }
}
CONF
/usr/sbin/nginx -c "$dir/nginx.conf" -g 'daemon off;' &
pids+=($!)
for _ in $(seq 100); do if ! port_free "$nginx_port"; then break; fi; sleep 0.1; done

run() {  # name url [header]
    echo "== $1"
    if [ -n "${3:-}" ]; then
        wrk -t "$threads" -c "$connections" -d "${seconds}s" --latency -H "$3" "$2"
    else
        wrk -t "$threads" -c "$connections" -d "${seconds}s" --latency "$2"
    fi | tee "$dir/$1.txt" | grep -E "Requests/sec|Latency|99%|Non-2xx"
}
echo "body: $size bytes; $shops shops; $connections connections, $threads wrk threads, ${seconds}s each"
run joule "$base$target" "$auth"
run nginx "http://127.0.0.1:$nginx_port/projects.json"
run joule-account "$base/api/v1/projects/demo-mall/accounts/SA101" "$auth"
run joule-accounts-page "$base/api/v1/projects/demo-mall/accounts?page_size=100&state=normal" "$auth"
# Counter top-ups with a durable commit: every request a new Idempotency-Key (wrk's Lua).
cat > "$dir/topup.lua" <<'LUA'
-- One Lua state per wrk thread: each gets its own id, so keys never repeat across threads.
local threads = 0
setup = function(thread)
    threads = threads + 1
    thread:set("id", threads)
end
local n = 0
request = function()
    n = n + 1
    local key = string.format("bench-%d-%d-%d", os.time(), id, n)
    return wrk.format("POST", "/api/v1/projects/demo-mall/accounts/SA101/top-ups",
        { ["Content-Type"] = "application/json", ["Idempotency-Key"] = key,
          ["Authorization"] = os.getenv("BENCH_AUTH") },
        '{"amount":"0.01","channel":"cash"}')
end
LUA
echo "== joule-topup"
topup_key=$(curl -s -b "$cookies" -H "X-CSRF-Token: $csrf" -H 'content-type: application/json' \
    -d '{"name":"bench-topup","scopes":["accounts.view","money.topup"]}' "$base/api/v1/api-keys" |
    sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
BENCH_AUTH="Bearer $topup_key" wrk -t "$threads" -c "$connections" -d "${seconds}s" --latency \
    -s "$dir/topup.lua" "$base" | tee "$dir/joule-topup.txt" |
    grep -E "Requests/sec|Latency|99%|Non-2xx"
# The tariff quote (试算): the last 31 days of every meter under the project's first tariff, priced
# under a candidate price; one request, timed.
quote_key=$(curl -s -b "$cookies" -H "X-CSRF-Token: $csrf" -H 'content-type: application/json' \
    -d '{"name":"bench-quote","scopes":["tariffs.view"]}' "$base/api/v1/api-keys" |
    sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
tariff=$(curl -s -H "Authorization: Bearer $quote_key" "$base/api/v1/projects/demo-mall/tariffs" |
    sed -n 's/^{"items":\[{"code":"\([^"]*\)".*/\1/p')
quote_body="{\"from\":\"$(date -u -d '31 days ago' +%Y-%m-%dT%H:%M:%SZ)\",\"to\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"version\":{\"price\":\"1.2000\"}}"
echo "== joule-quote (tariff $tariff, 31 days)"
curl -s -o "$dir/quote.json" -w "status %{http_code}, %{time_total} s\n" -H 'content-type: application/json' \
    -H "Authorization: Bearer $quote_key" -d "$quote_body" \
    "$base/api/v1/projects/demo-mall/tariffs/$tariff/quote"
echo "quote total: $(sed -n 's/.*"total":\({[^}]*}\).*/\1/p' "$dir/quote.json" | cut -c1-200)," \
    "$(grep -o '"meter":' "$dir/quote.json" | wc -l) meters"
joule_rps=$(sed -n 's/Requests\/sec: *//p' "$dir/joule.txt")
nginx_rps=$(sed -n 's/Requests\/sec: *//p' "$dir/nginx.txt")
echo "joule / nginx = $(awk -v a="$joule_rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }')"
echo "machine: $(nproc) cores, $(sed -n 's/model name\t: //p' /proc/cpuinfo | head -1)"
