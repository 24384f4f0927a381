#!/usr/bin/env bash
# wallboard.redis — the picture from Redis equals the picture from a file, and Redis loss is shown
# as stale while the last numbers stay on screen.
#
# A private redis-server runs in the work dir (unix socket, no TCP port) and is stopped on exit.
# 1. Golden: SET the snapshot key to A, --screenshot from Redis; it must equal the --screenshot
#    of the same JSON from a file in every pixel except header.status (connected vs file).
#    A wrong value in Redis (general 11) must make the tile comparison fail.
# 2. Window mode without a display: the wallboard says it uses the offscreen driver and writes
#    --latest; the tiles there equal the file render of A.
# 3. Redis stops: the wallboard logs the loss, keeps running, keeps A's tiles and draws the red
#    stale frame. Redis comes back with B: the wallboard reconnects by itself and shows B.
# 4. SIGTERM: clean exit with status 0.
. "$(dirname "$0")/wallboard_lib.sh"
wb_setup "$@"
wb_need redis-server redis-cli

# unix socket paths are limited to 107 bytes: keep Redis in a short temp dir
RD=$(mktemp -d /tmp/wbredis.XXXXXX) || wb_fail "mktemp"
SOCK="$RD/redis.sock"
REDIS_PID="" wb_pid=""
cleanup() {
    [ -z "$wb_pid" ] || stop_pid "$wb_pid"
    [ -z "$REDIS_PID" ] || stop_pid "$REDIS_PID"
    rm -rf "$RD"
}
trap cleanup EXIT
redis_stop() {
    stop_pid "$REDIS_PID"
    REDIS_PID=""
}
KEY='ops:{p0}:snapshot'
redis_set() { redis-cli -s "$SOCK" SET "$KEY" "$(cat "$1")" >/dev/null || wb_fail "SET failed"; }

export OPSWALL_REDIS_URL="unix://$SOCK"
unset DISPLAY WAYLAND_DISPLAY SDL_VIDEODRIVER
SIZE=1920x1080
"$WB" --print-layout --size $SIZE >"$T/layout.txt" || wb_fail "--print-layout failed"
L=(--layout "$T/layout.txt")
TILES=(--region test.open)

wb_snapshot "$T/a.json" 3 5 10
wb_snapshot "$T/b.json" 4 7 12 43
wb_snapshot "$T/wrong.json" 3 5 11
wb_shot "$T/expected-a.png" "$T/a.json" --size $SIZE
wb_shot "$T/expected-b.png" "$T/b.json" --size $SIZE

start_redis "$RD" || wb_fail "redis-server did not start"

# 1. golden: Redis render == file render (except the link state)
redis_set "$T/a.json"
"$WB" --screenshot "$T/actual-a.png" --clock "$WB_CLOCK" --size $SIZE 2>>"$T/wallboard.log" ||
    wb_fail "screenshot from Redis failed (exit $?)"
"$WB_COMPARE" "${L[@]}" "${TILES[@]}" "$T/expected-a.png" "$T/actual-a.png" ||
    wb_fail "tiles from Redis differ from tiles from the file"
"$WB_COMPARE" "${L[@]}" --ignore header.status "$T/expected-a.png" "$T/actual-a.png" ||
    wb_fail "Redis and file renders differ outside header.status"
"$WB_COMPARE" "${L[@]}" --expect-diff --region header.status "$T/expected-a.png" \
    "$T/actual-a.png" || wb_fail "header.status does not show connected vs file"
redis_set "$T/wrong.json"
"$WB" --screenshot "$T/actual-wrong.png" --clock "$WB_CLOCK" --size $SIZE 2>>"$T/wallboard.log" ||
    wb_fail "screenshot from Redis failed (exit $?)"
if "$WB_COMPARE" -q "${L[@]}" "${TILES[@]}" "$T/expected-a.png" "$T/actual-wrong.png"; then
    wb_fail "a wrong count in Redis was not detected"
fi
echo "ok golden"

# 2. window mode, no display → offscreen + latest.png
redis_set "$T/a.json"
LATEST="$T/latest.png"
"$WB" --latest "$LATEST" --clock "$WB_CLOCK" --size $SIZE --exit-after-ms 60000 \
    >"$T/window.out" 2>"$T/window.err" &
wb_pid=$!
tiles_are() { [ -f "$LATEST" ] && "$WB_COMPARE" -q "${L[@]}" "${TILES[@]}" "$1" "$LATEST"; }
wait_for 20 tiles_are "$T/expected-a.png" || wb_fail "latest.png never showed snapshot A"
grep -q "SDL_VIDEODRIVER=offscreen" "$T/window.out" || wb_fail "no offscreen notice on stdout"
grep -q "video driver offscreen" "$T/window.err" || wb_fail "the video driver is not logged"
RED="srgb(255,77,90)" # theme.c OW_ALARM_BREACH
[ "$(wb_pixel "$LATEST" 1 1)" != "$RED" ] || wb_fail "stale frame shown while connected"
echo "ok window"

# 2b. deltas (core/delta.h): a delta on ops:{p0}:deltas changes the picture while the key still
# holds A; a delta that does not continue the sequence is a gap, and the key is read again (A)
wb_snapshot "$T/c.json" 9 8 7 43
wb_shot "$T/expected-c.png" "$T/c.json" --size $SIZE
publish() { redis-cli -s "$SOCK" PUBLISH 'ops:{p0}:deltas' "$1" >/dev/null || wb_fail "PUBLISH failed"; }
publish '{"v":1,"type":"delta","seq":43,"base":42,"set":{"open":{"emergency":9,"important":8,"general":7,"total":24}},"del":[]}'
wait_for 20 tiles_are "$T/expected-c.png" || wb_fail "a delta did not change the picture"
publish '{"v":1,"type":"delta","seq":78,"base":77,"set":{"open":{"emergency":1,"important":1,"general":1,"total":3}},"del":[]}'
wait_for 20 tiles_are "$T/expected-a.png" || wb_fail "a gap in the deltas did not resync from the key"
echo "ok deltas"

# 3. Redis lost: still running, same tiles, red frame; then back with B
redis_stop
wait_for 20 grep -q "retrying with backoff" "$T/window.err" || wb_fail "loss not logged"
stale_frame() { [ "$(wb_pixel "$LATEST" 1 1)" = "$RED" ]; }
not_stale() { ! stale_frame; }
wait_for 20 stale_frame || wb_fail "no stale frame after Redis stopped"
kill -0 "$wb_pid" || wb_fail "the wallboard died when Redis stopped"
tiles_are "$T/expected-a.png" || wb_fail "the last numbers were not kept after Redis stopped"
cp "$LATEST" "$T/stale.png"
echo "ok stale"

start_redis "$RD" || wb_fail "redis-server did not start"
redis_set "$T/b.json"
wait_for 30 tiles_are "$T/expected-b.png" || wb_fail "did not reconnect and show snapshot B"
grep -q "is back after" "$T/window.err" || wb_fail "reconnect not logged"
wait_for 10 not_stale || wb_fail "stale frame stayed after reconnecting"
echo "ok reconnect"

# 4. clean shutdown
kill -TERM "$wb_pid"
rc=0
wait "$wb_pid" || rc=$?
wb_pid=""
[ $rc -eq 0 ] || wb_fail "exit status $rc after SIGTERM ($T/window.err)"
echo "PASS wallboard.redis"
