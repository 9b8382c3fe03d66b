#!/usr/bin/env bash
# Installs the Debian 12 packages Joule needs to build, test and run. Idempotent and quick when
# everything is present: it asks dpkg first and only calls apt-get for what is missing.
set -euo pipefail

packages=(
    build-essential cmake ninja-build ccache pkg-config git
    libsqlite3-dev sqlite3
    nlohmann-json3-dev libcli11-dev libhowardhinnant-date-dev tzdata
    libgtest-dev libgmock-dev libbenchmark-dev
    clang-format clang-tidy
    libboost1.81-dev libmosquitto-dev mosquitto mosquitto-clients libmodbus-dev
    clang-16 libclang-rt-16-dev
    libsodium-dev openssl libssl-dev curl libcurl4-openssl-dev libtomlplusplus-dev
    libxlsxwriter-dev unzip libzip-dev libexpat1-dev libjemalloc-dev
    chromium fonts-wqy-microhei
)
# The web console builds with Node.js and npm: Debian's packages when the machine has no node.
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    packages+=(nodejs npm)
fi
# --bench: what bench/http.sh needs besides (wrk, and nginx as the static-file ceiling).
bench=false
if [ "${1:-}" = "--bench" ]; then
    bench=true
    packages+=(wrk nginx-light curl)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
if $bench && command -v systemctl > /dev/null && systemctl is-enabled nginx > /dev/null 2>&1; then
    # The package starts its default site on port 80; the benchmark runs its own on loopback.
    "${sudo_cmd[@]}" systemctl disable --now nginx > /dev/null 2>&1 || true
fi
