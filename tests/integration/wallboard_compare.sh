#!/usr/bin/env bash
# wallboard_compare.sh — compare two wallboard pictures, whole or by region, with ImageMagick.
#
#   wallboard_compare.sh [options] A.png B.png
#     --layout FILE     output of `opswall-wallboard --print-layout --size WxH`; lets --region and
#                       --ignore take region names (tile.emergency, header.status, ...)
#     --region R        compare only region R (name or WxH+X+Y); repeatable, each checked alone
#     --ignore R        blank region R in both pictures first (e.g. header.status); repeatable
#     --max-ae N        differing pixels allowed per comparison (default 0)
#     --fuzz P          colour distance counted as equal, e.g. 2% (default 0)
#     --expect-diff     pass only if every comparison differs by MORE than --max-ae
#     -q                print nothing but errors
#   One line per comparison: "<region|whole> AE=<pixels> ok|DIFFERENT".
#   Exit: 0 pass, 1 fail, 2 usage or tool error.
#
# Used by the wallboard's own tests and by the end-to-end skeleton test (docs/wallboard.md,
# "Comparing pictures"): render the same snapshot from Redis and from a file with the same --clock
# and --size; the pictures then differ only in header.status (connected vs file).
set -u

die() { echo "wallboard_compare: $*" >&2; exit 2; }
CONVERT=/usr/bin/convert # /usr/local/bin/convert may be a stand-in (TOOLCHAIN.md §7)
command -v compare >/dev/null || die "ImageMagick 'compare' not found (sudo apt-get install imagemagick)"
[ -x "$CONVERT" ] || CONVERT=convert

layout="" max_ae=0 fuzz=0 expect_diff=0 quiet=0
regions=() ignores=() files=()
while [ $# -gt 0 ]; do
    case "$1" in
    --layout) layout=${2:?--layout needs a file}; shift 2 ;;
    --region) regions+=("${2:?--region needs a value}"); shift 2 ;;
    --ignore) ignores+=("${2:?--ignore needs a value}"); shift 2 ;;
    --max-ae) max_ae=${2:?--max-ae needs a number}; shift 2 ;;
    --fuzz) fuzz=${2:?--fuzz needs a value}; shift 2 ;;
    --expect-diff) expect_diff=1; shift ;;
    -q) quiet=1; shift ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) files+=("$1"); shift ;;
    esac
done
[ ${#files[@]} -eq 2 ] || die "expected two pictures (see --help)"
a=${files[0]} b=${files[1]}
[ -r "$a" ] || die "cannot read $a"
[ -r "$b" ] || die "cannot read $b"

# region name or geometry → WxH+X+Y
geometry() {
    if [[ "$1" =~ ^[0-9]+x[0-9]+\+[0-9]+\+[0-9]+$ ]]; then echo "$1"; return; fi
    [ -n "$layout" ] || die "region '$1' is a name: pass --layout FILE"
    local g
    g=$(awk -v n="$1" '$1 == n { print $2 }' "$layout")
    [ -n "$g" ] || die "no region '$1' in $layout"
    echo "$g"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wbcmp.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

size_a=$(identify -format '%wx%h' "$a" 2>/dev/null) || die "not a picture: $a"
size_b=$(identify -format '%wx%h' "$b" 2>/dev/null) || die "not a picture: $b"
if [ "$size_a" != "$size_b" ]; then
    echo "size differs: $a is $size_a, $b is $size_b"
    exit 1
fi

# Blank the ignored regions (same in both), flatten to opaque RGB.
prep() {
    local args=() g w h x y
    for r in "${ignores[@]+"${ignores[@]}"}"; do
        g=$(geometry "$r") || exit 2
        IFS='x+' read -r w h x y <<<"$g"
        args+=(-draw "rectangle $x,$y $((x + w - 1)),$((y + h - 1))")
    done
    "$CONVERT" "$1" -alpha off -fill black "${args[@]+"${args[@]}"}" "PNG24:$2" || die "cannot read $1"
}
prep "$a" "$tmp/a.png"
prep "$b" "$tmp/b.png"

# pixels that differ between two files (ImageMagick prints the AE metric on stderr)
ae() {
    local out
    out=$(compare -metric AE -fuzz "$fuzz" "$1" "$2" null: 2>&1)
    [ $? -le 1 ] || die "compare failed: $out"
    awk '{ printf "%.0f\n", $1 }' <<<"$out"
}

status=0
check() { # label file-a file-b
    local n verdict
    n=$(ae "$2" "$3") || exit 2
    if [ "$expect_diff" -eq 1 ]; then
        if [ "$n" -gt "$max_ae" ]; then verdict="differs (as expected)"; else verdict="SAME (expected a difference)"; status=1; fi
    else
        if [ "$n" -le "$max_ae" ]; then verdict=ok; else verdict=DIFFERENT; status=1; fi
    fi
    [ "$quiet" -eq 1 ] || echo "$1 AE=$n $verdict"
}

if [ ${#regions[@]} -eq 0 ]; then
    check whole "$tmp/a.png" "$tmp/b.png"
else
    i=0
    for r in "${regions[@]}"; do
        g=$(geometry "$r") || exit 2
        "$CONVERT" "$tmp/a.png" -crop "$g" +repage "$tmp/ra$i.png" || die "cannot crop $g"
        "$CONVERT" "$tmp/b.png" -crop "$g" +repage "$tmp/rb$i.png" || die "cannot crop $g"
        check "$r($g)" "$tmp/ra$i.png" "$tmp/rb$i.png"
        i=$((i + 1))
    done
fi
exit $status
