#!/usr/bin/env bash
# The README's pictures of the real city: replays Los Angeles (opswall-run --city la311) fast, and
# at the replay point asked for takes the wallboard's screenshot (opswall-wallboard --screenshot,
# from the live Redis) and the viewer's (headless Chromium on the feed's page, scripts/viewer_shot.mjs;
# needs tests/browser/install.sh once).
#   scripts/city_screenshots.sh [BUILD_BIN] [PROGRESS_PCT] [SPEED]     (default build/bin 60 2000)
# Writes docs/img/la311-wallboard.png and docs/img/la311-viewer.png.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/integration/lib.sh
BIN=$(cd "${1:-build/bin}" && pwd)
AT=${2:-60}
SPEED=${3:-2000}
PORT=$(free_port)
export OPSWALL_FEED_PORT=$PORT
"$BIN/opswall-run" --city la311 --speed "$SPEED" --no-wallboard --for 600s >/tmp/ow-city-shots.log 2>&1 &
RUN=$!
trap 'stop_pid $RUN' EXIT
SOCK=var/replay-la311/redis.sock
at_progress() {
  redis-cli -s "$SOCK" GET 'ops:{p0}:snapshot' 2>/dev/null | python3 -c "
import json,sys; r=json.load(sys.stdin).get('replay') or {}; sys.exit(0 if r.get('progress_pct',0) >= float(sys.argv[1]) else 1)" "$AT"
}
wait_for 600 at_progress || { echo "the replay did not reach $AT %"; tail /tmp/ow-city-shots.log; exit 1; }
OPSWALL_REDIS_URL="unix://$PWD/$SOCK" "$BIN/opswall-wallboard" --config config/la311.json \
  --screenshot docs/img/la311-wallboard.png
# the demo's feed has no tokens (open on loopback): any token signs in
node scripts/viewer_shot.mjs "http://127.0.0.1:$PORT/" demo docs/img/la311-viewer.png 1920x1080
echo "wrote docs/img/la311-wallboard.png and docs/img/la311-viewer.png at replay progress >= $AT %"
