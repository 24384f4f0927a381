#!/usr/bin/env bash
# The largest number of websocket viewers for which opswall-feed still delivers every delta with
# p99 publish → receipt ≤ P99_MS: bench/feed_load.sh at N viewers, N doubled from START while it
# holds, then bisected between the last N that held and the first that did not, down to STEP.
# Prints one JSON line with every run (viewers, p99, delivered/expected, CPU per message on both
# sides) and the load average, since the answer depends on what else the machine runs.
#   bench/feed_load_max.sh [BUILD_BIN] [SECONDS]
#   env: START (500), STEP (250), P99_MS (100), MAX (40000); PROCS, RATE, PAD, PAD_FROM, DEFLATE,
#        WORKERS, THREADS, NAP, LIMIT (0 here: the bare-TCP limit of each run is skipped) as
#        feed_load.sh (e.g. WORKERS=2 bench/feed_load_max.sh build/bin 10)
set -euo pipefail
BIN=${1:-build/bin}; SECS=${2:-10}
START=${START:-500}; STEP=${STEP:-250}; P99_MS=${P99_MS:-100}; MAX=${MAX:-40000}
HERE=$(cd "$(dirname "$0")" && pwd)
runs=()
# 0 when N viewers meet the target; the run's JSON line goes to runs
meets() {
  local out
  out=$(LIMIT=${LIMIT:-0} "$HERE/feed_load.sh" "$BIN" "$1" "$SECS" 2>/dev/null) || return 2
  runs+=("$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps({k: d.get(k) for k in ("workers","send_threads","nap_us","clients","delivered","expected","p50_ms","p99_ms","feed_us_per_msg","view_us_per_msg","view_wakeups_per_msg","feed_cpu_cores","view_cpu_cores","feed_rss_kb","loadavg")}, separators=(",",":")))' "$out")")
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["all_ready"] and d["expected"] > 0 and d["delivered"] == d["expected"] and d["p99_ms"] <= float(sys.argv[2]) else 1)' "$out" "$P99_MS"
}
good=0 bad=0 n=$START
while [ "$n" -le "$MAX" ]; do
  if meets "$n"; then good=$n; n=$((n * 2)); else bad=$n; break; fi
done
if [ "$bad" -gt 0 ]; then
  lo=$good hi=$bad
  while [ $((hi - lo)) -gt "$STEP" ]; do
    mid=$(((lo + hi) / 2))
    if meets "$mid"; then lo=$mid; else hi=$mid; fi
  done
  good=$lo bad=$hi
fi
printf '{"bench":"feed_load_max","p99_target_ms":%s,"max_viewers":%d,"first_failing":%d,"step":%d,"window_s":%s,"runs":[%s],"cores":%d,"loadavg":"%s"}\n' \
  "$P99_MS" "$good" "$bad" "$STEP" "$SECS" "$(IFS=,; echo "${runs[*]}")" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
