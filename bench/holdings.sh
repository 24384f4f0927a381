#!/usr/bin/env bash
# What the shared stream's holding records cost (docs/scaling.md §4): the same simulator days
# through routed ingest into 3 partitions on one private Redis, then one engine (a child per
# partition) consuming them, for each binary given — this branch's and, for the comparison, one
# without holding records (main's). One JSON object per binary:
#   shared_entries, holdings (entries of ops:{g}:shared that are holding records), partition
#   entries; ingest's CPU seconds; the engine's (parent + its 3 children, user + sys, read from
#   /proc once every partition has applied its stream's last entry); Redis's (main thread).
# On a shared machine CPU seconds say more than the wall clock; run twice and compare.
# Usage: bench/holdings.sh BUILD_BIN [OTHER_BUILD_BIN] [HOURS]   (default HOURS 24; seed 1,
#        scenario normal). Build with -DCMAKE_BUILD_TYPE=RelWithDebInfo for figures.
#        INGEST_BIN=DIR: every run ingests with DIR's opswall-ingest (e.g. main's: this branch's
#        engine on a shared stream without holding records, to isolate what they cost).
#        CALLGRIND=1: the engine under valgrind --tool=callgrind (its forked children too); the
#        line then has engine_instructions (Ir summed over the processes) — slow, use HOURS 24.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOURS=${3:-24}
tmp=$(mktemp -d /tmp/ow-holdings-bench.XXXXXX)
EP=
cleanup() {
  [ -z "$EP" ] || kill -TERM "$EP" 2>/dev/null || true
  bench_redis_stop "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT
bench_redis "$tmp" no
CONF=$("$ROOT/scripts/partitioned_config.py" "$tmp/conf" engine.checkpoint_interval=2s)
BIN1=$(cd "$1" && pwd)
"$BIN1/opswall-sim" --seed 1 --duration "${HOURS}h" --threads 1 --out "$tmp/ev.ndjson" 2>/dev/null
lines=$(wc -l < "$tmp/ev.ndjson")
rcpu() { R info cpu | awk -F: '/used_cpu_(user|sys)_main_thread/ {s += $2} END {printf "%.3f", s}'; }
# user + sys seconds of a process and its children (still running)
tree_cpu() {
  local hz s=0 p
  hz=$(getconf CLK_TCK)
  for p in $1 $(pgrep -P "$1" || true); do
    s=$(awk -v s="$s" -v hz="$hz" '{printf "%.3f", s + ($14 + $15) / hz}' "/proc/$p/stat")
  done
  echo "$s"
}
run() {
  local bin=$1
  R flushall > /dev/null
  local c0 c1 t0 t1
  c0=$(rcpu)
  /usr/bin/time -f "%U %S" -o "$tmp/time" "${INGEST_BIN:-$bin}/opswall-ingest" --config "$CONF" --quiet \
    "$tmp/ev.ndjson" 2> "$tmp/ingest.log" > /dev/null
  local icpu shared holdings parts
  icpu=$(awk '{printf "%.3f", $1 + $2}' "$tmp/time")
  shared=$(R xlen 'ops:{g}:shared')
  holdings=$(R --raw xrange 'ops:{g}:shared' - + | grep -c "^H	" || true)
  parts=$(( $(R xlen 'ops:{p0}:events') + $(R xlen 'ops:{p1}:events') + $(R xlen 'ops:{p2}:events') ))
  t0=$(now)
  local wrap=()
  rm -f "$tmp"/cg.*
  [ -z "${CALLGRIND:-}" ] || wrap=(valgrind --tool=callgrind "--callgrind-out-file=$tmp/cg.%p")
  "${wrap[@]}" "$bin/opswall-engine" --config "$CONF" --clock event 2> "$tmp/engine.log" &
  EP=$!
  local ok=0
  for _ in $(seq 4800); do
    if python3 "$ROOT/tests/integration/cluster_alerts.py" consumed -s "$BENCH_SOCK" 3 2>/dev/null; then
      ok=1
      break
    fi
    sleep 0.25
  done
  t1=$(now)
  local ecpu
  ecpu=$(tree_cpu "$EP")
  c1=$(rcpu)
  kill -TERM "$EP"
  wait "$EP" || true
  EP=
  local ir=0
  if [ -n "${CALLGRIND:-}" ]; then
    for _ in $(seq 100); do [ "$(ls "$tmp"/cg.* 2>/dev/null | wc -l)" -ge 4 ] && break; sleep 0.2; done
    ir=$(cat "$tmp"/cg.* | awk '/^summary:/ {s += $2} END {print s + 0}')
  fi
  local alerts
  alerts=$(( $(R xlen 'ops:{p0}:alerts') + $(R xlen 'ops:{p1}:alerts') + $(R xlen 'ops:{p2}:alerts') ))
  python3 -c "import json; print(json.dumps({'bench': 'holdings', 'bin': '$bin',
 'ingest_bin': '${INGEST_BIN:-$bin}', 'lines': $lines,
 'consumed': bool($ok), 'shared_entries': $shared, 'holdings': $holdings, 'partition_entries': $parts,
 'alert_entries': $alerts, 'ingest_cpu_s': $icpu, 'engine_cpu_s': $ecpu,
 'engine_wall_s': round($t1 - $t0, 2), 'redis_cpu_s': round($c1 - $c0, 3),
 'engine_instructions': $ir}))"
}
run "$BIN1"
[ -z "${2:-}" ] || run "$(cd "$2" && pwd)"
