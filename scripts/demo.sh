#!/usr/bin/env bash
# The live demo: a simulated mall read over real protocols and billed. `joule demo-site` builds the
# site in an SQLite file, `joule sim` plays its meters and gateways (4G DTUs dialling in with
# DL/T 645 and CJ/T 188 meters, a Modbus-TCP gateway with Eastron meters), and `joule serve` reads
# and bills them. Runs until Ctrl-C; DEMO_SECONDS=N (or CI=true: 60 s) stops it by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
joule=build/release/src/app/joule
db=build/demo.db
dtu_port=${DEMO_DTU_PORT:-9510}
modbus_port=${DEMO_MODBUS_PORT:-9502}
seconds=${DEMO_SECONDS:-0}
if [ "${CI:-}" = "true" ] && [ "$seconds" = "0" ]; then seconds=60; fi

"$joule" demo-site --db "$db" --modbus-port "$modbus_port"
"$joule" sim --db "$db" --dtu-connect "127.0.0.1:$dtu_port" --speed 4 \
    ${seconds:+--run-for $((seconds + 5))} > build/demo-sim.log 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT

cat <<TEXT

  Joule live demo — 300 prepaid shops on three 4G DTUs, 50 public-area meters on a Modbus-TCP
  gateway, 20 water meters on a fourth DTU. Loads run 4x faster than life, balances are a few
  yuan, so low-balance alarms fire within minutes and the first relays trip soon after.

  Store:      $db   (the HTTP console and its URL/login arrive with the HTTP API issue)
  Look at:    $joule account show --db $db --project demo-mall --account SA101
              $joule topup --db $db --project demo-mall --account SA101 --amount 50.00 --key demo-1
              sqlite3 $db "SELECT kind, COUNT(*) FROM alarms WHERE open = 1 GROUP BY kind"
              sqlite3 $db "SELECT kind, state, COUNT(*) FROM commands GROUP BY 1, 2"
  Decode:     $joule frame decode 68 12 90 78 56 34 12 68 D1 01 35 8D 16
  Simulator:  build/demo-sim.log
  Stop:       Ctrl-C

TEXT
run_for=()
if [ "$seconds" != "0" ]; then run_for=(--run-for "$seconds"); fi
"$joule" serve --db "$db" --dtu-listen "127.0.0.1:$dtu_port" --read-interval 10 \
    --report-every 10 "${run_for[@]}"
