#!/usr/bin/env bash
# Issue 2, the walking skeleton end to end: `opswall-run` starts a private Redis, the engine, the
# feed and ingest of the sample city's event file. The open orders per priority — worked out by
# hand in assets/cities/sample/events.expected.json ("open_effective": by the priority the engine
# handles them with, after the segment overrides of DESIGN §4) — must appear in the snapshot in Redis, in
# the feed's HTTP API, on the websocket, and in a wallboard screenshot. Ctrl-C then stops
# everything, the private Redis included.
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/ow-e2e.XXXXXX)
RUN=
cleanup() { [ -n "$RUN" ] && kill -9 "$RUN" 2>/dev/null; pkill -f "[r]edis-server.*$tmp" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

EXPECTED=$SRC/assets/cities/sample/events.expected.json
port=$(free_port)
nport=$(free_port)
mkdir -p "$tmp/config"
python3 - "$SRC/config/opswall.json" "$tmp/config/opswall.json" "$tmp/data" "$port" "$SRC" "$nport" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["notify"]["port"] = int(sys.argv[6])
c["notify"]["config"] = sys.argv[5] + "/config/notify.json"
c["redis"]["data_dir"] = sys.argv[3]
c["feed"]["port"] = int(sys.argv[4])
c["feed"]["web_root"] = sys.argv[5] + "/assets/web"
c["wallboard"]["font"] = sys.argv[5] + "/assets/fonts/DejaVuSans.ttf"
# the one-page test layout: its open-orders panel is the region "test.open"
c["wallboard"]["layout"] = sys.argv[5] + "/tests/integration/wallboard_layout.json"
c["city"]["regions"] = sys.argv[5] + "/assets/cities/sample/regions.geojson"
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
unset OPSWALL_REDIS_URL OPSWALL_DATA_DIR OPSWALL_FEED_PORT OPSWALL_NOTIFY_PORT
"$BIN/opswall-run" --config "$tmp/config/opswall.json" --no-wallboard \
  --events "$SRC/assets/cities/sample/events.ndjson" > "$tmp/run.out" 2> "$tmp/run.log" &
RUN=$!
sock=$tmp/data/redis.sock
R() { redis-cli -s "$sock" "$@"; }

events=$(json_get "$EXPECTED" '["events"]')
applied() { [ "$(R --raw get 'ops:{p0}:snapshot' | json_get - '["events_applied"]' 2>/dev/null)" = "$events" ]; }
check "engine applied all $events distinct events of the sample" wait_for 30 applied
R --raw get 'ops:{p0}:snapshot' > "$tmp/snap.json"
check "viewer URL printed" grep -q "Viewer: http://127.0.0.1:$port/" "$tmp/run.out"
check "the private Redis has no TCP port" test "$(R config get port | tail -1)" = 0
check "one duplicate line was not appended twice" test "$(R xlen 'ops:{p0}:events')" = "$events"

for p in emergency important general total; do
  want=$(json_get "$EXPECTED" "[\"open_effective\"][\"$p\"]")
  check "snapshot: open $p = $want" test "$(json_get "$tmp/snap.json" "[\"open\"][\"$p\"]")" = "$want"
done

check "delivery (opswall-notify) runs and answers" wait_for 20 curl -sf "http://127.0.0.1:$nport/healthz"

# the feed's HTTP API and websocket
check "feed answers" wait_for 10 curl -sf "http://127.0.0.1:$port/healthz"
curl -sf "http://127.0.0.1:$port/api/v1/snapshot" > "$tmp/api.json"
for p in emergency important general total; do
  want=$(json_get "$EXPECTED" "[\"open_effective\"][\"$p\"]")
  check "HTTP /api/v1/snapshot: open $p = $want" test "$(json_get "$tmp/api.json" "[\"open\"][\"$p\"]")" = "$want"
done
"$SRC/tests/browser/install.sh" >/dev/null
node "$SRC/tests/browser/ws_first.mjs" "ws://127.0.0.1:$port/api/v1/live" > "$tmp/ws.json" 2> "$tmp/ws.err" || true
check "websocket sends a snapshot on connect" grep -q '"type":"snapshot"' "$tmp/ws.json"
for p in emergency important general total; do
  want=$(json_get "$EXPECTED" "[\"open_effective\"][\"$p\"]")
  check "websocket: open $p = $want" test "$(json_get "$tmp/ws.json" "[\"open\"][\"$p\"]")" = "$want"
done

# the wallboard: the picture from Redis must show the same numbers as a picture of the expected
# counts (the engine's own snapshot with the hand-worked counts put in): tiles compared by pixel
clock=$(json_get "$tmp/snap.json" '["now_ms"]')
python3 - "$tmp/snap.json" "$EXPECTED" "$tmp/expected_snap.json" <<'PY'
import json, sys
snap, exp = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
snap["open"] = exp["open_effective"]
json.dump(snap, open(sys.argv[3], "w"))
PY
"$BIN/opswall-wallboard" --config "$tmp/config/opswall.json" --print-layout --size 1920x1080 > "$tmp/layout.txt"
OPSWALL_REDIS_URL="unix://$sock" "$BIN/opswall-wallboard" --config "$tmp/config/opswall.json" \
  --size 1920x1080 --clock "$clock" --screenshot "$tmp/actual.png" 2> "$tmp/wb.log"
check "wallboard screenshot from Redis written" test -s "$tmp/actual.png"
"$BIN/opswall-wallboard" --config "$tmp/config/opswall.json" --size 1920x1080 --clock "$clock" \
  --snapshot-file "$tmp/expected_snap.json" --screenshot "$tmp/expected.png" 2>> "$tmp/wb.log"
check "wallboard tiles show the expected numbers" bash "$SRC/tests/integration/wallboard_compare.sh" \
  --layout "$tmp/layout.txt" --region test.open "$tmp/actual.png" "$tmp/expected.png"
# and the comparison is not blind: a picture with one number changed must differ in that tile
python3 - "$tmp/expected_snap.json" "$tmp/off_by_one.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["open"]["general"] += 1; s["open"]["total"] += 1
json.dump(s, open(sys.argv[2], "w"))
PY
"$BIN/opswall-wallboard" --config "$tmp/config/opswall.json" --size 1920x1080 --clock "$clock" \
  --snapshot-file "$tmp/off_by_one.json" --screenshot "$tmp/off.png" 2>> "$tmp/wb.log"
check "a wrong number is caught by the comparison" bash "$SRC/tests/integration/wallboard_compare.sh" \
  --layout "$tmp/layout.txt" --region test.open --expect-diff -q "$tmp/actual.png" "$tmp/off.png"
[ -n "${OPSWALL_KEEP_PICTURES:-}" ] && cp "$tmp/actual.png" "$OPSWALL_KEEP_PICTURES"

# Ctrl-C stops every process, the private Redis last
kill -INT "$RUN"
gone() { ! kill -0 "$RUN" 2>/dev/null; }
check "opswall-run exits on Ctrl-C" wait_for 20 gone
RUN=
no_children() { ! pgrep -f "[o]pswall-(engine|feed|ingest) --config $tmp" >/dev/null; }
no_redis() { ! pgrep -f "[r]edis-server.*$tmp" >/dev/null; }
check "engine, feed and ingest stopped" wait_for 10 no_children
check "the private Redis stopped" wait_for 10 no_redis
finish
