#!/usr/bin/env bash
# wallboard_idle.sh — CPU of the real wallboard window while the data does not change.
#
#   bench/wallboard_idle.sh BUILD_BIN [SECONDS] [WxH]      e.g. bench/wallboard_idle.sh build/bin 20 3840x2160
#
# Runs opswall-wallboard in a real X11 window under Xvfb (software renderer, as a wall PC without a
# GPU would) on the rainstorm fixture (bench/wallboard_fixture), waits for the first frame, then
# reads the process's user+system CPU from /proc/PID/stat over SECONDS (default 20). The clock
# ticks, so the board redraws once a second (clock, data age, SLA countdowns). Prints one JSON
# line; cpu_pct is of one core. The X server's own work (Xvfb copying the frames) is not counted:
# on a real wall that is the display's.
set -euo pipefail
BIN=${1:?usage: $0 BUILD_BIN [SECONDS] [WxH]}
SECS=${2:-20}
SIZE=${3:-1920x1080}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v xvfb-run >/dev/null || { echo "wallboard_idle.sh: xvfb-run not installed" >&2; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$BIN/wallboard_fixture" --regions "$ROOT/assets/cities/sample/regions.geojson" --out "$T/storm.json"

cat >"$T/inside.sh" <<INSIDE
set -euo pipefail
SDL_VIDEODRIVER=x11 SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0 \\
    "$BIN/opswall-wallboard" --config "$ROOT/config/opswall.json" --snapshot-file "$T/storm.json" \\
    --size $SIZE --fullscreen 2>"$T/wb.err" &
pid=\$!
for _ in \$(seq 200); do grep -q "first frame shown" "$T/wb.err" 2>/dev/null && break; sleep 0.1; done
sleep 2 # the first frames render every glyph once
tick=\$(getconf CLK_TCK)
cpu() { awk '{ print \$14 + \$15 }' /proc/\$pid/stat; }
c0=\$(cpu); t0=\$(date +%s.%N)
sleep $SECS
c1=\$(cpu); t1=\$(date +%s.%N)
kill -TERM \$pid; wait \$pid || true
echo "{\"bench\":\"wallboard_idle\",\"size\":\"$SIZE\",\"renderer\":\"software\",\"display\":\"Xvfb\",\"seconds\":\$(echo "\$t1 - \$t0" | bc),\"cpu_pct\":\$(echo "scale=2; 100 * (\$c1 - \$c0) / \$tick / (\$t1 - \$t0)" | bc)}"
INSIDE
W=${SIZE%x*} H=${SIZE#*x}
xvfb-run -a -s "-screen 0 ${W}x${H}x24 -nolisten tcp" bash "$T/inside.sh"
