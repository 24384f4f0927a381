#!/usr/bin/env bash
# Latency from an event appended to the delta that contains it, at a steady rate, with the
# configuration's intervals (deltas every 25 ms at most, full snapshots every 250 ms). One JSON line.
#   bench/latency.sh [BUILD_BIN] [RATE] [SECONDS]     (default build/bin 20000 10)
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd); RATE=${2:-20000}; SECS=${3:-10}
SRC=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/ow-lat.XXXXXX)
cleanup() { [ -n "${EPID:-}" ] && kill "$EPID" 2>/dev/null; redis-cli -s "$tmp/r.sock" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
for interval in ${INTERVALS:-25ms}; do
  redis-cli -s "$tmp/r.sock" shutdown nosave >/dev/null 2>&1 || true
  sleep 0.3
  redis-server --port 0 --unixsocket "$tmp/r.sock" --dir "$tmp" --save '' --appendonly yes \
    --daemonize yes --logfile "$tmp/redis.log" >/dev/null
  for _ in $(seq 100); do redis-cli -s "$tmp/r.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export OPSWALL_REDIS_URL="unix://$tmp/r.sock"
  mkdir -p "$tmp/config"
  python3 -c "import json,sys,os; c=json.load(open('$SRC/config/opswall.json')); c['engine']['delta_interval']='$interval'; c['engine']['checkpoint_interval']=os.environ.get('CKPT','5s'); c['city']['regions']='$SRC/assets/cities/sample/regions.geojson'; json.dump(c,open('$tmp/config/opswall.json','w'))"
  "$BIN/opswall-engine" --config "$tmp/config/opswall.json" > "$tmp/engine.log" 2>&1 &
  EPID=$!
  for _ in $(seq 100); do redis-cli -s "$tmp/r.sock" exists 'ops:{p0}:snapshot' | grep -q 1 && break; sleep 0.1; done
  "$BIN/latency" "$RATE" "$SECS" | sed "s/}\$/,\"publish_interval\":\"$interval\"}/"
  kill "$EPID"; wait "$EPID" 2>/dev/null || true; EPID=
done
