# Helpers for the feed's integration tests (sourced, not run). Each test gets a private
# redis-server in a temp dir (unix socket, no TCP, no persistence) and stops it at the end, also on
# failure (trap). Waits are polls with deadlines, never bare sleeps.
#
#   FEED_BIN      path to opswall-feed (required)
#   FEED_WRAPPER  command to run the feed under, e.g. "valgrind --error-exitcode=99 ..." (optional)
#   KEEP_TMP=1    keep the temp dir for inspection

set -euo pipefail

FEED_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d /tmp/owfeed.XXXXXX)
REDIS_SOCK=$T/redis.sock
REDIS_PID=
EXTRA_PIDS=()
FEED_REDIS_URL=unix://$REDIS_SOCK
FEED_PID=
FEED_URL=
FEED_PORT=
FEED_RUNS=0
CHAN='ops:{p0}:live'
# A config of our own: only the feed section (the rest keeps its defaults), so the test does not
# depend on what config/opswall.json holds. Redis comes from OPSWALL_REDIS_URL.
FEED_CONFIG=$T/config/feed.json
mkdir -p "$T/config"
# One token per role; the config holds only their SHA-256 (core/access.h).
VIEWER_TOKEN=viewer-$RANDOM$RANDOM SUP_TOKEN=super-$RANDOM$RANDOM ADMIN_TOKEN=admin-$RANDOM$RANDOM
export VIEWER_TOKEN SUP_TOKEN ADMIN_TOKEN
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
# feed_config [EXTRA_FEED_JSON]: write $FEED_CONFIG (extra members of "feed", e.g. tls).
feed_config() {
  # queue 8: a client that stops reading overflows its backlog soon (ws_check.mjs step 7)
  printf '{"feed": {"listen": "127.0.0.1", "port": 7681, "web_root": "%s/assets/web", "queue": 8%s},
  "city": {"regions": "%s/assets/cities/sample/regions.geojson"},
  "access": {"tokens": [{"name": "vic", "role": "viewer", "sha256": "%s"},
    {"name": "li.wei", "role": "supervisor", "sha256": "%s"},
    {"name": "root", "role": "admin", "sha256": "%s"}]}}\n' \
    "$FEED_SRC_DIR" "${1:+, $1}" "$FEED_SRC_DIR" "$(sha "$VIEWER_TOKEN")" "$(sha "$SUP_TOKEN")" \
    "$(sha "$ADMIN_TOKEN")" >"$FEED_CONFIG"
}
feed_config
KEY='ops:{p0}:snapshot'

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() {
  log "FAIL: $*"
  for f in "$T"/feed*.err; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  exit 1
}
pass() { log "ok: $*"; }

# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds or time runs out.
wait_until() {
  local secs=$1; shift
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }

redis_ready() { [ "$(rcli ping 2>/dev/null)" = PONG ]; }

redis_start() {
  redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --save '' \
    --appendonly no --dir "$T" --logfile "$T/redis.log" --daemonize no &
  REDIS_PID=$!
  wait_until 10 redis_ready || fail "redis-server did not start (see $T/redis.log)"
}

redis_stop() {
  [ -n "$REDIS_PID" ] || return 0
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=
}

# feed_start [PORT]: start opswall-feed (default --port 0) and read its viewer URL.
feed_start() {
  local port=${1:-0}
  FEED_RUNS=$((FEED_RUNS + 1))
  local out=$T/feed$FEED_RUNS.out err=$T/feed$FEED_RUNS.err
  # shellcheck disable=SC2086
  OPSWALL_REDIS_URL="$FEED_REDIS_URL" ${FEED_WRAPPER:-} "$FEED_BIN" --config "$FEED_CONFIG" \
    --port "$port" >"$out" 2>"$err" &
  FEED_PID=$!
  wait_until 60 grep -q '^viewer: http' "$out" || fail "feed did not print its viewer URL"
  FEED_URL=$(sed -n 's/^viewer: \(https*:[^ ]*\)$/\1/p' "$out" | head -n1)
  FEED_URL=${FEED_URL%/}
  FEED_PORT=${FEED_URL##*:}
  log "feed $FEED_RUNS (pid $FEED_PID) at $FEED_URL"
}

# feed_stop: SIGTERM, and require a clean exit (status 0, loop closed).
feed_stop() {
  [ -n "$FEED_PID" ] || return 0
  kill -TERM "$FEED_PID"
  local rc=0
  wait "$FEED_PID" || rc=$?
  FEED_PID=
  [ "$rc" -eq 0 ] || fail "feed exited with status $rc after SIGTERM"
  ! grep -q 'handle still open\|did not close cleanly' "$T/feed$FEED_RUNS.err" ||
    fail "feed left libuv handles open"
}

# snapshot_json SEQ EMERGENCY IMPORTANT GENERAL: a snapshot as core/snapshot.c formats it.
snapshot_json() {
  local now_ms total=$(($2 + $3 + $4))
  now_ms=$(date +%s%3N)
  local now
  now=$(date -u -d "@$((now_ms / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf '%03d' $((now_ms % 1000)))Z
  printf '{"v":1,"type":"snapshot","seq":%d,"now":"%s","now_ms":%d,"mode":"live","open":{"emergency":%d,"important":%d,"general":%d,"total":%d},"orders_known":%d,"events_applied":%d,"last_event":"%s"}' \
    "$1" "$now" "$now_ms" "$2" "$3" "$4" "$total" $((total + 12)) $((total * 4)) "$now"
}

# publish TEXT: what the engine does: SET the key, PUBLISH the same text.
publish() {
  rcli set "$KEY" "$1" >/dev/null
  rcli publish "$CHAN" "$1" >/dev/null
}

# http_get PATH [curl args]: prints "STATUS CONTENT-TYPE" on line 1 and the body after it.
# Sends the viewer token unless TOKEN is set (TOKEN= sends none).
http_get() {
  local path=$1; shift
  local tok=${TOKEN-$VIEWER_TOKEN}
  curl -sS --max-time 5 ${tok:+-H "Authorization: Bearer $tok"} "$@" -o "$T/body" \
    -w '%{http_code} %{content_type}\n' "$FEED_URL$path"
  cat "$T/body"
}
# snap_has PATTERN: the served snapshot (viewer token) contains PATTERN.
snap_has() { curl -sf -H "Authorization: Bearer $VIEWER_TOKEN" "$FEED_URL/api/v1/snapshot" | grep -q "$1"; }

# free_port: a TCP port nobody listens on right now.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

cleanup() {
  local rc=$?
  [ -n "$FEED_PID" ] && kill -KILL "$FEED_PID" 2>/dev/null
  [ -n "$REDIS_PID" ] && { kill -TERM "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; }
  # (a helper may have ended already: its kill fails, which must not fail the cleanup)
  for pid in "${EXTRA_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP_TMP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
    log "files kept in $T"
  else
    rm -rf "$T"
  fi
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "${FEED_BIN:-}" ] || fail "FEED_BIN must point to opswall-feed (got '${FEED_BIN:-}')"
command -v redis-server >/dev/null || fail "redis-server not found (apt-get install redis-server)"

# The node packages (ws, playwright-core); installed on first use.
node_modules_ready() {
  [ -d "$FEED_SRC_DIR/tests/browser/node_modules/ws" ] &&
    [ -d "$FEED_SRC_DIR/tests/browser/node_modules/playwright-core" ] ||
    "$FEED_SRC_DIR/tests/browser/install.sh" >&2 || fail "tests/browser/install.sh failed"
}
