#!/usr/bin/env bash
# Routed (partitioned) ingest on one private Redis, side by side with the single-node appender on
# the same file in the same run (the reference: no routing). One JSON object per line:
#   routed.reference   cluster.partitions 1: the asynchronous appender, FCALL ow_ingest
#   routed.file        cluster.partitions 3: files through the router (for each binary given)
#   routed.tcp         cluster.partitions 3: the same lines through the TCP listener, one
#                      producer (tests/integration/cluster_producer.py, as fast as it can)
# Each with wall time, events/s, ingest's CPU seconds (user+sys) and Redis's (main thread): on a
# shared machine CPU per event says more than the wall clock.
# Usage: bench/routed_ingest.sh BUILD_BIN [OTHER_BUILD_BIN] [HOURS]   (default HOURS 240 = 119 k
#        lines); OTHER_BUILD_BIN (e.g. main's build) runs routed.file too, for a comparison.
#        Build with -DCMAKE_BUILD_TYPE=RelWithDebInfo.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=$(cd "$1" && pwd)
OTHER=${2:-}
[ -z "$OTHER" ] || OTHER=$(cd "$OTHER" && pwd)
HOURS=${3:-240}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/ow-routed-bench.XXXXXX)
cleanup() { bench_redis_stop "$tmp"; rm -rf "$tmp"; }
trap cleanup EXIT
bench_redis "$tmp" yes
for n in 1 3; do
  python3 - "$ROOT/config/opswall.json" "$tmp/p$n.json" "$n" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["cluster"]["partitions"] = int(sys.argv[3])
json.dump(c, open(sys.argv[2], "w"))
PY
done
"$BIN/opswall-sim" --seed 5 --duration "${HOURS}h" --threads 1 --out "$tmp/ev.ndjson" 2>/dev/null
lines=$(wc -l < "$tmp/ev.ndjson")
rcpu() { R info cpu | awk -F: '/used_cpu_(user|sys)_main_thread/ {s += $2} END {printf "%.3f", s}'; }
# run NAME BIN CONFIG [args]: ingest the file, print the JSON line
run() {
  local name=$1 bin=$2 conf=$3
  shift 3
  R flushall > /dev/null
  local c0 t0 t1 c1
  c0=$(rcpu); t0=$(now)
  /usr/bin/time -f "%U %S" -o "$tmp/time" "$bin/opswall-ingest" --config "$conf" --quiet "$@" 2> "$tmp/log" > /dev/null
  t1=$(now); c1=$(rcpu)
  python3 -c "import json,sys; u,s=open('$tmp/time').read().split()[-2:]; w=$t1-$t0
print(json.dumps({'bench':'$name','bin':'$bin','lines':$lines,'wall_s':round(w,3),'events_per_s':round($lines/w),
 'ingest_cpu_s':round(float(u)+float(s),3),'redis_cpu_s':round($c1-$c0,3)}))"
}
run routed.reference "$BIN" "$tmp/p1.json" "$tmp/ev.ndjson"
run routed.file "$BIN" "$tmp/p3.json" "$tmp/ev.ndjson"
[ -z "$OTHER" ] || run routed.file "$OTHER" "$tmp/p3.json" "$tmp/ev.ndjson"
# TCP: the listener until the producer has every answer, then SIGTERM
R flushall > /dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/opswall-ingest" --config "$tmp/p3.json" --tcp "$port" 2> "$tmp/log" &
ing=$!
for _ in $(seq 100); do grep -q "tcp: listening" "$tmp/log" && break; sleep 0.1; done
# ingest's CPU from /proc (user + sys ticks, fields 14 and 15), read before it is stopped
pcpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$ing/stat"; }
c0=$(rcpu); t0=$(now); p0=$(pcpu)
python3 "$ROOT/tests/integration/cluster_producer.py" tcp 127.0.0.1 "$port" "$tmp/ev.ndjson" 1e9 "$tmp/acked" > "$tmp/prod"
t1=$(now); c1=$(rcpu); p1=$(pcpu)
kill -TERM $ing
wait $ing || true
python3 -c "import json; w=$t1-$t0; p=json.load(open('$tmp/prod'))
print(json.dumps({'bench':'routed.tcp','bin':'$BIN','lines':$lines,'answered':p['answered'],'wall_s':round(w,3),
 'events_per_s':round($lines/w),'ingest_cpu_s':round($p1-$p0,3),'redis_cpu_s':round($c1-$c0,3)}))"
