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
# one snapshot, kept: the wallboard draws exactly it, and its numbers are checked against the CSV
SNAP=$(mktemp /tmp/ow-la311-snapshot.XXXXXX.json)
redis-cli -s "$SOCK" GET 'ops:{p0}:snapshot' >"$SNAP"
"$BIN/opswall-wallboard" --config config/la311.json --snapshot-file "$SNAP" \
  --screenshot docs/img/la311-wallboard.png
python3 - assets/cities/la311/MyLA311_Service_Request_Data_2017_Subset.csv "$SNAP" <<'PY'
import csv, collections, datetime, json, sys
from zoneinfo import ZoneInfo
la, fmt = ZoneInfo('America/Los_Angeles'), '%m/%d/%Y %I:%M:%S %p'
snap = json.load(open(sys.argv[2])); now = datetime.datetime.fromtimestamp(snap['now_ms'] / 1000, datetime.timezone.utc)
want = collections.Counter()
for r in csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8-sig')):
    c = datetime.datetime.strptime(r['CreatedDate'], fmt).replace(tzinfo=la)
    e = datetime.datetime.strptime(r['ClosedDate'], fmt).replace(tzinfo=la) if r['ClosedDate'] else None
    if (not r['CD'] and not r['Latitude']) or (r['Status'] != 'Open' and e < c): continue  # rejected
    if r['Status'] == 'Open': e = None
    if c <= now and (e is None or e > now): want[r['CD']] += 1
got = {x['id']: x['open'] for x in snap['regions']}
print(f"open per district at {snap['now']} (CSV / picture):",
      ' '.join(f"{k}:{want[k]}/{got.get(k)}" for k in sorted(want, key=int)),
      '- all agree' if all(want[k] == got.get(k) for k in want) else '- DIFFER')
PY
rm -f "$SNAP"
# the demo's feed has no tokens (open on loopback): any token signs in
node scripts/viewer_shot.mjs "http://127.0.0.1:$PORT/" demo docs/img/la311-viewer.png 1920x1080
echo "wrote docs/img/la311-wallboard.png and docs/img/la311-viewer.png at replay progress >= $AT %"
