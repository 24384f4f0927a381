#!/usr/bin/env bash
# Issue 3, "nothing lost, exactly once": producers keep sending over TCP and HTTP while the real
# redis-server is killed (SIGKILL) in the middle of the run and started again on the same socket
# and AOF. Every event ingest answered "accepted"/"duplicate" must be in the stream exactly once,
# every event sent must end up answered, and nothing may be appended twice.
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/ow-outage.XXXXXX)
IPID= PPID_= HPID=
cleanup() {
  [ -n "$PPID_" ] && kill "$PPID_" 2>/dev/null || true
  [ -n "$HPID" ] && kill "$HPID" 2>/dev/null || true
  [ -n "$IPID" ] && kill -9 "$IPID" 2>/dev/null || true
  [ -n "${REDIS_PID:-}" ] && kill -9 "$REDIS_PID" 2>/dev/null || true
  rm -rf "$tmp"
  true
}
trap cleanup EXIT
export OPSWALL_LOG=info
N=${OUTAGE_EVENTS:-20000}
RATE=${OUTAGE_RATE:-5000}

start_redis "$tmp/r" --appendonly yes --appendfsync everysec
export OPSWALL_REDIS_URL="unix://$tmp/r/redis.sock"
R() { redis-cli -s "$tmp/r/redis.sock" "$@"; }
port=$(free_port)
hport=$(free_port)
"$BIN/opswall-ingest" --tcp "$port" --http "$hport" 2> "$tmp/ingest.log" &
IPID=$!
wait_for 10 grep -q "http: listening" "$tmp/ingest.log"
NH=${OUTAGE_HTTP_EVENTS:-5000}

python3 "$SRC/tests/integration/ingest_producer.py" 127.0.0.1 "$port" "$N" "$RATE" ev "$tmp/safe.txt" \
  > "$tmp/producer.json" &
PPID_=$!
python3 "$SRC/tests/integration/ingest_http_producer.py" 127.0.0.1 "$hport" "$NH" 1500 50 hv "$tmp/hsafe.txt" \
  > "$tmp/hproducer.json" &
HPID=$!
some_in() { [ "$(R xlen 'ops:{p0}:events')" -ge $((N / 5)) ]; }
check "events flow before the outage" wait_for 30 some_in
kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
before=$(grep -c . "$tmp/r/appendonlydir/"*.incr.aof 2>/dev/null || true)
sleep 1.5 # the outage: ingest must keep taking input into its buffer meanwhile
start_redis "$tmp/r" --appendonly yes --appendfsync everysec
check "ingest reconnected after the restart" wait_for 30 grep -q "reconnected to" "$tmp/ingest.log"
producer_ok=0
wait "$PPID_" && producer_ok=1
PPID_=
hproducer_ok=0
wait "$HPID" && hproducer_ok=1
HPID=
cat "$tmp/producer.json" "$tmp/hproducer.json"
check "every event sent was answered safe (accepted or duplicate)" test "$producer_ok" = 1
check "HTTP: every event answered safe (after 503s and resends)" test "$hproducer_ok" = 1
check "the producer got $N safe answers" test "$(wc -l < "$tmp/safe.txt")" = "$N"

R --raw xrange 'ops:{p0}:events' - + | grep -o '"id":"ev-[0-9]*"' | sort > "$tmp/stream_ids.txt"
sort "$tmp/safe.txt" | sed 's/^/"id":"/; s/$/"/' > "$tmp/safe_ids.txt"
check "the stream holds $N entries" test "$(wc -l < "$tmp/stream_ids.txt")" = "$N"
check "no event appended twice" test -z "$(uniq -d "$tmp/stream_ids.txt")"
check "every acknowledged event is in the stream" test -z "$(comm -23 "$tmp/safe_ids.txt" "$tmp/stream_ids.txt")"
R --raw xrange 'ops:{p0}:events' - + | grep -o '"id":"hv-[0-9]*"' | sort > "$tmp/hstream.txt"
sed 's/^/"id":"/; s/$/"/' "$tmp/hsafe.txt" | sort > "$tmp/hsafe_ids.txt"
check "HTTP: the stream holds its $NH events, none twice" test "$(wc -l < "$tmp/hstream.txt"):$(uniq -d "$tmp/hstream.txt" | wc -l)" = "$NH:0"
check "HTTP: every acknowledged event is in the stream" test -z "$(comm -23 "$tmp/hsafe_ids.txt" "$tmp/hstream.txt")"
kill -TERM "$IPID"
gone() { ! kill -0 "$IPID" 2>/dev/null; }
check "ingest stops on SIGTERM" wait_for 10 gone
wait "$IPID" && st=0 || st=$?
IPID=
check "ingest exits 0 (nothing left unconfirmed)" test "$st" = 0
cat "$tmp/ingest.log"
stop_pid "$REDIS_PID"
finish
