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
wait_until 5 bash -c "curl -sf '$FEED_URL/api/v1/snapshot' | grep -q '\"seq\":1'" || fail "snapshot not served"
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
REDIS_SOCK=$REDIS_SOCK FEED_URL=$FEED_URL FIRST_SNAPSHOT=$S1 \
  node "$FEED_SRC_DIR/tests/browser/ws_check.mjs" || fail "websocket checks"
pass "websocket: snapshot on connect, published messages, resync, refusals"

# ---- Redis goes away: keep serving, reconnect, GET on reconnect ----
S2=$(snapshot_json 2 4 6 11)
publish "$S2"
wait_until 5 bash -c "curl -sf '$FEED_URL/api/v1/snapshot' | grep -q '\"seq\":2'" || fail "seq 2 not served"
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
wait_until 20 bash -c "curl -sf '$FEED_URL/api/v1/snapshot' | grep -q '\"seq\":3'" || fail "no GET after reconnect"
t1=$(date +%s%3N)
[ "$(http_get /api/v1/snapshot | tail -n +2)" = "$S3" ] || fail "snapshot after reconnect differs"
wait_until 5 bash -c "curl -sf '$FEED_URL/healthz' | grep -q '\"reconnects\":1'" || fail "reconnect count"
pass "Redis back: reconnected and caught up by GET in $((t1 - t0)) ms"

S4=$(snapshot_json 4 2 2 2)
publish "$S4"
wait_until 5 bash -c "curl -sf '$FEED_URL/api/v1/snapshot' | grep -q '\"seq\":4'" || fail "no publish after reconnect"
pass "subscription works again after the reconnect"

# ---- a second feed starting with a snapshot already in Redis serves it at once ----
feed_stop
pass "SIGTERM: exit 0, event loop closed"
feed_start 0
wait_until 5 bash -c "curl -sf '$FEED_URL/api/v1/snapshot' | grep -q '\"seq\":4'" || fail "no GET at start"
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
wait_until 5 bash -c "curl -sf '$FEED_URL/api/v1/snapshot' | grep -q '\"seq\":5'" || fail "no GET with AUTH+SELECT"
S6=$(snapshot_json 6 9 9 9)
rauth publish "$CHAN" "$S6" >/dev/null
wait_until 5 bash -c "curl -sf '$FEED_URL/api/v1/snapshot' | grep -q '\"seq\":6'" || fail "no message with AUTH"
feed_stop
pass "TCP Redis with password and db 3: AUTH and SELECT work"

FEED_REDIS_URL="redis://:wrong@127.0.0.1:$RPORT/3"
feed_start 0
wait_until 5 grep -q 'login (AUTH) refused' "$T/feed$FEED_RUNS.err" || fail "wrong password not reported"
out=$(http_get /healthz)
grep -q '"connected":false' <<<"$out" || fail "healthz with a wrong password: $out"
feed_stop
pass "wrong password: reported, healthz says disconnected, feed keeps running"

echo "feed_api: all checks passed"
