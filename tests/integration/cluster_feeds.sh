#!/usr/bin/env bash
# Issue 12, the readers on a real cluster (docs/scaling.md §7): the whole pipeline on a 3-master,
# 3-replica loopback cluster (scripts/cluster.sh) — routed ingest of the sample city, one engine
# serving the 3 partitions (one child per partition, each partition on its own master after
# `opswall-cluster place`) — read by two feed processes and a wallboard screenshot.
# Checked: a viewer's websocket snapshot from either feed equals the merge of the three partials
# read from the cluster; the order detail of an order in partition 2 is served (asked of its
# partition through the order directory); the open alerts come from every partition (as many as
# the merged counters say are open); an acknowledgement through feed B reaches partition 2's acks
# stream only and its engine; the wallboard draws the merged picture. Then the master holding
# partition 2 — also the node both feeds subscribed on (the first of redis.url) — is killed with
# kill -9; a new order of partition 2 is ingested, and both feeds must show it (subscriptions moved
# to another node, the GETs following the failover) within RECOVER_LIMIT_S.
#   args: BIN (folder of the programs and ow_partials) ROOT (source folder)
. "$(dirname "$0")/lib.sh"
BIN=$1 ROOT=$2
tmp=$(mktemp -d /tmp/ow-clfeeds.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  "$ROOT/scripts/cluster.sh" stop "$tmp/c" >/dev/null 2>&1 || true
  if [ "$T_FAILS" -eq 0 ]; then rm -rf "$tmp"; else echo "# files kept in $tmp"; fi
}
trap cleanup EXIT
ALERTS="python3 $(dirname "$0")/cluster_alerts.py"
RECOVER_LIMIT_S=20 # kill -9 → both feeds show a new order of the killed master's partition
[ -d "$ROOT/tests/browser/node_modules/ws" ] || "$ROOT/tests/browser/install.sh" >&2

# ---- configuration: 3 partitions (the sample city's regions, neighbours together), two tokens --
mkdir -p "$tmp/w"
cp -r "$ROOT/config" "$tmp/w/config"
ln -s "$ROOT/assets" "$tmp/w/assets"
VIEWER=viewer-$RANDOM$RANDOM SUP=super-$RANDOM$RANDOM
export SUP
python3 - "$tmp/w/config/opswall.json" "$(printf %s "$VIEWER" | sha256sum | cut -d' ' -f1)" \
  "$(printf %s "$SUP" | sha256sum | cut -d' ' -f1)" <<'PY'
import json, sys
p, vh, sh = sys.argv[1:4]
c = json.load(open(p))
c["cluster"].update({"partitions": 3, "regions": "config/partitions.json", "stale_after": "8s"})
c["engine"]["checkpoint_interval"] = "1s"
c["feed"]["listen"] = "127.0.0.1"
c["access"]["tokens"] = [{"name": "vic", "role": "viewer", "sha256": vh},
                         {"name": "li.wei", "role": "supervisor", "sha256": sh}]
json.dump({"central": 0, "north": 0, "east": 1, "harbor": 1, "south": 2, "west": 2,
           "oldtown": 2}, open(p.replace("opswall.json", "partitions.json"), "w"))
json.dump(c, open(p, "w"), indent=1)
PY
CONF=$tmp/w/config/opswall.json

seed=$("$ROOT/scripts/cluster.sh" start "$tmp/c" --owner $$)
check "cluster of 6 nodes up at $seed" test -n "$seed"
CLU=(-c -p "${seed##*:}")
export OPSWALL_REDIS_URL=redis://$seed
"$BIN/opswall-cluster" --config "$CONF" place >"$tmp/place.log" 2>&1
check "partitions placed on their own masters" test "$(for p in 0 1 2; do $ALERTS master_of "ops:{p$p}:events" "${CLU[@]}"; done | sort -u | wc -l)" = 3
victim=$($ALERTS master_of 'ops:{p2}:events' "${CLU[@]}")
# redis.url: the victim first (where the feeds subscribe), then every other node
OPSWALL_REDIS_URL=redis://127.0.0.1:$victim
for p in $(cat "$tmp/c/ports"); do [ "$p" = "$victim" ] || OPSWALL_REDIS_URL+=,redis://127.0.0.1:$p; done
export OPSWALL_REDIS_URL
[ "$victim" != "${seed##*:}" ] || CLU=(-c -p "$(tr ' ' '\n' <"$tmp/c/ports" | grep -v "^$victim\$" | grep . | head -1)")

# ---- the pipeline: routed ingest, one engine with a child per partition ----
EVENTS=$ROOT/assets/cities/sample/events.ndjson
if "$BIN/opswall-ingest" --config "$CONF" "$EVENTS" 2>"$tmp/ingest.log"; then ok "routed ingest of the sample city"
else fail "routed ingest of the sample city: $(tail -3 "$tmp/ingest.log")"; fi
"$BIN/opswall-engine" --config "$CONF" --clock event 2>"$tmp/engine.log" &
PIDS+=($!)
check "the engines consumed every partition" wait_for 60 $ALERTS consumed "${CLU[@]}" 3
part() { redis-cli "${CLU[@]}" --raw get "ops:{p$1}:snapshot"; }
all_parts() { for p in 0 1 2; do part $p | grep -q "\"part\":{\"p\":$p,\"of\":3" || return 1; done; }
check "each partition's engine publishes its partial" wait_for 30 all_parts

# ---- two feeds ----
start_feed() { # start_feed N: feed N's URL in URL_N
  "$BIN/opswall-feed" --config "$CONF" --port 0 >"$tmp/feed$1.out" 2>"$tmp/feed$1.err" &
  PIDS+=($!)
  wait_for 30 grep -q '^viewer: http' "$tmp/feed$1.out" || return 1
  eval "URL_$1=$(sed -n 's/^viewer: \(http:[^ ]*\)\/$/\1/p' "$tmp/feed$1.out")"
}
check "feed A started" start_feed A
check "feed B started" start_feed B
grep -h "routed by key slot" "$tmp"/feed*.err | head -1
snap() { curl -sf -H "Authorization: Bearer $SUP" "$1/api/v1/snapshot"; }
complete() { snap "$1" | python3 -c "
import json,sys; d=json.load(sys.stdin); p=d['partitions']
assert all(p[k]['seq'] is not None and not p[k]['stale'] for k in '012'), p"; }
check "feed A serves a merged picture of the 3 partitions" wait_for 30 complete "$URL_A"
check "feed B serves a merged picture of the 3 partitions" wait_for 30 complete "$URL_B"

# a viewer's first websocket message = the merge of the partials read from the cluster now
ws_equals_merge() { # ws_equals_merge URL
  node "$ROOT/tests/browser/ws_first.mjs" "ws://${1#http://}/api/v1/live?token=$SUP" >"$tmp/ws.json" || return 1
  for p in 0 1 2; do part $p >"$tmp/p$p.json"; done
  "$BIN/ow_partials" --merge "$CONF" "$tmp/merged.json" "$tmp/p0.json" "$tmp/p1.json" "$tmp/p2.json" || return 1
  python3 - "$tmp/ws.json" "$tmp/merged.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["type"] == "snapshot"
for d in (a, b):
    d.pop("seq")  # each reader numbers its own merged stream
    for p in d["partitions"].values():
        p.pop("age_s"), p.pop("seq")  # when it last heard; the heartbeats' numbers
diff = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]
assert not diff, diff
assert a["orders_known"] > 0 and len(a["partitions"]) == 3
PY
}
check "feed A: a viewer's snapshot equals the merged picture" wait_for 20 ws_equals_merge "$URL_A"
check "feed B: a viewer's snapshot equals the merged picture" wait_for 20 ws_equals_merge "$URL_B"

# ---- order detail of an order in partition 2, open alerts of every partition ----
order2=$(python3 -c "
import json
for l in open('$EVENTS'):
    e = json.loads(l)
    if e['type'] == 'order.created' and e['region'] in ('south', 'west', 'oldtown'):
        print(e['order_id']); break")
check "the order directory puts $order2 in partition 2" test "$(redis-cli "${CLU[@]}" --raw get "ops:dir:{order:$order2}")" = 2
detail() { curl -sf -H "Authorization: Bearer $SUP" "$1/api/v1/orders/$2"; }
check "feed A serves the detail of $order2 (partition 2)" bash -c "$(declare -f detail); detail '$URL_A' '$order2' | grep -q '\"$order2\"'"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SUP" "$URL_B/api/v1/orders/NO-SUCH-ORDER")
check "an order the directory does not know: 404 ($code)" test "$code" = 404
curl -sf -H "Authorization: Bearer $SUP" "$URL_A/api/v1/alerts/open" >"$tmp/open.json"
snap "$URL_A" >"$tmp/snapA.json"
check "open alerts from every partition: as many as the merged counters say" python3 - "$tmp/open.json" "$tmp/snapA.json" "$tmp"/p0.json "$tmp"/p1.json "$tmp"/p2.json <<'PY'
import json, sys
o, m = (json.load(open(f)) for f in sys.argv[1:3])
parts = [json.load(open(f)) for f in sys.argv[3:6]]
ids = [a["id"] for a in o["alerts"]]
assert len(ids) == len(set(ids)), "an alert listed twice"
assert len(ids) == sum(m["alerts"]["open_by_level"]), (len(ids), m["alerts"]["open_by_level"])
for p, d in enumerate(parts):  # each partition's escalations are among them
    for e in d["escalations"]:
        assert e["id"] in ids, (p, e["id"])
assert sum(1 for d in parts if d["escalations"]) >= 2, "escalations in fewer than 2 partitions"
print("# %d open alerts" % len(ids))
PY

# ---- an acknowledgement through feed B reaches partition 2 ----
alert2=$(python3 -c "import json,sys; print([e['id'] for e in json.load(open(sys.argv[1]))['escalations'] if not e.get('acked')][0])" "$tmp/p2.json")
code=$(curl -s -o "$tmp/ack" -w '%{http_code}' -X POST -H "Authorization: Bearer $SUP" \
  -H 'content-type: application/json' -d '{"note":"via B"}' "$URL_B/api/v1/alerts/$alert2/ack")
check "ack of $alert2 through feed B accepted ($code)" test "$code" = 202
acks() { redis-cli "${CLU[@]}" xlen "ops:{p$1}:acks"; }
check "the ack is on partition 2's stream only" test "$(acks 0)$(acks 1)$(acks 2)" = 001
acked_in() { snap "$1" | python3 -c "
import json,sys
e=[x for x in json.load(sys.stdin)['escalations'] if x['id']==sys.argv[1]]
assert e and e[0]['acked'] and e[0]['ack_by']=='li.wei', e" "$2"; }
check "partition 2's engine applied it: feed A shows it acked" wait_for 20 acked_in "$URL_A" "$alert2"

# ---- the wallboard draws the merged picture ----
if "$BIN/opswall-wallboard" --config "$CONF" --size 1280x720 --screenshot "$tmp/wallboard.png" >"$tmp/wb.out" 2>"$tmp/wb.log" &&
  [ -s "$tmp/wallboard.png" ]; then ok "wallboard screenshot of the merged picture (exit 0)"
else fail "wallboard screenshot: $(tail -3 "$tmp/wb.log")"; fi
check "wallboard read the 3 partitions" grep -q "snapshots of 3 partitions" "$tmp/wb.log"

# ---- kill -9 of the master of partition 2 (and of the feeds' subscriptions) ----
known() { snap "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['orders_known'])"; }
before=$(known "$URL_A")
last_ts=$(python3 -c "
import json
print(max(json.loads(l)['ts'] for l in open('$EVENTS')))")
kill -KILL "$(cat "$tmp/c/$victim/pid")"
t0=$(date +%s%N)
echo "# killed master $victim (partition 2; the feeds' subscriptions) at orders_known $before"
new_ts=$(python3 -c "
import datetime,sys
t=datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00'))+datetime.timedelta(minutes=1)
print(t.strftime('%Y-%m-%dT%H:%M:%SZ'))" "$last_ts")
printf '{"v":1,"id":"after-kill-1","ts":"%s","type":"order.created","order_id":"AK-1","priority":"general","category":"drain","region":"south"}\n' "$new_ts" >"$tmp/new.ndjson"
# Routed ingest loads its Function on every master at start and gives up on one it cannot reach,
# so the new event is ingested once the victim's replica is the slots' master (≈ 3 s here).
check "the victim's replica promoted" wait_for 20 promoted_from 'ops:{p2}:events' "$victim" "${CLU[@]}"
echo "# promoted $(( ($(date +%s%N) - t0) / 1000000 )) ms after the kill"
(set +e; "$BIN/opswall-ingest" --config "$CONF" "$tmp/new.ndjson" 2>"$tmp/ingest2.log"
  echo $? >"$tmp/ingest2.rc") &
PIDS+=($!)
shows_new() { [ "$(known "$1")" -gt "$before" ] && complete "$1"; }
check "feed A shows the new order of partition 2" wait_for $RECOVER_LIMIT_S shows_new "$URL_A"
tA=$(( ($(date +%s%N) - t0) / 1000000 ))
check "feed B shows the new order of partition 2" wait_for $RECOVER_LIMIT_S shows_new "$URL_B"
tB=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# feeds back after the kill: A $tA ms, B $tB ms (limit ${RECOVER_LIMIT_S} s)"
check "feeds recovered within ${RECOVER_LIMIT_S} s ($tA, $tB ms)" test $tB -le $((RECOVER_LIMIT_S * 1000))
check "ingest after the kill: exit 0" wait_for 15 grep -qx 0 "$tmp/ingest2.rc"
check "the feeds' subscriptions moved to another node" grep -q "reconnected to 127.0.0.1:[0-9]* (cluster node)" "$tmp/feedA.err"
check "feed A serves AK-1's detail after the failover" wait_for 10 bash -c "$(declare -f detail); detail '$URL_A' AK-1 | grep -q '\"AK-1\"'"
check "no sanitizer report in the programs' logs" bash -c "! grep -l 'Sanitizer\|runtime error' $tmp/*.log $tmp/*.err"
finish
