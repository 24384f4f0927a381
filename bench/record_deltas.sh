#!/usr/bin/env bash
# Record the engine's real deltas for bench/feed_load.sh DELTAS=...: opswall-run (private Redis,
# engine, ingest with the simulator; no feed, no wallboard, no notify) on the normal
# simulator day at SPEED × real time, and every delta published on ops:{p0}:deltas for SECONDS,
# one JSON line each.
#   bench/record_deltas.sh [BUILD_BIN] [SECONDS] [OUT] — env SPEED (1), SEED (99)
# bench/data/deltas-normal-day.jsonl: `bench/record_deltas.sh build/bin 120` (2026-11-24: 74
# deltas, 2.4 KB median, 5.2 KB mean).
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd); SECS=${2:-120}
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${3:-$SRC/bench/data/deltas-normal-day.jsonl}
tmp=$(mktemp -d /tmp/ow-deltas.XXXXXX)
RUN=
cleanup() {
  [ -n "$RUN" ] && kill "$RUN" 2>/dev/null && wait "$RUN" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# the repository's configuration with a
# private Redis in tmp; the deltas are read from Redis, so no feed, wallboard or notify
unset DISPLAY OPSWALL_REDIS_URL
OPSWALL_DATA_DIR=$tmp/data "$BIN/opswall-run" --config "$SRC/config/opswall.json" \
  --speed "${SPEED:-1}" --orders-per-hour 240 --techs 60 --seed "${SEED:-99}" \
  --no-feed --no-wallboard --no-notify >"$tmp/run.out" 2>"$tmp/run.log" &
RUN=$!
sock=$tmp/data/redis.sock
for _ in $(seq 300); do redis-cli -s "$sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
timeout "$SECS" redis-cli -s "$sock" --raw subscribe 'ops:{p0}:deltas' >"$tmp/sub.out" || true
grep '^{' "$tmp/sub.out" >"$OUT"
echo "record_deltas: $(wc -l <"$OUT") deltas in $SECS s -> $OUT" >&2
