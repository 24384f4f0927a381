#!/usr/bin/env bash
# Delivery's intake through a real Redis, beside Redis's own limit in the same run:
#   redis.alert_xadd   the same alert entries written with redis-cli --pipe (the rate they can
#                      arrive at: the engine cannot hand delivery alerts faster than this)
#   notify.consume     opswall-notify: XREADGROUP → parse → route → group → one MULTI/EXEC with
#                      the XACKs, until every entry is read (health "entries"), and the messages
#                      the groups sent to the ops:{p0}:notifications stream receiver
# One JSON object per line. Usage: bench/notify.sh [BUILD_BIN] [ALERTS] [REGIONS]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=${1:-build/bin}
N=${2:-100000}
REGIONS=${3:-100}
BIN=$(cd "$BIN" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/ow-nbench.XXXXXX)
NPID=
cleanup() {
  [ -z "$NPID" ] || kill "$NPID" 2>/dev/null || true
  bench_redis_stop "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT
bench_redis "$tmp" yes

# the alerts: N order alerts over REGIONS regions and levels 1-3, in the engine's format
per=$(( N / REGIONS ))
for r in $(seq 1 "$REGIONS"); do
  python3 "$HERE/../tests/integration/notify_xadd.py" raise "r$r" $(( r % 3 + 1 )) "" -- \
    $(seq -f "B$r-%g" 1 "$per")
done > "$tmp/alerts.resp"
N=$(( per * REGIONS ))
t0=$(now)
R --pipe < "$tmp/alerts.resp" > /dev/null
t1=$(now)
limit=$(echo "$N / ($t1 - $t0)" | bc -l)
printf '{"bench":"redis.alert_xadd","alerts":%d,"per_s":%.0f,"how":"redis-cli --pipe, AOF everysec, unix socket"}\n' "$N" "$limit"

python3 - "$tmp" "$HERE/../config" <<'PY'
import json, sys
t, cfgdir = sys.argv[1:3]
n = json.load(open(cfgdir + '/notify.json'))
n['route'] = {"receiver": "ops-stream", "group_by": ["region", "level"], "group_wait": "0s",
              "group_interval": "1s", "repeat_interval": "1h"}
json.dump(n, open(t + '/notify.json', 'w'), ensure_ascii=False)
c = json.load(open(cfgdir + '/opswall.json'))
c['notify'].update({"config": t + '/notify.json', "poll": "10ms"})
json.dump(c, open(t + '/opswall.json', 'w'))
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
t0=$(now)
"$BIN/opswall-notify" --config "$tmp/opswall.json" --port "$port" > /dev/null 2> "$tmp/notify.log" &
NPID=$!
entries() { curl -sf "http://127.0.0.1:$port/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])' 2>/dev/null || echo 0; }
while [ "$(entries)" -lt "$N" ]; do
  kill -0 "$NPID" 2>/dev/null || { echo "opswall-notify died:" >&2; tail "$tmp/notify.log" >&2; exit 1; }
  sleep 0.05
done
t1=$(now)
rate=$(echo "$N / ($t1 - $t0)" | bc -l)
sleep 1.5 # the groups' first messages (group_wait 0s): one per region and level
msgs=$(R xlen 'ops:{p0}:notifications')
rss=$(awk '/VmHWM/ {print $2}' "/proc/$NPID/status")
printf '{"bench":"notify.consume","alerts":%d,"seconds":%.2f,"per_s":%.0f,"vs_limit":%.2f,"groups":%d,"messages":%d,"peak_rss_kb":%d}\n' \
  "$N" "$(echo "$t1 - $t0" | bc -l)" "$rate" "$(echo "$rate / $limit" | bc -l)" "$REGIONS" "$msgs" "$rss"
