#!/usr/bin/env bash
# Configure and build one flavour: scripts/build.sh [plain|asan|fuzz]  → build/, build-asan/, build-fuzz/
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-plain}
jobs=$(nproc 2>/dev/null || echo 2)
case "$flavour" in
  plain) dir=build;      args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)  dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DOPSWALL_SANITIZE=ON) ;;
  fuzz)  dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=Debug -DOPSWALL_FUZZ=ON -DCMAKE_C_COMPILER=clang) ;;
  *) echo "usage: scripts/build.sh [plain|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j"$jobs"
