#!/usr/bin/env bash
# Two feeds over a partitioned deployment (docs/scaling.md §7). One redis-server holds the keys of
# 3 partitions: a live engine serves partition 0 (an emergency order in "north", raising alerts),
# partitions 1 and 2 are the sample city's partial snapshots (ow_partials) SET and PUBLISHed the
# way an engine does. Both feeds merge the three; a viewer's websocket gets the same picture from
# each; acknowledgements sent through either feed reach the engine's alert state (shown acked in
# both feeds' pictures) or, for another partition's alert, that partition's acks stream only; a
# partition not heard from for cluster.stale_after is shown stale, and fresh again when it publishes.
#   FEED_BIN ENGINE_BIN INGEST_BIN PARTIALS_BIN set by ctest (tests/integration/feeds.cmake)
source "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
node_modules_ready
for b in ENGINE_BIN INGEST_BIN PARTIALS_BIN; do [ -x "${!b:-}" ] || fail "$b not set"; done

redis_start
export OPSWALL_REDIS_URL=$FEED_REDIS_URL
printf '{"central":0,"north":0,"east":1,"harbor":1,"south":2,"west":2,"oldtown":2}\n' >"$T/config/partitions.json"
# the feed's config of feed_lib, plus the cluster section (engine and feeds share it)
python3 - "$FEED_CONFIG" "$T/config/partitions.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["cluster"] = {"partitions": 3, "regions": sys.argv[2], "stale_after": "6s"}
# the live engine serves partition 0 only: 1 and 2 are the fixed partials below
c.setdefault("engine", {})["partitions"] = "0"
json.dump(c, open(sys.argv[1], "w"))
PY

# ---- partitions 1 and 2: partial snapshots, as their engines would publish them ----
"$PARTIALS_BIN" "$FEED_SRC_DIR/config/opswall.json" "$FEED_SRC_DIR/assets/cities/sample/events.ndjson" "$T" ||
  fail "ow_partials"
publish_partial() { # publish_partial P SEQ
  local text
  text=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['seq']=int(sys.argv[2]); print(json.dumps(d,separators=(',',':'),ensure_ascii=False))" "$T/partial_p$1.json" "$2")
  rcli set "ops:{p$1}:snapshot" "$text" >/dev/null
  rcli publish "ops:{p$1}:live" "$text" >/dev/null
}
publish_partial 1 1
publish_partial 2 1

# ---- partition 0: a live engine with an emergency order created 10 minutes ago ----
now_s=$(date +%s)
ts() { date -u -d "@$((now_s - $1))" +%Y-%m-%dT%H:%M:%SZ; }
printf '{"v":1,"id":"fx1","ts":"%s","type":"order.created","order_id":"E-1","priority":"emergency","category":"drain","region":"north"}\n' "$(ts 600)" >"$T/ev.ndjson"
"$INGEST_BIN" --config "$FEED_CONFIG" "$T/ev.ndjson" 2>"$T/ingest.err" || fail "ingest: $(cat "$T/ingest.err")"
"$ENGINE_BIN" --config "$FEED_CONFIG" >"$T/engine.log" 2>&1 &
EXTRA_PIDS+=($!)
wait_until 30 bash -c "redis-cli -s '$REDIS_SOCK' get 'ops:{p0}:snapshot' | grep -q '\"part\":{\"p\":0,\"of\":3'" ||
  fail "the engine did not publish a partial snapshot of partition 0: $(tail -5 "$T/engine.log")"
pass "engine on partition 0 publishes its partial snapshot (with part)"

# ---- two feeds ----
feed_start 0
EXTRA_PIDS+=("$FEED_PID")
PID_A=$FEED_PID URL_A=$FEED_URL
FEED_PID=
feed_start 0
URL_B=$FEED_URL
grep -q 'merging the pictures of 3 partitions' "$T/feed1.err" || fail "feed A not partitioned"

# the merged picture (HTTP, supervisor view) of a feed
merged() { curl -sf -H "Authorization: Bearer $SUP_TOKEN" "$1/api/v1/snapshot"; }
all_three() {
  merged "$1" | python3 -c "
import json,sys
d=json.load(sys.stdin); p=d['partitions']
assert all(p[k]['seq'] is not None for k in '012'), p
assert any(e.get('order_id')=='E-1' for e in d['escalations'])
"
}
wait_until 20 all_three "$URL_A" || fail "feed A: no merged picture of the three partitions: $(merged "$URL_A" | head -c 300)"
wait_until 20 all_three "$URL_B" || fail "feed B: no merged picture of the three partitions"
pass "both feeds serve a merged picture of the 3 partitions"

# what a viewer gets on connecting: the first websocket message (the merged snapshot)
ws_first() { node "$FEED_SRC_DIR/tests/browser/ws_first.mjs" "ws://${1#http://}/api/v1/live?token=$VIEWER_TOKEN"; }
same_picture() {
  ws_first "$URL_A" >"$T/ws_a.json" && ws_first "$URL_B" >"$T/ws_b.json" || return 1
  python3 - "$T/ws_a.json" "$T/ws_b.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for d in (a, b):
    assert d["type"] == "snapshot", d["type"]
    d.pop("seq")  # each feed numbers its own stream
    for p in d["partitions"].values():
        p.pop("age_s")  # when each feed last heard from the partition
assert a == b, [k for k in a if a.get(k) != b.get(k)]
# the merge really is of all three: partition 0's order and partitions 1 and 2's orders
assert a["open"]["total"] >= 1 + 0, a["open"]
assert len(a["partitions"]) == 3
PY
}
wait_until 30 same_picture || fail "the feeds' viewers got different pictures: $(diff <(python3 -m json.tool "$T/ws_a.json") <(python3 -m json.tool "$T/ws_b.json") | head -20)"
python3 - "$T/ws_a.json" "$T/partial_p1.json" "$T/partial_p2.json" <<'PY' || fail "the merged picture is not the sum of the partitions"
import json, sys
m = json.load(open(sys.argv[1]))
p1, p2 = (json.load(open(f)) for f in sys.argv[2:4])
# partition 0 holds E-1 only; partitions 1 and 2 the sample city's east/harbor and south/west/oldtown
assert m["orders_known"] == 1 + p1["orders_known"] + p2["orders_known"], (m["orders_known"], p1["orders_known"], p2["orders_known"])
assert m["open"]["total"] == 1 + p1["open"]["total"] + p2["open"]["total"]
PY
pass "a viewer gets the same merged picture from either feed (orders of all three partitions)"

# ---- acknowledgements through either feed ----
ack() { # ack URL ID NOTE -> HTTP status
  curl -sS -o "$T/ack" -w '%{http_code}' -X POST -H "Authorization: Bearer $SUP_TOKEN" \
    -H 'content-type: application/json' -d "{\"note\":\"$3\"}" "$1/api/v1/alerts/$2/ack"
}
A1=sla:E-1:dispatch:1:100 A2=sla:E-1:dispatch:1:150
[ "$(ack "$URL_A" "$A1" "via A")" = 202 ] || fail "ack via A: $(cat "$T/ack")"
[ "$(ack "$URL_B" "$A2" "via B")" = 202 ] || fail "ack via B: $(cat "$T/ack")"
acked_in() { # acked_in URL ID BY
  merged "$1" | python3 -c "
import json,sys
e=[x for x in json.load(sys.stdin)['escalations'] if x['id']==sys.argv[1]]
assert e and e[0]['acked'] and e[0]['ack_by']==sys.argv[2], e
" "$2" "$3"
}
for u in "$URL_A" "$URL_B"; do
  wait_until 20 acked_in "$u" "$A1" li.wei || fail "$A1 (acked via A) not shown acked by $u"
  wait_until 20 acked_in "$u" "$A2" li.wei || fail "$A2 (acked via B) not shown acked by $u"
done
[ "$(rcli xlen 'ops:{p0}:acks')" = 2 ] || fail "partition 0's acks stream: $(rcli xlen 'ops:{p0}:acks')"
pass "acks via feed A and feed B reach partition 0's engine; both feeds show them acked"

# an alert of partition 2 (listed in its escalations) goes to partition 2's stream only
A3=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['escalations'][0]['id'])" "$T/partial_p2.json")
[ "$(ack "$URL_B" "$A3" "p2")" = 202 ] || fail "ack of $A3: $(cat "$T/ack")"
[ "$(rcli xlen 'ops:{p2}:acks')" = 1 ] && [ "$(rcli xlen 'ops:{p1}:acks')" = 0 ] &&
  [ "$(rcli xlen 'ops:{p0}:acks')" = 2 ] || fail "ack of $A3 not routed to partition 2 only"
# an alert no partition lists goes to all three (each engine skips what it does not hold)
[ "$(ack "$URL_A" sla:NOPE:dispatch:1:100 x)" = 202 ] || fail "ack of an unlisted alert"
[ "$(rcli xlen 'ops:{p0}:acks')" = 3 ] && [ "$(rcli xlen 'ops:{p1}:acks')" = 1 ] &&
  [ "$(rcli xlen 'ops:{p2}:acks')" = 2 ] || fail "unlisted alert's ack not sent to every partition"
wait_until 10 grep -q 'acknowledgement .* skipped' "$T/engine.log" || fail "engine did not skip the unknown ack"
pass "acks routed to the alert's partition; an unlisted alert's ack to every partition"

# ---- open alerts: asked of every partition's engine; only partition 0 has one here ----
curl -sf -H "Authorization: Bearer $VIEWER_TOKEN" "$URL_B/api/v1/alerts/open" >"$T/open.json" ||
  fail "/api/v1/alerts/open"
python3 - "$T/open.json" <<'PY' || fail "open alerts: $(head -c 300 "$T/open.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["partitions"] == 3 and d["missing"] == [1, 2], d  # no engine serves 1 and 2 here
ids = [a["id"] for a in d["alerts"]]
assert "sla:E-1:dispatch:1:100" in ids and len(ids) == len(set(ids)), ids
assert ids == [a["id"] for a in sorted(d["alerts"], key=lambda a: (a["at"], a["id"]))]
PY
pass "open alerts: partition 0's engine answered, the silent partitions named as missing"

# ---- alerts since a point, over every partition's alerts stream, paged by a per-partition cursor ----
# partitions 1 and 2 get alerts as their engines would write them (explicit ids, interleaved)
alert_entry() { printf '{"id":"%s","kind":"flag","flag":"surge","level":2,"at":"2026-01-01T00:00:0%sZ","region":"%s"}' "$1" "$2" "$3"; }
rcli xadd 'ops:{p1}:alerts' 1000-0 d "$(alert_entry t-p1-a 1 east)" >/dev/null
rcli xadd 'ops:{p2}:alerts' 2000-0 d "$(alert_entry t-p2-a 2 south)" >/dev/null
rcli xadd 'ops:{p1}:alerts' 3000-0 d "$(alert_entry t-p1-b 3 harbor)" >/dev/null
rcli xrange 'ops:{p0}:alerts' - + | grep -o '"id":"[^"]*"' | sort -u >"$T/p0_alerts"
[ -s "$T/p0_alerts" ] || fail "partition 0's engine wrote no alert"
python3 - "$URL_A" "$SUP_TOKEN" "$T/p0_alerts" <<'PY' || fail "alerts since over partitions"
import json, sys, urllib.request, urllib.error
url, token, p0 = sys.argv[1], sys.argv[2], sys.argv[3]
def get(q):
    r = urllib.request.Request(url + "/api/v1/alerts" + q, headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(r) as a:
            return a.status, json.load(a)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
st, d = get("?limit=2")
assert st == 200 and d["partitions"] == 3 and d["missing"] == [], d
assert [(a["id"], a["partition"]) for a in d["alerts"]] == [("t-p1-a", 1), ("t-p2-a", 2)], d
assert d["next"] == "0-0,1000-0,2000-0", d["next"]
seen, nxt, pages = [a["id"] for a in d["alerts"]], d["next"], 1
keys = [tuple(map(int, a["stream_id"].split("-"))) for a in d["alerts"]]
while True:
    st, d = get("?limit=2&since=" + nxt)
    assert st == 200, d
    if not d["alerts"]:
        assert d["next"] == nxt, (d["next"], nxt)  # nothing new: the cursor stays
        break
    seen += [a["id"] for a in d["alerts"]]
    keys += [tuple(map(int, a["stream_id"].split("-"))) for a in d["alerts"]]
    nxt, pages = d["next"], pages + 1
want = {l.strip()[6:-1] for l in open(p0) if l.strip()} | {"t-p1-a", "t-p2-a", "t-p1-b"}
assert len(seen) == len(set(seen)), seen           # no alert twice across pages
assert want <= set(seen), (want - set(seen))       # none missed
assert keys == sorted(keys), keys                  # merged in stream-id order
# epoch ms applies to every partition; a list of the wrong length is refused with a message
st, d = get("?since=2500")
assert st == 200 and [a["id"] for a in d["alerts"]][0] == "t-p1-b", d
for bad in ("1-1,2-2", "1-1,2-2,3-3,4-4", "1-1,,3-3", "x"):
    st, d = get("?since=" + bad)
    assert st == 400 and "partition" in d["error"], (bad, st, d)
print(len(seen), "alerts in", pages, "pages")
PY
pass "alerts since: every partition's stream merged in id order, paged by one cursor per partition"

# ---- staleness: partition 1 silent for longer than stale_after (6 s), then back ----
stale_is() { # stale_is URL P true|false
  merged "$1" | python3 -c "
import json,sys
p=json.load(sys.stdin)['partitions'][sys.argv[1]]
assert str(p['stale']).lower()==sys.argv[2], p
" "$2" "$3"
}
publish_partial 2 2 # partition 2 keeps talking
wait_until 15 stale_is "$URL_A" 1 true || fail "silent partition 1 not shown stale by feed A"
stale_is "$URL_A" 0 false || fail "partition 0 (engine heartbeat every 5 s) shown stale"
curl -sf "$URL_A/metrics" >"$T/metrics" || fail "/metrics"
grep -q '^opswall_feed_partition_stale{partition="1"} 1$' "$T/metrics" &&
  grep -q '^opswall_feed_partition_stale{partition="0"} 0$' "$T/metrics" &&
  grep -q '^opswall_feed_partition_age_seconds{partition="1"} ' "$T/metrics" ||
  fail "/metrics lacks the partitions: $(grep partition "$T/metrics")"
age=$(merged "$URL_A" | python3 -c "import json,sys; print(json.load(sys.stdin)['partitions']['1']['age_s'])")
[ "$age" -ge 6 ] || fail "stale partition's age_s $age"
publish_partial 1 2
wait_until 10 stale_is "$URL_A" 1 false || fail "partition 1 still stale after publishing"
wait_until 10 stale_is "$URL_B" 1 false || fail "feed B: partition 1 still stale after publishing"
pass "a silent partition is shown stale (age_s $age; /metrics too) and fresh again when it publishes"

# ---- a malformed partial is left out, named in the log, the others still served ----
rcli publish 'ops:{p1}:live' '{"v":1,"type":"snapshot","seq":3,"now_ms":1,"open":[1]}' >/dev/null
wait_until 10 grep -q 'partial snapshot of partition 1: open: expected an object' "$T/feed1.err" ||
  fail "malformed partial not reported"
all_three "$URL_A" || true # partition 1 comes back from its stored snapshot (GET after the refusal)
wait_until 10 all_three "$URL_A" || fail "feed A lost the merged picture after a malformed partial"
pass "a malformed partial is refused with its partition and member named; the picture recovers"

feed_stop # feed B, and then feed A: both exit cleanly
kill -TERM "$PID_A"
rc=0
wait "$PID_A" || rc=$?
unset 'EXTRA_PIDS[1]' # gone: the cleanup's kill of it would fail
[ "$rc" -eq 0 ] || fail "feed A exited with status $rc after SIGTERM"
! grep -q 'handle still open\|did not close cleanly' "$T/feed1.err" || fail "feed A left libuv handles open"
pass "both feeds stop cleanly"
