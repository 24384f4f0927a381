#!/usr/bin/env bash
# Record the engine's real deltas for bench/feed_load.sh DELTAS=...: opswall-run (private Redis,
# engine, ingest with the simulator; no feed viewers, no wallboard, no notify) on the normal
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
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/config"
python3 - "$SRC" "$tmp" "$port" <<'PY'
import json, sys
src, tmp, port = sys.argv[1:4]
c = json.load(open(src + "/config/opswall.json"))
c["redis"]["data_dir"] = tmp + "/data"
c["feed"]["port"] = int(port)
c["feed"]["web_root"] = src + "/assets/web"
c["city"]["regions"] = src + "/assets/cities/sample/regions.geojson"
c["notify"]["config"] = src + "/config/notify.json"
json.dump(c, open(tmp + "/config/opswall.json", "w"), indent=2)
PY
unset DISPLAY OPSWALL_REDIS_URL OPSWALL_DATA_DIR OPSWALL_FEED_PORT
"$BIN/opswall-run" --config "$tmp/config/opswall.json" --speed "${SPEED:-1}" --orders-per-hour 240 \
  --techs 60 --seed "${SEED:-99}" --no-wallboard --no-notify >"$tmp/run.out" 2>"$tmp/run.log" &
RUN=$!
sock=$tmp/data/redis.sock
for _ in $(seq 300); do redis-cli -s "$sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
timeout "$SECS" redis-cli -s "$sock" --raw subscribe 'ops:{p0}:deltas' >"$tmp/sub.out" || true
grep '^{' "$tmp/sub.out" >"$OUT"
echo "record_deltas: $(wc -l <"$OUT") deltas in $SECS s -> $OUT" >&2
