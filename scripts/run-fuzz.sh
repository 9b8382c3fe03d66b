#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz) with clang 16 in build/fuzz and runs each one for a
# bounded time, starting from its committed corpus. Fails if any harness crashes, leaks, times out
# or runs out of memory; the input that did it is kept in build/fuzz/artifacts/. Prints one summary
# line per target. docs/development.md "Fuzzing" explains the why and the how.
#
# usage: scripts/run-fuzz.sh [--merge] [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 20
#   TARGET              harness names (stream_scanner, dlt645, ...); default every harness
#   --merge             afterwards, merge the inputs that add coverage into tests/fuzz/corpus/
#                       (otherwise new inputs stay in build/fuzz/scratch/ and the tree is untouched)
# Environment: JOBS (build parallelism, default 2), FUZZ_CXX (default clang++-16),
#              FUZZ_RSS_LIMIT_MB (default 2048).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=20
merge=0
targets=()
for arg in "$@"; do
    case "$arg" in
        --merge) merge=1 ;;
        -h | --help)
            sed -n '2,14p' "$0"
            exit 0
            ;;
        *[!0-9]*) targets+=("$arg") ;;
        *) seconds=$arg ;;
    esac
done

build_dir=build/fuzz
jobs=${JOBS:-2}
rss_limit_mb=${FUZZ_RSS_LIMIT_MB:-2048}
export CCACHE_DIR=${CCACHE_DIR:-$PWD/.cache/ccache}
mkdir -p "$build_dir"

# clang 16 builds libstdc++ 12's <expected> once told the concepts level it really implements
# (it reports 201907L, below the 202002L that <expected> checks for).
if [ ! -f "$build_dir/build.ninja" ]; then
    if ! CXX=${FUZZ_CXX:-clang++-16} cmake -S . -B "$build_dir" -G Ninja -DJOULE_FUZZ=ON \
        -DJOULE_BUILD_TESTS=OFF -DJOULE_BUILD_BENCH=OFF \
        -DCMAKE_CXX_FLAGS='-D__cpp_concepts=202002L -Wno-macro-redefined' \
        >"$build_dir/configure.log" 2>&1; then
        cat "$build_dir/configure.log"
        echo "run-fuzz: configuring $build_dir failed" >&2
        exit 1
    fi
fi
if ! cmake --build "$build_dir" -j "$jobs" >"$build_dir/build.log" 2>&1; then
    cat "$build_dir/build.log"
    echo "run-fuzz: building the harnesses failed" >&2
    exit 1
fi

if [ ${#targets[@]} -eq 0 ]; then
    for bin in "$build_dir"/tests/fuzz/*_fuzz; do
        [ -x "$bin" ] || continue
        name=${bin##*/}
        targets+=("${name%_fuzz}")
    done
fi
if [ ${#targets[@]} -eq 0 ]; then
    echo "run-fuzz: no harnesses in $build_dir/tests/fuzz" >&2
    exit 1
fi

# The last value of `key: N` in a libFuzzer log ("cov: 335", "stat::average_exec_per_sec: 17000").
last_value() { grep -oE "$1 +[0-9]+" "$2" | tail -1 | awk '{print $NF}'; }

failures=0
mkdir -p "$build_dir/artifacts" "$build_dir/logs"
for name in "${targets[@]}"; do
    bin=$build_dir/tests/fuzz/${name}_fuzz
    corpus=tests/fuzz/corpus/$name
    scratch=$build_dir/scratch/$name
    log=$build_dir/logs/$name.log
    if [ ! -x "$bin" ]; then
        echo "run-fuzz: no harness $bin" >&2
        failures=$((failures + 1))
        continue
    fi
    mkdir -p "$corpus" "$scratch"
    # New inputs go to the first corpus directory: the scratch one, never the committed seeds.
    # `timeout` is a backstop for a harness stuck outside libFuzzer's own -max_total_time.
    timeout $((seconds * 2 + 120)) "$bin" -max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" \
        -timeout=10 -use_value_profile=1 -print_final_stats=1 \
        -artifact_prefix="$build_dir/artifacts/$name-" "$scratch" "$corpus" >"$log" 2>&1
    status=$?
    execs=$(last_value 'stat::number_of_executed_units:' "$log")
    rate=$(last_value 'stat::average_exec_per_sec:' "$log")
    cov=$(last_value 'cov:' "$log")
    ft=$(last_value 'ft:' "$log")
    corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | awk '{print $NF}')
    if [ "$status" -ne 0 ]; then
        failures=$((failures + 1))
        echo "---- $name: last lines of $log"
        tail -40 "$log"
        printf 'fuzz %-16s FAILED (exit %d); reproduce: %s %s\n' "$name" "$status" "$bin" \
            "$(ls -t "$build_dir"/artifacts/"$name"-* 2>/dev/null | head -1)"
        continue
    fi
    printf 'fuzz %-16s ok  %10s execs %8s/s  cov %5s  ft %6s  corpus %s\n' "$name" \
        "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
    if [ "$merge" -eq 1 ]; then
        before=$(find "$corpus" -type f | wc -l)
        "$bin" -merge=1 -rss_limit_mb="$rss_limit_mb" "$corpus" "$scratch" >>"$log" 2>&1 ||
            { echo "run-fuzz: merging into $corpus failed; see $log" >&2; failures=$((failures + 1)); }
        after=$(find "$corpus" -type f | wc -l)
        echo "fuzz $name: merged $((after - before)) new inputs into $corpus"
    fi
done

if [ "$failures" -ne 0 ]; then
    echo "run-fuzz: $failures target(s) failed" >&2
    exit 1
fi
