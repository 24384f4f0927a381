#!/usr/bin/env bash
# Issue 3, the network sources and the rejects CLI, against a real redis-server:
#   TCP: one answer per line, in order; oversized and binary lines rejected; the connection
#        survives them; max_clients; a producer that half-closes still gets every answer.
#   HTTP: per-line answers (NDJSON and JSON array), 404/405/411/413, 503 + Retry-After while the
#        buffer is full and Redis is away (and the held request answered once Redis is back),
#        429 + Retry-After over the rate, a slowloris request dropped at the timeout.
#   opswall-rejects: list, resubmit after a fix (the fixed event lands, the reject leaves).
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/ow-ingest-net.XXXXXX)
IPID=
cleanup() {
  [ -n "$IPID" ] && kill -9 "$IPID" 2>/dev/null || true
  [ -n "${REDIS_PID:-}" ] && kill -9 "$REDIS_PID" 2>/dev/null || true
  rm -rf "$tmp"
  true
}
trap cleanup EXIT
start_redis "$tmp/r" --appendonly yes
export OPSWALL_REDIS_URL="unix://$tmp/r/redis.sock"
R() { redis-cli -s "$tmp/r/redis.sock" "$@"; }
tport=$(free_port)
hport=$(free_port)
python3 - "$SRC/config/opswall.json" "$tmp/cfg.json" "$tport" "$hport" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["ingest"]["tcp"].update(port=int(sys.argv[3]), max_clients=4)
c["ingest"]["http"].update(port=int(sys.argv[4]), max_body=100000, rate=500, timeout="1s")
c["ingest"].update(buffer_events=50, batch=16)
c["redis"]["timeout"] = "1s"
json.dump(c, open(sys.argv[2], "w"))
PY
"$BIN/opswall-ingest" --config "$tmp/cfg.json" 2> "$tmp/ingest.log" &
IPID=$!
check "listening on TCP and HTTP" wait_for 10 grep -q "http: listening" "$tmp/ingest.log"
ev() { printf '{"v":1,"id":"%s","ts":"2026-11-22T09:00:00+08:00","type":"order.closed","order_id":"o1"}' "$1"; }

# ---- TCP ----
python3 - "$tport" > "$tmp/tcp.json" <<'PY'
import json, os, socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=20)
ev = lambda i: '{"v":1,"id":"t-%d","ts":"2026-11-22T09:00:00+08:00","type":"order.closed","order_id":"o1"}' % i
data = (ev(1) + "\n" + "x" * 200000 + "\n" + ev(2) + "\n\n").encode() + os.urandom(5000).replace(b"\n", b"") + b"\n" + (ev(1) + "\n" + ev(3)).encode()
for k in range(0, len(data), 777):  # in odd pieces
    s.sendall(data[k:k + 777])
s.shutdown(socket.SHUT_WR)  # done sending: answers must still come
out = s.makefile("rb").read().decode().splitlines()
print(json.dumps([json.loads(l) for l in out]))
PY
pyj() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
ans() { pyj "$tmp/tcp.json" "$1"; }
check "TCP: one answer per non-blank line (6)" test "$(ans 'len(d)')" = 6
check "TCP: in order: lines 1,2,3,5,6,7" test "$(ans '[a["line"] for a in d]')" = "[1, 2, 3, 5, 6, 7]"
check "TCP: results accepted,rejected,accepted,rejected,duplicate,accepted" \
  test "$(ans '[a["result"] for a in d]')" = "['accepted', 'rejected', 'accepted', 'rejected', 'duplicate', 'accepted']"
check "TCP: the oversized line's reason names the limit" bash -c "grep -q '64 KiB' '$tmp/tcp.json'"
check "TCP: a reject names its source as tcp HOST:PORT" bash -c "redis-cli -s '$tmp/r/redis.sock' --raw xrange 'ops:{p0}:rejects' - + | grep -q '^tcp 127.0.0.1:'"
python3 - "$tport" > "$tmp/maxc.txt" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
time.sleep(0.5)
closed = 0
for s in socks:
    s.settimeout(0.5)
    try:
        if s.recv(1) == b"": closed += 1
    except socket.timeout:
        pass
    except ConnectionError:
        closed += 1
print(closed)
PY
check "TCP: the fifth connection over max_clients=4 is closed" test "$(cat "$tmp/maxc.txt")" = 1

# ---- HTTP ----
url=http://127.0.0.1:$hport/api/v1/events
{ ev h-1; echo; echo '{"v":1,"id":"h-2","type":"order.closed"}'; ev h-1; echo; } > "$tmp/body.ndjson"
code=$(curl -s -o "$tmp/h1.json" -w '%{http_code}' --data-binary @"$tmp/body.ndjson" "$url")
check "HTTP NDJSON: 200" test "$code" = 200
check "HTTP NDJSON: counts 1 accepted, 1 duplicate, 1 rejected" test "$(pyj "$tmp/h1.json" 'd["accepted"],d["duplicates"],d["rejected"]')" = "1 1 1"
check "HTTP NDJSON: line 2 rejected for the missing ts" test "$(json_get "$tmp/h1.json" '["results"][1]["reason"]')" = 'line 2: order.closed: field "ts" is required'
code=$(curl -s -o "$tmp/h2.json" -w '%{http_code}' -H 'content-type: application/json' --data-binary "[$(ev h-3), {\"v\":1}, $(ev h-3)]" "$url")
check "HTTP array: per element: accepted, rejected, duplicate" test "$code:$(pyj "$tmp/h2.json" '[r["result"] for r in d["results"]]')" = "200:['accepted', 'rejected', 'duplicate']"
check "HTTP: GET is 405" test "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 405
check "HTTP: another path is 404" test "$(curl -s -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$hport/api/v1/other")" = 404
check "HTTP: a body over max_body is 413" test "$(head -c 200000 /dev/zero | tr '\0' x | curl -s -o /dev/null -w '%{http_code}' --data-binary @- "$url")" = 413
check "HTTP: no Content-Length is 411" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/body.ndjson" "$url")" = 411
python3 - "$hport" > "$tmp/slow.txt" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"v\":1")
s.settimeout(10)
t = time.time()
try:
    while s.recv(4096): pass
except (socket.timeout, ConnectionError):
    pass
print("%.1f" % (time.time() - t))
PY
check "HTTP: a request that never finishes is dropped within the timeout ($(cat "$tmp/slow.txt") s)" python3 -c "import sys; sys.exit(0 if float(open('$tmp/slow.txt').read()) < 5 else 1)"

# 429: rate 500 events/s, bursts of 500: a 1000-event request leaves the bucket a second in debt
for i in $(seq 1000); do ev "rl-$i"; echo; done > "$tmp/1000.ndjson"
curl -s -o /dev/null "$url" --data-binary @"$tmp/1000.ndjson"
curl -s -D "$tmp/h429.txt" -o /dev/null --data-binary @"$tmp/body.ndjson" "$url"
check "HTTP: over the rate is 429" grep -q "^HTTP/1.1 429" "$tmp/h429.txt"
check "HTTP: 429 says Retry-After" grep -qi "^retry-after: [0-9]" "$tmp/h429.txt"
refilled() { [ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary '' "$url")" = 200 ]; }
check "HTTP: the bucket refills (an empty request passes again)" wait_for 10 refilled

# 503: Redis away, a request fills the buffer (buffer_events 50) and waits; the next gets 503
kill -STOP "$REDIS_PID"
for i in $(seq 60); do ev "b-$i"; echo; done > "$tmp/60.ndjson"
curl -s -o "$tmp/held.json" -w '%{http_code}' -H 'Expect:' --max-time 60 --data-binary @"$tmp/60.ndjson" "$url" > "$tmp/held.code" &
cpid=$!
# (a request let in before the buffer filled waits for Redis: hence --max-time)
full() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --data-binary @"$tmp/body.ndjson" "$url")" = 503 ]; }
check "HTTP: 503 while the buffer is full" wait_for 10 full
curl -s -D "$tmp/h503.txt" -o /dev/null --max-time 5 --data-binary @"$tmp/body.ndjson" "$url" || true
check "HTTP: 503 says Retry-After" grep -qi "^retry-after: 1" "$tmp/h503.txt"
kill -CONT "$REDIS_PID"
wait $cpid
check "HTTP: the held request is answered 200 once Redis answers" test "$(cat "$tmp/held.code")" = 200
# a batch Redis applied just before its answer was lost is sent again and then reads "duplicate":
# either answer means the event is in the stream, once
check "HTTP: all 60 of it safe (accepted or duplicate)" test "$(pyj "$tmp/held.json" 'd["accepted"] + d["duplicates"]')" = 60
check "HTTP: each of the 60 is in the stream once" test "$(R --raw xrange 'ops:{p0}:events' - + | grep -o '"id":"b-[0-9]*"' | sort | uniq | wc -l):$(R --raw xrange 'ops:{p0}:events' - + | grep -c '"id":"b-[0-9]*"')" = 60:60

# ---- rejects CLI ----
"$BIN/opswall-rejects" list > "$tmp/list.ndjson"
check "rejects list: one JSON line per reject" test "$(wc -l < "$tmp/list.ndjson")" = "$(R xlen 'ops:{p0}:rejects')"
grep '"id\\":\\"h-2\\"' "$tmp/list.ndjson" | head -1 | sed 's/\\"type\\":\\"order.closed\\"/\\"ts\\":\\"2026-11-22T10:00:00Z\\",\\"type\\":\\"order.closed\\",\\"order_id\\":\\"o2\\"/' > "$tmp/fixed.ndjson"
check "a reject to fix was found" test "$(wc -l < "$tmp/fixed.ndjson")" = 1
before=$(R xlen 'ops:{p0}:rejects')
"$BIN/opswall-rejects" resubmit --from "$tmp/fixed.ndjson" 2> "$tmp/resub.log" && st=0 || st=$?
check "resubmit of a fixed reject exits 0" test "$st" = 0
check "the fixed event is in the stream" bash -c "redis-cli -s '$tmp/r/redis.sock' --raw xrange 'ops:{p0}:events' - + | grep -q '\"id\":\"h-2\"'"
check "and its reject left ops:rejects" test "$(R xlen 'ops:{p0}:rejects')" = $((before - 1))
"$BIN/opswall-rejects" resubmit 2> "$tmp/resub2.log" && st=0 || st=$?
check "resubmitting the still-invalid ones exits 1 and keeps them" test "$st:$(R xlen 'ops:{p0}:rejects')" = "1:$((before - 1))"

kill -TERM "$IPID"
wait "$IPID" && st=0 || st=$?
IPID=
check "ingest exits 0 after SIGTERM" test "$st" = 0

# ---- tokens: 401 / 403 (access.tokens holds SHA-256 hashes, never the tokens) ----
aport=$(free_port)
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
python3 - "$tmp/cfg.json" "$tmp/auth.json" "$aport" "$(sha prod-secret-1)" "$(sha view-secret-2)" "$(sha admin-secret-3)" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["ingest"]["tcp"]["port"] = 0
c["ingest"]["http"].update(port=int(sys.argv[3]), rate=0)
c["access"] = {"tokens": [{"name": "producer", "role": "ingest", "sha256": sys.argv[4]},
                          {"name": "watcher", "role": "viewer", "sha256": sys.argv[5]},
                          {"name": "boss", "role": "admin", "sha256": sys.argv[6]}]}
json.dump(c, open(sys.argv[2], "w"))
PY
"$BIN/opswall-ingest" --config "$tmp/auth.json" 2> "$tmp/auth.log" &
IPID=$!
check "ingest with tokens listens" wait_for 10 grep -q "http: listening" "$tmp/auth.log"
aurl=http://127.0.0.1:$aport/api/v1/events
post() { curl -s -o "$tmp/auth.out" -w '%{http_code}' "$@" --data-binary "$(ev "a-$RANDOM")" "$aurl"; }
check "HTTP: no token is 401" test "$(post)" = 401
check "HTTP: an unknown token is 401" test "$(post -H 'Authorization: Bearer nope')" = 401
check "HTTP: a viewer token is 403" test "$(post -H 'Authorization: Bearer view-secret-2')" = 403
check "HTTP: an ingest token is 200" test "$(post -H 'Authorization: Bearer prod-secret-1')" = 200
check "HTTP: an admin token is 200" test "$(post -H 'Authorization: Bearer admin-secret-3')" = 200
curl -s -o /dev/null -H 'Authorization: Bearer prod-secret-1' --data-binary '{"v":1}' "$aurl"
check "a reject names the token's holder as its source" bash -c "redis-cli -s '$tmp/r/redis.sock' --raw xrevrange 'ops:{p0}:rejects' + - count 1 | grep -q '^http producer@127.0.0.1'"
kill -TERM "$IPID"
wait "$IPID" || true
IPID=
check "no token text in the log" bash -c "! grep -q 'secret' '$tmp/auth.log'"
sed -i 's/"listen": "127.0.0.1"/"listen": "0.0.0.0"/g' "$tmp/cfg.json"
timeout 20 "$BIN/opswall-ingest" --config "$tmp/cfg.json" 2> "$tmp/open.log" && st=0 || st=$?
check "no tokens and a network address: refuses to start (exit 1)" test "$st" = 1
check "and says to add tokens or listen on 127.0.0.1" grep -q "add tokens with the ingest role" "$tmp/open.log"
stop_pid "$REDIS_PID"
finish
