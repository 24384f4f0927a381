#!/usr/bin/env bash
# Ingest throughput and memory through a real Redis (AOF on, unix socket), side by side with
# Redis's own limit measured in the same run. One JSON object per line:
#   redis.xadd_limit     redis-benchmark pipelined XADD of a payload the size of an average event
#   redis.dedup_floor    what exact de-dup costs Redis at the least: per id one set probe
#                        (SMISMEMBER) and one insert (SADD), 64 random ids per plain command, into
#                        one set grown to EVENTS members (the size of the run's de-dup bucket);
#                        best_vs_limit = the limit's CPU per event / (that + probe + insert): the
#                        most any append that XADDs each event and records its id could reach
#   ingest.file          opswall-ingest FILE: simulator events → validate → FCALL ow_ingest
#                        (target ≥ 0.5 × the limit and ≥ 200,000 events/s); also Redis's CPU time
#                        per event against the limit's (cpu_vs_limit) and ingest's own CPU time,
#                        which say more than wall-clock rates on a shared machine, and where
#                        Redis's time went (commandstats µs per event: the whole FCALL, and the
#                        XADD, SMISMEMBER and SADD it ran; wall time inside each command, so
#                        inflated alike by load)
#   ingest.duplicates    the same file again: every event is a duplicate
#   ingest.memory        N_MEM events from the simulator through a pipe (default 10,000,000):
#                        ingest's peak RSS (it must not grow with N), the stream capped
#   ingest.http_latency  (bench/http_latency.sh) acknowledgement latency of POST /api/v1/events
# Usage: bench/ingest.sh [BUILD_BIN] [EVENTS] [N_MEM]      (default build/bin 1000000 10000000;
#        N_MEM=0 skips the memory run). Build with -DCMAKE_BUILD_TYPE=Release or RelWithDebInfo.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN=${1:-build/bin}
N=${2:-1000000}
NMEM=${3:-10000000}
BIN=$(cd "$BIN" && pwd)
tmp=$(mktemp -d /tmp/ow-ingest-bench.XXXXXX)
cleanup() { bench_redis_stop "$tmp"; rm -rf "$tmp"; }
trap cleanup EXIT
bench_redis "$tmp" yes
# Redis's own CPU time (main thread, user + sys): on a shared machine wall-clock rates follow the
# load, CPU per event much less so
rcpu() { R info cpu | awk -F: '/used_cpu_(user|sys)_main_thread/ {s += $2} END {printf "%.6f", s}'; }
# Redis's main thread's nanoseconds on a CPU plus waiting for one (runnable): against the wall time
# it says whether ingest kept Redis fed (near 1) or let it sleep, whatever else loads the machine
rpid=$(R info server | awk -F: '/^process_id/ {print $2 + 0}')
rwant() { awk '{printf "%.0f", $1 + $2}' "/proc/$rpid/schedstat"; }
# a config whose stream cap keeps Redis's memory flat over long runs
# (BATCH and INFLIGHT, when set, override ingest.batch and ingest.inflight: for tuning runs)
python3 - "$(dirname "$0")/../config/opswall.json" "$tmp/opswall.json" <<'PY'
import json, os, sys
c = json.load(open(sys.argv[1]))
c["streams"]["events_maxlen"] = 1000000
c["ingest"]["dedup_window"] = "10m"
for k in ("batch", "inflight"):
    if os.environ.get(k.upper()):
        c["ingest"][k] = int(os.environ[k.upper()])
json.dump(c, open(sys.argv[2], "w"))
PY

"$BIN/opswall-sim" --seed 5 --count "$N" --dup-fraction 0 --out "$tmp/events.ndjson"
bytes=$(stat -c %s "$tmp/events.ndjson")
avg=$(( bytes / N ))
pay=$(head -c "$avg" /dev/zero | tr '\0' 'x')

c0=$(rcpu)
w0=$(rwant)
t0=$(now)
limit=$(redis-benchmark -s "$tmp/r.sock" -n 1000000 -c 50 -P 64 --csv XADD bench:limit MAXLEN '~' 1000000 '*' d "$pay" | tail -1 | cut -d, -f2 | tr -d '"')
limit_cpu_us=$(echo "($(rcpu) - $c0) * 1000000 / 1000000" | bc -l)
limit_busy=$(echo "($(rwant) - $w0) / 1000000000 / ($(now) - $t0)" | bc -l)
R del bench:limit >/dev/null
printf '{"bench":"redis.xadd_limit","payload_bytes":%d,"per_s":%.0f,"redis_cpu_us_per_event":%.2f,"redis_busy":%.2f,"how":"redis-benchmark -P 64 -c 50, AOF everysec, unix socket"}\n' "$avg" "$limit" "$limit_cpu_us" "$limit_busy"

ids=()
for _ in $(seq 64); do ids+=("ev-__rand_int__"); done
floor() { # command: CPU µs per id of N/64 commands of 64 random ids on bench:dedup
  local c0; c0=$(rcpu)
  redis-benchmark -s "$tmp/r.sock" -n $((N / 64)) -c 50 -P 16 -r 1000000000 -q "$1" bench:dedup "${ids[@]}" >/dev/null
  echo "($(rcpu) - $c0) * 1000000 / ($N / 64 * 64)" | bc -l
}
sadd_us=$(floor SADD)
smis_us=$(floor SMISMEMBER)
printf '{"bench":"redis.dedup_floor","ids":%d,"set_members":%d,"sadd_us_per_id":%.2f,"smismember_us_per_id":%.2f,"best_vs_limit":%.2f,"how":"redis-benchmark -P 16 -c 50, 64 random ids per command, same server"}\n' \
  "$N" "$(R scard bench:dedup)" "$sadd_us" "$smis_us" "$(echo "$limit_cpu_us / ($limit_cpu_us + $sadd_us + $smis_us)" | bc -l)"
R unlink bench:dedup >/dev/null

# µs per event spent inside one command (INFO commandstats, since the last CONFIG RESETSTAT)
cmd_us() { R info commandstats | awk -F'[:,=]' -v c="cmdstat_$1" -v n="$N" '$1 == c {printf "%.2f", $5 / n; f = 1} END {if (!f) printf "0"}'; }
run_file() { # name: ingest the file, print rate
  local name=$1 t0 t1 rate c0 cpu_us w0 w1
  R config resetstat >/dev/null
  c0=$(rcpu)
  w0=$(rwant)
  t0=$(now)
  /usr/bin/time -f '%U %S' -o "$tmp/$name.time" \
    "$BIN/opswall-ingest" --config "$tmp/opswall.json" --quiet "$tmp/events.ndjson" 2> "$tmp/$name.log"
  t1=$(now)
  w1=$(rwant)
  rate=$(echo "$N / ($t1 - $t0)" | bc -l)
  cpu_us=$(echo "($(rcpu) - $c0) * 1000000 / $N" | bc -l)
  printf '{"bench":"ingest.%s","events":%d,"seconds":%.2f,"per_s":%.0f,"vs_limit":%.2f,"target_vs_limit":0.5,"target_per_s":200000,"redis_cpu_us_per_event":%.2f,"cpu_vs_limit":%.2f,"redis_busy":%.2f,"redis_cmd_us_per_event":{"fcall":%s,"xadd":%s,"smismember":%s,"sadd":%s},"load_average":%s,"ingest_cpu_us_per_event":%.2f,"in_stream":%d,"ingest_log":"%s"}\n' \
    "$name" "$N" "$(echo "$t1 - $t0" | bc -l)" "$rate" "$(echo "$rate / $limit" | bc -l)" \
    "$cpu_us" "$(echo "$limit_cpu_us / $cpu_us" | bc -l)" \
    "$(echo "($w1 - $w0) / 1000000000 / ($t1 - $t0)" | bc -l)" "$(cmd_us fcall)" "$(cmd_us xadd)" "$(cmd_us smismember)" "$(cmd_us sadd)" "$(cut -d' ' -f1 /proc/loadavg)" \
    "$(awk -v n="$N" '{printf "%.6f", ($1 + $2) * 1000000 / n}' "$tmp/$name.time")" \
    "$(R xlen 'ops:{p0}:events')" "$(tail -1 "$tmp/$name.log" | sed 's/.*info: //; s/"//g')"
}
run_file file
run_file duplicates

if [ "$NMEM" -gt 0 ]; then
  R flushall >/dev/null
  t0=$(now)
  "$BIN/opswall-sim" --seed 6 --count "$NMEM" --dup-fraction 0 |
    "$BIN/opswall-ingest" --config "$tmp/opswall.json" --quiet - 2> "$tmp/mem.log"
  t1=$(now)
  rss=$(grep -o 'peak RSS [0-9]* KiB' "$tmp/mem.log" | grep -o '[0-9]*')
  accepted=$(grep -o '[0-9]* accepted' "$tmp/mem.log" | grep -o '[0-9]*')
  printf '{"bench":"ingest.memory","events":%d,"accepted":%d,"seconds":%.1f,"per_s":%.0f,"peak_rss_kib":%d,"stream_len":%d,"redis_used_memory":"%s"}\n' \
    "$NMEM" "$accepted" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$NMEM / ($t1 - $t0)" | bc -l)" "$rss" \
    "$(R xlen 'ops:{p0}:events')" "$(R info memory | grep used_memory_human | cut -d: -f2 | tr -d '\r')"
fi
