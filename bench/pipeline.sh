#!/usr/bin/env bash
# Pipeline throughput through a real Redis, side by side with Redis's own limit in the same run:
#   redis.xadd_limit   redis-benchmark pipelined XADD of a payload the size of an average event
#   ingest.append      opswall-ingest: file of simulator events → validate → FCALL ow_ingest
#   engine.consume     opswall-engine: XREADGROUP → model (SLA timers) → alerts → XACK
# One JSON object per line. Usage: [SIM_ARGS="..."] bench/pipeline.sh [BUILD_BIN] [EVENTS]
# (default build/bin 1000000; SIM_ARGS default "--orders-per-hour 3000 --techs 400": an overloaded
# city where nearly every event raises alerts; SIM_ARGS="" gives the simulator's normal day)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=${1:-build/bin}
N=${2:-1000000}
BIN=$(cd "$BIN" && pwd)
tmp=$(mktemp -d /tmp/ow-bench.XXXXXX)
cleanup() { [ -n "${EPID:-}" ] && kill "$EPID" 2>/dev/null; bench_redis_stop "$tmp"; rm -rf "$tmp"; }
trap cleanup EXIT
bench_redis "$tmp" yes

"$BIN/opswall-sim" --seed 5 ${SIM_ARGS---orders-per-hour 3000 --techs 400} --count "$N" --out "$tmp/events.ndjson"
bytes=$(stat -c %s "$tmp/events.ndjson")
avg=$(( bytes / N ))
pay=$(head -c "$avg" /dev/zero | tr '\0' 'x')

limit=$(redis-benchmark -s "$tmp/r.sock" -n 500000 -c 50 -P 64 --csv XADD bench:limit MAXLEN '~' 1000000 '*' d "$pay" | tail -1 | cut -d, -f2 | tr -d '"')
R del bench:limit >/dev/null
printf '{"bench":"redis.xadd_limit","payload_bytes":%d,"per_s":%.0f,"how":"redis-benchmark -P 64 -c 50, AOF everysec, unix socket"}\n' "$avg" "$limit"

t0=$(now)
"$BIN/opswall-ingest" "$tmp/events.ndjson" 2> "$tmp/ingest.log"
t1=$(now)
accepted=$(R xlen 'ops:{p0}:events')
ingest_rate=$(echo "$accepted / ($t1 - $t0)" | bc -l)
printf '{"bench":"ingest.append","events":%d,"seconds":%.2f,"per_s":%.0f,"vs_limit":%.2f,"target_vs_limit":0.5}\n' \
  "$accepted" "$(echo "$t1 - $t0" | bc -l)" "$ingest_rate" "$(echo "$ingest_rate / $limit" | bc -l)"

t0=$(now)
"$BIN/opswall-engine" --clock event > "$tmp/engine.log" 2>&1 &
EPID=$!
while :; do
  # grep, not a python3 per poll: starting an interpreter 20 times a second took a third of a
  # core from the engine and Redis on a 2-core machine (events_applied is a top-level member,
  # written before any nested object)
  applied=$(R --raw get 'ops:{p0}:snapshot' 2>/dev/null | grep -o -m1 '"events_applied":[0-9]*' | cut -d: -f2 || true)
  [ "${applied:-0}" -ge "$accepted" ] && break
  sleep 0.05
done
t1=$(now)
engine_rate=$(echo "$accepted / ($t1 - $t0)" | bc -l)
alerts=$(R xlen 'ops:{p0}:alerts')
printf '{"bench":"engine.consume","events":%d,"seconds":%.2f,"per_s":%.0f,"vs_ingest":%.2f,"target_vs_ingest":0.5,"alerts":%d}\n' \
  "$accepted" "$(echo "$t1 - $t0" | bc -l)" "$engine_rate" "$(echo "$engine_rate / $ingest_rate" | bc -l)" "$alerts"
