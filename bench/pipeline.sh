#!/usr/bin/env bash
# Pipeline throughput through a real Redis, side by side with Redis's own limit in the same run:
#   redis.xadd_limit   redis-benchmark pipelined XADD of a payload the size of an average event
#   ingest.append      opswall-ingest: file of simulator events → validate → FCALL ow_ingest
#   engine.consume     opswall-engine: XREADGROUP → model (SLA timers) → alerts → XACK
# One JSON object per line. Usage: [SIM_ARGS="..."] [ENGINES="..."] [ROUNDS=n] bench/pipeline.sh [BUILD_BIN] [EVENTS]
# (default build/bin 1000000; SIM_ARGS default "--orders-per-hour 3000 --techs 400": an overloaded
# city where nearly every event raises alerts; SIM_ARGS="" gives the simulator's normal day)
#
# Side by side: ENGINES="main=/path/to/old/opswall-engine new=build/bin/opswall-engine" ROUNDS=2
# consumes the same ingested stream with each engine in turn (ROUNDS times, alternating), the
# engine's keys and its group reset and the AOF rewritten between runs, so every run starts from
# the same Redis. Each engine.consume line also gives CPU per event (µs): the engine process (its
# checkpoint children included once reaped), Redis's main thread, Redis's children (AOF rewrites),
# and the load average at the end of the run: on a shared machine the wall clock follows the load
# more than the code, the CPU per event much less.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=${1:-build/bin}
N=${2:-1000000}
BIN=$(cd "$BIN" && pwd)
ENGINES=${ENGINES:-engine=$BIN/opswall-engine}
ROUNDS=${ROUNDS:-1}
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

# Redis's CPU seconds so far: main thread, and children (AOF rewrites)
redis_cpu() {
  R info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user)_main_thread:/ {m += $2}
    /^used_cpu_(sys|user)_children:/ {c += $2} END {printf "%.6f %.6f\n", m, c}'
}
# the engine's CPU seconds: its own, and its reaped children's (the checkpoint writers)
proc_cpu() {
  local hz; hz=$(getconf CLK_TCK)
  awk -v hz="$hz" '{sub(/^.*\) /, ""); printf "%.6f %.6f\n", ($12 + $13) / hz, ($14 + $15) / hz}' "/proc/$1/stat"
}
# back to the stream as ingest left it: no group, no engine output, the AOF rewritten
reset_engine_keys() {
  R xgroup destroy 'ops:{p0}:events' engine >/dev/null 2>&1 || true
  local k
  for k in $(R --raw keys 'ops:*' | grep -v -e '^ops:{p0}:events$' -e '^ops:{p0}:dedup' -e '^ops:{p0}:rejects$' || true); do
    R del "$k" >/dev/null
  done
  while R info persistence | grep -q 'aof_rewrite_in_progress:1'; do sleep 0.1; done
  R bgrewriteaof >/dev/null
  sleep 0.2
  while R info persistence | grep -q 'aof_rewrite_in_progress:1'; do sleep 0.1; done
}

run_engine() { # label path
  local label=$1 exe=$2
  reset_engine_keys
  read -r rm0 rc0 < <(redis_cpu)
  t0=$(now)
  "$exe" --clock event > "$tmp/engine.log" 2>&1 &
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
  read -r eu ec < <(proc_cpu "$EPID")
  # the engine's time on a CPU and waiting for one (ns); the rest of the wall clock it slept,
  # waiting for Redis: the share of that says how well the two overlap
  read -r erun ewait _ < "/proc/$EPID/schedstat"
  read -r rm1 rc1 < <(redis_cpu)
  kill "$EPID"; wait "$EPID" 2>/dev/null || true
  EPID=
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  engine_rate=$(echo "$accepted / ($t1 - $t0)" | bc -l)
  alerts=$(R xlen 'ops:{p0}:alerts')
  changes=$(R xlen 'ops:{p0}:alert_changes')
  us() { echo "($1) * 1000000 / $accepted" | bc -l; }
  printf '{"bench":"engine.consume","engine":"%s","events":%d,"seconds":%.2f,"per_s":%.0f,"vs_ingest":%.2f,"target_vs_ingest":0.5,"alerts":%d,"alert_changes":%d,"cpu_us_per_event":{"engine":%.2f,"engine_children":%.2f,"redis_main":%.2f,"redis_children":%.2f},"engine_waits_for_redis":%.2f,"engine_waits_for_cpu":%.2f,"load":%s}\n' \
    "$label" "$accepted" "$(echo "$t1 - $t0" | bc -l)" "$engine_rate" "$(echo "$engine_rate / $ingest_rate" | bc -l)" \
    "$alerts" "$changes" "$(us "$eu")" "$(us "$ec")" "$(us "$rm1 - $rm0")" "$(us "$rc1 - $rc0")" \
    "$(echo "1 - ($erun + $ewait) / 1000000000 / ($t1 - $t0)" | bc -l)" "$(echo "$ewait / 1000000000 / ($t1 - $t0)" | bc -l)" "$load"
}

for _ in $(seq "$ROUNDS"); do
  for e in $ENGINES; do
    run_engine "${e%%=*}" "${e#*=}"
  done
done
