#!/usr/bin/env bash
# Issue 9, faults: the disk of Redis' AOF fills up (a 64 MiB tmpfs, filled with a file) under a
# running engine. Expected behaviour, checked:
#   - Redis refuses writes (MISCONF / "Errors writing to the AOF file") and keeps serving reads;
#   - ingest does not report success for events it could not append (exit non-zero or still
#     waiting at the deadline), so nothing unwritten is acknowledged to its source;
#   - the engine stays up (retrying) and the events already applied stay in the snapshot;
#   - once space is freed, Redis writes again by itself; ingesting the same file again appends
#     each event once (dedup), the engine applies every event once and its alerts equal a batch
#     --replay of the stream (none lost, none doubled).
# Needs root to mount the tmpfs; skipped (exit 77) otherwise.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/ow-faults-disk.XXXXXX)
ENGINE=
disk=$tmp/disk
cleanup() {
  set +e # the status of finish stands, whatever a kill or wait below returns
  [ -n "$ENGINE" ] && kill -9 "$ENGINE" 2>/dev/null
  [ -n "${REDIS_PID:-}" ] && kill -9 "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  mountpoint -q "$disk" && { umount "$disk" 2>/dev/null || umount -l "$disk"; }
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$disk"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=64m tmpfs "$disk" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs (needs root)"; exit 77
fi

faults_config "$tmp" 0
sock=$disk/redis.sock
# everysec as the private Redis (io/redis.c): with "always" Redis 7 exits on a failed AOF write
# instead ("Can't recover from AOF write error"), which is the restart case of redis_outage.sh
start_redis "$disk" --appendonly yes --appendfsync everysec \
  --auto-aof-rewrite-min-size 8mb # the checkpoint (engine.checkpoint_interval) rewrites a big value: compact
export OPSWALL_REDIS_URL="unix://$sock"
R() { redis-cli -s "$sock" "$@"; }
"$BIN/opswall-sim" --seed 31 --orders-per-hour 60 --duration 16h --out "$tmp/all.ndjson"
split -n l/2 -d "$tmp/all.ndjson" "$tmp/part."

"$BIN/opswall-engine" --config "$CFG" --clock event >> "$tmp/engine.log" 2>&1 &
ENGINE=$!
check "part 0 ingested" "$BIN/opswall-ingest" --config "$CFG" "$tmp/part.00" 2>> "$tmp/ingest.log"
check "engine applies part 0" wait_for 30 all_applied "$sock"
applied0=$(snap_field "$sock" events_applied)

# fill the disk: the next AOF write fails
dd if=/dev/zero of="$disk/filler" bs=64k 2>/dev/null || true
check "the disk is full" test "$(df --output=avail -B1 "$disk" | tail -n 1)" -lt 65536
full_refused() { R set ow:probe x | grep -qiE 'MISCONF|error|AOF'; }
R set ow:probe x > /dev/null || true # the write that hits ENOSPC
check "Redis refuses writes while the disk is full" wait_for 10 full_refused
check "Redis still serves reads" test "$(R xlen 'ops:{p0}:events')" -ge "$applied0"
st=0
timeout 15 "$BIN/opswall-ingest" --config "$CFG" "$tmp/part.01" 2>> "$tmp/ingest.full.log" || st=$?
check "ingest does not report success on a full disk (exit $st)" test "$st" -ne 0
echo "     ingest said: $(grep -iE 'error|refus|MISCONF|AOF' "$tmp/ingest.full.log" | head -n 1 | cut -c1-200)"
check "engine still running" kill -0 "$ENGINE"
check "snapshot still holds the applied events" test "$(snap_field "$sock" events_applied)" -ge "$applied0"

# free the space: Redis retries the AOF write by itself (once a second)
rm -f "$disk/filler"
writes_again() { R set ow:probe x | grep -q OK; }
check "Redis writes again once space is free" wait_for 20 writes_again
check "part 1 ingested again after the disk is freed" "$BIN/opswall-ingest" --config "$CFG" "$tmp/part.01" 2>> "$tmp/ingest.log"
distinct=$(python3 -c 'import json,sys; print(len({json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip()}))' "$tmp/all.ndjson")
check "stream holds each distinct event once ($distinct)" test "$(R xlen 'ops:{p0}:events')" = "$distinct"
check "engine applies every event" wait_for 60 all_applied "$sock"
check "every alert once, equal to the batch replay" compare_alerts "$sock" "$BIN" "$CFG" "$tmp"
echo "figures: events=$(R xlen 'ops:{p0}:events') alerts=$(R xlen 'ops:{p0}:alerts') engine_retries=$(grep -ci retrying "$tmp/engine.log")"
kill -TERM "$ENGINE"; wait "$ENGINE" 2>/dev/null || true; ENGINE=
finish
