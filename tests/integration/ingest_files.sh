#!/usr/bin/env bash
# Issue 3, files and stdin: plain and .gz input, rejects kept with reason/source/position/raw,
# hostile lines (oversized, binary, no newline at the end), two ingest processes appending the
# same events at once (each event once), --from-line after an interruption, paced replay, and
# an unreachable Redis at start.
. "$(dirname "$0")/lib.sh"
BIN=$1
tmp=$(mktemp -d /tmp/ow-ingest-files.XXXXXX)
cleanup() { [ -n "${REDIS_PID:-}" ] && kill -9 "$REDIS_PID" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
start_redis "$tmp/r"
export OPSWALL_REDIS_URL="unix://$tmp/r/redis.sock"
R() { redis-cli -s "$tmp/r/redis.sock" "$@"; }
xlen() { R xlen "ops:{p0}:$1"; }

"$BIN/opswall-sim" --seed 3 --count 20000 --dup-fraction 0 --out "$tmp/ev.ndjson"
distinct=$(grep -o '"id":"[^"]*"' "$tmp/ev.ndjson" | sort -u | wc -l)

# 1. two processes at once on the same events (one from a .gz): each event lands once
gzip -k "$tmp/ev.ndjson"
"$BIN/opswall-ingest" --quiet "$tmp/ev.ndjson" 2> "$tmp/a.log" &
a=$!
"$BIN/opswall-ingest" --quiet "$tmp/ev.ndjson.gz" 2> "$tmp/b.log" &
b=$!
wait $a && ra=0 || ra=$?
wait $b && rb=0 || rb=$?
check "both processes exit 0" test "$ra$rb" = 00
check "each of the $distinct events appended once" test "$(xlen events)" = "$distinct"
acc=$(cat "$tmp/a.log" "$tmp/b.log" | grep -o '[0-9]* accepted' | grep -o '[0-9]*' | paste -sd+ | bc)
dup=$(cat "$tmp/a.log" "$tmp/b.log" | grep -o '[0-9]* duplicates' | grep -o '[0-9]*' | paste -sd+ | bc)
check "accepted by the two add up to the events ($acc)" test "$acc" = "$distinct"
check "the rest were counted as duplicates ($dup)" test "$dup" = $((2 * 20000 - distinct))

# 2. again from stdin, after a restart: all duplicates
"$BIN/opswall-ingest" --quiet - < "$tmp/ev.ndjson" 2> "$tmp/c.log"
check "a third run appends nothing" test "$(xlen events)" = "$distinct"
check "and says 20000 duplicates" grep -q "0 accepted, 20000 duplicates" "$tmp/c.log"

# 3. hostile and invalid lines: rejected with reasons, the good ones still land
R del 'ops:{p0}:events' >/dev/null
good='{"v":1,"id":"h-1","ts":"2026-11-22T09:00:00+08:00","type":"order.closed","order_id":"o1"}'
{
  echo "$good"
  printf '{"v":1,"id":"h-2","ts":"2026-11-22T09:00:00+08:00","type":"order.closed","order_id":"'
  head -c 100000 /dev/zero | tr '\0' a
  printf '"}\n'
  head -c 3000 /dev/urandom | tr -d '\n'; echo
  echo '{"v":1,"id":"h-3","ts":"2026-11-22T09:00:00+08:00","type":"order.created","order_id":"o3","priority":"urgentt","category":"drain","region":"north"}'
  echo
  printf '%s' '{"v":1,"id":"h-4","ts":"2026-11-22T09:00:00+08:00","type":"order.closed","order_id":"o4"}'
} > "$tmp/hostile.ndjson"
"$BIN/opswall-ingest" --quiet "$tmp/hostile.ndjson" 2> "$tmp/h.log"
check "2 good events appended (the last has no newline)" test "$(xlen events)" = 2
check "3 rejects kept" test "$(xlen rejects)" = 3
R --raw xrange 'ops:{p0}:rejects' - + > "$tmp/rejects.txt"
check "oversized line: reason names the size and the limit" grep -q "line 2: event is 100087 bytes: the limit is 65536 bytes" "$tmp/rejects.txt"
check "wrong value: reason names the line, field and allowed values" grep -q 'line 4: .*priority.*emergency|important|general' "$tmp/rejects.txt"
check "a reject keeps its source and position" bash -c "R() { redis-cli -s '$tmp/r/redis.sock' \"\$@\"; }; R --raw xrevrange 'ops:{p0}:rejects' + - count 1 | grep -A1 -x source | tail -1 | grep -q hostile.ndjson"
check "a reject keeps the raw text" grep -q '"priority":"urgentt"' "$tmp/rejects.txt"
check "the oversized raw text is kept only up to 64 KiB" test "$(R --raw xrange 'ops:{p0}:rejects' - + count 1 | awk 'length > 60000 {print length}')" -le 65536

# 3b. the same id more than once in one call, between rejects: the first occurrence is appended,
# the later ones are duplicates (ow_ingest finds them by the SADD's count), and an id appended by an
# earlier call is a duplicate too
R del 'ops:{p0}:events' 'ops:{p0}:rejects' >/dev/null
R --raw keys 'ops:{p0}:idkeys:*' | while read -r k; do R del "$k" >/dev/null; done
ev() { printf '{"v":1,"id":"%s","ts":"2026-11-22T09:00:00Z","type":"order.closed","order_id":"%s"}\n' "$1" "$2"; }
ev r0 before > "$tmp/before.ndjson"
"$BIN/opswall-ingest" --quiet "$tmp/before.ndjson" 2> "$tmp/r0.log"
{ ev r1 first; echo '{"v":1}'; ev r2 x; ev r1 second; ev r0 again; ev r3 y; ev r1 third; echo nonsense; ev r2 again; } > "$tmp/repeat.ndjson"
"$BIN/opswall-ingest" --quiet "$tmp/repeat.ndjson" 2> "$tmp/r.log"
check "repeated ids in one call: 3 accepted, 4 duplicates, 2 rejected" grep -q "3 accepted, 4 duplicates, 2 rejected" "$tmp/r.log"
check "each id once in the stream, the first occurrence" test "$(R --raw xrange 'ops:{p0}:events' - + | grep -o '"order_id":"[a-z]*"' | tr '\n' ' ')" = '"order_id":"before" "order_id":"first" "order_id":"x" "order_id":"y" '

# 4. --from-line resumes where an interruption left off
R del 'ops:{p0}:events' 'ops:{p0}:rejects' >/dev/null
R --raw keys 'ops:{p0}:idkeys:*' | while read -r k; do R del "$k" >/dev/null; done
head -5000 "$tmp/ev.ndjson" > "$tmp/head.ndjson"
"$BIN/opswall-ingest" --quiet --from-line 4001 "$tmp/head.ndjson" 2> "$tmp/f.log"
check "--from-line 4001 reads lines 4001..5000 only" test "$(xlen events)" = 1000
first=$(sed -n 4001p "$tmp/head.ndjson" | grep -o '"id":"[^"]*"')
check "the first appended is line 4001" bash -c "redis-cli -s '$tmp/r/redis.sock' --raw xrange 'ops:{p0}:events' - + count 1 | grep -q '$first'"

# 5. SIGINT in the middle of a paced replay: says where to resume, and resuming completes it
R del 'ops:{p0}:events' >/dev/null
R --raw keys 'ops:{p0}:idkeys:*' | while read -r k; do R del "$k" >/dev/null; done
"$BIN/opswall-ingest" --speed 3600 "$tmp/head.ndjson" 2> "$tmp/p.log" &
p=$!
started() { [ "$(xlen events)" -gt 5 ]; }
check "paced replay is appending" wait_for 20 started
kill -INT $p
wait $p && st=0 || st=$?
check "an interrupted replay exits 1" test "$st" = 1
check "it says where to resume" grep -q "resume with --from-line" "$tmp/p.log"
from=$(grep -o 'resume with --from-line [0-9]*' "$tmp/p.log" | grep -o '[0-9]*$')
inred=$(xlen events)
check "everything before the resume point is in Redis ($inred events, resume at $from)" test "$inred" -ge $(( from - 1 - 5 ))
"$BIN/opswall-ingest" --quiet --from-line "$from" "$tmp/head.ndjson" 2> "$tmp/p2.log"
want=$(grep -o '"id":"[^"]*"' "$tmp/head.ndjson" | sort -u | wc -l)
check "resuming completes the file: $want distinct events, none twice" test "$(xlen events)" = "$want"

# 6. pacing: at --speed S the replay takes (span of ts)/S
printf '%s\n' \
  '{"v":1,"id":"s-1","ts":"2026-11-22T09:00:00+08:00","type":"order.closed","order_id":"o1"}' \
  '{"v":1,"id":"s-2","ts":"2026-11-22T09:00:30+08:00","type":"order.closed","order_id":"o1"}' \
  '{"v":1,"id":"s-3","ts":"2026-11-22T09:01:00+08:00","type":"order.closed","order_id":"o1"}' > "$tmp/paced.ndjson"
python3 - "$(dirname "$0")/../../config/opswall.json" "$tmp/prog.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["ingest"]["progress_interval"] = "200ms"
json.dump(c, open(sys.argv[2], "w"))
PY
t0=$(date +%s%N)
"$BIN/opswall-ingest" --config "$tmp/prog.json" --speed 40 "$tmp/paced.ndjson" 2> "$tmp/prog.log"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "60 s of events at --speed 40 take at least 1.5 s (took $ms ms)" test "$ms" -ge 1500
check "not a terminal: plain progress lines with rate and ETA" grep -q "progress: .*paced.ndjson .*lines/s.*eta" "$tmp/prog.log"

# 7. the stream stays bounded: streams.events_maxlen (approximate trimming)
python3 - "$(dirname "$0")/../../config/opswall.json" "$tmp/small.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["streams"]["events_maxlen"] = 1000
json.dump(c, open(sys.argv[2], "w"))
PY
R del 'ops:{p0}:events' >/dev/null
R --raw keys 'ops:{p0}:idkeys:*' | while read -r k; do R del "$k" >/dev/null; done
"$BIN/opswall-ingest" --config "$tmp/small.json" --quiet "$tmp/ev.ndjson" 2>/dev/null
len=$(xlen events)
check "20000 events into a stream capped at ~1000 leave 1000..1200 entries ($len)" test "$len" -ge 1000 -a "$len" -le 1200

# 8. bad arguments and an unreachable Redis
"$BIN/opswall-ingest" --speed fast x 2> "$tmp/u.log" && st=0 || st=$?
check "--speed fast is a usage error (exit 2)" test "$st" = 2
check "and says what --speed takes" grep -q "expected a factor" "$tmp/u.log"
OPSWALL_REDIS_URL="unix://$tmp/nowhere.sock" "$BIN/opswall-ingest" "$tmp/paced.ndjson" 2> "$tmp/n.log" && st=0 || st=$?
check "unreachable Redis at start: exit 1 with one error line" test "$st:$(grep -c error "$tmp/n.log")" = "1:1"
stop_pid "$REDIS_PID"
finish
