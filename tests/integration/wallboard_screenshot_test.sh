#!/usr/bin/env bash
# wallboard.screenshot — the picture shows the snapshot's numbers, at 1080p and 4K.
#
# 1. --screenshot at 1920x1080 and 3840x2160 writes PNGs of exactly that size.
# 2. Same input + same --clock → identical pixels (the picture is deterministic).
# 3. A = {emergency 3, important 5, general 10}, B = {3, 6, 9}: same total 18 and same emergency
#    share, so tile.emergency and the total number must be pixel-identical, tile.important and
#    tile.general must differ, and everything outside total/tiles must be identical.
# 4. The golden check catches a wrong number: a render with general 11 instead of 10 fails the
#    region comparison against the expected render (wallboard_compare.sh exits 1).
# 5. --print-layout regions lie inside the screen and the tiles do not overlap, at both sizes.
# 6. Each tile shows its own field: C = {5, 3, 10} swaps emergency and important, so C's
#    emergency number must have the same shape ("ink", colour removed) as A's important number
#    and vice versa — and not the shape of the number it replaced.
. "$(dirname "$0")/wallboard_lib.sh"
wb_setup "$@"

wb_snapshot "$T/a.json" 3 5 10
wb_snapshot "$T/b.json" 3 6 9
wb_snapshot "$T/wrong.json" 3 5 11
wb_snapshot "$T/c.json" 5 3 10

for size in 1920x1080 3840x2160; do
    "$WB" --print-layout --size "$size" >"$T/layout-$size.txt" || wb_fail "--print-layout failed"
    wb_shot "$T/a-$size.png" "$T/a.json" --size "$size"
    wb_shot "$T/a2-$size.png" "$T/a.json" --size "$size"
    wb_shot "$T/b-$size.png" "$T/b.json" --size "$size"
    wb_shot "$T/wrong-$size.png" "$T/wrong.json" --size "$size"
    wb_shot "$T/c-$size.png" "$T/c.json" --size "$size"

    # 1. size
    [ "$(wb_size "$T/a-$size.png")" = "$size" ] || wb_fail "a-$size.png is $(wb_size "$T/a-$size.png")"
    [ "$(wb_size "$T/b-$size.png")" = "$size" ] || wb_fail "b-$size.png is $(wb_size "$T/b-$size.png")"

    # 2. deterministic
    "$WB_COMPARE" "$T/a-$size.png" "$T/a2-$size.png" || wb_fail "$size: two renders of a.json differ"

    # 3. numbers: identical where the counts agree, different where they differ
    L=(--layout "$T/layout-$size.txt")
    "$WB_COMPARE" "${L[@]}" --region tile.emergency --region total.number --region header \
        --region footer "$T/a-$size.png" "$T/b-$size.png" ||
        wb_fail "$size: regions that should not change changed between a and b"
    "$WB_COMPARE" "${L[@]}" --expect-diff --region tile.important.number \
        --region tile.general.number --region tile.important.bar --region tile.general.bar \
        "$T/a-$size.png" "$T/b-$size.png" || wb_fail "$size: a and b show the same numbers"
    "$WB_COMPARE" "${L[@]}" --ignore total --ignore tile.emergency --ignore tile.important \
        --ignore tile.general "$T/a-$size.png" "$T/b-$size.png" ||
        wb_fail "$size: pixels outside the tiles changed between a and b"

    # 4. golden: a wrong count must fail the tile comparison
    if "$WB_COMPARE" -q "${L[@]}" --region tile.general --region total "$T/a-$size.png" \
        "$T/wrong-$size.png"; then
        wb_fail "$size: general 11 vs 10 was not detected"
    fi

    # 5. layout sanity
    awk -v size="$size" '
        BEGIN { split(size, s, "x"); W = s[1]; H = s[2] }
        { split($2, g, /[x+]/); w = g[1]; h = g[2]; x = g[3]; y = g[4]
          if (w <= 0 || h <= 0 || x < 0 || y < 0 || x + w > W || y + h > H) {
              print "region " $1 " " $2 " is outside " size; bad = 1 }
          if ($1 ~ /^tile\.[a-z]+$/ || $1 == "total" || $1 == "header" || $1 == "footer") {
              n++; X[n] = x; Y[n] = y; X2[n] = x + w; Y2[n] = y + h; N[n] = $1 } }
        END { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                  if (X[i] < X2[j] && X[j] < X2[i] && Y[i] < Y2[j] && Y[j] < Y2[i]) {
                      print N[i] " overlaps " N[j]; bad = 1 }
              exit bad }' "$T/layout-$size.txt" || wb_fail "$size: bad layout"
    # 6. tile ↔ field: same digits → same ink across tiles; different digits → different ink
    E=$(wb_geometry "$T/layout-$size.txt" tile.emergency.number)
    I=$(wb_geometry "$T/layout-$size.txt" tile.important.number)
    [ "${E%%+*}" = "${I%%+*}" ] || wb_fail "$size: emergency and important numbers differ in size"
    IFS=x read -r w h <<<"${E%%+*}"
    tol=$((w * h / 100)) # edge pixels of differently coloured text; a wrong digit is ~7 % or more
    wb_ink "$T/c-$size.png" "$E" "$T/ink-c-e.png"
    wb_ink "$T/c-$size.png" "$I" "$T/ink-c-i.png"
    wb_ink "$T/a-$size.png" "$E" "$T/ink-a-e.png"
    wb_ink "$T/a-$size.png" "$I" "$T/ink-a-i.png"
    "$WB_COMPARE" --max-ae $tol "$T/ink-c-e.png" "$T/ink-a-i.png" ||
        wb_fail "$size: the emergency tile does not show emergency's count"
    "$WB_COMPARE" --max-ae $tol "$T/ink-c-i.png" "$T/ink-a-e.png" ||
        wb_fail "$size: the important tile does not show important's count"
    "$WB_COMPARE" --max-ae $tol --expect-diff "$T/ink-c-e.png" "$T/ink-a-e.png" ||
        wb_fail "$size: 5 and 3 look the same"
    echo "ok $size"
done

# 1080p and 4K are the same picture at twice the scale: the 4K render scaled down must be close
# to the 1080p one (catches layout that does not scale with the height).
/usr/bin/convert "$T/a-3840x2160.png" -resize 1920x1080 "$T/a-4k-down.png"
"$WB_COMPARE" --fuzz 25% --max-ae 40000 "$T/a-1920x1080.png" "$T/a-4k-down.png" ||
    wb_fail "the 4K layout is not the 1080p layout scaled by 2"
echo "PASS wallboard.screenshot"
