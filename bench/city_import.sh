#!/usr/bin/env bash
# The real city's speed (issue 11 item 7), in one JSON line, with the limits measured in the same
# run beside it:
#   import_rows_per_s   opswall-ingest --csv: the whole MyLA311 file → events in a real Redis
#                       (parse, map, zone, polygon, validate, FCALL ow_append), rows per second
#   csv_only_rows_per_s the same without Redis (--ndjson to /dev/null): the CSV side's own limit
#   append_limit_per_s  opswall-ingest of the same events as NDJSON: the shared append path's rate
#   replay_ms           opswall-engine --replay of all five days (every event, in time order)
# Each figure is the median of RUNS runs (default 5). Usage: bench/city_import.sh [BUILD_BIN] [RUNS]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=${1:-build/bin}
RUNS=${2:-5}
BIN=$(cd "$BIN" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
CSV=$SRC/assets/cities/la311/MyLA311_Service_Request_Data_2017_Subset.csv
MAP=$SRC/config/mappings/la311.json
CFG=$SRC/config/la311.json
tmp=$(mktemp -d /tmp/ow-city-bench.XXXXXX)
cleanup() { bench_redis_stop "$tmp"; rm -rf "$tmp"; }
trap cleanup EXIT
bench_redis "$tmp" yes
R() { redis-cli -s "$tmp/r.sock" "$@" >/dev/null; }
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

rows=$(($(wc -l <"$CSV") - 1))
"$BIN/opswall-ingest" --config "$CFG" --csv "$MAP" "$CSV" --ndjson >"$tmp/events.ndjson" 2>/dev/null
events=$(wc -l <"$tmp/events.ndjson")
for _ in $(seq "$RUNS"); do
  R FLUSHALL
  t0=$(ms); "$BIN/opswall-ingest" --config "$CFG" --csv "$MAP" "$CSV" >/dev/null 2>&1; t1=$(ms)
  echo $((t1 - t0)) >>"$tmp/import"
  t0=$(ms); "$BIN/opswall-ingest" --config "$CFG" --csv "$MAP" "$CSV" --ndjson >/dev/null 2>&1; t1=$(ms)
  echo $((t1 - t0)) >>"$tmp/csv"
  R FLUSHALL
  t0=$(ms); "$BIN/opswall-ingest" --config "$CFG" "$tmp/events.ndjson" >/dev/null 2>&1; t1=$(ms)
  echo $((t1 - t0)) >>"$tmp/append"
  t0=$(ms); "$BIN/opswall-engine" --config "$CFG" --replay "$tmp/events.ndjson" >/dev/null 2>&1; t1=$(ms)
  echo $((t1 - t0)) >>"$tmp/replay"
done
imp=$(median <"$tmp/import"); csv=$(median <"$tmp/csv"); app=$(median <"$tmp/append"); rep=$(median <"$tmp/replay")
printf '{"bench":"city.la311","rows":%d,"events":%d,"runs":%d,"import_ms":%d,"import_rows_per_s":%.0f,"import_events_per_s":%.0f,"csv_only_rows_per_s":%.0f,"append_limit_events_per_s":%.0f,"import_vs_append_limit":%.2f,"replay_ms":%d,"replay_events_per_s":%.0f,"how":"bench/city_import.sh %s %d; each process timed whole (start-up, GeoJSON and zone loading included), median of runs"}\n' \
  "$rows" "$events" "$RUNS" "$imp" "$(echo "$rows * 1000 / $imp" | bc -l)" "$(echo "$events * 1000 / $imp" | bc -l)" \
  "$(echo "$rows * 1000 / $csv" | bc -l)" "$(echo "$events * 1000 / $app" | bc -l)" \
  "$(echo "($events * 1000 / $imp) / ($events * 1000 / $app)" | bc -l)" "$rep" "$(echo "$events * 1000 / $rep" | bc -l)" \
  "${1:-build/bin}" "$RUNS"
