#!/usr/bin/env bash
# The live demo: a simulated mall read over real protocols and billed. `joule demo-site` builds the
# site in an SQLite file, `joule sim` plays its meters and gateways (4G DTUs dialling in with
# DL/T 645 and CJ/T 188 meters, a Modbus-TCP gateway with Eastron meters, an MQTT edge gateway
# pushing its meters' readings through a mosquitto broker started here on 127.0.0.1), and
# `joule serve` reads and bills them. Runs until Ctrl-C; DEMO_SECONDS=N (or CI=true: 60 s) stops it
# by itself. DEMO_MQTT_PORT picks the broker's port (default: the first free one from 18830),
# DEMO_HTTP_PORT the HTTP API's (default: the first free one from 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
joule=build/release/src/app/joule
db=build/demo.db
mqtt_dir=$PWD/build/demo-mqtt
dtu_port=${DEMO_DTU_PORT:-9510}
modbus_port=${DEMO_MODBUS_PORT:-9502}
seconds=${DEMO_SECONDS:-0}
if [ "${CI:-}" = "true" ] && [ "$seconds" = "0" ]; then seconds=60; fi

# Nobody answers on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Prints the first free port of the 100 from $1, or fails naming what it was for ($2).
first_free_port() {
    local p
    for p in $(seq "$1" $(($1 + 99))); do
        if port_free "$p"; then echo "$p"; return 0; fi
    done
    echo "demo: no free port for the $2 in $1..$(($1 + 99))" >&2
    return 1
}
mqtt_port=${DEMO_MQTT_PORT:-$(first_free_port 18830 "MQTT broker")}
http_port=${DEMO_HTTP_PORT:-$(first_free_port 8080 "HTTP API")}

"$joule" demo-site --db "$db" --modbus-port "$modbus_port"
# A fresh admin password for every demo site (the store is rebuilt each time).
admin_password="Demo1$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
echo "$admin_password" | "$joule" admin create --db "$db" --username admin --role admin \
    --all-projects > /dev/null

# The broker: loopback only, no anonymous clients, one account per gateway from the credentials the
# platform generates (joule mqtt-auth), persistence off, everything under build/demo-mqtt. It runs
# as the current user: started as root with no `user` line it would switch to user mosquitto,
# which cannot read build/.
rm -rf "$mqtt_dir"
"$joule" mqtt-auth --db "$db" --dir "$mqtt_dir" > /dev/null
cat > "$mqtt_dir/mosquitto.conf" <<CONF
user $(id -un)
per_listener_settings false
allow_anonymous false
password_file $mqtt_dir/passwd
acl_file $mqtt_dir/acl
persistence false
log_dest file $mqtt_dir/mosquitto.log
listener $mqtt_port 127.0.0.1
CONF
pids=()
cleanup() {  # in order: the simulator says its gateways are offline before the broker goes
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
/usr/sbin/mosquitto -c "$mqtt_dir/mosquitto.conf" > "$mqtt_dir/mosquitto.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    if ! port_free "$mqtt_port"; then break; fi
    sleep 0.1
done
if port_free "$mqtt_port"; then
    echo "demo: mosquitto did not start on 127.0.0.1:$mqtt_port (see $mqtt_dir/mosquitto.log)" >&2
    exit 1
fi
mqtt=(--mqtt "127.0.0.1:$mqtt_port" --mqtt-credentials "$mqtt_dir/credentials")

"$joule" sim --db "$db" --dtu-connect "127.0.0.1:$dtu_port" --speed 4 "${mqtt[@]}" \
    --mqtt-interval 10 ${seconds:+--run-for $((seconds + 5))} > build/demo-sim.log 2>&1 &
pids=($! "${pids[@]}")  # the simulator stops before the broker: its gateways say offline

cat <<TEXT

  Joule live demo — 300 prepaid shops on three 4G DTUs, 50 public-area meters on a Modbus-TCP
  gateway, 20 water meters on a fourth DTU, 30 more shops on an MQTT edge gateway that reads them
  itself and pushes through mosquitto. Loads run 4x faster than life, balances are a few yuan, so
  low-balance alarms fire within minutes and the first relays trip soon after.

  HTTP API:   http://127.0.0.1:$http_port/api/v1   login: admin / $admin_password
              (OpenAPI: http://127.0.0.1:$http_port/api/v1/openapi.json)
  Console:    http://127.0.0.1:$http_port/   login: admin / $admin_password
              curl -c build/demo-cookies -H 'content-type: application/json' \\
                -d '{"username":"admin","password":"$admin_password"}' http://127.0.0.1:$http_port/api/v1/auth/login
              curl -b build/demo-cookies http://127.0.0.1:$http_port/api/v1/projects/demo-mall/accounts?state=tripped
  Payments:   the sandbox provider is on (demo only): an account's 在线支付 tab orders and pays,
              through the same verification and crediting as WeChat Pay and Alipay
  Tenants:    http://127.0.0.1:$http_port/m/?p=demo-mall on a phone (or a narrow window): sign in with
              13800000001 (shop SA101; 13800000002 is SA102, ...). The demo shows the SMS code on
              the page (--tenant-show-codes); a real server sends it by SMS. Bind SA101, top up.
  Notify:     the 通知 page: add a webhook recipient (email, SMS and WeChat need [notify]
              settings, docs/notifications.md); the delivery log shows what went out
  Store:      $db
  Look at:    $joule account show --db $db --project demo-mall --account SA101
              $joule topup --db $db --project demo-mall --account SA101 --amount 50.00 --key demo-1
              sqlite3 $db "SELECT kind, COUNT(*) FROM alarms WHERE open = 1 GROUP BY kind"
              sqlite3 $db "SELECT kind, state, COUNT(*) FROM commands GROUP BY 1, 2"
  MQTT:       broker 127.0.0.1:$mqtt_port, log build/demo-mqtt/mosquitto.log; watch it with
              mosquitto_sub -p $mqtt_port -u joule-platform -P \$(sed -n 's/^joule-platform://p' build/demo-mqtt/credentials) -t 'joule/#' -v
  Decode:     $joule frame decode 68 12 90 78 56 34 12 68 D1 01 35 8D 16
  Simulator:  build/demo-sim.log
  Stop:       Ctrl-C

TEXT
run_for=()
if [ "$seconds" != "0" ]; then run_for=(--run-for "$seconds"); fi
"$joule" serve --db "$db" --dtu-listen "127.0.0.1:$dtu_port" --read-interval 10 \
    --http "127.0.0.1:$http_port" --no-access-log --payments-sandbox --tenant-show-codes \
    --report-every 10 "${mqtt[@]}" "${run_for[@]}"
