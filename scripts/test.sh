#!/usr/bin/env bash
# Every test: installs what is missing, then builds and runs ctest for the plain build, the
# sanitizer build (ASan+UBSan) and a short libFuzzer run, plus the formatting check.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
export OPSWALL_LOG=${OPSWALL_LOG:-info}
jobs=2
status=0

echo "== format check (clang-format, .clang-format)"
if ! git ls-files '*.c' '*.h' | xargs -r clang-format --dry-run --Werror; then
  echo "format check FAILED: run clang-format -i on the files above"; status=1
fi

echo "== plain build"
scripts/build.sh plain
ctest --test-dir build --output-on-failure -j"$jobs" || status=1

echo "== sanitizer build (ASan + UBSan)"
scripts/build.sh asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE nosan || status=1

echo "== fuzz build (libFuzzer, short runs)"
scripts/build.sh fuzz
ctest --test-dir build-fuzz --output-on-failure -j"$jobs" -L fuzz || status=1

if [ $status -ne 0 ]; then echo "TESTS FAILED"; else echo "ALL TESTS PASSED"; fi
exit $status
