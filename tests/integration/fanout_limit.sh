#!/usr/bin/env bash
# bench/fanout_limit (the fan-out's physical limit): every message of the window delivered whole
# across several processes and threads, rests of short writes finished after a receiver stalls,
# clear refusals of bad options, and no process left behind when a receiver dies.
#   tests/integration/fanout_limit.sh BUILD_BIN
. "$(dirname "$0")/lib.sh"
BIN=$1
tmp=$(mktemp -d /tmp/ow-fanout.XXXXXX)
RUN=
cleanup() { [ -n "$RUN" ] && kill -9 -- "-$RUN" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
field() { json_get "$1" "['$2']"; }
# run in a session of its own (pgid = pid), so its processes can be found after it ends
start() { setsid "$BIN/fanout_limit" "$@" >"$tmp/out" 2>"$tmp/err" & RUN=$!; }
left() { ! pgrep -g "$1" >/dev/null; }
kids() { [ "$(pgrep -c -P "$RUN")" = "$1" ]; }

# 3 processes, 2 threads, an uneven split: every message arrives whole, in order
start --clients 61 --procs 3 --threads 2 --rate 20 --seconds 1 --warmup 0.2
rc=0; wait "$RUN" || rc=$?
check "3 procs x 2 threads: exit 0 ($(cat "$tmp/err"))" [ "$rc" = 0 ]
check "rounds in the window" [ "$(field "$tmp/out" rounds)" -gt 0 ]
check "expected = 61 x rounds" [ "$(field "$tmp/out" expected)" = $((61 * $(field "$tmp/out" rounds))) ]
check "delivered = expected" [ "$(field "$tmp/out" delivered)" = "$(field "$tmp/out" expected)" ]
check "no gaps" [ "$(field "$tmp/out" gaps)" = 0 ]
check "the feed's delta frame size by default" [ "$(field "$tmp/out" size)" -gt 1100 ]
check "nothing left running" wait_for 3 left "$RUN"

# a receiver stopped for 1.5 s while 1 MB messages go out at 20/s (30 MB per connection, more
# than loopback's socket buffers hold): send() comes back short, the rest goes out on POLLOUT
start --clients 4 --procs 2 --size 1048576 --rate 20 --seconds 3 --warmup 0.2
wait_for 10 kids 2
kid=$(pgrep -P "$RUN" | head -1)
sleep 0.5
kill -STOP "$kid"; sleep 1.5; kill -CONT "$kid"
rc=0; wait "$RUN" || rc=$?
check "stalled receiver: exit 0 ($(cat "$tmp/err"))" [ "$rc" = 0 ]
check "short writes counted" [ "$(field "$tmp/out" short_writes)" -gt 0 ]
check "still every message delivered" [ "$(field "$tmp/out" delivered)" = "$(field "$tmp/out" expected)" ]
check "no gaps after the stall" [ "$(field "$tmp/out" gaps)" = 0 ]

# a receiver killed mid-run: the sender says so, exits 1 and leaves nothing behind
start --clients 40 --procs 2 --seconds 5 --warmup 0.2
wait_for 10 kids 2
kill -9 "$(pgrep -P "$RUN" | head -1)"
rc=0; wait "$RUN" || rc=$?
check "killed receiver: exit 1" [ "$rc" = 1 ]
check "killed receiver: named" grep -q "killed by signal 9" "$tmp/err"
check "killed receiver: nothing left running" wait_for 3 left "$RUN"
RUN=

# bad options: exit 2, the option named, the usage line
bad() {
  local want=$1; shift
  rc=0; "$BIN/fanout_limit" "$@" >/dev/null 2>"$tmp/err" || rc=$?
  check "$* refused: $want" [ "$rc" = 2 ]
  check "$* names it" grep -q -- "$want" "$tmp/err"
  check "$* prints the usage" grep -q '^usage: fanout_limit' "$tmp/err"
}
bad '--clients: expected an integer 1..1000000, got "ten"' --clients ten
bad '--size: expected an integer 16..' --size 15
bad '--seconds: expected a number' --seconds 0
bad '--bogus: unknown option' --bogus 1
bad '--rate: missing its value' --rate
bad 'give --size or --pad, not both' --size 100 --pad 10
bad 'must not exceed --clients' --clients 2 --procs 3
finish
