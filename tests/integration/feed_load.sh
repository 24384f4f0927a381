#!/usr/bin/env bash
# bench/feed_load.sh against a real feed, for correctness (not timing): lws 4.1 clients that
# negotiate permessage-deflate get every delta, short ones included (a plain data frame on such a
# connection made lws 4.1's client loop forever, so the feed compresses every message), real
# engine deltas replayed compressed, and plain frames for clients that do not offer it.
#   tests/integration/feed_load.sh BUILD_BIN
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/ow-feedload-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
field() { json_get "$tmp/out" "['$1']"; }
# run NAME ENV... : bench/feed_load.sh with 60 viewers for 2 s, the bare limit skipped; a client
# that spins never ends, so the run has a deadline
run() {
  local name=$1; shift
  local rc=0
  env LIMIT=0 "$@" timeout 90 bash "$SRC/bench/feed_load.sh" "$BIN" 60 2 >"$tmp/all" 2>"$tmp/err" || rc=$?
  tail -1 "$tmp/all" >"$tmp/out"
  check "$name: the run ends (rc $rc: $(tail -2 "$tmp/err" | tr '\n' ' '))" [ "$rc" = 0 ]
  check "$name: deltas in the window" [ "$(field deltas_in_window)" -gt 0 ]
  check "$name: every message delivered" [ "$(field delivered)" = "$(field expected)" ]
  check "$name: no gaps" [ "$(field gaps)" = 0 ]
}

# the default: viewers offer permessage-deflate, 1 KB deltas padded with real delta text
run "compressed" DEFLATE=1
check "compressed: every message compressed" [ "$(field compressed_share)" = 1.0 ]
check "compressed: fewer bytes on the wire than text" \
  [ "$(field wire_bytes_per_msg)" -lt "$(field text_bytes_per_msg)" ]
# 126-byte deltas: too short to gain from deflate, compressed anyway (were sent plain: lws spun)
run "short deltas" DEFLATE=1 PAD=0
check "short deltas: compressed too" [ "$(field compressed_share)" = 1.0 ]
# real engine deltas (2-17 KB) replayed: the longer ones arrive in several inflated pieces
run "real deltas" DEFLATE=1 DELTAS="$SRC/bench/data/deltas-normal-day.jsonl"
check "real deltas: compressed" [ "$(field compressed_share)" = 1.0 ]
# no offer: plain frames
run "plain" DEFLATE=0
check "plain: nothing compressed" [ "$(field compressed_share)" = 0.0 ]
check "plain: wire = text + frame header" \
  [ "$(field wire_bytes_per_msg)" -gt "$(field text_bytes_per_msg)" ]
finish
