#!/usr/bin/env bash
# Issue 9, security: the Redis ACL user of scripts/redis-acl.sh is enough for the programs and no
# more. A Redis on a loopback TCP port gets the user, its default user is switched off, and then
#   - ingest appends a simulated day, the engine applies every event and writes alerts, the feed
#     serves the snapshot and the wallboard draws it from Redis — all as user opswall;
#   - the same user is refused (NOPERM) FLUSHALL, FLUSHDB, CONFIG, KEYS, DEBUG, SHUTDOWN, EVAL,
#     ACL, a key outside ops:* and a channel outside ops:*; without a password nothing is served.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../faults/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/ow-acl.XXXXXX)
ENGINE= FEED= RPID=
cleanup() {
  set +e # the status of finish stands, whatever a kill or wait below returns
  for p in $ENGINE $FEED $RPID; do kill -9 "$p" 2>/dev/null; done
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
redis-cli -p "$rport" acl setuser default off > /dev/null
A() { redis-cli -p "$rport" --user opswall --pass "$pass" --no-auth-warning "$@"; }
check "the default user is off" bash -c "redis-cli -p $rport ping 2>&1 | grep -q NOAUTH"

faults_config "$tmp" "$fport"
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
