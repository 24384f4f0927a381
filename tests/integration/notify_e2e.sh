#!/usr/bin/env bash
# opswall-notify end to end: a real redis-server, real webhook receivers on loopback
# (notify_receiver.py records exactly what arrives), alerts XADDed in the engine's format.
# Checks: one message per group during a rainstorm burst, the next one after group_interval with
# the newcomers, one "resolved" message; silences over the API (tokens and roles); an L3
# inhibiting the L1s of its region; retries against a receiver failing twice; a hanging receiver
# not delaying another; the exec receiver; kill -9 during a burst and a restart without a
# duplicate send.
. "$(dirname "$0")/lib.sh"
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/ow-notify.XXXXXX)
NPID= RXPID= TLSPID=
cleanup() {
  [ -z "$NPID" ] || kill -9 "$NPID" 2>/dev/null || true
  [ -z "$RXPID" ] || kill "$RXPID" 2>/dev/null || true
  [ -z "$TLSPID" ] || kill "$TLSPID" 2>/dev/null || true
  [ -z "${REDIS_PID:-}" ] || stop_pid "$REDIS_PID"
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
start_redis "$tmp/redis"
export OPSWALL_REDIS_URL="unix://$tmp/redis/redis.sock"
R() { redis-cli -s "$tmp/redis/redis.sock" "$@"; }
RP=$(free_port)
AP=$(free_port)
API="http://127.0.0.1:$AP"
mkdir -p "$tmp/rx"
python3 "$HERE/notify_receiver.py" "$RP" "$tmp/rx" --fail flaky=2 --hang hang --slow slow=0.25 &
RXPID=$!
wait_for 10 test -f "$tmp/rx/ready" || { echo "receiver did not start"; exit 1; }
# an https receiver with its own certificate authority (notify.ca_file trusts it)
TP=$(free_port)
mkdir -p "$tmp/tls"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/tls/key.pem" -out "$tmp/tls/cert.pem" \
  -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
python3 "$HERE/notify_receiver.py" "$TP" "$tmp/tls" --tls "$tmp/tls/cert.pem,$tmp/tls/key.pem" &
TLSPID=$!
wait_for 10 test -f "$tmp/tls/ready" || { echo "https receiver did not start"; exit 1; }

SUP_TOKEN=sup-secret-1 VIEW_TOKEN=view-secret-1
python3 - "$RP" "$tmp" "$HERE/../../config" "$SUP_TOKEN" "$VIEW_TOKEN" "$TP" <<'PY'
import hashlib, json, sys
rp, t, cfgdir, sup, view, tp = sys.argv[1:7]
n = json.load(open(cfgdir + '/notify.json'))
u = lambda name: f"http://127.0.0.1:{rp}/{name}"
n['receivers'] = [
  {"name": "desk", "type": "webhook", "url": u("desk"), "lang": "en", "on_call": "desk"},
  {"name": "flaky", "type": "webhook", "url": u("flaky"), "backoff": "200ms", "attempts": 5},
  {"name": "hang", "type": "webhook", "url": u("hang"), "timeout": "4s", "attempts": 2, "backoff": "100ms"},
  {"name": "slow", "type": "webhook", "url": u("slow"), "timeout": "5s"},
  {"name": "exec", "type": "exec", "argv": ["/usr/bin/tee", "-a", t + "/exec.out"], "timeout": "5s"},
  {"name": "stream", "type": "stream"},
  {"name": "secure", "type": "slack", "url": f"https://localhost:{tp}/secure", "lang": "en"},
]
n['route'] = {"receiver": "desk", "group_by": ["region", "level"], "group_wait": "1s",
  "group_interval": "2s", "repeat_interval": "1h", "routes": [
    {"match": {"region": [f"r{i}" for i in range(10)]}, "receiver": "slow"},
    {"match": {}, "receiver": "desk", "continue": True},
    {"match": {"level": 3}, "receiver": "flaky", "continue": True},
    {"match": {"region": "west"}, "receiver": "hang", "continue": True},
    {"match": {"category": "pipes"}, "receiver": "exec", "continue": True},
    {"match": {"category": "pipes"}, "receiver": "stream"},
    {"match": {"category": "tls"}, "receiver": "secure"}]}
json.dump(n, open(t + '/notify.json', 'w'), ensure_ascii=False)
c = json.load(open(cfgdir + '/opswall.json'))
c['notify'].update({"config": t + '/notify.json', "poll": "50ms", "ca_file": t + '/tls/cert.pem'})
h = lambda s: hashlib.sha256(s.encode()).hexdigest()
c['access']['tokens'] = [{"name": "wang.sup", "role": "supervisor", "sha256": h(sup)},
                         {"name": "li.view", "role": "viewer", "sha256": h(view)}]
json.dump(c, open(t + '/opswall.json', 'w'))
PY
start_notify() {
  $BIN/opswall-notify --config "$tmp/opswall.json" --port "$AP" >> "$tmp/notify.out" 2>> "$tmp/notify.log" &
  NPID=$!
  wait_for 20 curl -sf "$API/healthz"
}
check "notify starts and answers /healthz" start_notify

# alerts REGION LEVEL [CATEGORY] -- NAME...: XADD alerts as the engine writes them, all in one
# pipelined write (a burst arrives together, as the engine's batches do)
alerts() { python3 "$HERE/notify_xadd.py" raise "$@" | R --pipe >/dev/null; }
alert() { alerts "$2" "$3" "${4:-}" -- "$1"; }
# resolve NAME...: the engine's resolve records
resolve() { python3 "$HERE/notify_xadd.py" resolve x 0 "" -- "$@" | R --pipe >/dev/null; }
# msgs RECEIVER GROUP_KEY_PART [STATUS]: how many answered-200 messages of that group arrived
msgs() { python3 - "$tmp/rx/$1.ndjson" "$2" "${3:-}" <<'PY'
import json, os, sys
f, part, status = sys.argv[1:4]
n = 0
if os.path.exists(f):
    for line in open(f):
        e = json.loads(line)
        b = e['body']
        if e['status'] == 200 and part in b.get('group_key', '') and (not status or b['status'] == status):
            n += 1
print(n)
PY
}
# nth RECEIVER GROUP_PART N EXPR: a value from the Nth (1-based) such message
nth() { python3 - "$tmp/rx/$1.ndjson" "$2" "$3" "$4" <<'PY'
import json, sys
f, part, n, expr = sys.argv[1:5]
m = [json.loads(l) for l in open(f)]
m = [e['body'] for e in m if e['status'] == 200 and part in e['body'].get('group_key', '')]
b = m[int(n) - 1]
print(eval(expr, {'b': b}))
PY
}
is() { [ "$($1 "${@:2:$#-2}")" = "${@: -1}" ]; } # is CMD ARGS... EXPECTED

# --- a rainstorm: 30 L2 alerts for north within a second → one message listing all 30
alerts north 2 "" -- $(seq -f 'N-%g' 1 30)
check "rainstorm: the first message for north L2 arrives" wait_for 10 is msgs desk 'region=north' 1
check "rainstorm: it lists all 30 alerts" test "$(nth desk 'region=north' 1 'len(b["alerts"])')" = 30
check "rainstorm: the title counts them" test "$(nth desk 'region=north' 1 'b["title"]')" = "### [L2] north: 30 alerts (30 new)"
line1=$(nth desk 'region=north' 1 'b["text"].splitlines()[1]')
check "rainstorm: a line names order, stage, lateness, owner, link" bash -c "echo '$line1' | grep -Eq '^- N-[0-9]+ dispatch at 100% of 5m, [0-9]+s overdue; desk to act \[order\]\(http://127.0.0.1:7681/#/orders/N-[0-9]+\)$'"
alerts north 2 "" -- $(seq -f 'N-%g' 31 40)
check "rainstorm: newcomers go out together after group_interval" wait_for 10 is msgs desk 'region=north' 2
check "rainstorm: the update lists 40, 10 of them new" test "$(nth desk 'region=north' 2 'b["title"]')" = "### [L2] north: 40 alerts (10 new)"
sleep 2.5
check "rainstorm: nothing more until something changes (2 messages for 40 alerts)" is msgs desk 'region=north' 2
resolve $(seq -f 'N-%g' 1 20)
sleep 2.5
check "resolved: half resolved: no message (only newcomers or the end are news)" is msgs desk 'region=north' 2
resolve $(seq -f 'N-%g' 21 40)
check "resolved: one resolved message" wait_for 10 is msgs desk 'region=north' resolved 1
check "resolved: it lists the 40 alerts" test "$(nth desk 'region=north' 3 'len(b["alerts"])')" = 40

# --- silences over the API
body='{"matchers":{"region":"south"},"duration":"1h","comment":"rainstorm, desk knows"}'
code() { curl -s -o "$tmp/resp" -w '%{http_code}' "$@"; }
check "silence without a token: 401" test "$(code -X POST -d "$body" "$API/api/v1/silences")" = 401
check "silence with a viewer token: 403" test "$(code -X POST -H "Authorization: Bearer $VIEW_TOKEN" -d "$body" "$API/api/v1/silences")" = 403
check "silence with a bad field: 400 naming it" bash -c "[ \"\$(curl -s -o $tmp/bad -w '%{http_code}' -X POST -H 'Authorization: Bearer $SUP_TOKEN' -d '{\"matchers\":{\"regoin\":\"x\"},\"duration\":\"1h\",\"comment\":\"c\"}' $API/api/v1/silences)\" = 400 ] && grep -q regoin $tmp/bad"
check "silence with a supervisor token: 201" test "$(code -X POST -H "Authorization: Bearer $SUP_TOKEN" -d "$body" "$API/api/v1/silences")" = 201
sid=$(json_get "$tmp/resp" '["id"]')
check "silence records who created it" test "$(json_get "$tmp/resp" '["created_by"]')" = wang.sup
check "silences listed for a viewer" bash -c "curl -s -H 'Authorization: Bearer $VIEW_TOKEN' $API/api/v1/silences | grep -q '$sid'"
alerts south 2 "" -- S-1 S-2 S-3
alert "M-1" middle 2
check "silence: an unsilenced region in the same tick is sent" wait_for 10 is msgs desk 'region=middle' 1
sleep 1
check "silence: the silenced region is not" is msgs desk 'region=south' 0
check "silence: delete with a viewer token: 403" test "$(code -X DELETE -H "Authorization: Bearer $VIEW_TOKEN" "$API/api/v1/silences/$sid")" = 403
check "silence: delete: 200" test "$(code -X DELETE -H "Authorization: Bearer $SUP_TOKEN" "$API/api/v1/silences/$sid")" = 200
check "silence: unknown id: 404" test "$(code -X DELETE -H "Authorization: Bearer $SUP_TOKEN" "$API/api/v1/silences/$sid")" = 404
check "silence removed: the held alerts go out" wait_for 10 is msgs desk 'region=south' 1
check "silence removed: all 3 listed" test "$(nth desk 'region=south' 1 'len(b["alerts"])')" = 3

# --- inhibition: an L3 for east hides east's L1s; when it resolves they are sent
alert "E-3" east 3
alerts east 1 "" -- E1-1 E1-2
check "inhibit: the L3 is sent" wait_for 10 is msgs desk 'level=3|region=east' 1
sleep 2.5
check "inhibit: the L1s of the same region are not" is msgs desk 'level=1|region=east' 0
resolve E-3
check "inhibit: once the L3 resolves, the L1s are sent" wait_for 10 is msgs desk 'level=1|region=east' 1

# --- retries: flaky answers 500 twice, then 200 (the L3 above went to it too)
check "retry: flaky got the message on the third attempt" wait_for 10 is msgs flaky 'region=east' firing 1
check "retry: three requests, one notification id" test "$(python3 -c "import json; m=[json.loads(l) for l in open('$tmp/rx/flaky.ndjson')]; m=[e for e in m if 'east' in e['body']['group_key'] and e['body']['status']=='firing']; print(len(m), len({e['id'] for e in m}), [e['status'] for e in m])")" = "3 1 [500, 500, 200]"
curl -s -H "Authorization: Bearer $VIEW_TOKEN" "$API/api/v1/notifications" > "$tmp/records.json"
check "retry: the record says delivered after 3 attempts" python3 -c "
import json; r=[x for x in json.load(open('$tmp/records.json')) if x['receiver']=='flaky' and 'east' in x['group_key']][0]
assert r['state']=='delivered' and r['attempts']==3, r"

# --- a hanging receiver does not delay another
alert "W-1" west 2
check "hang: the hanging receiver got its request" wait_for 10 test -s "$tmp/rx/hang.ndjson"
alert "P-1" pacific 2
check "hang: desk gets pacific's message while hang still hangs" wait_for 3 is msgs desk 'region=pacific' 1
check "hang: hang's attempt is still in flight then" bash -c "curl -s -H 'Authorization: Bearer $VIEW_TOKEN' $API/api/v1/notifications | python3 -c 'import json,sys; assert any(x[\"receiver\"]==\"hang\" and x[\"state\"]==\"sending\" for x in json.load(sys.stdin))'"
dead() { curl -s -H "Authorization: Bearer $VIEW_TOKEN" "$API/api/v1/notifications" | python3 -c 'import json,sys; assert any(x["receiver"]=="hang" and x["state"]=="dead" and x["attempts"]==2 for x in json.load(sys.stdin))'; }
check "hang: after two timeouts, a dead letter" wait_for 15 dead
check "hang: the dead letter is in ops:{p0}:notify:dead" test "$(R xlen 'ops:{p0}:notify:dead')" -ge 1

# --- exec and the downstream stream
alert "X-1" inland 2 pipes
check "exec: the program got the message on stdin" wait_for 10 grep -q '"sla:X-1:dispatch:1:100"' "$tmp/exec.out"
check "stream: ops:{p0}:notifications got it" wait_for 10 bash -c "redis-cli -s $tmp/redis/redis.sock xrange 'ops:{p0}:notifications' - + | grep -q X-1"

# --- https (libwebsockets' OpenSSL client), the certificate checked against notify.ca_file
alert "T-1" tlsland 2 tls
check "https: the Slack-style receiver got the message over TLS" wait_for 10 bash -c "grep -q 'T-1' $tmp/tls/secure.ndjson"
check "https: the body is Slack's {text}" bash -c "python3 -c 'import json; e=json.loads(open(\"$tmp/tls/secure.ndjson\").readline()); assert list(e[\"body\"])==[\"text\"] and e[\"status\"]==200'"

# --- kill -9 during a burst, restart: no notification sent twice
for r in 0 1 2 3 4 5 6 7 8 9; do alerts "r$r" 1 "" -- $(seq -f "K$r-%g" 1 10); done
wait_for 10 test -s "$tmp/rx/slow.ndjson"
sleep 0.4
kill -9 "$NPID"
wait "$NPID" 2>/dev/null || true # 137: killed, as meant
NPID=
check "restart: notify starts again" start_notify
settled() { curl -s -H "Authorization: Bearer $VIEW_TOKEN" "$API/api/v1/notifications" | python3 -c '
import json,sys; r=[x for x in json.load(sys.stdin) if x["receiver"]=="slow"]
assert len({x["group_key"] for x in r})==10 and all(x["state"] in ("delivered","unknown","dead") for x in r)'; }
check "restart: every region's message is decided" wait_for 30 settled
curl -s -H "Authorization: Bearer $VIEW_TOKEN" "$API/api/v1/notifications" > "$tmp/records.json"
check "restart: no notification arrived twice, no alert in two messages, none lost silently" python3 - "$tmp/rx/slow.ndjson" "$tmp/records.json" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
recs = {r['id']: r for r in json.load(open(sys.argv[2])) if r['receiver'] == 'slow'}
ids = [e['id'] for e in got]
assert len(ids) == len(set(ids)), ('a notification arrived twice', ids)
alerts = [a['id'] for e in got for a in e['body']['alerts']]
assert len(alerts) == len(set(alerts)), 'an alert was in two messages'
want = {f'sla:K{r}-{i}:dispatch:1:100' for r in range(10) for i in range(1, 11)}
missing = want - set(alerts)
unknown = {a for r in recs.values() if r['state'] == 'unknown' for a in r['alerts']}
assert missing <= unknown, ('lost without an unknown record', missing - unknown)
for e in got:
    assert recs[e['id']]['state'] in ('delivered', 'unknown'), recs[e['id']]
print(f'{len(got)} messages, {len(alerts)} alerts, {len(unknown)} in unknown sends', file=sys.stderr)
PY

# --- SIGTERM while an attempt is in flight: it is let finish, so no record stays "sending"
alert "W-2" west 2
check "drain: hang has the new request" wait_for 10 bash -c "[ \$(wc -l < $tmp/rx/hang.ndjson) -ge 3 ]"
kill -TERM "$NPID"
check "drain: notify stops cleanly on SIGTERM after the attempt's timeout" wait "$NPID"
NPID=
check "drain: no record left in state sending" bash -c "! redis-cli -s $tmp/redis/redis.sock --raw hvals 'ops:{p0}:notify:log' | grep -q '\"state\":\"sending\"'"
check "drain: the log says it waited" grep -q "waiting up to 5000 ms for 1 attempts in flight" "$tmp/notify.log"
check "no error about the event loop" bash -c "! grep -q 'loop did not close' $tmp/notify.log"
[ "$T_FAILS" -eq 0 ] || { echo "--- notify.log"; tail -40 "$tmp/notify.log"; }
finish
