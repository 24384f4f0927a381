#!/bin/sh
# Fuzz every parser of outside input with libFuzzer.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 60 seconds each, all targets
#   targets: event config redis_url snapshot timefmt checkpoint delta regions csv csvmap tz slotmap
#            lineframe jsonarray notify_config notify_template notify_input wallboard feed_live
#            feed_http merge xrecord holding
#
# Configures a clang build in build-fuzz (-DOPSWALL_FUZZ=ON), builds the fuzz targets, runs each
# for SECONDS over its seed corpus (tests/fuzz/corpus/<target>/, copied into build-fuzz) and
# prints the executions. A crash, leak, timeout or out-of-memory input is copied to
# tests/fuzz/regressions/<target>/ (as <target>-crash-<sha1>; rename it to say what it is), which the unit tests (unit_replay_*) and the fuzz ctest
# (fuzz_*_replay) replay from then on; the script then exits 1.
set -eu

secs=${1:-60}
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
[ $# -gt 0 ] && shift
targets=${*:-event config redis_url snapshot timefmt checkpoint delta regions csv csvmap tz slotmap lineframe jsonarray notify_config notify_template notify_input wallboard feed_live feed_http merge xrecord holding}

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
src=$root/tests/fuzz

command -v clang >/dev/null || { echo "fuzz.sh: clang not found (apt-get install clang)" >&2; exit 2; }
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DOPSWALL_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log" >&2; exit 2; }
rm -f "$build.configure.log"
build_args=
for t in $targets; do build_args="$build_args --target fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" $build_args >/dev/null ||
    { echo "fuzz.sh: build failed; run: cmake --build $build$build_args" >&2; exit 2; }

max_len() {
    case $1 in
    event | config) echo 4096 ;;
    redis_url) echo 600 ;;
    snapshot) echo 2048 ;;
    timefmt) echo 64 ;;
    notify_config | regions | wallboard | feed_live) echo 8192 ;;
    merge) echo 16384 ;;
    notify_template | feed_http) echo 1024 ;;
    notify_input) echo 2048 ;;
    *) echo 4096 ;;
    esac
}

failed=0
printf '%-10s %14s %8s %8s  %s\n' target execs exec/s corpus result
for t in $targets; do
    bin=$build/bin/fuzz_$t
    [ -x "$bin" ] || bin=$build/tests/fuzz/fuzz_$t
    [ -x "$bin" ] || { echo "fuzz.sh: no binary for $t" >&2; exit 2; }
    work=$build/tests/fuzz/corpus/$t
    art=$build/tests/fuzz/artifacts/$t
    log=$build/tests/fuzz/$t.log
    mkdir -p "$work" "$art" "$src/regressions/$t"
    if [ -d "$src/corpus/$t" ]; then cp -n "$src/corpus/$t"/* "$work"/ 2>/dev/null || true; fi
    rm -f "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-* "$art"/slow-unit-*
    dict=
    [ -f "$src/dict/$t.dict" ] && dict=-dict=$src/dict/$t.dict
    status=0
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 $dict -artifact_prefix="$art/" "$work" "$src/regressions/$t" \
        >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    units=$(find "$work" -type f | wc -l)
    found=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' \) 2>/dev/null)
    if [ -n "$found" ] || [ "$status" -ne 0 ]; then
        failed=1
        result="FAILED (exit $status), log: $log"
        for f in $found; do
            # "<target>-crash-<sha1>": .gitignore drops bare crash-* files, these are kept
            saved=$t-$(basename "$f")
            cp "$f" "$src/regressions/$t/$saved"
            result="$result
    saved tests/fuzz/regressions/$t/$saved"
        done
        printf '%-10s %14s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$units" "$result"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz invariant broken)' "$log" | head -n 5 | sed 's/^/    /'
    else
        printf '%-10s %14s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$units" ok
    fi
done
exit $failed
