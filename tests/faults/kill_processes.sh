#!/usr/bin/env bash
# Issue 9, faults: `kill -9` of the engine, the feed and the wallboard at random moments while
# opswall-run runs the simulator (60× speed, busy day) into ingest. opswall-run restarts what died.
# What must hold, counted:
#   - every process killed is back within BACK_S seconds: the engine applies new events again, the
#     feed answers /healthz and /api/v1/snapshot, the wallboard (offscreen) writes its picture;
#   - after the simulator stops, every event of ops:{p0}:events is applied once (events_applied
#     = XLEN) and the alerts in ops:{p0}:alerts have unique ids and equal a batch
#     `opswall-engine --replay` of the same stream: none lost, none doubled.
# Ingest's own kill -9 under producers is faults.ingest_kill (ingest_kill.sh); its Redis outage
# test is issue 3's tests/integration/ingest_outage.sh.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${ROUNDS:-5}
BACK_S=${BACK_S:-10}
RANDOM=${SEED:-9}
tmp=$(mktemp -d /tmp/ow-faults-kill.XXXXXX)
RUN=
cleanup() {
  set +e # the status of finish stands, whatever a kill or wait below returns
  [ -n "$RUN" ] && kill -INT "$RUN" 2>/dev/null && for _ in $(seq 100); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.1; done
  [ -n "$RUN" ] && kill -9 "$RUN" 2>/dev/null
  [ -f "$tmp/data/redis.pid" ] && kill -9 "$(cat "$tmp/data/redis.pid")" 2>/dev/null
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

port=$(free_port)
faults_config "$tmp" "$port"
unset OPSWALL_REDIS_URL OPSWALL_DATA_DIR OPSWALL_FEED_PORT DISPLAY WAYLAND_DISPLAY SDL_VIDEODRIVER
"$BIN/opswall-run" --config "$CFG" --speed 60 --seed 5 --orders-per-hour 600 \
  > "$tmp/run.out" 2> "$tmp/run.log" &
RUN=$!
sock=$tmp/data/redis.sock
R() { redis-cli -s "$sock" "$@"; }
png=$tmp/var/wallboard/latest.png
child() { pgrep -P "$RUN" -f "/$1( |$)" | head -n 1 || true; }
feed_ok() { curl -sf "http://127.0.0.1:$port/healthz" | grep -q '"status": *"ok"' && curl -sf "http://127.0.0.1:$port/api/v1/snapshot"; }
engine_moving() { [ "$(snap_field "$sock" events_applied)" -gt "$1" ] 2>/dev/null; }
check "engine, feed and wallboard start" wait_for 30 bash -c "[ -e '$png' ] && curl -sf http://127.0.0.1:$port/healthz && redis-cli -s '$sock' exists 'ops:{p0}:snapshot' | grep -q 1"

# back NAME OLD_PID SINCE_EPOCH_MS: the restarted process works again
back() {
  local name=$1 old=$2 since=$3 pid
  pid=$(child "opswall-$name")
  [ -n "$pid" ] && [ "$pid" != "$old" ] || return 1
  case $name in
  engine) engine_moving "$APPLIED_AT_KILL" ;;
  feed) feed_ok >/dev/null ;;
  wallboard) [ "$(stat -c %Y "$png" 2>/dev/null || echo 0)" -ge "$since" ] ;;
  esac
}

kills=0
for round in $(seq "$ROUNDS"); do
  for name in $(printf 'engine\nfeed\nwallboard\n' | shuf --random-source=<(yes "$round$RANDOM")); do
    sleep "$((RANDOM % 3)).$((RANDOM % 10))"
    pid=$(child "opswall-$name")
    [ -n "$pid" ] || { fail "round $round: no $name running"; continue; }
    APPLIED_AT_KILL=$(snap_field "$sock" events_applied)
    since=$(date +%s)
    T0=$(date +%s%N)
    kill -9 "$pid" && kills=$((kills + 1))
    back_within "$BACK_S" "round $round: $name killed (pid $pid)" back "$name" "$pid" "$since"
  done
done
backs=$FAULT_BACKS worst=$FAULT_SLOWEST_MS
check "$backs of $kills kill -9 back within $BACK_S s (slowest $worst ms)" test "$backs" -eq "$kills"

# stop the producer: the simulator dies, ingest reads the end of its input and finishes
sim=$(child opswall-sim)
check "simulator running" test -n "$sim"
kill -TERM "$sim"
ingest_done() { [ -z "$(child opswall-ingest)" ]; }
check "ingest finishes its input" wait_for 30 ingest_done
check "engine applies every event of the stream ($(R xlen 'ops:{p0}:events') events)" wait_for 60 all_applied "$sock"
check "every alert once, equal to the batch replay" compare_alerts "$sock" "$BIN" "$CFG" "$tmp"
check "opswall-run reports the restarts" grep -q "restarting in" "$tmp/run.log"
echo "figures: kills=$kills back=$backs slowest_ms=$worst events=$(R xlen 'ops:{p0}:events') alerts=$(R xlen 'ops:{p0}:alerts')"
kill -INT "$RUN"; gone() { ! kill -0 "$RUN" 2>/dev/null; }
check "opswall-run stops on Ctrl-C" wait_for 20 gone
RUN=
finish
