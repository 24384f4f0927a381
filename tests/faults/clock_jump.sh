#!/usr/bin/env bash
# Issue 9, faults: the engine's wall clock jumps (libfaketime, Debian's faketime package, with the
# offset read from a file on every call; the monotonic clock stays real, as in a real NTP step).
# Live mode (--clock wall): SLA crossings fire by the wall clock. What must hold, checked:
#   - a jump back by 1 h: the engine keeps running and applying events, raises no alert twice and
#     no SLA crossing after the (new) wall clock (flags carry their events' time);
#   - a jump forward by 3 h: the crossings that fell due in the skipped hours fire at once (more
#     alerts, every SLA crossing stamped at or before the new wall clock), still no id twice;
#   - every event is applied once throughout (events_applied = XLEN).
# The event-clock half (replay and --clock event) does not read the wall clock; it is covered by
# the kill and outage tests, which compare with a batch --replay.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
lib=$(ls /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
[ -n "$lib" ] || { echo "SKIP: libfaketime not installed (apt-get install faketime)"; exit 77; }
tmp=$(mktemp -d /tmp/ow-faults-clock.XXXXXX)
ENGINE=
cleanup() {
  set +e # the status of finish stands, whatever a kill or wait below returns
  [ -n "$ENGINE" ] && kill -9 "$ENGINE" 2>/dev/null
  [ -n "${REDIS_PID:-}" ] && stop_pid "$REDIS_PID"
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
faults_config "$tmp" 0
start_redis "$tmp/redis"
sock=$tmp/redis/redis.sock
export OPSWALL_REDIS_URL="unix://$sock"
R() { redis-cli -s "$sock" "$@"; }

# the last 3 hours of a busy city, up to now (ts ≤ the real wall clock)
start=$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%S+00:00)
"$BIN/opswall-sim" --seed 41 --orders-per-hour 120 --start "$start" --duration 3h --out "$tmp/a.ndjson"
split -n l/3 -d "$tmp/a.ndjson" "$tmp/part."
ingest() { "$BIN/opswall-ingest" --config "$CFG" "$tmp/part.0$1" 2>> "$tmp/ingest.log"; }

offset=$tmp/offset
echo "+0" > "$offset"
FAKETIME_TIMESTAMP_FILE=$offset FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD=$lib \
  "$BIN/opswall-engine" --config "$CFG" --clock wall >> "$tmp/engine.log" 2>&1 &
ENGINE=$!

# alerts_ok OFFSET_S [SKIP]: ids unique; no SLA crossing raised after the first SKIP alerts (those
# raised before the jump) stamped after the engine's wall clock (real + OFFSET_S)
alerts_ok() {
  R --raw xrange 'ops:{p0}:alerts' - + | awk 'prev=="d"{print} {prev=$0}' > "$tmp/alerts.ndjson"
  python3 - "$tmp/alerts.ndjson" "$1" "${2:-0}" <<'PY'
import json, sys, time, datetime
live = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ids = [a["id"] for a in live]
now = time.time() + int(sys.argv[2]) + 2
def t(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
# SLA crossings fire by the wall clock; flags are stamped with the time of the events behind them
late = [a for a in live[int(sys.argv[3]):] if a["id"].startswith("sla:") and t(a["at"]) > now]
print(f"     alerts {len(live)}, distinct {len(set(ids))}, SLA crossings stamped after the clock {len(late)}")
sys.exit(0 if len(ids) == len(set(ids)) and not late else 1)
PY
}
nalerts() { R xlen 'ops:{p0}:alerts'; }

check "part 0 applied at the real time" bash -c "$(declare -f ingest); BIN='$BIN' CFG='$CFG' tmp='$tmp' ingest 0"
check "engine applies part 0" wait_for 30 all_applied "$sock"
sleep 1.5
check "alerts unique and not in the future" alerts_ok 0
a0=$(nalerts)

echo "-3600" > "$offset"
sleep 2
check "jump back 1 h: part 1 ingested" ingest 1
check "jump back 1 h: engine applies part 1" wait_for 30 all_applied "$sock"
sleep 1.5
check "jump back 1 h: engine running" kill -0 "$ENGINE"
check "jump back 1 h: no alert twice, no new crossing after the new clock" alerts_ok -3600 "$a0"
a1=$(nalerts)

echo "+10800" > "$offset"
sleep 2
check "jump forward 3 h: part 2 ingested" ingest 2
check "jump forward 3 h: engine applies part 2" wait_for 30 all_applied "$sock"
sleep 1.5
a2=$(nalerts)
check "jump forward 3 h: the crossings of the skipped hours fired ($a1 -> $a2 alerts)" test "$a2" -gt "$a1"
check "jump forward 3 h: no alert twice, none after the clock" alerts_ok 10800 "$a1"
check "jump forward 3 h: engine running" kill -0 "$ENGINE"
now_ms=$(snap_field "$sock" now_ms)
check "snapshot's clock follows the jump (now_ms $now_ms)" test "$now_ms" -gt "$((($(date +%s) + 10000) * 1000))"
echo "figures: events=$(R xlen 'ops:{p0}:events') alerts: start=$a0 after_back=$a1 after_forward=$a2"
kill -TERM "$ENGINE"; wait "$ENGINE" 2>/dev/null || true; ENGINE=
finish
