#!/usr/bin/env bash
# Issue 9, security: the Redis ACL user of scripts/redis-acl.sh is enough for the programs and no
# more. A Redis on a loopback TCP port gets the user, its default user is switched off, and then
#   - ingest appends a simulated day, the engine applies every event and writes alerts, the feed
#     serves the snapshot and the wallboard draws it from Redis — all as user opswall;
#   - the same user is refused (NOPERM) FLUSHALL, FLUSHDB, CONFIG, KEYS, DEBUG, SHUTDOWN, EVAL,
#     ACL, a key outside ops:* and a channel outside ops:*; without a password nothing is served;
#   - opswall-notify runs as its own user opswall-notify: an alert XADDed as opswall (the engine's
#     part) reaches a local webhook receiver and the notifications stream, a silence is stored
#     over its API, a restart loads its state — no NOPERM; and that user is refused what notify
#     never sends (XADD to the alerts or events stream, GET of the snapshot, DEL of its own state,
#     XGROUP DESTROY, PUBLISH, FLUSHALL, ...).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../faults/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/ow-acl.XXXXXX)
ENGINE= FEED= RPID= NPID= RXPID=
cleanup() {
  set +e # the status of finish stands, whatever a kill or wait below returns
  for p in $ENGINE $FEED $NPID $RXPID $RPID; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
rport=$(free_port) fport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --dir "$tmp" --save '' --appendonly no \
  --daemonize no --logfile "$tmp/redis.log" &
RPID=$!
wait_for 10 redis-cli -p "$rport" ping
pass=acl-$RANDOM$RANDOM
check "ACL user created" env OPSWALL_REDIS_PASSWORD="$pass" "$SRC/scripts/redis-acl.sh" apply -p "$rport"
npass=notify-$RANDOM$RANDOM
check "ACL user opswall-notify created" env OPSWALL_REDIS_PASSWORD="$npass" "$SRC/scripts/redis-acl.sh" apply notify -p "$rport"
redis-cli -p "$rport" acl setuser default off > /dev/null
A() { redis-cli -p "$rport" --user opswall --pass "$pass" --no-auth-warning "$@"; }
check "the default user is off" bash -c "redis-cli -p $rport ping 2>&1 | grep -q NOAUTH"
N() { redis-cli -p "$rport" --user opswall-notify --pass "$npass" --no-auth-warning "$@"; }

faults_config "$tmp" "$fport"

# ---- opswall-notify as opswall-notify: an alert in, a delivery out ----
IT=$SRC/tests/integration
mkdir -p "$tmp/rx"
rxport=$(free_port) nport=$(free_port)
python3 "$IT/notify_receiver.py" "$rxport" "$tmp/rx" &
RXPID=$!
wait_for 10 test -f "$tmp/rx/ready"
sup=sup-$RANDOM$RANDOM
python3 - "$CFG" "$SRC/config/notify.json" "$tmp" "$rxport" "$(printf '%s' "$sup" | sha256sum | cut -d' ' -f1)" <<'PY'
import json, sys
cfg, ncfg, tmp, rx, sha = sys.argv[1:6]
n = json.load(open(ncfg))
n["receivers"] = [{"name": "desk", "type": "webhook", "url": f"http://127.0.0.1:{rx}/desk", "lang": "en"},
                  {"name": "out", "type": "stream", "lang": "en"}]
n["route"] = {"receiver": "desk", "group_by": ["region", "level"], "group_wait": "200ms",
              "group_interval": "1s", "repeat_interval": "1h",
              "routes": [{"match": {}, "receiver": "desk", "continue": True}, {"match": {}, "receiver": "out"}]}
json.dump(n, open(tmp + "/notify.json", "w"), ensure_ascii=False)
c = json.load(open(cfg))
c["notify"].update({"config": tmp + "/notify.json", "poll": "50ms"})
c.setdefault("access", {})["tokens"] = [{"name": "acl.sup", "role": "supervisor", "sha256": sha}]
json.dump(c, open(tmp + "/notify-opswall.json", "w"))
PY
start_notify() {
  OPSWALL_REDIS_URL="redis://opswall-notify:$npass@127.0.0.1:$rport/0" "$BIN/opswall-notify" \
    --config "$tmp/notify-opswall.json" --port "$nport" >> "$tmp/notify.out" 2>> "$tmp/notify.log" &
  NPID=$!
  wait_for 20 curl -sf "http://127.0.0.1:$nport/healthz"
}
check "notify starts as opswall-notify (its consumer group created, its state loaded)" start_notify
# the engine's part, as user opswall: one L2 alert for order ACL-1 in region north
# (the fields notify_xadd.py writes, sent with XADD: redis-cli --pipe needs ECHO, not granted)
alert=$(python3 -c 'import json,time; print(json.dumps({"id": "sla:ACL-1:dispatch:1:100", "kind": "sla", "level": 2,
  "at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "region": "north", "stage": "dispatch",
  "order_id": "ACL-1", "pct": 100, "target_s": 300}))')
A xadd 'ops:{p0}:alerts' '*' id sla:ACL-1:dispatch:1:100 d "$alert" > /dev/null
delivered() { grep -q 'ACL-1' "$tmp/rx/desk.ndjson" 2>/dev/null; }
check "the alert is delivered to the local receiver" wait_for 20 delivered
streamed() { [ "$(A xlen 'ops:{p0}:notifications')" -ge 1 ]; }
check "and written to ops:{p0}:notifications" wait_for 10 streamed
check "its delivery state is in ops:{p0}:notify:* (log, log_time)" \
  test "$(A hlen 'ops:{p0}:notify:log'):$(A zcard 'ops:{p0}:notify:log_time')" != "0:0"
silence='{"matchers":{"region":"south"},"duration":"1h","comment":"acl test"}'
check "a silence is stored over notify's API (HSET)" test "$(curl -s -o /dev/null -w '%{http_code}' \
  -X POST -H "Authorization: Bearer $sup" -d "$silence" "http://127.0.0.1:$nport/api/v1/silences")" = 201
kill -9 "$NPID"; wait "$NPID" 2>/dev/null || true; NPID=
check "notify restarts as opswall-notify and loads its state" start_notify
sleep 1 # a restart must not send the delivered alert again
check "the alert was delivered once (no resend after the restart)" test "$(grep -c 'ACL-1' "$tmp/rx/desk.ndjson" 2>/dev/null || true)" = 1
kill -TERM "$NPID"; wait "$NPID" 2>/dev/null || true; NPID=
check "no NOPERM in notify's log" bash -c "! grep -q NOPERM '$tmp/notify.log'"
check "notify's password appears in no log" bash -c "! grep -qF -- '$npass' '$tmp/notify.log' '$tmp/notify.out'"
nrefused() { N "$@" 2>&1 | grep -qE "NOPERM|command not allowed"; }
set -f # "keys *" goes to Redis as it is
for c in "xadd ops:{p0}:alerts * d x" "xadd ops:{p0}:events * d x" "get ops:{p0}:snapshot" \
  "del ops:{p0}:notify:log" "hset ops:{p0}:alerts:open a b" "xreadgroup group notify n streams ops:{p0}:events >" \
  "xgroup destroy ops:{p0}:alerts notify" "publish ops:{p0}:deltas x" "subscribe ops:{p0}:deltas" \
  "hset ops:{p0}:notifications a b" "xrange ops:{p0}:alerts - +" "flushall" "keys *" "config get maxmemory" \
  "function load x" "fcall ow_ingest 0"; do
  # shellcheck disable=SC2086
  check "refused to opswall-notify: $c" nrefused $c
done
set +f
kill "$RXPID"; RXPID=
A del 'ops:{p0}:alerts' > /dev/null # the engine below starts its alerts from nothing

export OPSWALL_REDIS_URL="redis://opswall:$pass@127.0.0.1:$rport/0"
"$BIN/opswall-sim" --seed 51 --orders-per-hour 60 --duration 12h --out "$tmp/a.ndjson"
check "ingest appends as opswall" "$BIN/opswall-ingest" --config "$CFG" "$tmp/a.ndjson" 2> "$tmp/ingest.log"
"$BIN/opswall-engine" --config "$CFG" --clock event > "$tmp/engine.log" 2>&1 &
ENGINE=$!
applied() {
  local n a
  n=$(A xlen 'ops:{p0}:events'); a=$(A --raw get 'ops:{p0}:snapshot' | json_get - '["events_applied"]' 2>/dev/null)
  [ "$n" -gt 0 ] && [ "$a" = "$n" ]
}
check "engine applies every event as opswall" wait_for 60 applied
check "engine wrote alerts" test "$(A xlen 'ops:{p0}:alerts')" -gt 0
"$BIN/opswall-feed" --config "$CFG" > "$tmp/feed.out" 2> "$tmp/feed.log" &
FEED=$!
feed_ok() { curl -sf "http://127.0.0.1:$fport/healthz" | grep -q '"status": *"ok"'; }
check "feed connected and serving as opswall" wait_for 20 feed_ok
check "feed answers an order detail (engine request over Redis)" bash -c \
  "curl -s 'http://127.0.0.1:$fport/api/v1/alerts?limit=3' | grep -q '\"alerts\"'"
check "wallboard draws the snapshot from Redis as opswall" env -u DISPLAY "$BIN/opswall-wallboard" \
  --config "$CFG" --size 960x540 --screenshot "$tmp/wb.png"
check "no NOPERM in any log" bash -c "! grep -l NOPERM $tmp/*.log"
check "the Redis password appears in no log" bash -c "! grep -rlF -- '$pass' $tmp/*.log $tmp/feed.out"

# NOPERM from the ACL; DEBUG is refused even before the ACL (enable-debug-command no)
refused() { A "$@" 2>&1 | grep -qE "NOPERM|command not allowed"; }
set -f # "keys *" goes to Redis as it is
for c in "flushall" "flushdb" "config get maxmemory" "keys *" "debug sleep 0" "shutdown nosave" \
  "eval return\ 1 0" "acl list" "get other:key" "set other:key 1" "publish other 1" \
  "xgroup destroy ops:{p0}:events engine" "client kill 127.0.0.1:1"; do
  # shellcheck disable=SC2086
  check "refused to opswall: $c" refused $c
done
set +f
check "a wrong password is refused" bash -c "redis-cli -p $rport --user opswall --pass nope --no-auth-warning ping 2>&1 | grep -qE 'WRONGPASS|NOAUTH'"
kill -TERM "$ENGINE" "$FEED"; wait "$ENGINE" "$FEED" 2>/dev/null || true; ENGINE= FEED=
finish
