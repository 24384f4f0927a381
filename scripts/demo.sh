#!/usr/bin/env bash
# The demo, from a fresh Debian machine: install, build, and run everything — a private Redis,
# the engine, ingest fed by the simulator, the feed with the browser viewer, and the wallboard.
# Without a display the wallboard renders offscreen and says where its pictures go.
#   scripts/demo.sh [opswall-run options, e.g. --scenario rainstorm --speed 60]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh plain
exec build/bin/opswall-run "$@"
