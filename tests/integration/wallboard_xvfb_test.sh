#!/usr/bin/env bash
# wallboard.xvfb — a real X11 window shows exactly the --screenshot picture.
#
# Under Xvfb (xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp") the wallboard runs in window
# mode with SDL_VIDEODRIVER=x11 and the software renderer (SDL_RENDER_DRIVER=software,
# SDL_FRAMEBUFFER_ACCELERATION=0) on a snapshot file, first as a 1920x1080 window, then with
# --fullscreen, then the whole board on the rainstorm fixture with the default layout. Each time the root window is captured with `import -window root` and compared with
# the --screenshot render of the same input and clock: AE must be 0 (the capture is retried until a
# deadline, since it may race the first frame). SIGTERM must then end it with status 0, and the
# log must name the x11 driver.
. "$(dirname "$0")/wallboard_lib.sh"

# one_window NAME ARGS...: run, capture, compare, stop
one_window() {
    local name=$1 pid rc
    shift
    # software renderer presented with XShm (no OpenGL texture in between): the same pixels as the
    # --screenshot surface; Xvfb has no GPU anyway
    SDL_VIDEODRIVER=x11 SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0 \
        "$WB" --snapshot-file "${SNAP:-$T/a.json}" --clock "$WB_CLOCK" --exit-after-ms 60000 "$@" \
        2>"$T/$name.err" &
    pid=$!
    wait_for 20 grep -q "first frame shown" "$T/$name.err" || { kill $pid; wb_fail "$name: no frame"; }
    grep -q "video driver x11" "$T/$name.err" || { kill $pid; wb_fail "$name: not on x11"; }
    # shellcheck disable=SC2317  # called through wait_for
    captured_matches() {
        import -window root "$T/$name.png" 2>/dev/null &&
            "$WB_COMPARE" "${EXPECTED:-$T/expected.png}" "$T/$name.png" >"$T/$name.compare"
    }
    wait_for 15 captured_matches || { kill $pid; wb_fail "$name: capture differs: $(cat "$T/$name.compare")"; }
    echo "$name: $(cat "$T/$name.compare")"
    kill -TERM $pid
    rc=0
    wait $pid || rc=$?
    [ $rc -eq 0 ] || wb_fail "$name: exit status $rc after SIGTERM"
}

if [ "${1:-}" = "--inside-xvfb" ]; then
    WB=$2 T=$3 WB_BIN=$4 REPO=$5
    export TZ=${TZ:-UTC}
    one_window window --size 1920x1080
    one_window fullscreen --fullscreen
    # the whole board (map, heat, dots, lists, cached layers) on the rainstorm fixture
    WB=$WB_BIN SNAP=$T/storm.json EXPECTED=$T/expected-storm.png \
        one_window storm --fullscreen --layout "$REPO/config/wallboard/default.json"
    exit 0
fi

WB_BIN=$1
FIXTURE=${3:?usage: $0 <opswall-wallboard> <work dir> <wallboard_fixture> <repo>}
REPO=${4:?usage: $0 <opswall-wallboard> <work dir> <wallboard_fixture> <repo>}
wb_setup "$@"
wb_need xvfb-run xauth import
wb_snapshot "$T/a.json" 3 5 10
wb_shot "$T/expected.png" "$T/a.json" --size 1920x1080
"$FIXTURE" --regions "$REPO/assets/cities/sample/regions.geojson" --out "$T/storm.json" ||
    wb_fail "fixture failed"
"$WB_BIN" --layout "$REPO/config/wallboard/default.json" --snapshot-file "$T/storm.json" \
    --screenshot "$T/expected-storm.png" --clock "$WB_CLOCK" --size 1920x1080 2>>"$T/wallboard.log" ||
    wb_fail "storm screenshot failed"
xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" \
    bash "$0" --inside-xvfb "$WB" "$T" "$WB_BIN" "$REPO" || wb_fail "window test failed (see $T)"
echo "PASS wallboard.xvfb"
