#!/usr/bin/env bash
# wallboard.partitions — partitioned (cluster.partitions 3): the wallboard reads the three
# partitions' snapshot keys from one redis-server and draws their merge. The render from Redis
# equals the render of the merged picture from a file (ow_partials' merged.json, made by the same
# merge) outside header.status; with partition 2's key gone the open-orders tile changes (its
# orders are missing) and the header says which partition is stale.
#   args: <opswall-wallboard> <work dir> <ow_partials> <source dir>
. "$(dirname "$0")/wallboard_lib.sh"
wb_setup "$1" "$2"
PARTIALS=${3:?ow_partials} SRC=${4:?source dir}
wb_need redis-server redis-cli python3

RD=$(mktemp -d /tmp/wbparts.XXXXXX) || wb_fail "mktemp"
SOCK="$RD/redis.sock" REDIS_PID=""
cleanup() {
    [ -z "$REDIS_PID" ] || stop_pid "$REDIS_PID"
    rm -rf "$RD"
}
trap cleanup EXIT

# a configuration of our own beside links to the repository's assets (paths stay relative)
C=$T/site
mkdir -p "$C/config"
ln -s "$SRC/assets" "$C/assets"
ln -s "$SRC/config/wallboard" "$C/config/wallboard"
printf '{"central":0,"north":0,"east":1,"harbor":1,"south":2,"west":2,"oldtown":2}\n' >"$C/config/partitions.json"
python3 - "$SRC/config/opswall.json" "$C/config/opswall.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["cluster"].update({"partitions": 3, "regions": "config/partitions.json"})
json.dump(c, open(sys.argv[2], "w"), ensure_ascii=False)
PY
CFG=(--config "$C/config/opswall.json")
"$PARTIALS" "$C/config/opswall.json" "$SRC/assets/cities/sample/events.ndjson" "$T" || wb_fail "ow_partials"
CLOCK=$(python3 -c "import json; print(json.load(open('$T/merged.json'))['now_ms'] + 3000)")

SIZE=1920x1080
"$WB" --print-layout --size $SIZE >"$T/layout.txt" || wb_fail "--print-layout failed"
L=(--layout "$T/layout.txt")

"$WB" "${CFG[@]}" --snapshot-file "$T/merged.json" --screenshot "$T/expected.png" --clock "$CLOCK" \
    --size $SIZE 2>>"$T/wallboard.log" || wb_fail "file render of merged.json failed"

start_redis "$RD" || wb_fail "redis-server did not start"
export OPSWALL_REDIS_URL="unix://$SOCK"
for p in 0 1 2; do
    redis-cli -s "$SOCK" SET "ops:{p$p}:snapshot" "$(cat "$T/partial_p$p.json")" >/dev/null || wb_fail "SET"
done
"$WB" "${CFG[@]}" --screenshot "$T/actual.png" --clock "$CLOCK" --size $SIZE 2>>"$T/wallboard.log" ||
    wb_fail "screenshot from the partitions failed (exit $?), see $T/wallboard.log"
grep -q 'reading the snapshots of 3 partitions' "$T/wallboard.log" || wb_fail "not partitioned"
"$WB_COMPARE" "${L[@]}" --ignore header.status "$T/expected.png" "$T/actual.png" ||
    wb_fail "the merged partitions differ from the merged file outside header.status"
echo "ok: 3 partitions from Redis draw the same board as their merged picture"

redis-cli -s "$SOCK" DEL 'ops:{p2}:snapshot' >/dev/null
"$WB" "${CFG[@]}" --screenshot "$T/missing.png" --clock "$CLOCK" --size $SIZE 2>>"$T/wallboard.log" ||
    wb_fail "screenshot with partition 2 missing failed"
"$WB_COMPARE" "${L[@]}" --expect-diff --region test.open "$T/actual.png" "$T/missing.png" ||
    wb_fail "partition 2's orders still counted without its snapshot"
"$WB_COMPARE" "${L[@]}" --expect-diff --region header.status "$T/actual.png" "$T/missing.png" ||
    wb_fail "the header does not show partition 2 as stale"
echo "ok: without partition 2 its orders are gone and the header shows it stale"
