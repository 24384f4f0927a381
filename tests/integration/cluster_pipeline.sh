#!/usr/bin/env bash
# Issue 12 items 3-5 on a real cluster: the same simulator day through one node and through a
# 3-partition Redis Cluster (scripts/cluster.sh, 3 masters + 3 replicas) must give the same SLA
# alerts (ids, instants, levels) and the same flags, except those docs/scaling.md §4 declares
# approximate (listed by tests/integration/cluster_alerts.py, printed with their counts).
# On the cluster two engines run: A takes every partition's lease, B waits; A is killed with
# kill -9 between the two halves of the day, B must take its partitions within the lease (+ one
# renewal round) and continue from the checkpoint and the stream up to the group's last-delivered
# entry: no alert lost or doubled (the comparison counts both).
. "$(dirname "$0")/lib.sh"
BIN=$1 ROOT=$2
tmp=$(mktemp -d /tmp/ow-clpipe.XXXXXX)
REDIS_PID= PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  "$ROOT/scripts/cluster.sh" stop "$tmp/c" >/dev/null 2>&1 || true
  [ -z "$REDIS_PID" ] || stop_pid $REDIS_PID
  rm -rf "$tmp"
}
trap cleanup EXIT
LEASE_MS=2000
ALERTS="python3 $(dirname "$0")/cluster_alerts.py"

# the inputs: a simulator day in two halves
"$BIN/opswall-sim" --seed 7 --duration 24h --threads 1 --out "$tmp/day.ndjson"
n=$(wc -l < "$tmp/day.ndjson")
head -n $((n / 2)) "$tmp/day.ndjson" > "$tmp/half1.ndjson"
tail -n +$((n / 2 + 1)) "$tmp/day.ndjson" > "$tmp/half2.ndjson"

# one configuration folder per deployment, next to the repository's assets
setup() { # setup DIR PARTITIONS
  mkdir -p "$1"
  cp -r "$ROOT/config" "$1/config"
  ln -s "$ROOT/assets" "$1/assets"
  python3 - "$1/config/opswall.json" "$2" <<'PY'
import json, sys
p, n = sys.argv[1], int(sys.argv[2])
c = json.load(open(p))
c["cluster"]["partitions"] = n
c["engine"]["checkpoint_interval"] = "500ms"
c["engine"]["lease"] = "2s"
# closed orders forgotten 3 simulated hours after their latest event (the repeat-visit window may
# not be longer), so the day's partitions forget as the one node does: by event time
c["engine"]["closed_retention"] = "3h"
c["flags"]["repeat_visit"]["window"] = "3h"
if n > 1:  # the 7 regions spread over 3 partitions, neighbours together
    json.dump({"north": 0, "central": 0, "west": 0, "east": 1, "oldtown": 1, "south": 2,
               "harbor": 2}, open(p.replace("opswall.json", "partitions.json"), "w"))
    c["cluster"]["regions"] = "config/partitions.json"
json.dump(c, open(p, "w"), indent=1)
PY
}

# ---- one node: partition 0 keys, the unchanged path ----
setup "$tmp/one" 1
start_redis "$tmp/one/redis"
export OPSWALL_REDIS_URL=unix://$tmp/one/redis/redis.sock
ONE=(-s "$tmp/one/redis/redis.sock")
if "$BIN/opswall-ingest" --config "$tmp/one/config/opswall.json" "$tmp/half1.ndjson" "$tmp/half2.ndjson" 2> "$tmp/one.ingest.log"; then ok "one node: ingest"; else fail "one node: ingest"; cat "$tmp/one.ingest.log"; fi
"$BIN/opswall-engine" --config "$tmp/one/config/opswall.json" --clock event 2> "$tmp/one.engine.log" &
PIDS+=($!)
check "one node: the engine consumed the day" wait_for 60 $ALERTS consumed "${ONE[@]}" 1
$ALERTS dump "$tmp/one.json" "${ONE[@]}" 1
check "one node: keys of partition 0" test "$(redis-cli "${ONE[@]}" exists 'ops:{p0}:events')" = 1
known=$(redis-cli "${ONE[@]}" --raw get 'ops:{p0}:snapshot' | python3 -c 'import json,sys; print(json.load(sys.stdin)["orders_known"])')
created=$(grep -c '"type":"order.created"' "$tmp/day.ndjson")
check "one node: the retention forgot closed orders ($known known of $created created)" \
  test "$((known * 2))" -lt "$created"
stop_pid "${PIDS[0]}"
stop_pid $REDIS_PID
REDIS_PID=

# ---- the cluster: 3 partitions, two engines ----
setup "$tmp/clu" 3
seed=$("$ROOT/scripts/cluster.sh" start "$tmp/c" --owner $$)
check "cluster of 6 nodes up at $seed" test -n "$seed"
OPSWALL_REDIS_URL=$(for p in $(cat "$tmp/c/ports"); do printf 'redis://127.0.0.1:%s,' "$p"; done)
export OPSWALL_REDIS_URL=${OPSWALL_REDIS_URL%,}
CLU=(-c -p "${seed##*:}")
CONF=$tmp/clu/config/opswall.json
holders() { for p in 0 1 2; do redis-cli "${CLU[@]}" --raw get "ops:{p$p}:lease" | cut -d/ -f1; done | sort | uniq -c | tr -s ' ' | tr '\n' ';'; }
held_by() { [ "$(holders)" = " 3 $1;" ]; } # held_by NAME: every lease is NAME's
OPSWALL_ENGINE_CONSUMER=engA "$BIN/opswall-engine" --config "$CONF" --clock event 2> "$tmp/engA.log" &
A=$!; PIDS+=($A)
check "engine A holds the 3 leases" wait_for 20 held_by engA
OPSWALL_ENGINE_CONSUMER=engB "$BIN/opswall-engine" --config "$CONF" --clock event 2> "$tmp/engB.log" &
B=$!; PIDS+=($B)
if "$BIN/opswall-ingest" --config "$CONF" "$tmp/half1.ndjson" 2> "$tmp/ingest1.log"; then ok "cluster: routed ingest of the first half"; else fail "cluster: routed ingest of the first half"; cat "$tmp/ingest1.log"; fi
check "cluster: engine A consumed the first half" wait_for 60 $ALERTS consumed "${CLU[@]}" 3
sleep 1.2 # a checkpoint (every 500 ms) that B resumes from
check "leases before the kill: $(holders)" test "$(holders)" = " 3 engA;"
kill -KILL $A
t0=$(date +%s%N)
if "$BIN/opswall-ingest" --config "$CONF" "$tmp/half2.ndjson" 2> "$tmp/ingest2.log"; then ok "cluster: routed ingest of the second half (A dead)"; else fail "cluster: routed ingest of the second half (A dead)"; cat "$tmp/ingest2.log"; fi
check "engine B takes the 3 partitions" wait_for 20 held_by engB
t1=$(date +%s%N)
took=$(( (t1 - t0) / 1000000 ))
check "takeover within lease + renewal round + start ($took ms <= $((LEASE_MS * 2)) ms)" test $took -le $((LEASE_MS * 2))
check "engine B consumed the second half" wait_for 60 $ALERTS consumed "${CLU[@]}" 3
check "engine B resumed from a checkpoint" grep -q "resumed from the checkpoint" "$tmp/engB.log"
$ALERTS dump "$tmp/clu.json" "${CLU[@]}" 3
if $ALERTS compare "$tmp/one.json" "$tmp/clu.json"; then ok "one node = 3 partitions (SLA alerts and exact flags; none doubled)"
else fail "one node = 3 partitions"; tail -5 "$tmp/engB.log"; fi
grep -h "accepted" "$tmp/ingest1.log" "$tmp/ingest2.log"

# parking: an order's dispatch before its order.created waits for it (in ops:{g}:unrouted) and
# follows it to the order's partition; a dispatch of an order never created stays parked for a
# later ingest until an ingest's watermark passes it by ingest.dedup_window, then is rejected
python3 - "$tmp/day.ndjson" "$tmp/late.ndjson" "$tmp/later.ndjson" <<'PY'
import datetime, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
created = next(e for e in lines if e["type"] == "order.created" and e["region"] == "harbor")
disp = next(e for e in lines if e["type"] == "order.dispatched")
late = dict(disp, id="ev-late-1", order_id="ord-late-1")
never = dict(disp, id="ev-never-1", order_id="ord-never-1")
made = dict(created, id="ev-late-0", order_id="ord-late-1")
with open(sys.argv[2], "w") as f:
    for e in (late, never, made):
        f.write(json.dumps(e, ensure_ascii=False) + "\n")
ts = datetime.datetime.fromisoformat(disp["ts"]) + datetime.timedelta(hours=25)
with open(sys.argv[3], "w") as f:
    f.write(json.dumps(dict(created, id="ev-later-1", order_id="ord-later-1",
                            ts=ts.isoformat(timespec="milliseconds")), ensure_ascii=False) + "\n")
PY
if "$BIN/opswall-ingest" --config "$CONF" "$tmp/late.ndjson" 2> "$tmp/ingest3.log"; then ok "ingest of out-of-order events"; else fail "ingest of out-of-order events"; cat "$tmp/ingest3.log"; fi
check "2 parked, 1 sent on, 1 still waiting: $(grep -o '[0-9]* parked for.*' "$tmp/ingest3.log")" \
  grep -q "2 accepted .*0 rejected, 2 parked for their order (1 still waiting in ops:{g}:unrouted), 1 parked events sent on" "$tmp/ingest3.log"
check "the early dispatch follows its order to harbor's partition 2" \
  bash -c "redis-cli ${CLU[*]} --raw xrange 'ops:{p2}:events' - + | grep -q ev-late-1"
check "the order's directory entry says partition 2" test "$(redis-cli "${CLU[@]}" --raw get 'ops:dir:{order:ord-late-1}')" = 2
check "the never-created order's event waits in ops:{g}:unrouted" \
  bash -c "redis-cli ${CLU[*]} --raw xrange 'ops:{g}:unrouted' - + | grep -q ev-never-1"
if "$BIN/opswall-ingest" --config "$CONF" "$tmp/later.ndjson" 2> "$tmp/ingest4.log"; then ok "ingest of an event a day later"; else fail "ingest of an event a day later"; cat "$tmp/ingest4.log"; fi
check "past ingest.dedup_window the waiting event is a reject naming its order" \
  bash -c "redis-cli ${CLU[*]} --raw xrange 'ops:{p0}:rejects' - + | grep -q 'order:ord-never-1'"
check "ops:{g}:unrouted is empty" test "$(redis-cli "${CLU[@]}" xlen 'ops:{g}:unrouted')" = 0
check "no sanitizer report in the programs' logs" bash -c "! grep -l 'Sanitizer\|runtime error' $tmp/*.log"
finish
