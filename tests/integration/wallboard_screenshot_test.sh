#!/usr/bin/env bash
# wallboard.screenshot — the picture shows the snapshot, at 720p, 1080p and 4K, on every page.
# Called as: <script> <opswall-wallboard> <work dir> <wallboard_fixture> <repository root>
#
# With the one-page test layout (tests/integration/wallboard_layout.json; wallboard_lib.sh):
# 1. --screenshot at 1920x1080 and 3840x2160 writes PNGs of exactly that size.
# 2. Same input + same --clock → identical pixels (the picture is deterministic).
# 3. A = {emergency 3, important 5, general 10}, B = {3, 6, 9}: test.open must differ, and
#    everything else (header, footer, the empty sla and flags panels) must be identical.
# 4. The golden check catches a wrong number: general 11 instead of 10 fails the region compare.
# 5. --print-layout regions lie inside the screen and the panels of a page do not overlap.
# With the shipped layouts (config/wallboard/default.json, second.json) and the rainstorm fixture
# (bench/wb_fixture.c: 200,000 open orders, 5,000 technicians, 50 flags, 30 escalations):
# 6. every page of both layouts renders at 1280x720 and 1920x1080 (the default one at 3840x2160
#    too), and (at 1080p) each
#    panel differs from the same page drawn with only the engine-core members (data, not "no data");
# 7. a snapshot whose analytics members are malformed still renders (the members are refused,
#    named in the log, and drawn as "no data"), and so does one without them;
# 8. replay: the replay member fills header.replay; a live snapshot leaves it empty;
# 9. the 4K render scaled down is close to the 1080p one (the layout scales with the height).
. "$(dirname "$0")/wallboard_lib.sh"
FIXTURE=${3:?usage: $0 <opswall-wallboard> <work dir> <wallboard_fixture> <repo>}
REPO=${4:?usage: $0 <opswall-wallboard> <work dir> <wallboard_fixture> <repo>}
WB_BIN=$1
wb_setup "$@"

wb_snapshot "$T/a.json" 3 5 10
wb_snapshot "$T/b.json" 3 6 9
wb_snapshot "$T/wrong.json" 3 5 11

for size in 1920x1080 3840x2160; do
    "$WB" --print-layout --size "$size" >"$T/layout-$size.txt" || wb_fail "--print-layout failed"
    wb_shot "$T/a-$size.png" "$T/a.json" --size "$size"
    wb_shot "$T/a2-$size.png" "$T/a.json" --size "$size"
    wb_shot "$T/b-$size.png" "$T/b.json" --size "$size"
    wb_shot "$T/wrong-$size.png" "$T/wrong.json" --size "$size"
    # 1. size
    [ "$(wb_size "$T/a-$size.png")" = "$size" ] || wb_fail "a-$size.png is $(wb_size "$T/a-$size.png")"
    # 2. deterministic
    "$WB_COMPARE" "$T/a-$size.png" "$T/a2-$size.png" || wb_fail "$size: two renders of a.json differ"
    # 3. numbers: the open panel differs, nothing else does
    L=(--layout "$T/layout-$size.txt")
    "$WB_COMPARE" "${L[@]}" --expect-diff --region test.open "$T/a-$size.png" "$T/b-$size.png" ||
        wb_fail "$size: a and b show the same numbers"
    "$WB_COMPARE" "${L[@]}" --ignore test.open "$T/a-$size.png" "$T/b-$size.png" ||
        wb_fail "$size: pixels outside the open panel changed between a and b"
    # 4. golden
    if "$WB_COMPARE" -q "${L[@]}" --region test.open "$T/a-$size.png" "$T/wrong-$size.png"; then
        wb_fail "$size: general 11 vs 10 was not detected"
    fi
    echo "ok $size counts"
done

# 5. layout sanity, every page of the shipped layouts at three sizes
layout_ok() { # FILE SIZE: regions inside the screen; panels (names with a dot, not header.*) apart
    awk -v size="$2" '
        BEGIN { split(size, s, "x"); W = s[1]; H = s[2] }
        { split($2, g, /[x+]/); w = g[1]; h = g[2]; x = g[3]; y = g[4]
          if (w <= 0 || h <= 0 || x < 0 || y < 0 || x + w > W || y + h > H) {
              print "region " $1 " " $2 " is outside " size; bad = 1 }
          if (($1 ~ /\./ && $1 !~ /^header\./) || $1 == "header" || $1 == "footer") {
              n++; X[n] = x; Y[n] = y; X2[n] = x + w; Y2[n] = y + h; N[n] = $1 } }
        END { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                  if (X[i] < X2[j] && X[j] < X2[i] && Y[i] < Y2[j] && Y[j] < Y2[i]) {
                      print N[i] " overlaps " N[j]; bad = 1 }
              exit bad }' "$1"
}
"$FIXTURE" --regions "$REPO/assets/cities/sample/regions.geojson" --out "$T/storm.json" ||
    wb_fail "fixture failed"
"$FIXTURE" --regions "$REPO/assets/cities/sample/regions.geojson" --preset core --out "$T/core.json" ||
    wb_fail "fixture failed"
for layout in default second; do
    LF="$REPO/config/wallboard/$layout.json"
    for page in 0 1; do
        sizes="1280x720 1920x1080"
        [ $layout = second ] || sizes="$sizes 3840x2160" # 4K for the default layout (time)
        for size in $sizes; do
            "$WB_BIN" --layout "$LF" --page $page --print-layout --size $size >"$T/l-$layout-$page-$size.txt" ||
                wb_fail "--print-layout $layout page $page failed"
            layout_ok "$T/l-$layout-$page-$size.txt" $size || wb_fail "$layout page $page $size: bad layout"
            # 6. a full picture, and it is not the "no data" picture
            out="$T/$layout-$page-$size.png"
            "$WB_BIN" --layout "$LF" --page $page --snapshot-file "$T/storm.json" --screenshot "$out" \
                --clock "$WB_CLOCK" --size $size 2>>"$T/wallboard.log" || wb_fail "$out failed"
            [ "$(wb_size "$out")" = "$size" ] || wb_fail "$out is $(wb_size "$out")"
            [ $size = 1920x1080 ] || continue # the "no data" comparison once per page
            "$WB_BIN" --layout "$LF" --page $page --snapshot-file "$T/core.json" --screenshot "$T/core-$layout-$page-$size.png" \
                --clock "$WB_CLOCK" --size $size 2>>"$T/wallboard.log" || wb_fail "core render failed"
            panels=$(awk '$1 ~ /\./ && $1 !~ /^header\./ { printf " --region %s", $1 }' "$T/l-$layout-$page-$size.txt")
            # shellcheck disable=SC2086  # one word per argument
            "$WB_COMPARE" -q --layout "$T/l-$layout-$page-$size.txt" --expect-diff $panels \
                "$out" "$T/core-$layout-$page-$size.png" ||
                wb_fail "$layout page $page $size: a panel shows the same with and without its data"
        done
    done
done
echo "ok shipped layouts"

# 7. malformed members are refused one by one; the core still shows
sed -e 's/"flags":\[/"flags":"oops","x_flags":[/' -e 's/"cols":/"cols":-/' \
    "$T/storm.json" >"$T/bad.json"
"$WB_BIN" --layout "$REPO/config/wallboard/default.json" --snapshot-file "$T/bad.json" \
    --screenshot "$T/bad.png" --clock "$WB_CLOCK" 2>"$T/bad.log" || wb_fail "malformed members: exit $?"
grep -q "refused as malformed.*heat_grid" "$T/bad.log" && grep -q "refused as malformed.*flags" "$T/bad.log" ||
    wb_fail "malformed members not named in the log: $(cat "$T/bad.log")"
echo "ok malformed members"

# 8. replay
"$FIXTURE" --regions "$REPO/assets/cities/sample/regions.geojson" --replay 300:42.5 --out "$T/replay.json" ||
    wb_fail "fixture failed"
"$WB_BIN" --layout "$REPO/config/wallboard/default.json" --snapshot-file "$T/replay.json" \
    --screenshot "$T/replay.png" --clock "$WB_CLOCK" 2>>"$T/wallboard.log" || wb_fail "replay render failed"
LD="$T/l-default-0-1920x1080.txt"
"$WB_COMPARE" -q --layout "$LD" --expect-diff --region header.replay "$T/default-0-1920x1080.png" "$T/replay.png" ||
    wb_fail "header.replay is the same in replay and live"
blank=$(/usr/bin/convert "$T/default-0-1920x1080.png" -crop "$(wb_geometry "$LD" header.replay)" +repage \
    -format '%[fx:standard_deviation]' info:)
[ "$(echo "$blank < 0.001" | bc)" = 1 ] || wb_fail "header.replay is not empty in live mode ($blank)"
echo "ok replay"

# 9. 1080p and 4K are the same picture at twice the scale. Text edges and 5,000 dots resample
# differently (about 6 % of the pixels here); a layout that does not scale moves whole panels and
# differs in far more than the 10 % allowed.
/usr/bin/convert "$T/default-0-3840x2160.png" -resize 1920x1080 "$T/down.png"
"$WB_COMPARE" --fuzz 25% --max-ae 207360 "$T/default-0-1920x1080.png" "$T/down.png" ||
    wb_fail "the 4K layout is not the 1080p layout scaled by 2"

# 9b. wallboard.threads false (a single-core PC): everything on one thread, the same picture
mkdir -p "$T/onecfg/config"
python3 - "$REPO" "$T/onecfg/config/opswall.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1] + "/config/opswall.json"))
c["wallboard"]["threads"] = False
c["wallboard"]["font"] = sys.argv[1] + "/assets/fonts/DejaVuSans.ttf"
c["city"]["regions"] = sys.argv[1] + "/assets/cities/sample/regions.geojson"
json.dump(c, open(sys.argv[2], "w"))
PY
"$WB_BIN" --config "$T/onecfg/config/opswall.json" --layout "$REPO/config/wallboard/default.json" \
    --snapshot-file "$T/storm.json" --screenshot "$T/one-thread.png" --clock "$WB_CLOCK" \
    --size 3840x2160 2>>"$T/wallboard.log" || wb_fail "one-thread render failed"
"$WB_COMPARE" "$T/default-0-3840x2160.png" "$T/one-thread.png" ||
    wb_fail "wallboard.threads false draws a different picture"
echo "ok one thread"

# 10. attention: a new L3 escalation flashes a banner over header.status (headless window mode,
# the file replaced by a snapshot with new escalation ids); the first snapshot does not flash
cp "$T/storm.json" "$T/live.json"
"$FIXTURE" --regions "$REPO/assets/cities/sample/regions.geojson" --seed 99 --seq 5000 --out "$T/storm2.json" ||
    wb_fail "fixture failed"
G=$(wb_geometry "$LD" header.status)
IFS='x+' read -r gw gh gx gy <<<"$G"
cx=$((gx + gw / 2)) cy=$((gy + gh / 2))
L3="srgb(232,92,255)" # theme.c OW_ALARM_SEVERE: the L3 colour
# the flash lasts a minute here (3 s by default): a loaded machine may draw the next picture late.
# The frame a flash starts on is always written (bright half); the PNGs after it keep the phase of
# the blink (5 s apart, a multiple of its 500 ms), so a test that waited for a later one could
# watch only dim halves
mkdir -p "$T/flashcfg/config"
python3 - "$REPO" "$T/flashcfg/config/opswall.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1] + "/config/opswall.json"))
c["wallboard"]["flash"] = "60s"
c["wallboard"]["font"] = sys.argv[1] + "/assets/fonts/DejaVuSans.ttf"
c["wallboard"]["layout"] = sys.argv[1] + "/config/wallboard/default.json"
c["city"]["regions"] = sys.argv[1] + "/assets/cities/sample/regions.geojson"
json.dump(c, open(sys.argv[2], "w"))
PY
env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER "$WB_BIN" --config "$T/flashcfg/config/opswall.json" \
    --layout "$REPO/config/wallboard/default.json" \
    --snapshot-file "$T/live.json" --latest "$T/latest.png" --clock "$WB_CLOCK" --exit-after-ms 180000 \
    >"$T/flash.out" 2>"$T/flash.err" &
fpid=$!
wait_for 90 test -f "$T/latest.png" || { kill $fpid; wb_fail "no picture from the headless window"; }
[ "$(wb_pixel "$T/latest.png" $cx $cy)" != "$L3" ] || { kill $fpid; wb_fail "the first snapshot flashed"; }
cp "$T/latest.png" "$T/before-flash.png"
cp "$T/storm2.json" "$T/live.json.tmp" && mv "$T/live.json.tmp" "$T/live.json"
flashing() { [ "$(wb_pixel "$T/latest.png" $cx $cy)" = "$L3" ]; }
wait_for 90 flashing || { kill $fpid; wb_fail "a new L3 escalation did not flash"; }
kill -TERM $fpid
wait $fpid || wb_fail "headless window: exit status $? after SIGTERM"
echo "ok flash"
echo "PASS wallboard.screenshot"
