# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the test scripts
# wallboard_lib.sh — helpers shared by the wallboard_*_test.sh scripts (sourced, not run).
# Each test script is called by ctest as: <script> <opswall-wallboard binary> <work dir>.
# Builds on lib.sh (wait_for, start_redis, stop_pid; set -euo pipefail).

WB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$WB_HERE/lib.sh"
WB_COMPARE="$WB_HERE/wallboard_compare.sh"
WB_CLOCK=1795310105120 # 2026-11-22T01:15:05.120Z: 3 s after the test snapshots' now_ms

wb_fail() { echo "FAIL: $*" >&2; exit 1; }
wb_skip() { echo "SKIP: $*" >&2; exit 77; }
wb_need() { for t in "$@"; do command -v "$t" >/dev/null || wb_skip "'$t' not installed"; done; }

# wb_setup BIN WORKDIR: sets WB (binary) and T (fresh work dir)
wb_setup() {
    WB=${1:?usage: $0 <opswall-wallboard> <work dir>}
    T=${2:?usage: $0 <opswall-wallboard> <work dir>}
    [ -x "$WB" ] || wb_fail "not executable: $WB"
    rm -rf "$T"
    mkdir -p "$T" || wb_fail "cannot create $T"
    export TZ=${TZ:-UTC}
    # the count checks read the open-orders panel ("test.open") of a one-page test layout: the
    # binary is wrapped so every run (screenshot, window, Redis) uses it; exec keeps the pid
    if [ "${WB_LAYOUT:-}" != none ]; then
        printf '#!/bin/sh\nexec "%s" --layout "%s" "$@"\n' "$WB" "$WB_HERE/wallboard_layout.json" \
            >"$T/opswall-wallboard"
        chmod +x "$T/opswall-wallboard"
        WB="$T/opswall-wallboard"
    fi
    wb_need identify compare
}

# wb_snapshot FILE EMERGENCY IMPORTANT GENERAL [SEQ]: write a snapshot JSON (the core/snapshot.h
# format) with those open counts; total = their sum; now_ms = WB_CLOCK - 3 s.
wb_snapshot() {
    local total=$(($2 + $3 + $4))
    printf '{"v":1,"type":"snapshot","seq":%d,"now":"2026-11-22T01:15:02.120Z","now_ms":1795310102120,"mode":"live","open":{"emergency":%d,"important":%d,"general":%d,"total":%d},"orders_known":30,"events_applied":120,"last_event":"2026-11-22T01:15:01.000Z"}\n' \
        "${5:-42}" "$2" "$3" "$4" "$total" >"$1"
}

# wb_shot OUT.png SNAPSHOT.json [more args]: one --screenshot frame with the fixed clock
wb_shot() {
    local out=$1 snap=$2
    shift 2
    "$WB" --snapshot-file "$snap" --screenshot "$out" --clock "$WB_CLOCK" "$@" 2>>"$T/wallboard.log" ||
        wb_fail "screenshot $out failed (exit $?), see $T/wallboard.log"
}

# wb_size FILE: "WxH"
wb_size() { identify -format '%wx%h' "$1"; }

# wb_pixel FILE X Y: the pixel as ImageMagick names it, e.g. "srgb(255,77,90)"
wb_pixel() { /usr/bin/convert "$1" -format "%[pixel:p{$2,$3}]" info: 2>/dev/null; }

# wb_geometry LAYOUT NAME: "WxH+X+Y" of a region in a --print-layout file
wb_geometry() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }

# wb_ink IMG GEOM OUT: the crop GEOM of IMG as black/white "ink" (text and bars against the dark
# panel), so the same digits drawn in two different accent colours give (nearly) the same mask
wb_ink() { /usr/bin/convert "$1" -crop "$2" +repage -colorspace Gray -threshold 20% "$3"; }
