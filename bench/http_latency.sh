#!/usr/bin/env bash
# Acknowledgement latency of ingest's HTTP source under a steady load, through a real Redis (AOF
# on, unix socket): bench/http_load sends RATE events/s as keep-alive POSTs of PER_REQ events on
# CONNS connections and measures each request from its scheduled send to the end of its answer
# (sent once every event of it is in Redis). One JSON line.
# Usage: bench/http_latency.sh [BUILD_BIN] [RATE] [SECONDS] [CONNS] [PER_REQ]
#        (default build/bin 20000 10 4 100)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=$(cd "${1:-build/bin}" && pwd)
RATE=${2:-20000} SECS=${3:-10} CONNS=${4:-4} PER_REQ=${5:-100}
tmp=$(mktemp -d /tmp/ow-http-bench.XXXXXX)
IPID=
cleanup() {
  [ -n "$IPID" ] && kill "$IPID" 2>/dev/null || true
  bench_redis_stop "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT
bench_redis "$tmp" yes
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
