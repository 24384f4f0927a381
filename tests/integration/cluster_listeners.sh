#!/usr/bin/env bash
# Issue 12 item 3 for the listeners, on a real cluster (3 masters + 3 replicas, node timeout 1 s):
# routed ingest serves TCP and POST /api/v1/events (ingest.wait_replicas = 1) while two
# producers send a simulator half-day each (interleaved halves, so events arrive before their
# order's order.created through the other producer and are parked). A master is killed with
# kill -9 mid-run and started again once its replica is promoted. Counted: every line answered;
# every line answered accepted/duplicate is in Redis exactly once (its partition, the shared
# stream, or parked); nothing sent lost or doubled; the buffer (ingest.buffer_events, small here)
# filled during the failover and HTTP answered 503 with Retry-After (TCP: not read meanwhile).
# Then parking across processes: an event parked by an ingest that is killed with kill -9 is sent
# on by the next ingest once its order is recorded; one parked by a live ingest is sent on when
# another ingest records its order; one whose order never comes is rejected by the watermark.
. "$(dirname "$0")/lib.sh"
BIN=$1 ROOT=$2
tmp=$(mktemp -d /tmp/ow-cllist.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  "$ROOT/scripts/cluster.sh" stop "$tmp/c" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ALERTS="python3 $(dirname "$0")/cluster_alerts.py"
PRODUCER="python3 $(dirname "$0")/cluster_producer.py"

# ingest.buffer_events small: the failover must fill it (backpressure)
CONF=$("$ROOT/scripts/partitioned_config.py" "$tmp/w" ingest.wait_replicas=1 ingest.buffer_events=300)
seed=$("$ROOT/scripts/cluster.sh" start "$tmp/c" --owner $$)
check "cluster of 6 nodes up at $seed" test -n "$seed"
OPSWALL_REDIS_URL=$(for p in $(cat "$tmp/c/ports"); do printf 'redis://127.0.0.1:%s,' "$p"; done)
export OPSWALL_REDIS_URL=${OPSWALL_REDIS_URL%,}
CLU=(-c -p "${seed##*:}")

"$BIN/opswall-sim" --seed 11 --duration 8h --threads 1 --out "$tmp/sim.ndjson"
awk 'NR % 2 == 1' "$tmp/sim.ndjson" > "$tmp/tcp.ndjson"
awk 'NR % 2 == 0' "$tmp/sim.ndjson" > "$tmp/http.ndjson"
TCP=$(free_port) HTTP=$(free_port)
"$BIN/opswall-ingest" --config "$CONF" --tcp "$TCP" --http "$HTTP" 2> "$tmp/ingest.log" &
ING=$!; PIDS+=($ING)
check "routed ingest listens (TCP and HTTP)" wait_for 10 grep -q "http: listening" "$tmp/ingest.log"
$PRODUCER tcp 127.0.0.1 "$TCP" "$tmp/tcp.ndjson" 250 "$tmp/tcp.acked" > "$tmp/tcp.out" 2>&1 &
PT=$!; PIDS+=($PT)
$PRODUCER http 127.0.0.1 "$HTTP" "$tmp/http.ndjson" 250 "$tmp/http.acked" > "$tmp/http.out" 2>&1 &
PH=$!; PIDS+=($PH)
sleep 2
# a resharding under the producers (MOVED, ASK, TRYAGAIN for the routed writes): partitions 0 and
# 1 start on one master, place moves one of them with its keys
if "$BIN/opswall-cluster" --config "$CONF" place > "$tmp/place.json" 2> "$tmp/place.log"; then ok "opswall-cluster place under load ($(cat "$tmp/place.json" | head -c 120))"; else fail "opswall-cluster place"; cat "$tmp/place.log"; fi
check "a partition's slot moved" test "$(json_get "$tmp/place.json" '["moves"]')" -ge 1
sleep 1
victim=$($ALERTS master_of 'ops:{p1}:events' "${CLU[@]}")
[ "$victim" != "${seed##*:}" ] || CLU=(-c -p "$(tr ' ' '\n' < "$tmp/c/ports" | grep -v "^$victim\$" | head -1)")
before=$(redis-cli "${CLU[@]}" xlen 'ops:{p1}:events')
kill -KILL "$(cat "$tmp/c/$victim/pid")"
t0=$(date +%s%N)
echo "# killed the master of partition 1 ($victim) with kill -9, $before entries in its stream"
grow() { [ "$(redis-cli "${CLU[@]}" xlen 'ops:{p1}:events' 2>/dev/null)" -gt "$before" ] 2>/dev/null; }
check "the victim's replica promoted" wait_for 20 promoted_from 'ops:{p1}:events' "$victim" "${CLU[@]}"
"$ROOT/scripts/cluster.sh" restart "$tmp/c" "$victim"
check "partition 1 written again" wait_for 10 grow
back=$(( ($(date +%s%N) - t0) / 1000000 ))
check "routed ingest writing partition 1 again within 10 s of the kill ($back ms)" test $back -le 10000
if wait "$PT"; then ok "TCP producer: every line answered ($(cat "$tmp/tcp.out"))"; else fail "TCP producer ($(cat "$tmp/tcp.out"))"; fi
if wait "$PH"; then ok "HTTP producer: every line answered ($(cat "$tmp/http.out"))"; else fail "HTTP producer ($(cat "$tmp/http.out"))"; fi
check "the buffer filled while the master was away: HTTP answered 503 + Retry-After" \
  python3 -c "import json,sys; sys.exit(0 if json.load(open('$tmp/http.out'))['busy_503'] > 0 else 1)"
kill -TERM $ING
if wait $ING; then ok "ingest stops on SIGTERM with nothing held (exit 0)"; else fail "ingest exit status after SIGTERM"; fi
grep -h "accepted\|holding" "$tmp/ingest.log" | tail -4 || true
cat "$tmp/tcp.acked" "$tmp/http.acked" > "$tmp/acked.ndjson"
check "acknowledged lines = lines sent ($(wc -l < "$tmp/acked.ndjson") of $(wc -l < "$tmp/sim.ndjson"))" \
  test "$(wc -l < "$tmp/acked.ndjson")" = "$(wc -l < "$tmp/sim.ndjson")"
check "every acknowledged event in Redis exactly once" $ALERTS events "$tmp/acked.ndjson" "${CLU[@]}" 3
check "parked events all sent on (ops:{g}:unrouted empty)" test "$(redis-cli "${CLU[@]}" xlen 'ops:{g}:unrouted')" = 0

# ---- parked events survive their ingest process ----
python3 - "$tmp/sim.ndjson" "$tmp" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
d = sys.argv[2]
created = next(e for e in lines if e["type"] == "order.created" and e["region"] == "harbor")
disp = next(e for e in lines if e["type"] == "order.dispatched")
def w(name, *evs):
    with open("%s/%s" % (d, name), "w") as f:
        for e in evs:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
w("park1.ndjson", dict(disp, id="ev-park-1", order_id="ord-park-1"))
w("made1.ndjson", dict(created, id="ev-made-1", order_id="ord-park-1"))
w("park2.ndjson", dict(disp, id="ev-park-2", order_id="ord-park-2"),
  dict(disp, id="ev-never-1", order_id="ord-never-1"))
w("made2.ndjson", dict(created, id="ev-made-2", order_id="ord-park-2"))
# a day and more later: the watermark passes ev-never-1 by ingest.dedup_window (24 h)
import datetime
ts = datetime.datetime.fromisoformat(disp["ts"]) + datetime.timedelta(hours=25)
w("later.ndjson", dict(created, id="ev-later-1", order_id="ord-later-1", ts=ts.isoformat(timespec="milliseconds")))
PY
in_stream() { redis-cli "${CLU[@]}" --raw xrange "$1" - + | grep -c "\"$2\"" || true; }
TCP2=$(free_port)
"$BIN/opswall-ingest" --config "$CONF" --tcp "$TCP2" 2> "$tmp/ingestA.log" &
A=$!; PIDS+=($A)
check "ingest A listens" wait_for 10 grep -q "tcp: listening" "$tmp/ingestA.log"
$PRODUCER tcp 127.0.0.1 "$TCP2" "$tmp/park1.ndjson" 100 "$tmp/park1.acked" > "$tmp/park1.out"
check "a parked event is answered accepted ($(cat "$tmp/park1.out"))" test "$(wc -l < "$tmp/park1.acked")" = 1
check "it is in ops:{g}:unrouted" test "$(in_stream 'ops:{g}:unrouted' ev-park-1)" = 1
kill -KILL $A
if "$BIN/opswall-ingest" --config "$CONF" "$tmp/made1.ndjson" 2> "$tmp/ingestB.log"; then ok "ingest B (after A's kill -9) takes the order"; else fail "ingest B"; cat "$tmp/ingestB.log"; fi
check "A's parked event followed its order to harbor's partition 2, once" test "$(in_stream 'ops:{p2}:events' ev-park-1)" = 1
check "and left ops:{g}:unrouted" test "$(in_stream 'ops:{g}:unrouted' ev-park-1)" = 0
# a live ingest holds a parked event; another records its order: one of them sends it on
"$BIN/opswall-ingest" --config "$CONF" --tcp "$TCP2" 2> "$tmp/ingestC.log" &
C=$!; PIDS+=($C)
check "ingest C listens" wait_for 10 grep -q "tcp: listening" "$tmp/ingestC.log"
$PRODUCER tcp 127.0.0.1 "$TCP2" "$tmp/park2.ndjson" 100 "$tmp/park2.acked" > "$tmp/park2.out"
check "two parked events answered accepted" test "$(wc -l < "$tmp/park2.acked")" = 2
"$BIN/opswall-ingest" --config "$CONF" "$tmp/made2.ndjson" 2> "$tmp/ingestD.log"
check "a live ingest's parked event is sent on after another records its order" \
  wait_for 10 test "$(in_stream 'ops:{p2}:events' ev-park-2)" = 1
check "the never-created order's event is still parked" test "$(in_stream 'ops:{g}:unrouted' ev-never-1)" = 1
"$BIN/opswall-ingest" --config "$CONF" "$tmp/later.ndjson" 2> "$tmp/ingestE.log"
check "past ingest.dedup_window it is rejected, naming its order" \
  wait_for 10 bash -c "redis-cli ${CLU[*]} --raw xrange 'ops:{p0}:rejects' - + | grep -q 'order:ord-never-1'"
check "ops:{g}:unrouted empty again" wait_for 10 test "$(redis-cli "${CLU[@]}" xlen 'ops:{g}:unrouted')" = 0
check "ev-park-2 once in Redis" test "$(in_stream 'ops:{p2}:events' ev-park-2)" = 1
kill -TERM $C; wait_for 20 bash -c "! kill -0 $C 2>/dev/null"
# --speed and --from-line on the cluster (files through the same router)
python3 - "$tmp/sim.ndjson" "$tmp/speed.ndjson" <<'PY'
import json, sys
locs = [json.loads(l) for l in open(sys.argv[1]) if '"tech.location"' in l][:20]
with open(sys.argv[2], "w") as f:
    for i, e in enumerate(locs, 1):
        f.write(json.dumps(dict(e, id="sp-%d" % i), ensure_ascii=False) + "\n")
PY
if "$BIN/opswall-ingest" --config "$CONF" --speed 5000 --from-line 11 "$tmp/speed.ndjson" 2> "$tmp/ingestS.log"; then ok "--speed 5000 --from-line 11 on the cluster"; else fail "--speed/--from-line"; cat "$tmp/ingestS.log"; fi
shared_ids=$(redis-cli "${CLU[@]}" --raw xrange 'ops:{g}:shared' - + | grep -o '"sp-[0-9]*"' | sort -u | tr -d '"' | sort -t- -k2 -n | tr '\n' ' ')
check "lines 11-20 in the shared stream, 1-10 skipped ($shared_ids)" test "$shared_ids" = "$(seq -f 'sp-%g' 11 20 | tr '\n' ' ')"
# hostile entries in the unrouted stream (written by something else): skipped with a warning
redis-cli "${CLU[@]}" xadd 'ops:{g}:unrouted' '*' junk 1 > /dev/null
redis-cli "${CLU[@]}" xadd 'ops:{g}:unrouted' '*' id x key order:o-1 d '{"v":1,"id":' > /dev/null
redis-cli "${CLU[@]}" xadd 'ops:{g}:unrouted' '*' id y key "$(head -c 3000 /dev/zero | tr '\0' x)" d '[]' > /dev/null
if "$BIN/opswall-ingest" --config "$CONF" "$tmp/made2.ndjson" 2> "$tmp/ingestF.log"; then ok "ingest starts with hostile unrouted entries"; else fail "ingest with hostile unrouted entries"; cat "$tmp/ingestF.log"; fi
check "each named and left alone" test "$(grep -c 'is not a parked event; left alone' "$tmp/ingestF.log")" = 3
check "no sanitizer report in the programs' logs" bash -c "! grep -l 'Sanitizer\|runtime error' $tmp/*.log"
finish
