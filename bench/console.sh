#!/usr/bin/env bash
# The web console's figures (issue 5): first load with a cold cache, the JS shipped for the first
# page, and the frame times of a 2,000-room grid while accounts change live. Runs the browser test
# (web/tests/e2e/console.e2e.mjs: playwright-core driving Debian's Chromium against joule serve and
# joule sim on 127.0.0.1; bounded, stops by itself) on the release build and prints its report.
# Needs `make build-release web` (and the packages scripts/install-deps.sh installs).
set -euo pipefail
cd "$(dirname "$0")/.."
export JOULE_BINARY=${JOULE_BINARY:-build/release/src/app/joule}
export WEB_ROOT=${WEB_ROOT:-web/dist}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo unknown)"
exec node web/tests/e2e/console.e2e.mjs
