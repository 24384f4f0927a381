#!/usr/bin/env bash
# Issue 12 item 4, fencing: a partition is written by one engine at a time even when its holder
# is paused, not dead. 3 partitions on one redis-server (the fence is the same Redis Function on
# a cluster: the lease key shares the partition's slot). Engine A holds the 3 leases; its
# supervisor is stopped with SIGSTOP (its lease renewals stop, its per-partition engines go on
# running) past the lease; B takes the partitions; A's engines' next writes (or group reads) must
# be refused by Redis and they must stop; after SIGCONT, A must not take anything back while B
# holds it, and must take the partitions again once B stops. The alerts must equal one
# uninterrupted run of the same events (ids, instants, levels, partitions; none doubled or lost).
. "$(dirname "$0")/lib.sh"
BIN=$1 ROOT=$2
tmp=$(mktemp -d /tmp/ow-fence.XXXXXX)
REDIS_PID= PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -KILL "$p" 2>/dev/null || true; done
  [ -z "$REDIS_PID" ] || stop_pid $REDIS_PID
  rm -rf "$tmp"
}
trap cleanup EXIT
ALERTS="python3 $(dirname "$0")/cluster_alerts.py"

"$BIN/opswall-sim" --seed 7 --duration 24h --threads 1 --out "$tmp/day.ndjson"
n=$(wc -l < "$tmp/day.ndjson")
head -n $((n / 2)) "$tmp/day.ndjson" > "$tmp/half1.ndjson"
tail -n +$((n / 2 + 1)) "$tmp/day.ndjson" > "$tmp/half2.ndjson"

CONF=$("$ROOT/scripts/partitioned_config.py" "$tmp/d" engine.checkpoint_interval=500ms engine.lease=2s)
run_redis() { # run_redis NAME [acl]: a fresh private redis-server; acl: the programs connect as
  # scripts/redis-acl.sh's least-privileged user over TCP (the test's redis-cli stays default)
  if [ "${2:-}" = acl ]; then
    local port; port=$(free_port)
    start_redis "$tmp/$1" --port "$port" --bind 127.0.0.1
    OPSWALL_REDIS_PASSWORD=pw-fence "$ROOT/scripts/redis-acl.sh" apply -s "$tmp/$1/redis.sock" >/dev/null
    export OPSWALL_REDIS_URL=redis://opswall:pw-fence@127.0.0.1:$port/0
  else
    start_redis "$tmp/$1"
    export OPSWALL_REDIS_URL=unix://$tmp/$1/redis.sock
  fi
  R=(-s "$tmp/$1/redis.sock")
}
holders() { for p in 0 1 2; do redis-cli "${R[@]}" --raw get "ops:{p$p}:lease" | cut -d/ -f1; done | sort | uniq -c | tr -s ' ' | tr '\n' ';'; }
held_by() { [ "$(holders)" = " 3 $1;" ]; }
engine() { # engine NAME: an engine process in the background; sets EP
  OPSWALL_ENGINE_CONSUMER=$1 "$BIN/opswall-engine" --config "$CONF" --clock event 2>> "$tmp/$1.log" &
  EP=$!; PIDS+=($EP)
}

# ---- the reference: one engine, uninterrupted ----
run_redis ref
engine ref
check "reference: the engine holds the 3 leases" wait_for 20 held_by ref
if "$BIN/opswall-ingest" --config "$CONF" "$tmp/half1.ndjson" "$tmp/half2.ndjson" 2> "$tmp/ingest0.log"; then ok "reference: routed ingest"; else fail "reference: routed ingest"; cat "$tmp/ingest0.log"; fi
check "reference: consumed" wait_for 60 $ALERTS consumed "${R[@]}" 3
$ALERTS dump "$tmp/ref.json" "${R[@]}" 3
stop_pid $EP
stop_pid $REDIS_PID

# ---- A paused past its lease; the programs as the ACL user of scripts/redis-acl.sh ----
run_redis fenced acl
engine engA; A=$EP
check "engine A holds the 3 leases" wait_for 20 held_by engA
engine engB; B=$EP
if "$BIN/opswall-ingest" --config "$CONF" "$tmp/half1.ndjson" 2> "$tmp/ingest1.log"; then ok "routed ingest of the first half"; else fail "routed ingest of the first half"; cat "$tmp/ingest1.log"; fi
check "engine A consumed the first half" wait_for 60 $ALERTS consumed "${R[@]}" 3
sleep 1.2 # a checkpoint (every 500 ms)
kids=$(pgrep -P $A | tr '\n' ' ')
check "A runs one engine per partition ($kids)" test "$(echo $kids | wc -w)" = 3
kill -STOP $A # renewals stop; its 3 engines keep running with a lease that runs out
# the second half arrives while A's engines still run: without the fence they would consume
# part of it alongside B
"$BIN/opswall-ingest" --config "$CONF" "$tmp/half2.ndjson" 2> "$tmp/ingest2.log" &
ING=$!
check "engine B takes the 3 partitions while A is paused" wait_for 20 held_by engB
# exited: gone, or a zombie (its parent, A, is stopped and cannot reap it)
gone() { for k in $kids; do case $(cut -d' ' -f3 "/proc/$k/stat" 2>/dev/null) in ''|Z) ;; *) return 1 ;; esac; done; }
check "A's engines stopped themselves while A was paused" wait_for 10 gone
check "A's engines were refused by the fence" grep -q "FENCED" "$tmp/engA.log"
if wait $ING; then ok "routed ingest of the second half"; else fail "routed ingest of the second half"; cat "$tmp/ingest2.log"; fi
kill -CONT $A
sleep 2.5 # more than two of A's renewal rounds (lease/3)
check "after SIGCONT A takes nothing back while B holds it ($(holders))" held_by engB
check "A is still running" kill -0 $A
check "B consumed the second half" wait_for 60 $ALERTS consumed "${R[@]}" 3
$ALERTS dump "$tmp/fenced.json" "${R[@]}" 3
if $ALERTS identical "$tmp/ref.json" "$tmp/fenced.json"; then ok "alerts equal the uninterrupted run (none doubled or lost)"; else fail "alerts differ from the uninterrupted run"; fi
stop_pid $B
check "A takes the partitions back once B has stopped" wait_for 20 held_by engA
grep -h "FENCED" "$tmp/engA.log" | head -3
denied=$(redis-cli "${R[@]}" acl log | grep -A1 -x 'object' | grep -v -x 'object' | grep -v -- -- | sort | uniq -c | tr -s ' ' | tr '\n' ';' || true)
check "no command of the programs was denied by the ACL (${denied:-none})" test -z "$denied"
check "the ACL user may not EVAL" bash -c "redis-cli ${R[*]} --user opswall --pass pw-fence --no-auth-warning eval 'return 1' 0 | grep -q NOPERM"
check "no sanitizer report in the programs' logs" bash -c "! grep -l 'Sanitizer\|runtime error' $tmp/*.log"
stop_pid $A
finish
