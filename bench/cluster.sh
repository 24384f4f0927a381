#!/usr/bin/env bash
# Redis Cluster write throughput with 1, 2 and 3 partitions (issue 12, item 8), side by side with
# redis-benchmark against one node of the same cluster in the same run:
#   redis.xadd_limit.node     redis-benchmark -c 50 -P 64: what one node takes from many clients
#   redis.xadd_limit.one_conn redis-benchmark -c 1 -P 256: one pipelined connection, as opswall's
#   cluster.xadd              bench/cluster_bench.c through io/cluster.c, k = 1, 2, 3 partitions
#                             each on its own master (placed first)
#   cluster.xadd (replicas)   the same on a second cluster with a replica per master, without and
#                             with WAIT 1 after each round trip (the durability trade-off)
# One JSON object per line. Usage: bench/cluster.sh [BUILD_BIN] [EVENTS] [PAYLOAD]
# (default build/bin 600000 295). The first cluster is 3 masters without replicas, the second
# 3 masters with a replica each; no persistence, loopback TCP, started by scripts/cluster.sh and
# stopped at the end.
set -euo pipefail
BIN=${1:-build/bin}
N=${2:-600000}
PAY_BYTES=${3:-295}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/ow-cbench.XXXXXX)
trap 'for d in c r; do "$ROOT/scripts/cluster.sh" stop "$tmp/$d" >/dev/null 2>&1 || true; done; rm -rf "$tmp"' EXIT
seed=$("$ROOT/scripts/cluster.sh" start "$tmp/c" --masters 3 --replicas 0 --owner $$)
port=${seed#*:}
pay=$(head -c "$PAY_BYTES" /dev/zero | tr '\0' 'x')
# a key of a slot this node owns, so redis-benchmark is never redirected
key=$(python3 - "$port" <<'PY'
import subprocess, sys
port = sys.argv[1]
me = subprocess.run(["redis-cli", "-p", port, "cluster", "myid"], capture_output=True, text=True).stdout.strip()
slots = subprocess.run(["redis-cli", "-p", port, "cluster", "slots"], capture_output=True, text=True).stdout.split()
# flat: start end ip port id ... ; find ranges whose id is me
ranges = []
i = 0
while i + 4 < len(slots):
    if slots[i + 4] == me: ranges.append((int(slots[i]), int(slots[i + 1])))
    i += 1
for n in range(100000):
    k = "bench:{n%d}" % n
    s = int(subprocess.run(["redis-cli", "-p", port, "cluster", "keyslot", k], capture_output=True, text=True).stdout)
    if any(a <= s <= b for a, b in ranges): print(k); break
PY
)
rb() { redis-benchmark -h 127.0.0.1 -p "$port" -n "$1" -c "$2" -P "$3" --csv XADD "$key" MAXLEN '~' 1000000 '*' d "$pay" | tail -1 | cut -d, -f2 | tr -d '"'; }
lim=$(rb "$N" 50 64)
redis-cli -p "$port" del "$key" >/dev/null
printf '{"bench":"redis.xadd_limit.node","payload_bytes":%d,"per_s":%.0f,"how":"redis-benchmark -c 50 -P 64, one cluster node, loopback TCP, no persistence"}\n' "$PAY_BYTES" "$lim"
one=$(rb "$N" 1 256)
redis-cli -p "$port" del "$key" >/dev/null
printf '{"bench":"redis.xadd_limit.one_conn","payload_bytes":%d,"per_s":%.0f,"how":"redis-benchmark -c 1 -P 256"}\n' "$PAY_BYTES" "$one"
"$BIN/cluster_bench" "$tmp/c" "$seed" "$N" "$PAY_BYTES" 256
"$ROOT/scripts/cluster.sh" stop "$tmp/c"
# with replicas: what WAIT 1 costs
seed=$("$ROOT/scripts/cluster.sh" start "$tmp/r" --masters 3 --replicas 1 --owner $$)
"$BIN/cluster_bench" "$tmp/r" "$seed" "$N" "$PAY_BYTES" 256 0
"$BIN/cluster_bench" "$tmp/r" "$seed" "$N" "$PAY_BYTES" 256 1
"$ROOT/scripts/cluster.sh" stop "$tmp/r"
