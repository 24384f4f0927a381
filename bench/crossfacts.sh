#!/usr/bin/env bash
# The engine's CPU on a partitioned deployment with and without the cross-partition records
# (core/xrecord.h, engine/crossfacts.h; docs/scaling.md §4): the same simulator hours routed to 3
# partitions on one private redis-server by each build's own ingest, then one engine (serving the
# 3 partitions) started on the backlog and timed until its snapshots name the streams' last
# entries. One JSON object per line per build:
#   crossfacts.engine  lines, shared-stream entries, records among them, the engine's CPU seconds
#                      (supervisor + the 3 partition engines, user + sys, from /proc), wall time
# On a shared machine CPU says more than the wall clock, and instructions more than CPU: with
# CALLGRIND=1 the engine runs under callgrind (its children too) and `engine_instructions` sums
# their counts (use HOURS 24 then: callgrind is ~50x slower).
# Usage: bench/crossfacts.sh BUILD_BIN [OTHER_BUILD_BIN] [HOURS]   (default HOURS 240: 10 days)
#        OTHER_BUILD_BIN: e.g. main's build, for the comparison. Build with RelWithDebInfo.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=$(cd "$1" && pwd)
OTHER=${2:-}
[ -z "$OTHER" ] || OTHER=$(cd "$OTHER" && pwd)
HOURS=${3:-240}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/ow-xfacts-bench.XXXXXX)
EP=
cleanup() { [ -z "$EP" ] || kill -KILL "$EP" 2>/dev/null || true; bench_redis_stop "$tmp"; rm -rf "$tmp"; }
trap cleanup EXIT
CONF=$("$ROOT/scripts/partitioned_config.py" "$tmp/d")
"$BIN/opswall-sim" --seed 5 --duration "${HOURS}h" --threads 1 --out "$tmp/ev.ndjson" 2>/dev/null
lines=$(wc -l < "$tmp/ev.ndjson")
bench_redis "$tmp" no
HZ=$(getconf CLK_TCK)
# user + sys of a process and its live children (fields 14, 15 of /proc/PID/stat)
cpu() {
  local t=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  python3 -c "print(round($t / $HZ, 3))"
}
run() {
  local bin=$1
  R flushall > /dev/null
  "$bin/opswall-ingest" --config "$CONF" --quiet "$tmp/ev.ndjson" 2> "$tmp/ingest.log" > /dev/null
  local shared records t0 t1 c
  shared=$(R xlen 'ops:{g}:shared')
  records=$(R --raw xrange 'ops:{g}:shared' - + | grep -c '^\[' || true)
  t0=$(now)
  local pre=()
  rm -f "$tmp"/cg.*
  [ "${CALLGRIND:-0}" = 1 ] &&
    pre=(valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$tmp/cg.%p")
  "${pre[@]}" "$bin/opswall-engine" --config "$CONF" --clock event 2> "$tmp/engine.log" &
  EP=$!
  until python3 "$ROOT/tests/integration/cluster_alerts.py" consumed -s "$BENCH_SOCK" 3; do
    kill -0 "$EP" 2>/dev/null || { cat "$tmp/engine.log" >&2; exit 1; }
    sleep 0.5
  done
  t1=$(now)
  c=$(cpu "$EP")
  kill -TERM "$EP"; wait "$EP" || true; EP=
  sleep 1 # callgrind writes its counts at exit
  local ins
  ins=$( (cat "$tmp"/cg.* 2>/dev/null || true) | awk '/^summary:/ {s += $2} END {print s + 0}')
  python3 -c "import json; print(json.dumps({'bench':'crossfacts.engine','bin':'$bin','lines':$lines,
 'shared_entries':$shared,'records':$records,'engine_cpu_s':$c,'engine_instructions':$ins,
 'wall_s':round($t1-$t0,3)}))"
}
run "$BIN"
[ -z "$OTHER" ] || run "$OTHER"
