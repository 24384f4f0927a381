#!/usr/bin/env bash
# Issue 9, faults: Redis (AOF on, appendfsync always) under a running engine and feed is
#   1. stopped (SIGTERM) and started again on the same AOF,
#   2. killed with SIGKILL and started again on the same AOF,
#   3. paused with CLIENT PAUSE for 3 s, three times redis.timeout (1 s).
# Events are ingested before and after each fault. What must hold, counted:
#   - every event ingest acknowledged is in ops:{p0}:events after each restart (AOF, fsync always);
#   - the engine and the feed come back by themselves within BACK_S seconds: the engine applies the
#     next events, the feed reports redis connected and serves a newer snapshot;
#   - at the end every event is applied once and the alerts equal a batch --replay (none lost,
#     none doubled).
# Ingest's behaviour during an outage (buffering) is tested by ingest's own tests.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BACK_S=${BACK_S:-10}
tmp=$(mktemp -d /tmp/ow-faults-redis.XXXXXX)
ENGINE= FEED=
cleanup() {
  set +e # the status of finish stands, whatever a kill or wait below returns
  for p in $ENGINE $FEED; do kill -9 "$p" 2>/dev/null; done
  [ -n "${REDIS_PID:-}" ] && kill -9 "$REDIS_PID" 2>/dev/null
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

port=$(free_port)
faults_config "$tmp" "$port"
rdir=$tmp/redis sock=$tmp/redis/redis.sock
# started and done loading the AOF (redis-cli ping exits 0 on a LOADING error too)
redis_loaded() { redis-cli -s "$sock" info persistence | grep -q '^loading:0'; }
redis_up() { start_redis "$rdir" --appendonly yes --appendfsync always && wait_for 30 redis_loaded; }
redis_up
export OPSWALL_REDIS_URL="unix://$sock"
R() { redis-cli -s "$sock" "$@"; }

# one simulated day cut into 4 parts, ingested one after another
"$BIN/opswall-sim" --seed 21 --orders-per-hour 60 --duration 24h --out "$tmp/all.ndjson"
total=$(wc -l < "$tmp/all.ndjson")
split -n l/4 -d "$tmp/all.ndjson" "$tmp/part."
ingest() { "$BIN/opswall-ingest" --config "$CFG" "$tmp/part.0$1" >> "$tmp/ingest.log" 2>&1; }

"$BIN/opswall-engine" --config "$CFG" --clock event >> "$tmp/engine.log" 2>&1 &
ENGINE=$!
"$BIN/opswall-feed" --config "$CFG" >> "$tmp/feed.log" 2>&1 &
FEED=$!
health() { curl -sf "http://127.0.0.1:$port/healthz"; }
feed_seq() { health | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["snapshot"]["seq"] if d["status"]=="ok" else -1)' 2>/dev/null || echo -1; }
feed_newer() { [ "$(feed_seq)" -gt "$1" ]; }

check "part 0 ingested" ingest 0
check "engine applies part 0" wait_for 30 all_applied "$sock"
check "feed healthy" wait_for 10 feed_newer 0

# after_fault NAME PART: ingest PART, then engine and feed must be back within BACK_S s
after_fault() {
  local name=$1 part=$2 seq0 t0 ms
  seq0=$(feed_seq)
  [ "$seq0" -ge 0 ] || seq0=0
  t0=$(date +%s%N)
  check "$name: part $part ingested after the fault" ingest "$part"
  if wait_for "$BACK_S" all_applied "$sock"; then
    ms=$((($(date +%s%N) - t0) / 1000000))
    ok "$name: engine applied part $part ($ms ms from the start of that ingest)"
  else
    fail "$name: engine did not apply part $part within $BACK_S s"
  fi
  check "$name: feed reconnected and serves a newer snapshot" wait_for "$BACK_S" feed_newer "$seq0"
  check "$name: engine and feed still running" kill -0 "$ENGINE" "$FEED"
}

# 1. stopped and started on the same AOF
n=$(R xlen 'ops:{p0}:events')
stop_pid "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
sleep 2 # engine and feed see the outage and retry
redis_up
check "SIGTERM: all $n acknowledged events kept by the AOF" test "$(R xlen 'ops:{p0}:events')" = "$n"
after_fault "Redis stopped" 1

# 2. killed and started on the same AOF
n=$(R xlen 'ops:{p0}:events')
kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
sleep 2
redis_up
check "SIGKILL: all $n acknowledged events kept by the AOF" test "$(R xlen 'ops:{p0}:events')" = "$n"
after_fault "Redis killed" 2

# 3. paused longer than redis.timeout (1 s in this config)
R client pause 3000 all > /dev/null
sleep 3.2
after_fault "CLIENT PAUSE 3 s" 3

distinct=$(python3 -c 'import json,sys; print(len({json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip()}))' "$tmp/all.ndjson" 2>/dev/null || echo "?")
check "stream holds each distinct event of the $total lines once ($distinct)" test "$(R xlen 'ops:{p0}:events')" = "$distinct"
check "every alert once, equal to the batch replay" compare_alerts "$sock" "$BIN" "$CFG" "$tmp"
check "engine logged the outage and came back" grep -qi "retrying" "$tmp/engine.log"
echo "figures: events=$(R xlen 'ops:{p0}:events') alerts=$(R xlen 'ops:{p0}:alerts') engine_retries=$(grep -ci retrying "$tmp/engine.log") feed_reconnects=$(health | json_get - '["redis"]["reconnects"]')"
kill -TERM "$ENGINE" "$FEED"; wait "$ENGINE" "$FEED" 2>/dev/null || true; ENGINE= FEED=
finish
