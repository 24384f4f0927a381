#!/usr/bin/env bash
# Issue 4, recovery: the engine is killed with SIGKILL 20 times at random moments while it works
# through a long event log in Redis (event-time clock). After it finishes, the set of alerts in
# ops:{p0}:alerts and the final snapshot must equal an uninterrupted batch run over the same
# events: no alert lost, none doubled.
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
KILLS=${KILLS:-20}
tmp=$(mktemp -d /tmp/ow-recovery.XXXXXX)
cleanup() { [ -n "${ENGINE:-}" ] && kill -9 "$ENGINE" 2>/dev/null; [ -n "${REDIS_PID:-}" ] && stop_pid "$REDIS_PID"; rm -rf "$tmp"; }
trap cleanup EXIT
RANDOM=42

start_redis "$tmp/redis"
export OPSWALL_REDIS_URL="unix://$tmp/redis/redis.sock"
R() { redis-cli -s "$tmp/redis/redis.sock" "$@"; }
# small batches and a short publish interval so the run is long enough to be interrupted often
python3 - "$SRC/config/opswall.json" "$tmp/opswall.json" "$SRC" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["engine"]["batch"] = 200
c["engine"]["checkpoint_interval"] = "300ms"
# closed orders forgotten 6 simulated hours after their latest event (the repeat-visit window may
# not be longer): the 30 hours forget thousands of them between kills and checkpoints, and the
# recovered engine must forget, and ignore late events of, the same ones as the batch run
c["engine"]["closed_retention"] = "6h"
c["flags"]["repeat_visit"]["window"] = "6h"
c["redis"]["data_dir"] = "/nonexistent-unused"
c["city"]["regions"] = sys.argv[3] + "/assets/cities/sample/regions.geojson"
json.dump(c, open(sys.argv[2], "w"))
PY
mkdir -p "$tmp/config" && mv "$tmp/opswall.json" "$tmp/config/"
CFG="$tmp/config/opswall.json"

"$BIN/opswall-sim" --seed 11 --orders-per-hour 400 --duration 30h --out "$tmp/events.ndjson"
"$BIN/opswall-ingest" --config "$CFG" "$tmp/events.ndjson" 2> "$tmp/ingest.log"
n=$(R xlen 'ops:{p0}:events')
check "events in the log ($n)" test "$n" -gt 20000

# the reference: the same entries, in stream order, through the batch mode with no Redis
R --raw xrange 'ops:{p0}:events' - + | awk 'prev=="d"{print} {prev=$0}' > "$tmp/stream.ndjson"
check "exported every stream entry" test "$(wc -l < "$tmp/stream.ndjson")" = "$n"
"$BIN/opswall-engine" --config "$CFG" --replay "$tmp/stream.ndjson" > "$tmp/reference.json" 2> "$tmp/replay.log"

kills=0
for i in $(seq "$KILLS"); do
  "$BIN/opswall-engine" --config "$CFG" --clock event >> "$tmp/engine.log" 2>&1 &
  ENGINE=$!
  sleep "0.$((RANDOM % 7 + 2))"
  if kill -9 "$ENGINE" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$ENGINE" 2>/dev/null || true
done
check "engine killed $KILLS times ($kills while working)" test "$kills" -ge $((KILLS - 2))

"$BIN/opswall-engine" --config "$CFG" --clock event >> "$tmp/engine.log" 2>&1 &
ENGINE=$!
done_applying() {
  local applied
  # the slow members (analytics, flags, escalations) follow within engine.analytics_interval
  applied=$(R --raw get 'ops:{p0}:snapshot' | python3 -c 'import json,sys; d=json.load(sys.stdin); print(min(d["events_applied"], d.get("analytics_events", 0)))' 2>/dev/null)
  [ "${applied:-0}" = "$n" ]
}
check "engine catches up after the kills" wait_for 180 done_applying
kill -TERM "$ENGINE"; wait "$ENGINE" 2>/dev/null || true; ENGINE=

R --raw get 'ops:{p0}:snapshot' > "$tmp/final.json"
R --raw xrange 'ops:{p0}:alerts' - + | awk 'prev=="d"{print} {prev=$0}' > "$tmp/alerts.ndjson"
python3 - "$tmp/reference.json" "$tmp/final.json" "$tmp/alerts.ndjson" <<'PY' && ok "alerts and snapshot equal the uninterrupted run" || fail "alerts or snapshot differ"
import json, sys
ref = json.load(open(sys.argv[1]))
final = json.load(open(sys.argv[2]))
live = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
ref_alerts = {(a["id"], a["at"]) for a in ref["alerts"]}
ids = [a["id"] for a in live]
live_alerts = {(a["id"], a["at"]) for a in live}
print(f"reference alerts {len(ref['alerts'])}, live alerts {len(live)}, distinct {len(set(ids))}")
bad = False
if len(ids) != len(set(ids)):
    print("doubled:", len(ids) - len(set(ids))); bad = True
if ref_alerts != live_alerts:
    print("lost:", sorted(ref_alerts - live_alerts)[:5], "extra:", sorted(live_alerts - ref_alerts)[:5]); bad = True
a, b = dict(ref["snapshot"]), dict(final)
for k in ("seq", "stream_last"):
    a.pop(k, None); b.pop(k, None)
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k): print("snapshot differs at", k, str(a.get(k))[:200], "|", str(b.get(k))[:200])
    bad = True
sys.exit(1 if bad else 0)
PY
check "a checkpoint was used on restart" grep -q "resumed from the checkpoint" "$tmp/engine.log"
# the retention was at work: far fewer orders known at the end than the run created
created=$(grep -c '"type":"order.created"' "$tmp/stream.ndjson")
read -r known open < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["orders_known"], d["open"]["total"])' "$tmp/final.json")
# of the orders no longer open, those of the last 6 of 30 hours (and their late events) are kept
check "closed orders forgotten ($known known, $open open, of $created created)" \
  test "$(((known - open) * 2))" -lt "$((created - open))"
finish
