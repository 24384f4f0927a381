#!/usr/bin/env bash
# The engine's side channels through a real Redis: alerts raised once into ops:{p0}:alerts and
# kept in the open-alerts hash; an acknowledgement (who, note) recorded on the open alert; an
# order-detail request answered with the order's clocks; resolution closing the alert.
. "$(dirname "$0")/lib.sh"
BIN=$1
tmp=$(mktemp -d /tmp/ow-engapi.XXXXXX)
ENGINE=
cleanup() { [ -n "$ENGINE" ] && kill -9 "$ENGINE" 2>/dev/null; [ -n "${REDIS_PID:-}" ] && stop_pid "$REDIS_PID"; rm -rf "$tmp"; }
trap cleanup EXIT
start_redis "$tmp/redis"
export OPSWALL_REDIS_URL="unix://$tmp/redis/redis.sock"
R() { redis-cli -s "$tmp/redis/redis.sock" "$@"; }

# an emergency order created 10 minutes ago
now_s=$(date +%s)
ts() { date -u -d "@$(( now_s - $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
cat > "$tmp/ev.ndjson" <<JSON
{"v":1,"id":"a1","ts":"$(ts 600)","type":"order.created","order_id":"E-1","priority":"emergency","category":"drain","region":"north"}
JSON
"$BIN/opswall-ingest" "$tmp/ev.ndjson" 2>/dev/null
"$BIN/opswall-engine" > "$tmp/engine.log" 2>&1 &
ENGINE=$!
# open alerts are asked of the engine (requests stream, query=open_alerts)
open_alerts() {
  R del 'ops:{p0}:alerts:open' >/dev/null
  R xadd 'ops:{p0}:requests' '*' query open_alerts >/dev/null
  wait_for 3 bash -c "redis-cli -s '$tmp/redis/redis.sock' exists 'ops:{p0}:alerts:open' | grep -q 1" || return 1
  R get 'ops:{p0}:alerts:open'
}
open_has() { open_alerts | grep -q "\"id\":\"$1\""; }
# requests older than the engine are not answered: ask once it is up (slow under sanitizers)
check "engine is up" wait_for 30 bash -c "redis-cli -s '$tmp/redis/redis.sock' exists 'ops:{p0}:snapshot' | grep -q 1"
check "dispatch 100 % raised and open" wait_for 30 open_has 'sla:E-1:dispatch:1:100'
# 10 minutes in: dispatch (5 m) 50/80/100/150 % at 2.5, 4, 5, 7.5 m; response (15 m) 50 % at 7.5 m
check "each alert once in ops:{p0}:alerts" test "$(R xlen 'ops:{p0}:alerts')" = 5
open_alerts | python3 -c "import json,sys; print(json.dumps([a for a in json.load(sys.stdin) if a['id']=='sla:E-1:dispatch:1:100'][0]))" > "$tmp/alert.json"
check "open alerts listed in time order" bash -c "[ \"\$(redis-cli -s '$tmp/redis/redis.sock' get 'ops:{p0}:alerts:open' | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a==sorted(a,key=lambda x:(x[\"at\"],x[\"id\"])))')\" = True ]"
check "alert names level 2 (supervisor)" test "$(json_get "$tmp/alert.json" '["level"]')" = 2
check "alert at = created + 5 m" test "$(json_get "$tmp/alert.json" '["at"]')" = "$(date -u -d "@$(( now_s - 300 ))" +%Y-%m-%dT%H:%M:%S.000Z)"

R xadd 'ops:{p0}:acks' '*' id 'sla:E-1:dispatch:1:100' by wang.supervisor note 'team on the way' at "$(( now_s * 1000 ))" >/dev/null
acked() { open_alerts | grep -q '"by":"wang.supervisor"'; }
check "acknowledgement recorded on the open alert" wait_for 10 acked
R xadd 'ops:{p0}:acks' '*' id 'sla:E-1:dispatch:1:999' by x note y >/dev/null
check "an unknown alert's acknowledgement is skipped with a message" wait_for 10 grep -q "acknowledgement .* skipped" "$tmp/engine.log"

R xadd 'ops:{p0}:requests' '*' order_id E-1 >/dev/null
detail() { R exists 'ops:{p0}:order:E-1' | grep -q 1; }
check "order detail answered" wait_for 10 detail
R get 'ops:{p0}:order:E-1' > "$tmp/detail.json"
check "detail lists the dispatch clock running with its alerts" python3 -c "
import json,sys
d=json.load(open('$tmp/detail.json'))
c={x['stage']:x for x in d['clocks']}
assert c['dispatch']['state']=='running', c['dispatch']
assert [a['pct'] for a in c['dispatch']['alerts']]==[50,80,100,150][:len(c['dispatch']['alerts'])]
assert any(a['acked'] for a in c['dispatch']['alerts'])
"
R xadd 'ops:{p0}:requests' '*' order_id NOPE >/dev/null
nope() { R get 'ops:{p0}:order:NOPE' | grep -q 'no such order'; }
check "unknown order answered with an error" wait_for 10 nope

# dispatching closes the dispatch alerts
printf '%s\n' "{\"v\":1,\"id\":\"a2\",\"ts\":\"$(ts 0)\",\"type\":\"order.dispatched\",\"order_id\":\"E-1\",\"tech_id\":\"T-9\"}" > "$tmp/ev2.ndjson"
"$BIN/opswall-ingest" "$tmp/ev2.ndjson" 2>/dev/null
closed() { ! open_has 'sla:E-1:dispatch:1:100'; }
check "resolution of the stage closes its alerts" wait_for 10 closed
check "resolve records in ops:{p0}:alert_changes" wait_for 5 bash -c "redis-cli -s '$tmp/redis/redis.sock' xrange 'ops:{p0}:alert_changes' - + | grep -q resolve"

# the engine reads with NOACK: nothing stays pending. Entries left pending by an engine that
# acknowledged (an older version) are applied by the restart's rebuild (they are before the
# group's last-delivered id) and acknowledged, once
pending() { R xpending 'ops:{p0}:events' engine | head -1; }
check "nothing pending while the engine runs" test "$(pending)" = 0
stop_pid "$ENGINE"
ENGINE=
printf '%s\n' "{\"v\":1,\"id\":\"a3\",\"ts\":\"$(ts 0)\",\"type\":\"order.created\",\"order_id\":\"E-2\",\"priority\":\"general\",\"category\":\"drain\",\"region\":\"north\"}" \
  "{\"v\":1,\"id\":\"a4\",\"ts\":\"$(ts 0)\",\"type\":\"order.created\",\"order_id\":\"E-3\",\"priority\":\"general\",\"category\":\"drain\",\"region\":\"north\"}" > "$tmp/ev3.ndjson"
"$BIN/opswall-ingest" "$tmp/ev3.ndjson" 2>/dev/null
R xreadgroup GROUP engine engine-1 COUNT 10 STREAMS 'ops:{p0}:events' '>' >/dev/null
check "two entries left pending by hand" test "$(pending)" = 2
"$BIN/opswall-engine" > "$tmp/engine2.log" 2>&1 &
ENGINE=$!
check "restart: the pending entries acknowledged" wait_for 30 bash -c "[ \"\$(redis-cli -s '$tmp/redis/redis.sock' xpending 'ops:{p0}:events' engine | head -1)\" = 0 ]"
check "restart: every entry applied once (4 events)" wait_for 10 bash -c "redis-cli -s '$tmp/redis/redis.sock' --raw get 'ops:{p0}:snapshot' | grep -q '\"events_applied\":4[,}]'"
finish
