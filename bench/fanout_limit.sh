#!/usr/bin/env bash
# The physical limit of bench/feed_load.sh's fan-out: the same number of receivers in the same
# number of processes, the same message size and rate, over bare loopback TCP (bench/fanout_limit.c:
# no websocket, no libwebsockets, no Redis). Prints fanout_limit's JSON line with the machine's
# cores and load average. Run it beside feed_load.sh with the same CLIENTS, PROCS and RATE.
#   bench/fanout_limit.sh [BUILD_BIN] [CLIENTS] [SECONDS]
#   env: PROCS (receiver processes, default 2), RATE (messages/s, 4), THREADS (sender threads, 1),
#        PAD (the size of feed_load's delta frame with PAD pad bytes, 1000) or SIZE (bytes per
#        message, instead of PAD), WARMUP (seconds, 2)
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd); CLIENTS=${2:-10000}; SECS=${3:-20}
PROCS=${PROCS:-2}; RATE=${RATE:-4}; THREADS=${THREADS:-1}; PAD=${PAD:-1000}; WARMUP=${WARMUP:-2}
# every connection is a file descriptor on both sides (root may raise the hard limit)
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
if [ -n "${SIZE:-}" ]; then msg=(--size "$SIZE"); else msg=(--pad "$PAD"); fi
out=$("$BIN/fanout_limit" --clients "$CLIENTS" --procs "$PROCS" --threads "$THREADS" \
  --rate "$RATE" --seconds "$SECS" --warmup "$WARMUP" "${msg[@]}") || rc=$?
[ -n "$out" ] || exit "${rc:-1}"
sed "s/}\$/,\"cores\":$(nproc),\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}/" <<<"$out"
exit "${rc:-0}"
