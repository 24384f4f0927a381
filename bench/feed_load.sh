#!/usr/bin/env bash
# Load on opswall-feed: N websocket viewers (bench/feed_load.c, lws client API, K processes)
# receiving deltas published through a private Redis at RATE per second, each delta carrying its
# publish time; optional hostile connections. Prints feed_load's JSON line extended with the
# feed's RSS and CPU over the run, and "limit": the same fan-out over bare TCP in the same run
# (bench/fanout_limit.c: the physical limit; LIMIT=0 skips it).
#   bench/feed_load.sh [BUILD_BIN] [CLIENTS] [SECONDS]
#   env: PROCS (load processes, default 2), RATE (deltas/s, 4), PAD (bytes per delta, 1000),
#        WARMUP (s between the last viewer's snapshot and the window, 2),
#        STALL / GARBAGE / FLOOD (hostile connections, 0), HOSTILE_NICE (nice value of their
#        process, 0: its CPU comes out of the cores the feed and viewers share), QUEUE (feed.queue, 64),
#        WORKERS (feed.workers, 1), THREADS (feed.send_threads, 0 = one per CPU),
#        NAP (µs a load process sleeps after each poll, 0), DELTAS (a file of real engine deltas to
#        replay instead of PAD bytes: bench/record_deltas.sh), COMPRESSION (feed.compression, 6),
#        DEFLATE (the viewers offer permessage-deflate as browsers do, 1; 0 = plain frames),
#        PAD_FROM (the text the PAD bytes are cut from: the recorded real deltas, made
#        string-safe; PAD_FROM= pads with 'x')
# The feed's CPU and RSS are its whole process tree (parent + workers).
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd); CLIENTS=${2:-10000}; SECS=${3:-20}
PROCS=${PROCS:-2}; RATE=${RATE:-4}; PAD=${PAD:-1000}
STALL=${STALL:-0}; GARBAGE=${GARBAGE:-0}; FLOOD=${FLOOD:-0}; QUEUE=${QUEUE:-64}
HOSTILE_NICE=${HOSTILE_NICE:-0}
# The window starts WARMUP s after every viewer holds its snapshot; the feed's CPU is measured
# over the window too (not the warm-up).
WARMUP=${WARMUP:-2}
WORKERS=${WORKERS:-1}; THREADS=${THREADS:-0}; NAP=${NAP:-0}
COMPRESSION=${COMPRESSION:-6}; DELTAS=${DELTAS:-}; DEFLATE=${DEFLATE:-1}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PAD_FROM=${PAD_FROM-$SRC/bench/data/deltas-normal-day.jsonl}
# every connection is a file descriptor on both sides (root may raise the hard limit)
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d /tmp/ow-feedload.XXXXXX)
FPID= PPID_= VPID=
cleanup() { # (every step may fail: what it stops may be gone already)
  [ -z "$VPID" ] || kill "$VPID" 2>/dev/null || true
  [ -z "$PPID_" ] || kill "$PPID_" 2>/dev/null || true
  [ -z "$FPID" ] || { kill "$FPID" 2>/dev/null && wait "$FPID" 2>/dev/null; } || true
  redis-cli -s "$tmp/r.sock" shutdown nosave >/dev/null 2>&1 || true
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT # (a signal ends the script through cleanup: no Redis or feed left behind)
redis-server --port 0 --unixsocket "$tmp/r.sock" --dir "$tmp" --save '' --appendonly no \
  --daemonize yes --logfile "$tmp/redis.log" >/dev/null
for _ in $(seq 100); do redis-cli -s "$tmp/r.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
TOKEN=bench-$RANDOM$RANDOM
HASH=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
mkdir -p "$tmp/config"
printf '{"feed":{"listen":"127.0.0.1","port":0,"web_root":"%s/assets/web","queue":%d,"client_rate":10,"workers":%d,"send_threads":%d,"compression":%d},
 "city":{"regions":"%s/assets/cities/sample/regions.geojson"},
 "access":{"tokens":[{"name":"bench","role":"viewer","sha256":"%s"}]}}\n' \
  "$SRC" "$QUEUE" "$WORKERS" "$THREADS" "$COMPRESSION" "$SRC" "$HASH" >"$tmp/config/feed.json"
OPSWALL_REDIS_URL="unix://$tmp/r.sock" \
  "$BIN/opswall-feed" --config "$tmp/config/feed.json" --port 0 >"$tmp/feed.out" 2>"$tmp/feed.err" &
FPID=$!
for _ in $(seq 100); do grep -q '^viewer:' "$tmp/feed.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/^viewer: http:\/\/[^:]*:\([0-9]*\)\/$/\1/p' "$tmp/feed.out")
[ -n "$PORT" ] || { cat "$tmp/feed.err" >&2; exit 1; }
"$BIN/feed_load" publish --redis "$tmp/r.sock" --rate "$RATE" --pad "$PAD" \
  ${DELTAS:+--deltas "$DELTAS"} ${PAD_FROM:+--pad-from "$PAD_FROM"} >"$tmp/pub.out" &
PPID_=$!
# the feed and its workers (feed.workers > 1)
tree() { echo "$FPID" $(cat "/proc/$FPID/task/$FPID/children" 2>/dev/null); }
cpu() { for p in $(tree); do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {print s}'; }
rss() { for p in $(tree); do awk "/$1/{print \$2}" "/proc/$p/status" 2>/dev/null; done | awk '{s += $1} END {print s}'; }
"$BIN/feed_load" view --port "$PORT" --token "$TOKEN" --clients "$CLIENTS" --procs "$PROCS" \
  --seconds "$SECS" --warmup "$WARMUP" --stall "$STALL" --garbage "$GARBAGE" --flood "$FLOOD" \
  --nap-us "$NAP" --deflate "$DEFLATE" --hostile-nice "$HOSTILE_NICE" >"$tmp/view.out" &
VPID=$!
# sample the feed while the viewers are connected: RSS in the middle of the window, CPU over it
rss_mid=0 cpu0= t0= connected=
for _ in $(seq 900); do # until every viewer is connected (at most 90 s)
  kill -0 "$VPID" 2>/dev/null || break
  # /metrics walks every client: asked only until all are connected, not during the window
  clients=$(curl -s "http://127.0.0.1:$PORT/metrics" | sed -n 's/^opswall_feed_clients //p' || true)
  if [ "${clients:-0}" -ge "$CLIENTS" ]; then connected=1; break; fi
  sleep 0.1
done
# then the warm-up, and one sleep to the middle of the window: no polling (no process started)
# while measuring
if [ -n "$connected" ]; then
  sleep "$WARMUP"
  if kill -0 "$VPID" 2>/dev/null; then cpu0=$(cpu); t0=$EPOCHREALTIME; fi
fi
if [ -n "$t0" ]; then
  sleep $((SECS / 2))
  if kill -0 "$VPID" 2>/dev/null; then rss_mid=$(rss VmRSS); cpu1=$(cpu); t1=$EPOCHREALTIME; fi
fi
wait "$VPID"; VPID=
hwm=$(rss VmHWM)
ticks=$(getconf CLK_TCK)
feed_cpu=$(awk "BEGIN{ if (\"${t1:-}\" == \"\") print -1; else printf \"%.2f\", (${cpu1:-0} - ${cpu0:-0}) / $ticks / (${t1:-1} - ${t0:-0}) }")
metrics=$(curl -s "http://127.0.0.1:$PORT/metrics")
printf "%s\n" "$metrics" >"$tmp/metrics.txt" # (kept with KEEP_TMP)
# why the feed closed clients, if it did (first lines), on stderr
grep -m 3 'closing client' "$tmp/feed.err" >&2 || true
qd=$(sed -n 's/^opswall_feed_queue_drops_total //p' <<<"$metrics")
ce=$(sed -n 's/^opswall_feed_client_errors_total //p' <<<"$metrics")
# what a message was on the wire and as text (compression, real deltas), over the whole run
m_() { sed -n "s/^$1 //p" <<<"$metrics"; }
wire=$(awk "BEGIN{ n = $(m_ opswall_feed_messages_sent_total) + 0; printf \"%.0f\", n ? $(m_ opswall_feed_wire_bytes_total) / n : 0 }")
text=$(awk "BEGIN{ n = $(m_ opswall_feed_messages_sent_total) + 0; printf \"%.0f\", n ? $(m_ opswall_feed_bytes_sent_total) / n : 0 }")
zshare=$(awk "BEGIN{ n = $(m_ opswall_feed_messages_sent_total) + 0; printf \"%.3f\", n ? $(m_ opswall_feed_compressed_writes_total) / n : 0 }")
# feed CPU per message sent (clients × rate messages a second)
feed_us=$(awk "BEGIN{ printf \"%.1f\", $feed_cpu < 0 ? -1 : $feed_cpu * 1e6 / ($CLIENTS * $RATE) }")
# The physical limit in the same run: the same fan-out (connections, processes, rate, bytes, send
# threads) with nothing but the kernel's TCP (bench/fanout_limit.c): no websocket, no lws, no
# Redis. LIMIT=0 skips it.
limit=
if [ "${LIMIT:-1}" != 0 ]; then
  kill "$FPID" 2>/dev/null && wait "$FPID" 2>/dev/null; FPID= # free the feed's 10,000 sockets
  lt=$THREADS; [ "$lt" = 0 ] && lt=$(nproc)
  # the same bytes per message as the feed's frames: the run's mean frame as written (compressed,
  # or real deltas), else PAD's frame. The bare receivers do not inflate: the viewers' inflating
  # is theirs (on managers' laptops, not on the feed's machine), measured in view_us_per_msg.
  if [ -n "$DELTAS" ] || [ "$zshare" != 0.000 ]; then size=(--size "$wire"); else size=(--pad "$PAD"); fi
  l=$("$BIN/fanout_limit" --clients "$CLIENTS" --procs "$PROCS" --threads "$lt" --rate "$RATE" \
    --seconds "$SECS" --warmup "$WARMUP" "${size[@]}" 2>"$tmp/limit.err") || { cat "$tmp/limit.err" >&2; l=; }
  if [ -n "$l" ]; then
    limit=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(",\"limit\":" + json.dumps({k: d[k] for k in ("threads","size","delivered","expected","p50_ms","p99_ms","max_ms","send_us_per_msg","recv_us_per_msg")}, separators=(",", ":")))' "$l")
  fi
fi
sed "s/}\$/,\"workers\":$WORKERS,\"send_threads\":$THREADS,\"compression\":$COMPRESSION,\"deltas\":\"${DELTAS##*/}\",\"wire_bytes_per_msg\":$wire,\"text_bytes_per_msg\":$text,\"compressed_share\":$zshare,\"deflate\":$DEFLATE,\"pad_from\":\"${PAD_FROM##*/}\",\"nap_us\":$NAP,\"hostile_nice\":$HOSTILE_NICE,\"warmup_s\":$WARMUP,\"rate\":$RATE,\"feed_us_per_msg\":$feed_us,\"pad\":$PAD,\"feed_rss_kb\":$rss_mid,\"feed_hwm_kb\":$hwm,\"feed_cpu_cores\":$feed_cpu,\"feed_queue_drops\":${qd:-0},\"feed_client_errors\":${ce:-0},\"cores\":$(nproc),\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"$limit}/" "$tmp/view.out"
