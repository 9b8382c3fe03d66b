#!/usr/bin/env bash
# The core, codec and base layers are pure: no clock reads and no floating point (ARCHITECTURE.md).
# Cheap grep checks that run with every `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for dir in src/base src/core src/codec; do
    [ -d "$dir" ] || continue
    if grep -rnE '(system_clock|steady_clock|high_resolution_clock)::now|time\(nullptr\)|gettimeofday' \
        "$dir"; then
        echo "check-purity: a clock read in $dir; pass 'now' as an argument" >&2
        status=1
    fi
    if grep -rnE '\b(double|float)\b' "$dir" --include='*.hpp' --include='*.cpp' | grep -vE '^\S+:\s*//'; then
        echo "check-purity: floating point in $dir; money and quantities are exact integers" >&2
        status=1
    fi
done
exit $status
