#!/usr/bin/env bash
# opswall-feed against a private Redis: HTTP endpoints, static files, path traversal, the websocket
# (snapshot on connect, published messages, resync, garbage), Redis loss and reconnect, clean exit.
#   FEED_BIN=build/bin/opswall-feed tests/integration/feed_api.sh
source "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
node_modules_ready

redis_start
feed_start 0

# ---- before any snapshot ----
wait_until 10 grep -q 'redis sub: connected' "$T/feed1.err" || fail "feed did not connect to Redis"
out=$(http_get /api/v1/snapshot)
[ "$(head -n1 <<<"$out")" = "503 application/json" ] || fail "snapshot before any: $out"
grep -q '"error":"no snapshot yet' <<<"$out" || fail "503 body: $out"
out=$(http_get /healthz)
grep -q '^503 ' <<<"$out" && grep -q '"present":false' <<<"$out" || fail "healthz before any: $out"
pass "503 JSON before the first snapshot"

# ---- a snapshot ----
S1=$(snapshot_json 1 3 5 10)
publish "$S1"
wait_until 5 snap_has '"seq":1,' || fail "snapshot not served"
out=$(http_get /api/v1/snapshot)
[ "$(head -n1 <<<"$out")" = "200 application/json" ] || fail "snapshot status: $out"
[ "$(tail -n +2 <<<"$out")" = "$S1" ] || fail "snapshot body differs: $out"
pass "/api/v1/snapshot serves the published text byte for byte"

out=$(http_get /healthz)
grep -q '^200 application/json' <<<"$out" || fail "healthz: $out"
for want in '"status":"ok"' '"connected":true' '"present":true' '"seq":1' '"age_ms":'; do
  grep -qF "$want" <<<"$out" || fail "healthz lacks $want: $out"
done
pass "/healthz: $(tail -n +2 <<<"$out")"

# ---- errors ----
for p in /api/v1/nope /nope.html /api/; do
  out=$(http_get "$p")
  [ "$(head -n1 <<<"$out")" = "404 application/json" ] || fail "$p: $out"
  grep -q '^{"error":"' <<<"$(tail -n +2 <<<"$out")" || fail "$p body: $out"
done
pass "unknown paths: 404 {\"error\":...}"

for p in '/../../../../etc/passwd' '/%2e%2e/%2e%2e/%2e%2e/etc/passwd' '/..%2f..%2f..%2fetc/passwd' \
  '/static/../../../etc/passwd' '/.%2e/.%2e/etc/passwd' '/.git/config' '//etc/passwd' '/%5c..%5cetc%5cpasswd'; do
  out=$(http_get "$p" --path-as-is)
  code=$(head -n1 <<<"$out" | cut -d' ' -f1)
  case $code in 400 | 404) ;; *) fail "traversal $p answered $code" ;; esac
  ! grep -q 'root:' <<<"$out" || fail "traversal $p leaked /etc/passwd"
done
pass "path traversal refused (400/404, nothing outside the web root)"

out=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data 'x=1' "$FEED_URL/api/v1/snapshot")
[ "$out" = 405 ] || fail "POST answered $out"
out=$(http_get /api/v1/live)
grep -q '^426 ' <<<"$out" || fail "plain GET on the websocket path: $out"
pass "405 for POST, 426 for a plain GET of /api/v1/live"

# ---- static files ----
for pair in '/ text/html; charset=utf-8' '/index.html text/html; charset=utf-8' \
  '/app.js text/javascript; charset=utf-8' '/style.css text/css; charset=utf-8'; do
  p=${pair%% *} want=${pair#* }
  out=$(http_get "$p")
  [ "$(head -n1 <<<"$out")" = "200 $want" ] || fail "$p: $(head -n1 <<<"$out"), want $want"
done
curl -sSI "$FEED_URL/" | grep -qi "^content-security-policy: default-src 'none'" || fail "no CSP on the page"
pass "static files with content types and a CSP"

# ---- websocket ----
REDIS_SOCK=$REDIS_SOCK FEED_URL=$FEED_URL FIRST_SNAPSHOT=$S1 VIEWER_TOKEN=$VIEWER_TOKEN SUP_TOKEN=$SUP_TOKEN \
  node "$FEED_SRC_DIR/tests/browser/ws_check.mjs" || fail "websocket checks"
pass "websocket: tokens, snapshot on connect, deltas, coarsening, resync, gaps, overflow, refusals"

# ---- access: tokens and roles ----
out=$(TOKEN= http_get /api/v1/snapshot)
[ "$(head -n1 <<<"$out")" = "401 application/json" ] || fail "no token: $out"
grep -q '"error":"unauthorized' <<<"$out" || fail "401 body: $out"
out=$(TOKEN=wrong-token http_get /api/v1/snapshot)
grep -q '^401 ' <<<"$out" || fail "unknown token: $out"
out=$(http_get /api/v1/me)
[ "$(tail -n +2 <<<"$out")" = '{"role":"viewer","name":"vic"}' ] || fail "me: $out"
out=$(TOKEN=$SUP_TOKEN http_get /api/v1/me)
grep -q '"role":"supervisor","name":"li.wei"' <<<"$out" || fail "me (supervisor): $out"
out=$(curl -sS -H "Authorization: Bearer $VIEWER_TOKEN" -H 'Origin: http://evil.example' -o /dev/null -w '%{http_code}' "$FEED_URL/api/v1/snapshot")
[ "$out" = 403 ] || fail "foreign origin answered $out"
out=$(curl -sS -H "Authorization: Bearer $VIEWER_TOKEN" -H "Origin: $FEED_URL" -o /dev/null -w '%{http_code}' "$FEED_URL/api/v1/snapshot")
[ "$out" = 200 ] || fail "own origin answered $out"
! grep -q -e "$VIEWER_TOKEN" -e "$SUP_TOKEN" -e wrong-token "$T"/feed*.err || fail "a token appears in the log"
pass "401 without or with an unknown token, 403 for a foreign origin, tokens never logged"

# ---- positions: coarsened for viewers, in snapshots (deltas: ws_check.mjs) ----
SP=$(snapshot_json 900 1 1 1 | sed 's/}$/,"regions":[{"id":"north","center":[121.47,31.26]}],"techs_pos":{"at":"x","list":[["t1",121.4711,31.2622,"enroute","north"]]}}/')
publish "$SP"
wait_until 5 snap_has '"seq":900,' || fail "seq 900 not served"
grep -q '\["t1",121.47,31.26,"enroute","north"\]' <<<"$(http_get /api/v1/snapshot)" || fail "viewer sees exact positions"
grep -q '\["t1",121.4711,31.2622,"enroute","north"\]' <<<"$(TOKEN=$SUP_TOKEN http_get /api/v1/snapshot)" || fail "supervisor lost positions"
pass "viewer snapshot has technicians at the region centre; supervisor's is exact"

# ---- city map ----
out=$(http_get /api/v1/city)
[ "$(head -n1 <<<"$out")" = "200 application/geo+json" ] || fail "city: $(head -c 200 <<<"$out")"
grep -q '"FeatureCollection"' <<<"$out" || fail "city body"
pass "/api/v1/city serves the region GeoJSON"

# ---- order detail through the engine's request stream (the engine's part done by hand here) ----
TOKEN=$VIEWER_TOKEN http_get /api/v1/orders/o-17 >"$T/order.viewer" &
vpid=$!
wait_until 5 bash -c "redis-cli -s '$REDIS_SOCK' xrange 'ops:{p0}:requests' - + | grep -q o-17" || fail "no order request in the stream"
rcli set 'ops:{p0}:order:o-17' '{"order_id":"o-17","stages":[],"tech":{"id":"t1","lon":121.4711,"lat":31.2622}}' >/dev/null
rcli publish 'ops:{p0}:order_ready' o-17 >/dev/null
wait "$vpid"
grep -q '^200 ' "$T/order.viewer" && grep -q '"lon":null,"lat":null' "$T/order.viewer" || fail "order (viewer): $(cat "$T/order.viewer")"
TOKEN=$SUP_TOKEN http_get /api/v1/orders/o-17 >"$T/order.sup" &
spid=$!
wait_until 5 bash -c "[ \$(redis-cli -s '$REDIS_SOCK' xlen 'ops:{p0}:requests') -ge 2 ]" || fail "second request"
rcli publish 'ops:{p0}:order_ready' o-17 >/dev/null
wait "$spid"
grep -q '"lon":121.4711' "$T/order.sup" || fail "order (supervisor): $(cat "$T/order.sup")"
out=$(http_get '/api/v1/orders/bad%20id')
grep -q '^400 ' <<<"$out" || fail "bad order id: $out"
out=$(http_get /api/v1/orders/nobody-answers)
grep -q '^504 ' <<<"$out" && grep -q 'did not answer' <<<"$out" || fail "no engine: $out"
pass "order detail asked of the engine; viewer gets no coordinates; 400 bad id; 504 when nobody answers"

# ---- alerts since a point ----
for k in 1 2 3; do
  rcli xadd 'ops:{p0}:alerts' '*' id "sla:o$k:response:0:80" d "{\"id\":\"sla:o$k:response:0:80\",\"kind\":\"sla\",\"level\":1,\"region\":\"north\"}" >/dev/null
done
out=$(http_get '/api/v1/alerts?limit=2')
grep -q '^200 ' <<<"$out" || fail "alerts: $out"
[ "$(tail -n +2 <<<"$out" | grep -o '"kind":"sla"' | wc -l)" = 2 ] || fail "limit=2: $out"
next=$(tail -n +2 <<<"$out" | sed 's/.*"next":"\([^"]*\)".*/\1/')
out=$(http_get "/api/v1/alerts?since=$next")
grep -q 'sla:o3' <<<"$out" && ! grep -q 'sla:o1' <<<"$out" || fail "since=$next: $out"
for bad in 'since=abc' 'since=1-2-3' 'limit=0' 'limit=5000'; do
  grep -q '^400 ' <<<"$(http_get "/api/v1/alerts?$bad")" || fail "alerts?$bad accepted"
done
pass "alerts since a stream id, with limit and next; malformed parameters 400"

# ---- acknowledgement: supervisor only, recorded on the acks stream ----
ack() { curl -sS -o "$T/ack" -w '%{http_code}' -X POST "$@"; }
[ "$(ack -H "Authorization: Bearer $VIEWER_TOKEN" "$FEED_URL/api/v1/alerts/sla:o1:response:0:80/ack")" = 403 ] || fail "viewer ack: $(cat "$T/ack")"
grep -q 'supervisor' "$T/ack" || fail "403 body: $(cat "$T/ack")"
[ "$(ack "$FEED_URL/api/v1/alerts/sla:o1:response:0:80/ack")" = 401 ] || fail "anonymous ack"
[ "$(ack -H "Authorization: Bearer $SUP_TOKEN" -H 'content-type: application/json' -d '{"note":"on it"}' "$FEED_URL/api/v1/alerts/sla:o1:response:0:80/ack")" = 202 ] || fail "supervisor ack: $(cat "$T/ack")"
rcli xrange 'ops:{p0}:acks' - + | tr '\n' ' ' | grep -q 'id sla:o1:response:0:80 by li.wei note on it at' || fail "ack not on the stream: $(rcli xrange 'ops:{p0}:acks' - +)"
[ "$(ack -H "Authorization: Bearer $ADMIN_TOKEN" "$FEED_URL/api/v1/alerts/sla:o2:response:0:80/ack")" = 202 ] || fail "admin ack without body"
[ "$(ack -H "Authorization: Bearer $SUP_TOKEN" -d '{"note":42}' "$FEED_URL/api/v1/alerts/x/ack")" = 400 ] || fail "note not a string"
[ "$(ack -H "Authorization: Bearer $SUP_TOKEN" -d 'garbage' "$FEED_URL/api/v1/alerts/x/ack")" = 400 ] || fail "garbage body"
[ "$(ack -H "Authorization: Bearer $SUP_TOKEN" -d "{\"note\":\"$(head -c 300 /dev/zero | tr '\0' n)\"}" "$FEED_URL/api/v1/alerts/x/ack")" = 400 ] || fail "long note"
head -c 10000 /dev/zero | tr '\0' x >"$T/big"
[ "$(ack -H "Authorization: Bearer $SUP_TOKEN" --data-binary @"$T/big" "$FEED_URL/api/v1/alerts/x/ack")" = 413 ] || fail "big body: $(cat "$T/ack")"
[ "$(ack -H "Authorization: Bearer $SUP_TOKEN" "$FEED_URL/api/v1/alerts/a%20b/ack")" = 400 ] || fail "bad alert id"
[ "$(ack -H "Authorization: Bearer $SUP_TOKEN" "$FEED_URL/api/v1/snapshot")" = 405 ] || fail "POST elsewhere"
pass "ack: 202 for supervisor/admin (on ops:{p0}:acks with by and note), 403 viewer, 401 anonymous, 400/413 bad bodies"

# ---- rate limit per connection ----
urls=()
for _ in $(seq 60); do urls+=(-o /dev/null "$FEED_URL/healthz"); done
codes=$(curl -s -w '%{http_code}\n' "${urls[@]}")
grep -q '^429$' <<<"$codes" || fail "60 requests on one connection were not limited: $(sort <<<"$codes" | uniq -c | tr '\n' ' ')"
pass "60 requests on one keep-alive connection: $(grep -c '^429$' <<<"$codes") answered 429"

# ---- metrics ----
out=$(TOKEN= http_get /metrics)
grep -q '^200 text/plain; version=0.0.4' <<<"$out" || fail "metrics: $(head -n1 <<<"$out")"
for m in opswall_feed_clients opswall_feed_messages_sent_total opswall_feed_bytes_sent_total \
  opswall_feed_queue_drops_total opswall_feed_batched_writes_total opswall_feed_engine_lag_seconds \
  opswall_feed_engine_events_per_second \
  'opswall_feed_connections_total{result="accepted"}' 'opswall_feed_client_backlog_bucket{le="+Inf"}'; do
  grep -q "^$m [0-9.e+-]*$" <<<"$out" || fail "metrics lacks $m"
done
# every sample line is NAME{labels} VALUE, every family has HELP and TYPE
! tail -n +2 <<<"$out" | grep -v '^#' | grep -vE '^[a-z_]+(\{[a-z_]+="[^"]*"\})? -?[0-9.e+]+$' || fail "malformed metric line"
pass "/metrics in Prometheus text format"

# ---- Redis goes away: keep serving, reconnect, GET on reconnect ----
S2=$(snapshot_json 2 4 6 11)
publish "$S2"
wait_until 5 snap_has '"seq":2,' || fail "seq 2 not served"
S3=$(snapshot_json 3 1 2 3)
rcli set "$KEY" "$S3" >/dev/null # not published: only a GET after the reconnect can see it
rcli save >/dev/null
redis_stop
wait_until 10 bash -c "curl -s '$FEED_URL/healthz' | grep -q '\"connected\":false'" || fail "loss not noticed"
out=$(http_get /api/v1/snapshot)
[ "$(tail -n +2 <<<"$out")" = "$S2" ] || fail "last snapshot not kept while Redis is down: $out"
pass "Redis down: healthz says so, the last snapshot is still served"
t0=$(date +%s%3N)
redis_start # loads dump.rdb from the same dir
wait_until 20 snap_has '"seq":3,' || fail "no GET after reconnect"
t1=$(date +%s%3N)
[ "$(http_get /api/v1/snapshot | tail -n +2)" = "$S3" ] || fail "snapshot after reconnect differs"
wait_until 5 bash -c "curl -sf '$FEED_URL/healthz' | grep -q '\"reconnects\":1'" || fail "reconnect count"
pass "Redis back: reconnected and caught up by GET in $((t1 - t0)) ms"

S4=$(snapshot_json 4 2 2 2)
publish "$S4"
wait_until 5 snap_has '"seq":4,' || fail "no publish after reconnect"
pass "subscription works again after the reconnect"

# ---- a second feed starting with a snapshot already in Redis serves it at once ----
feed_stop
pass "SIGTERM: exit 0, event loop closed"
feed_start 0
wait_until 5 snap_has '"seq":4,' || fail "no GET at start"
pass "a new feed serves the stored snapshot at start"
feed_stop

# ---- TCP Redis with a password and a database: AUTH and SELECT on both connections ----
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --requirepass 's3cret pass' --save '' --appendonly no \
  --dir "$T" --dbfilename auth.rdb --logfile "$T/redis-auth.log" --daemonize no &
EXTRA_PIDS+=($!)
rauth() { redis-cli -p "$RPORT" --no-auth-warning -a 's3cret pass' "$@"; }
wait_until 10 bash -c "[ \"\$(redis-cli -p $RPORT --no-auth-warning -a 's3cret pass' ping)\" = PONG ]" ||
  fail "password redis-server did not start"
S5=$(snapshot_json 5 8 8 8)
rauth -n 3 set "$KEY" "$S5" >/dev/null
FEED_REDIS_URL="redis://:s3cret%20pass@127.0.0.1:$RPORT/3"
feed_start 0
wait_until 5 snap_has '"seq":5,' || fail "no GET with AUTH+SELECT"
S6=$(snapshot_json 6 9 9 9)
rauth publish "$CHAN" "$S6" >/dev/null
wait_until 5 snap_has '"seq":6,' || fail "no message with AUTH"
feed_stop
pass "TCP Redis with password and db 3: AUTH and SELECT work"

FEED_REDIS_URL="redis://:wrong@127.0.0.1:$RPORT/3"
feed_start 0
wait_until 5 grep -q 'login (AUTH) refused' "$T/feed$FEED_RUNS.err" || fail "wrong password not reported"
out=$(http_get /healthz)
grep -q '"connected":false' <<<"$out" || fail "healthz with a wrong password: $out"
feed_stop
pass "wrong password: reported, healthz says disconnected, feed keeps running"

# ---- TLS: a throwaway certificate; https and wss on the same port, plain HTTP refused ----
FEED_REDIS_URL=unix://$REDIS_SOCK
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a certificate"
feed_config "\"tls\": {\"cert\": \"$T/cert.pem\", \"key\": \"$T/key.pem\"}"
feed_start 0
[[ $FEED_URL == https://* ]] || fail "TLS feed printed $FEED_URL"
wait_until 20 bash -c "curl -sf --cacert '$T/cert.pem' -H 'Authorization: Bearer $VIEWER_TOKEN' '$FEED_URL/api/v1/snapshot'" ||
  fail "https: no snapshot"
out=$(http_get /api/v1/snapshot --cacert "$T/cert.pem")
grep -q '^200 application/json' <<<"$out" || fail "https snapshot: $(head -n1 <<<"$out")"
! curl -s --max-time 3 "http://${FEED_URL#https://}/healthz" | grep -q status || fail "plain HTTP answered on the TLS port"
REDIS_SOCK=$REDIS_SOCK FEED_URL=$FEED_URL VIEWER_TOKEN=$VIEWER_TOKEN NODE_EXTRA_CA_CERTS=$T/cert.pem \
  node -e '
    const WebSocket = require(process.argv[1]);
    const ws = new WebSocket(process.env.FEED_URL.replace(/^https/, "wss") + "/api/v1/live?token=" + process.env.VIEWER_TOKEN);
    ws.on("message", (m) => { if (JSON.parse(m).type !== "snapshot") process.exit(1); ws.close(); process.exit(0); });
    ws.on("error", (e) => { console.error(e.message); process.exit(1); });
    setTimeout(() => process.exit(1), 5000);' "$FEED_SRC_DIR/tests/browser/node_modules/ws/index.js" ||
  fail "wss: no snapshot"
feed_stop
pass "TLS: https and wss with the configured certificate; plain HTTP gets nothing"

# ---- TLS settings are checked at start, naming the setting ----
feed_config "\"tls\": {\"cert\": \"$T/cert.pem\", \"key\": \"\"}"
OPSWALL_REDIS_URL=unix://$REDIS_SOCK "$FEED_BIN" --config "$FEED_CONFIG" --port 0 >/dev/null 2>"$T/tls.err" && fail "cert without key accepted"
grep -q 'feed.tls.key: set together with feed.tls.cert' "$T/tls.err" || fail "message: $(cat "$T/tls.err")"
feed_config "\"tls\": {\"cert\": \"$T/nope.pem\", \"key\": \"$T/key.pem\"}"
OPSWALL_REDIS_URL=unix://$REDIS_SOCK "$FEED_BIN" --config "$FEED_CONFIG" --port 0 >/dev/null 2>"$T/tls.err" && fail "missing cert accepted"
grep -q "feed.tls.cert: $T/nope.pem: file not found" "$T/tls.err" || fail "message: $(cat "$T/tls.err")"
feed_config "\"tls\": {\"cert\": \"$T/body\", \"key\": \"$T/key.pem\"}"
OPSWALL_REDIS_URL=unix://$REDIS_SOCK "$FEED_BIN" --config "$FEED_CONFIG" --port 0 >/dev/null 2>"$T/tls.err" && fail "non-PEM cert accepted"
grep -q "feed.tls.cert: .*not a PEM file" "$T/tls.err" || fail "message: $(cat "$T/tls.err")"
feed_config
pass "TLS settings checked at start: missing key, missing file, not PEM"

echo "feed_api: all checks passed"
