#!/usr/bin/env bash
# Issue 9, faults: `kill -9` of opswall-ingest itself while producers send to its TCP and HTTP
# sources, KILLS times at random moments, each time started again on the same ports. The
# producers (ingest_kill_producer.py) send again every line they hold no answer for when their
# connection drops. What must hold, counted:
#   - every event a producer saw acknowledged ("accepted" or "duplicate") is in ops:{p0}:events
#     exactly once, and an "accepted" one at the stream id its answer named;
#   - in the end every valid event sent is in the stream exactly once (the resends de-duplicated)
#     and nothing else is;
#   - every "rejected" answer's reject_id is in ops:{p0}:rejects holding that line, and every
#     invalid line sent is kept there (a line resent after a kill may be kept twice: rejects are
#     records of input, not de-duplicated — counted, not failed);
#   - ingest is back (listening on both ports) within BACK_S seconds of each start.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
KILLS=${KILLS:-5}
BACK_S=${BACK_S:-10}
RANDOM=${SEED:-11}
N_TCP=${N_TCP:-6000} N_HTTP=${N_HTTP:-3000}
tmp=$(mktemp -d /tmp/ow-faults-ingest.XXXXXX)
IPID= TPID= HPID=
cleanup() {
  set +e # the status of finish stands, whatever a kill below returns
  for p in "$TPID" "$HPID"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  [ -n "$IPID" ] && kill -9 "$IPID" 2>/dev/null
  [ -n "${REDIS_PID:-}" ] && kill -9 "$REDIS_PID" 2>/dev/null
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

start_redis "$tmp/r" --appendonly yes --appendfsync everysec
export OPSWALL_REDIS_URL="unix://$tmp/r/redis.sock"
R() { redis-cli -s "$tmp/r/redis.sock" "$@"; }
tport=$(free_port)
hport=$(free_port)
starts=0
start_ingest() { # a new process on the same ports; its log is appended to
  echo "--- start $((starts + 1))" >> "$tmp/ingest.log"
  "$BIN/opswall-ingest" --tcp "$tport" --http "$hport" 2>> "$tmp/ingest.log" &
  IPID=$!
  starts=$((starts + 1))
}
listening() { [ "$(grep -c "listening on" "$tmp/ingest.log")" -ge $((2 * starts)) ]; }
start_ingest
check "ingest listens on TCP and HTTP" wait_for "$BACK_S" listening

P=$SRC/tests/faults/ingest_kill_producer.py
python3 "$P" tcp 127.0.0.1 "$tport" "$N_TCP" 500 kt "$tmp/tcp.json" --bad 10 > "$tmp/tcp.out" &
TPID=$!
python3 "$P" http 127.0.0.1 "$hport" "$N_HTTP" 250 kh "$tmp/http.json" --bad 10 --batch 25 > "$tmp/http.out" &
HPID=$!

# the kills: at random moments 0.5–1.9 s apart while the producers send (about 12 s)
kills=0
for k in $(seq "$KILLS"); do
  sleep "$((RANDOM % 2)).$((RANDOM % 10 / 2 + 5))"
  xlen=$(R xlen 'ops:{p0}:events')
  T0=$(date +%s%N)
  kill -9 "$IPID" && kills=$((kills + 1))
  wait "$IPID" 2>/dev/null || true
  start_ingest
  back_within "$BACK_S" "kill $k: ingest killed with $xlen events in the stream, listening" listening
done
backs=$FAULT_BACKS slowest=$FAULT_SLOWEST_MS
check "$backs of $kills kill -9 back within $BACK_S s (slowest $slowest ms)" test "$backs" -eq "$kills"

tok=0 hok=0
wait "$TPID" && tok=1
TPID=
wait "$HPID" && hok=1
HPID=
cat "$tmp/tcp.out" "$tmp/http.out"
check "TCP producer: every line answered in the end (after its resends)" test "$tok" = 1
check "HTTP producer: every line answered in the end (after its resends)" test "$hok" = 1

R --json xrange 'ops:{p0}:events' - + > "$tmp/events.json"
R --json xrange 'ops:{p0}:rejects' - + > "$tmp/rejects.json"
python3 - "$tmp/events.json" "$tmp/rejects.json" "$tmp/tcp.json" "$tmp/http.json" > "$tmp/verdict.txt" <<'PY' && vok=1 || vok=0
import collections, json, sys
def entries(path):  # [[stream_id, {field: value}]]
    return [(e[0], dict(zip(e[1][0::2], e[1][1::2]))) for e in json.load(open(path))]
events = entries(sys.argv[1])
rejects = entries(sys.argv[2])
at = {}
count = collections.Counter()
for sid, f in events:
    eid = json.loads(f["d"])["id"]
    count[eid] += 1
    at[sid] = eid
kept = collections.Counter(json.loads(f["raw"])["id"] for _, f in rejects)
reject_at = {sid: json.loads(f["raw"])["id"] for sid, f in rejects}
bad = []
sent_valid, sent_invalid, acked, acc_at, dup, rej_ok, rejected = set(), set(), 0, 0, 0, 0, 0
for p in sys.argv[3:]:
    r = json.load(open(p))
    sent_valid |= set(r["valid"]); sent_invalid |= set(r["invalid"])
    for eid, a in r["answers"].items():
        if a["result"] in ("accepted", "duplicate"):
            acked += 1
            if count[eid] != 1: bad.append(f"acknowledged {eid} is in the stream {count[eid]} times")
            dup += a["result"] == "duplicate"  # stored before the kill, its answer lost
            if a["result"] == "accepted":
                if at.get(a["stream_id"]) == eid: acc_at += 1
                else: bad.append(f"accepted {eid} not at its stream id {a['stream_id']}")
        else:
            rejected += 1
            if reject_at.get(a.get("reject_id")) == eid: rej_ok += 1
            else: bad.append(f"rejected {eid}: its reject {a.get('reject_id')} not kept")
twice = [e for e in sent_valid if count[e] != 1]
extra = set(count) - sent_valid
lost_rej = [e for e in sent_invalid if kept[e] < 1]
if twice: bad.append(f"{len(twice)} sent events not in the stream exactly once, e.g. {sorted(twice)[:3]} x{[count[e] for e in sorted(twice)[:3]]}")
if extra: bad.append(f"{len(extra)} entries nobody sent: {sorted(extra)[:3]}")
if lost_rej: bad.append(f"{len(lost_rej)} invalid lines not kept in rejects: {sorted(lost_rej)[:3]}")
print(f"acknowledged {acked} (accepted at their stream id {acc_at}, duplicate {dup}); stream {len(events)} entries for {len(sent_valid)} valid events sent, "
      f"each once: {not twice and not extra}; rejected answers {rejected} all kept: {rej_ok == rejected}; "
      f"rejects {len(rejects)} for {len(sent_invalid)} invalid lines (kept twice after a resend: {sum(1 for e in kept if kept[e] > 1)})")
for b in bad[:10]: print("  ", b)
sys.exit(1 if bad else 0)
PY
cat "$tmp/verdict.txt"
check "acknowledged events exactly once, every sent event exactly once in the end, rejects kept" test "$vok" = 1
resent=$(python3 -c "import json,sys; print(sum(json.load(open(p))['stats']['resent'] for p in sys.argv[1:]))" "$tmp/tcp.json" "$tmp/http.json")
check "the kills cut producers off (lines resent: $resent)" test "$resent" -gt 0
kill -TERM "$IPID"
wait "$IPID" && st=0 || st=$?
IPID=
check "the last ingest exits 0 on SIGTERM" test "$st" = 0
echo "figures: kills=$kills back=$backs slowest_ms=$slowest events=$(R xlen 'ops:{p0}:events') rejects=$(R xlen 'ops:{p0}:rejects') resent=$resent"
stop_pid "$REDIS_PID"
REDIS_PID=
finish
