#!/usr/bin/env bash
# Steps of the simulator tests (registered in sim.cmake).
#   sim_test.sh MODE [ARG] SIM CHECK SOURCE_DIR WORK_DIR
# Every generated file is also run through CHECK (the event codec on every line).
set -euo pipefail

mode=$1
shift
arg=
case $mode in scenario) arg=$1; shift ;; esac
sim=$1 check=$2 src=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

case $mode in
same_seed)
    # Same seed: byte-identical, whatever the number of validating threads or the pacing.
    "$sim" --seed 42 --duration 48h --scenario rainstorm --threads 0 --out a.ndjson
    "$sim" --seed 42 --duration 48h --scenario rainstorm --threads 3 --out b.ndjson
    "$sim" --seed 42 --duration 48h --scenario rainstorm --speed 1e9 > c.ndjson
    cmp a.ndjson b.ndjson || fail "same seed, different bytes (threads)"
    cmp a.ndjson c.ndjson || fail "same seed, different bytes (paced)"
    # --count (unbounded duration) cuts the same stream.
    "$sim" --seed 42 --scenario rainstorm --count 5000 --out d.ndjson
    head -n 5000 a.ndjson | cmp - d.ndjson || fail "--count is not a prefix of the full run"
    "$check" < a.ndjson > /dev/null
    ;;
other_seed)
    "$sim" --seed 1 --out a.ndjson
    "$sim" --seed 2 --out b.ndjson
    if cmp -s a.ndjson b.ndjson; then fail "seeds 1 and 2 gave the same bytes"; fi
    # Different seeds never share event ids (the run tag carries the seed).
    if sort <(grep -o '"id":"[^"]*"' a.ndjson | sort -u) <(grep -o '"id":"[^"]*"' b.ndjson | sort -u) \
        | uniq -d | grep -q .; then fail "event ids shared across seeds"; fi
    ;;
scenario)
    case $arg in
    normal)
        "$sim" --seed 5 --scenario normal --duration 72h --out s.ndjson
        "$check" --all-types --min-late 50 < s.ndjson
        ;;
    rainstorm)
        # 30+ communities calling emergency within minutes of the storm's onset.
        "$sim" --seed 5 --scenario rainstorm --duration 24h --out s.ndjson
        "$check" --surge 10:30 --min-late 50 < s.ndjson
        ;;
    shortage)
        "$sim" --seed 5 --scenario shortage --duration 24h --out s.ndjson
        "$check" --max-techs 18 < s.ndjson
        ;;
    weekend)
        "$sim" --seed 5 --scenario weekend --duration 24h --out s.ndjson
        "$check" --evening-peak < s.ndjson
        ;;
    *) fail "unknown scenario $arg" ;;
    esac
    ;;
options)
    n=$("$sim" --count 1234 | wc -l)
    [ "$n" -eq 1234 ] || fail "--count 1234 gave $n lines"
    "$sim" --count 200 --start 2027-01-05T20:00:00-05:00 --out z.ndjson
    grep -q '"ts":"2027-01-05T20:00:00.000-05:00"' z.ndjson || fail "--start zone not used in ts"
    "$check" < z.ndjson > /dev/null
    "$sim" --speed 7200 --duration 1h --techs 5 --orders-per-hour 30 --out p.ndjson
    "$check" < p.ndjson > /dev/null
    "$sim" --late-fraction 0 --dup-fraction 0 --mistake-rate 0 --out q.ndjson
    "$check" --min-late 0 < q.ndjson | grep -q '"duplicates":0,' || fail "--dup-fraction 0 still duplicates"
    "$check" < q.ndjson | grep -q '"out_of_order":0,' || fail "--late-fraction 0 still late"
    for bad in "--scenario flood" "--seed -1" "--duration 0s" "--speed 0" "--late-fraction 0.9" \
        "--bogus" "--realtime --speed 2"; do
        rc=0
        # shellcheck disable=SC2086
        "$sim" $bad --count 1 > /dev/null 2> err.txt || rc=$?
        [ "$rc" -eq 2 ] || fail "'$bad' exited $rc, expected 2"
        [ -s err.txt ] || fail "'$bad' printed no message"
    done
    ;;
memory)
    # Sixty simulated days: finished orders are freed, so the live set stays small.
    "$sim" --seed 9 --duration 60d --out /dev/null --stats 2> stats.json
    peak=$(grep -o '"orders_live_peak":[0-9]*' stats.json | cut -d: -f2)
    created=$(grep -o '"orders_created":[0-9]*' stats.json | cut -d: -f2)
    [ "$created" -gt 5000 ] || fail "only $created orders in 60 days"
    [ "$peak" -lt 1000 ] || fail "live orders peaked at $peak"
    ;;
sample)
    dir=$src/assets/cities/sample
    "$check" --all-types --min-late 3 --expect "$dir/events.expected.json" < "$dir/events.ndjson"
    ;;
*) fail "unknown mode $mode" ;;
esac
echo "ok: $mode $arg"
