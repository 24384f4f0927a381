#!/usr/bin/env bash
# opswall-feed's websocket keep-alive (feed.ping_interval, feed.ping_timeout; feed/live.h
# ow_live_keepalive), at 1 s / 3 s: a client that answers the pings stays connected well past the
# timeout and is pinged about once a second; one that reads everything but answers nothing is
# closed after about 3 s; node's ws (as a browser: it answers by itself, and negotiates
# permessage-deflate) stays; /metrics counts the pings and the silent close; a timeout not longer
# than the interval is refused at start.
#   FEED_BIN=build/bin/opswall-feed tests/integration/feed_keepalive.sh
source "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
node_modules_ready

metric() { curl -sf "$FEED_URL/metrics" | sed -n "s/^$1 //p"; }
pinged() { # MODE SECONDS OUT
  python3 "$FEED_SRC_DIR/tests/integration/ws_pinged.py" 127.0.0.1 "$FEED_PORT" "$VIEWER_TOKEN" \
    "$1" "$2" >"$3" 2>&1 &
  EXTRA_PIDS+=($!)
}

redis_start
feed_config '"ping_interval": "1s", "ping_timeout": "3s"'
feed_start 0
publish "$(snapshot_json 1 3 4 5)"
wait_until 10 snap_has '"seq":1,' || fail "the feed does not serve seq 1"

pinged answer 8 "$T/answer.out"
pinged mute 8 "$T/mute.out"
# node's ws for 8 s: prints its pings, and how it was closed if it was
(cd "$FEED_SRC_DIR/tests/browser" && node --input-type=module -e "
import WebSocket from 'ws';
const ws = new WebSocket('${FEED_URL/http/ws}/api/v1/live?token=$VIEWER_TOKEN');
let pings = 0, msgs = 0;
ws.on('ping', () => pings++);
ws.on('message', () => msgs++);
ws.on('close', (code, why) => { console.log('closed', code, String(why), pings, msgs); process.exit(0); });
setTimeout(() => { console.log('open', pings, msgs); process.exit(0); }, 8000);
") >"$T/node.out" 2>&1 &
EXTRA_PIDS+=($!)
wait_until 15 grep -q . "$T/mute.out" || fail "mute client: no result"
read -r state pings secs <"$T/mute.out"
[ "$state" = closed ] || fail "the client that answers nothing was not closed: $(cat "$T/mute.out")"
[ "$pings" -ge 1 ] || fail "the mute client was closed without being pinged: $(cat "$T/mute.out")"
awk -v s="$secs" 'BEGIN { exit !(s >= 2.5 && s <= 5.5) }' ||
  fail "the mute client was closed after $secs s, not about 3 s (ping_timeout)"
pass "a client that answers no ping is closed after $secs s ($pings pings)"
wait_until 15 grep -q . "$T/answer.out" || fail "answering client: no result"
read -r state pings <"$T/answer.out"
[ "$state" = open ] || fail "the client that answers was closed: $(cat "$T/answer.out")"
[ "$pings" -ge 5 ] || fail "the answering client got $pings pings in 8 s at a 1 s interval"
pass "a client that answers stays connected for 8 s (timeout 3 s), $pings pings"
wait_until 15 grep -q . "$T/node.out" || fail "node ws client: no result"
read -r state pings msgs <"$T/node.out"
[ "$state" = open ] || fail "node's ws was closed: $(cat "$T/node.out")"
[ "$pings" -ge 5 ] && [ "$msgs" -ge 1 ] || fail "node's ws: $(cat "$T/node.out") (pings, messages)"
pass "node's ws stays connected for 8 s: $pings pings answered, $msgs messages"
[ "$(metric opswall_feed_silent_closes_total)" = 1 ] ||
  fail "silent closes: $(metric opswall_feed_silent_closes_total)"
[ "$(metric opswall_feed_pings_total)" -ge 11 ] || fail "pings: $(metric opswall_feed_pings_total)"
pass "/metrics: $(metric opswall_feed_pings_total) pings, 1 silent close"
feed_stop

# the timeout must be longer than the interval
feed_config '"ping_interval": "30s", "ping_timeout": "20s"'
rc=0
OPSWALL_REDIS_URL="$FEED_REDIS_URL" "$FEED_BIN" --config "$FEED_CONFIG" --port 0 >"$T/bad.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a ping_timeout shorter than the interval was accepted"
grep -q 'feed.ping_timeout: 20s is not longer than feed.ping_interval (30s)' "$T/bad.out" ||
  fail "refusal without the reason: $(cat "$T/bad.out")"
pass "ping_timeout not longer than ping_interval refused: $(grep -o 'feed.ping_timeout:.*' "$T/bad.out" | head -1)"
