#!/usr/bin/env bash
# Acknowledgement latency of ingest's HTTP source under a steady load, through a real Redis (AOF
# on, unix socket): bench/http_load sends RATE events/s as keep-alive POSTs of PER_REQ events on
# CONNS connections and measures each request from its scheduled send to the end of its answer
# (sent once every event of it is in Redis). One JSON line.
# Usage: bench/http_latency.sh [BUILD_BIN] [RATE] [SECONDS] [CONNS] [PER_REQ]
#        (default build/bin 20000 10 4 100)
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
RATE=${2:-20000} SECS=${3:-10} CONNS=${4:-4} PER_REQ=${5:-100}
tmp=$(mktemp -d /tmp/ow-http-bench.XXXXXX)
IPID=
cleanup() {
  [ -n "$IPID" ] && kill "$IPID" 2>/dev/null || true
  redis-cli -s "$tmp/r.sock" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
redis-server --port 0 --unixsocket "$tmp/r.sock" --dir "$tmp" --save '' --appendonly yes \
  --appendfsync everysec --daemonize yes --logfile "$tmp/redis.log" >/dev/null
for _ in $(seq 100); do redis-cli -s "$tmp/r.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
export OPSWALL_REDIS_URL="unix://$tmp/r.sock"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$(dirname "$0")/../config/opswall.json" "$tmp/opswall.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["ingest"]["http"]["rate"] = 0  # measure ingest, not the limiter
json.dump(c, open(sys.argv[2], "w"))
PY
"$BIN/opswall-ingest" --config "$tmp/opswall.json" --http "$port" 2> "$tmp/ingest.log" &
IPID=$!
for _ in $(seq 100); do grep -q "http: listening" "$tmp/ingest.log" && break; sleep 0.1; done
"$BIN/http_load" 127.0.0.1 "$port" "$RATE" "$SECS" "$CONNS" "$PER_REQ"
