#!/usr/bin/env bash
# N× replay of the real city end to end (issue 11 item 5): opswall-run --city la311 at 100000×
# (the five days in about 4 s) with a real Redis, engine and paced ingest. Checked against the CSV,
# independently (Python's csv and zoneinfo): the window is the five local days, the engine applied
# exactly the events inside it, the open orders at the end are the rows still open at local
# midnight of Dec 31, and only resolution clocks ran (no false dispatch/arrival breaches).
#   city_replay.sh BIN_DIR
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
RUN_PID=0
trap 'stop_pid $RUN_PID; stop_pid ${REDIS_PID:-0}; rm -rf "$TMP"' EXIT
start_redis "$TMP/r"
export OPSWALL_REDIS_URL="unix://$TMP/r/redis.sock"
R() { redis-cli -s "$TMP/r/redis.sock" "$@"; }
CSV=$SRC/assets/cities/la311/MyLA311_Service_Request_Data_2017_Subset.csv

"$BIN/opswall-run" --city la311 --speed 100000 --no-wallboard --no-feed --for 60s >"$TMP/run.log" 2>&1 &
RUN_PID=$!
done_replay() {
  R GET 'ops:{p0}:snapshot' | python3 -c "
import json,sys; d=json.load(sys.stdin); r=d.get('replay') or {}
sys.exit(0 if r.get('progress_pct') == 100 and d['events_applied'] == int(sys.argv[1]) else 1)" "$1"
}
python3 - "$CSV" "$TMP/by_district.json" >"$TMP/expect.txt" <<'PY'
import csv, datetime, sys
from zoneinfo import ZoneInfo
la, utc = ZoneInfo('America/Los_Angeles'), datetime.timezone.utc
fmt = '%m/%d/%Y %I:%M:%S %p'
rows = []
with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:
    for r in csv.DictReader(f):
        c = datetime.datetime.strptime(r['CreatedDate'], fmt).replace(tzinfo=la)
        e = datetime.datetime.strptime(r['ClosedDate'], fmt).replace(tzinfo=la) if r['ClosedDate'] else None
        st = {'Closed': 'closed', 'Referred Out': 'closed', 'Cancelled': 'cancelled', 'Open': 'open'}[r['Status']]
        if (r['CD'] == '' and not r['Latitude']) or (st != 'open' and e < c):
            continue  # rejected rows (docs/csv-import.md)
        rows.append((c, e if st != 'open' else None, st, r['CD']))
first = min(r[0] for r in rows); last = max(r[0] for r in rows)
start = datetime.datetime(first.year, first.month, first.day, tzinfo=la)
end = datetime.datetime(last.year, last.month, last.day, tzinfo=la) + datetime.timedelta(days=1)
events = sum(1 + ({'closed': 2, 'cancelled': 1, 'open': 0}[st] if e and e <= end else 0) for c, e, st, cd in rows)
open_at_end = sum(1 for c, e, st, cd in rows if e is None or e > end)
import collections, json
by_cd = collections.Counter(cd for c, e, st, cd in rows if e is None or e > end)
json.dump(by_cd, open(sys.argv[2], 'w'))
ms = lambda t: int(t.astimezone(utc).timestamp() * 1000)
print(ms(start), ms(end), events, open_at_end)
PY
read -r START END EVENTS OPEN <"$TMP/expect.txt"
echo "expected: window $START..$END, $EVENTS events, $OPEN open at the end"
check "the replay plays to the end and the engine applies exactly the events of the window" \
  wait_for 60 done_replay "$EVENTS"
R GET 'ops:{p0}:snapshot' >"$TMP/snap.json"
check "snapshot mode is replay_speed" test "$(json_get "$TMP/snap.json" '["mode"]')" = replay_speed
check "replay window is the five local days (Dec 27 00:00 to Jan 1 00:00, Los Angeles)" \
  test "$(json_get "$TMP/snap.json" '["replay"]["start_ms"]')" = "$START" -a \
       "$(json_get "$TMP/snap.json" '["replay"]["end_ms"]')" = "$END"
check "now is the end of the window" test "$(json_get "$TMP/snap.json" '["now_ms"]')" = "$END"
check "open orders at the end agree with the CSV ($OPEN)" \
  test "$(json_get "$TMP/snap.json" '["open"]["total"]')" = "$OPEN"
check "open orders per district at the end agree with the CSV (the numbers on the map)" \
  python3 -c "
import json, sys
want = json.load(open(sys.argv[1])); snap = json.load(open(sys.argv[2]))
got = {r['id']: r['open'] for r in snap['regions']}
bad = [(k, want.get(k, 0), got.get(k)) for k in sorted(set(want) | set(got)) if want.get(k, 0) != got.get(k)]
print('district (csv, snapshot):', bad or 'all agree'); sys.exit(1 if bad else 0)" "$TMP/by_district.json" "$TMP/snap.json"
R XRANGE 'ops:{p0}:alerts' - + | grep -o '"stage":"[a-z]*"' | sort | uniq -c >"$TMP/stages.txt"
cat "$TMP/stages.txt"
check "alerts were raised" test -s "$TMP/stages.txt"
check "only resolution clocks ran (no dispatch/accept/response/arrival/callback alerts)" \
  test "$(grep -vc '"stage":"resolution"' "$TMP/stages.txt")" = 0
finish
