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
# Environment: JOBS (build parallelism, default 2), FUZZ_JOBS (harnesses run at once, default
#              JOBS), FUZZ_CXX (default clang++-16), FUZZ_RSS_LIMIT_MB (default 2048).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=20
merge=0
targets=()
for arg in "$@"; do
    case "$arg" in
        --merge) merge=1 ;;
        -h | --help)
            sed -n '2,15p' "$0"
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
# clang-16 comes without llvm-symbolizer-16, and the sanitizer runtime does not find Debian's
# /usr/bin/llvm-symbolizer symlink by itself: name the binary, so stacks show functions and lines.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
    for s in llvm-symbolizer-16 llvm-symbolizer llvm-symbolizer-14; do
        if command -v "$s" >/dev/null; then
            export ASAN_SYMBOLIZER_PATH=$(readlink -f "$(command -v "$s")")
            break
        fi
    done
fi

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

# Runs one harness; writes its summary line to logs/<name>.summary and its status to .status.
run_target() {
    local name=$1
    local bin=$build_dir/tests/fuzz/${name}_fuzz
    local corpus=tests/fuzz/corpus/$name
    local scratch=$build_dir/scratch/$name
    local log=$build_dir/logs/$name.log
    local summary=$build_dir/logs/$name.summary
    if [ ! -x "$bin" ]; then
        echo "fuzz $name: no harness $bin" >"$summary"
        echo 1 >"$build_dir/logs/$name.status"
        return
    fi
    mkdir -p "$corpus" "$scratch"
    # New inputs go to the first corpus directory: the scratch one, never the committed seeds.
    # `timeout` is a backstop for a harness stuck outside libFuzzer's own -max_total_time.
    timeout $((seconds * 2 + 120)) "$bin" -max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" \
        -timeout=10 -use_value_profile=1 -print_final_stats=1 \
        -artifact_prefix="$build_dir/artifacts/$name-" "$scratch" "$corpus" >"$log" 2>&1
    local status=$?
    echo "$status" >"$build_dir/logs/$name.status"
    if [ "$status" -ne 0 ]; then
        {
            echo "---- $name: last lines of $log"
            tail -40 "$log"
            printf 'fuzz %-16s FAILED (exit %d); reproduce: %s %s\n' "$name" "$status" "$bin" \
                "$(ls -t "$build_dir"/artifacts/"$name"-* 2>/dev/null | head -1)"
        } >"$summary"
        return
    fi
    printf 'fuzz %-16s ok  %10s execs %8s/s  cov %5s  ft %6s  corpus %s\n' "$name" \
        "$(last_value 'stat::number_of_executed_units:' "$log")" \
        "$(last_value 'stat::average_exec_per_sec:' "$log")" "$(last_value 'cov:' "$log")" \
        "$(last_value 'ft:' "$log")" "$(last_value 'corp:' "$log")" >"$summary"
}

# FUZZ_JOBS harnesses at a time (each libFuzzer process uses one core).
mkdir -p "$build_dir/artifacts" "$build_dir/logs"
fuzz_jobs=${FUZZ_JOBS:-$jobs}
for name in "${targets[@]}"; do
    rm -f "$build_dir/logs/$name.status" "$build_dir/logs/$name.summary"
    while [ "$(jobs -rp | wc -l)" -ge "$fuzz_jobs" ]; do
        wait -n
    done
    run_target "$name" &
done
wait

failures=0
for name in "${targets[@]}"; do
    cat "$build_dir/logs/$name.summary"
    status=$(cat "$build_dir/logs/$name.status" 2>/dev/null || echo 1)
    if [ "$status" -ne 0 ]; then
        failures=$((failures + 1))
        continue
    fi
    if [ "$merge" -eq 1 ]; then
        corpus=tests/fuzz/corpus/$name
        before=$(find "$corpus" -type f | wc -l)
        if "$build_dir/tests/fuzz/${name}_fuzz" -merge=1 -rss_limit_mb="$rss_limit_mb" "$corpus" \
            "$build_dir/scratch/$name" >>"$build_dir/logs/$name.log" 2>&1; then
            after=$(find "$corpus" -type f | wc -l)
            echo "fuzz $name: merged $((after - before)) new inputs into $corpus"
        else
            echo "run-fuzz: merging into $corpus failed; see $build_dir/logs/$name.log" >&2
            failures=$((failures + 1))
        fi
    fi
done

if [ "$failures" -ne 0 ]; then
    echo "run-fuzz: $failures target(s) failed" >&2
    exit 1
fi
