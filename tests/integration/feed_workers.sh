#!/usr/bin/env bash
# opswall-feed with feed.workers = 2 (feed/workers.h): one port, two worker processes. Websocket
# clients are spread over both and every one gets the snapshot and the deltas; /metrics sums the
# workers; acknowledgements work through either; a killed worker is restarted; TLS works; a
# listen address that is not an IP is refused; SIGTERM stops everything with exit 0.
#   FEED_BIN=build/bin/opswall-feed tests/integration/feed_workers.sh
source "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
node_modules_ready

workers() { cat "/proc/$FEED_PID/task/$FEED_PID/children" 2>/dev/null; }
metric() { curl -sf "$FEED_URL/metrics" | sed -n "s/^$1 //p"; }

redis_start
feed_config '"workers": 2'
feed_start 0
read -r -a pids <<<"$(workers)"
[ "${#pids[@]}" -eq 2 ] || fail "expected 2 worker processes, found: ${pids[*]:-none}"
pass "2 workers under the parent (${pids[*]}), one viewer URL: $FEED_URL"

# ---- the same picture from both: every new connection (any worker) serves seq 1 ----
S1=$(snapshot_json 1 3 4 5)
publish "$S1"
all_have() { # 8 connections of their own: the kernel spreads them over the workers
  for _ in $(seq 8); do snap_has "\"seq\":$1," || return 1; done
}
wait_until 10 all_have 1 || fail "not every worker serves seq 1"
pass "both workers serve the published snapshot"

# ---- 40 websocket viewers: snapshot, then a delta, on every one ----
FEED_URL=$FEED_URL REDIS_SOCK=$REDIS_SOCK N=40 node "$FEED_SRC_DIR/tests/browser/ws_many.mjs" \
  >"$T/many.out" 2>"$T/many.err" &
NODE_PID=$!
EXTRA_PIDS+=("$NODE_PID")
wait_until 20 grep -q '^all 40$' "$T/many.out" || fail "viewers: $(cat "$T/many.out" "$T/many.err")"
pass "40 viewers over both workers: each got the snapshot and delta seq 2"

# ---- /metrics: the whole feed's figures (each worker's part at most 1 s old) and per worker ----
wait_until 5 bash -c "curl -sf '$FEED_URL/metrics' | grep -q '^opswall_feed_clients 40$'" ||
  fail "metrics clients: $(metric opswall_feed_clients)"
w0=$(metric 'opswall_feed_worker_clients{worker="0"}')
w1=$(metric 'opswall_feed_worker_clients{worker="1"}')
[ "$((w0 + w1))" -eq 40 ] && [ "$w0" -gt 0 ] && [ "$w1" -gt 0 ] || fail "per worker: $w0 + $w1"
[ "$(metric opswall_feed_workers)" = 2 ] || fail "opswall_feed_workers"
sent=$(metric opswall_feed_messages_sent_total)
[ "${sent%.*}" -ge 80 ] || fail "messages sent: $sent (40 snapshots + 40 deltas at least)"
out=$(TOKEN= http_get /metrics)
! tail -n +2 <<<"$out" | grep -v '^#' | grep -vE '^[a-z_]+(\{[a-z_]+="[^"]*"\})? -?[0-9.e+]+$' || fail "malformed metric line"
pass "/metrics: 40 clients in total, $w0 + $w1 per worker, $sent messages sent"
kill -TERM "$NODE_PID"
wait "$NODE_PID" 2>/dev/null || true
EXTRA_PIDS=() # gone: cleanup must not kill (and fail on) its pid

# ---- acknowledgements through whichever worker answers ----
for i in 1 2 3 4 5 6; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $SUP_TOKEN" \
    "$FEED_URL/api/v1/alerts/sla:o$i:response:0:80/ack")
  [ "$code" = 202 ] || fail "ack $i: $code"
done
[ "$(rcli xlen 'ops:{p0}:acks')" = 6 ] || fail "acks on the stream: $(rcli xlen 'ops:{p0}:acks')"
pass "6 acknowledgements (new connection each): all on ops:{p0}:acks"

# ---- a killed worker comes back; the others keep serving ----
kill -KILL "${pids[0]}"
wait_until 15 bash -c "grep -q 'feed worker 0 was killed by signal 9' '$T/feed$FEED_RUNS.err'" || fail "death not noticed"
wait_until 15 bash -c "[ \"\$(cat /proc/$FEED_PID/task/$FEED_PID/children | wc -w)\" -eq 2 ]" || fail "worker not restarted"
wait_until 10 bash -c "curl -sf '$FEED_URL/metrics' | grep -q '^opswall_feed_worker_starts_total{worker=\"0\"} 2$'" ||
  fail "starts_total: $(curl -s "$FEED_URL/metrics" | grep starts)"
S3=$(snapshot_json 3 1 1 1) # the other worker holds seq 2 (the delta); the new one the key's seq 1
publish "$S3"
wait_until 10 all_have 3 || fail "the restarted worker does not serve the snapshot"
pass "worker 0 killed with SIGKILL: restarted ($(workers)), serving again"

read -r -a pids <<<"$(workers)"
feed_stop
for p in "${pids[@]}"; do ! kill -0 "$p" 2>/dev/null || fail "worker $p still running after the stop"; done
pass "SIGTERM: parent and workers exit 0, event loops closed"

# ---- TLS in every worker ----
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a certificate"
feed_config "\"workers\": 2, \"tls\": {\"cert\": \"$T/cert.pem\", \"key\": \"$T/key.pem\"}"
feed_start 0
[[ $FEED_URL == https://* ]] || fail "TLS feed printed $FEED_URL"
tls_all() {
  for _ in $(seq 8); do
    curl -sf --cacert "$T/cert.pem" -H "Authorization: Bearer $VIEWER_TOKEN" "$FEED_URL/api/v1/snapshot" | grep -q '"seq":' || return 1
  done
}
wait_until 20 tls_all || fail "https: not every connection got the snapshot"
! curl -s --max-time 3 "http://${FEED_URL#https://}/healthz" | grep -q status || fail "plain HTTP answered on the TLS port"
feed_stop
pass "TLS with 2 workers: https on 8 connections; plain HTTP gets nothing"

# ---- worker mode needs an IP address to listen on ----
printf '{"feed": {"listen": "localhost", "workers": 2, "web_root": "%s/assets/web"}}\n' "$FEED_SRC_DIR" >"$T/config/name.json"
OPSWALL_REDIS_URL=unix://$REDIS_SOCK "$FEED_BIN" --config "$T/config/name.json" --port 0 >/dev/null 2>"$T/name.err" &&
  fail "listen on a host name accepted with workers"
grep -q 'feed.listen: "localhost" is not an IP address' "$T/name.err" || fail "message: $(cat "$T/name.err")"
pass "feed.listen \"localhost\" with workers: refused, naming the setting"
