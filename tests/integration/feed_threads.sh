#!/usr/bin/env bash
# opswall-feed's send threads (feed.send_threads, feed/fanout.h) with real websocket viewers:
# 300 plain viewers get a delta through 2 send threads, whole and in order; viewers whose sockets
# cannot take a 6 MB delta at once (tiny receive buffer, not reading; the kernel gives a loopback
# socket ~4 MB of send buffer) still get it whole once they read (lws sends the rest); each
# message is compressed once for the viewers that negotiated permessage-deflate (node's ws, a raw
# client offering it) and sent plain to the others (no offer, an offer with
# server_max_window_bits, compression 0); TLS viewers never take the threads' path and still get
# everything; send_threads 1 writes everything through lws. /metrics says which path each message
# took.
#   FEED_BIN=build/bin/opswall-feed tests/integration/feed_threads.sh
source "$(dirname "${BASH_SOURCE[0]}")/feed_lib.sh"
node_modules_ready

metric() { curl -sf ${CACERT:+--cacert "$CACERT"} "$FEED_URL/metrics" | sed -n "s/^$1 //p"; }

# viewers N PAD: N node viewers get the snapshot, then DELTAS deltas (default 1; seq 2, 3, ...,
# PAD bytes of padding each)
viewers() {
  local out=$T/many-$1-$2.out
  env FEED_URL="$FEED_URL" REDIS_SOCK="$REDIS_SOCK" N="$1" PAD="$2" DELTAS="${DELTAS:-1}" \
    ${CACERT:+NODE_EXTRA_CA_CERTS="$CACERT"} \
    node "$FEED_SRC_DIR/tests/browser/ws_many.mjs" >"$out" 2>"$out.err" &
  local pid=$!
  EXTRA_PIDS+=("$pid")
  wait_until 30 grep -q "^extensions:" "$out" || fail "$1 viewers, pad $2: $(cat "$out" "$out.err")"
  VIEWER_EXTENSIONS=$(sed -n 's/^extensions: //p' "$out")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# one run: feed config, then SLOW slow readers holding their snapshot, then the viewers (they
# publish the delta), then the slow readers read on, then the figures
run() { # EXTRA_FEED_JSON N PAD [SLOW]
  feed_config "$1"
  feed_start 0
  publish "$(snapshot_json 1 3 4 5)"
  wait_until 10 snap_has '"seq":1,' || fail "the feed does not serve seq 1"
  local slow=() i
  rm -f "$T/go"
  for ((i = 0; i < ${4:-0}; i++)); do
    python3 "$FEED_SRC_DIR/tests/integration/ws_slow_reader.py" 127.0.0.1 "$FEED_PORT" \
      "$VIEWER_TOKEN" "$3" "$T/go" "${SLOW_EXT[$i]:-}" >"$T/slow$i.out" 2>&1 &
    slow+=($!)
    EXTRA_PIDS+=($!)
  done
  for ((i = 0; i < ${4:-0}; i++)); do
    wait_until 10 grep -q ready "$T/slow$i.out" || fail "slow reader $i: $(cat "$T/slow$i.out")"
  done
  if [ "$2" -gt 0 ]; then
    viewers "$2" "$3" # they publish the delta
  else
    python3 -c 'import json,sys; sys.stdout.write(json.dumps({"v":1,"type":"delta","seq":2,"base":1,"set":{"events_applied":9,"pad":"x"*int(sys.argv[1])},"del":[]}))' "$3" |
      rcli -x publish 'ops:{p0}:deltas' >/dev/null
  fi
  # the slow readers read on only once the feed has tried the delta's send to them (else a reader
  # already reading could take the whole delta at once)
  sent_to_slow() { [ "$(metric opswall_feed_threaded_writes_total)" -ge "$(($2 + ${4:-0}))" ]; }
  [ "${4:-0}" = 0 ] || wait_until 10 sent_to_slow "$@" || fail "the feed did not send the delta"
  touch "$T/go"
  for ((i = 0; i < ${4:-0}; i++)); do
    wait "${slow[$i]}" || fail "slow reader $i: $(cat "$T/slow$i.out")"
  done
  THREADS=$(metric opswall_feed_send_threads)
  THREADED=$(metric opswall_feed_threaded_writes_total)
  SHORT=$(metric opswall_feed_short_writes_total)
  SENT=$(metric opswall_feed_messages_sent_total)
  COMPRESSED=$(metric opswall_feed_compressed_writes_total)
  CHAINED=$(metric opswall_feed_chained_writes_total)
  WIRE=$(metric opswall_feed_wire_bytes_total)
  PAYLOAD=$(metric opswall_feed_bytes_sent_total)
  feed_stop
  rcli del 'ops:{p0}:snapshot' >/dev/null
}

redis_start

run '"send_threads": 2' 300 0
[ "$THREADS" = 2 ] || fail "send threads: $THREADS"
[ "${THREADED:-0}" -ge 300 ] || fail "threaded writes $THREADED (sent $SENT): the delta did not go through the threads"
pass "2 send threads: 300 viewers got snapshot and delta; $THREADED of $SENT messages by the threads"

# reader 0 offers no compression, 1 permessage-deflate as browsers do, 2 a parameter lws 4.1.6
# mishandles (declined: plain frames)
SLOW_EXT=("" "permessage-deflate; client_max_window_bits" "permessage-deflate; server_max_window_bits=10")
run '"send_threads": 2' 0 6291456 3
[ "${THREADED:-0}" -ge 3 ] || fail "threaded writes $THREADED"
[ "${SHORT:-0}" -ge 2 ] || fail "short writes $SHORT: the plain readers' sockets took the whole delta?"
grep -q ' plain 0$' "$T/slow0.out" || fail "reader without an offer: $(cat "$T/slow0.out")"
# the reader keeps one inflater for the connection (context takeover: the feed no longer says
# server_no_context_takeover)
grep -Eq ' pmd [1-9][0-9]*$' "$T/slow1.out" || fail "reader offering permessage-deflate: $(cat "$T/slow1.out")"
grep -q ' plain 0$' "$T/slow2.out" || fail "reader offering server_max_window_bits: $(cat "$T/slow2.out")"
pass "6 MB delta to 3 viewers that were not reading: $SHORT short writes, lws sent the rest, each got it whole; compressed only to the one that negotiated permessage-deflate, inflated on one inflater for the connection ($(cat "$T/slow1.out")), plain to the one offering server_max_window_bits"
SLOW_EXT=()

# node's ws offers permessage-deflate as browsers do: 20 deltas go compressed to each, deflated
# once or twice; after the first (fresh: the viewer's window ends with the snapshot it was sent
# on connect) each goes as the continuation of the one before; ws_many checks every viewer's copy
# of every delta (a wrong window would garble them)
DELTAS=20 run '"send_threads": 2' 300 4096
[ "${COMPRESSED:-0}" -ge $((300 * 21)) ] || fail "compressed writes $COMPRESSED of $SENT"
[ "${CHAINED:-0}" -ge $((300 * 19)) ] || fail "continuation frames $CHAINED of $COMPRESSED compressed writes"
[ "$VIEWER_EXTENSIONS" = "permessage-deflate" ] ||
  fail "node's ws negotiated \"$VIEWER_EXTENSIONS\": expected plain permessage-deflate (context takeover)"
pass "300 viewers with permessage-deflate ($VIEWER_EXTENSIONS), 20 deltas each, whole and in order: $COMPRESSED of $SENT messages compressed, $CHAINED as continuations, $WIRE bytes on the wire for $PAYLOAD of text"

run '"send_threads": 2, "compression": 0' 100 4096
[ "${COMPRESSED:-0}" = 0 ] || fail "compression 0: $COMPRESSED compressed writes"
pass "compression 0: 100 viewers served plain ($WIRE bytes on the wire for $PAYLOAD of text)"

run '"send_threads": 1' 300 0
[ "$THREADS" = 1 ] && [ "${THREADED:-0}" = 0 ] || fail "send_threads 1: $THREADS threads, $THREADED threaded writes"
pass "send_threads 1: 300 viewers served through lws only ($SENT messages)"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
  fail "openssl could not make a certificate"
CACERT=$T/cert.pem
snap_has() { curl -sf --cacert "$CACERT" -H "Authorization: Bearer $VIEWER_TOKEN" "$FEED_URL/api/v1/snapshot" | grep -q "$1"; }
run "\"send_threads\": 2, \"tls\": {\"cert\": \"$T/cert.pem\", \"key\": \"$T/key.pem\"}" 200 0
[[ $FEED_URL == https://* ]] || fail "TLS feed printed $FEED_URL"
[ "${THREADED:-0}" = 0 ] || fail "TLS viewers written by the threads: $THREADED"
pass "TLS: 200 wss viewers got snapshot and delta through lws ($SENT messages, 0 by the threads)"
