# Shared by the bench/*.sh scripts (source it): a private redis-server for one run.
#
#   bench_redis DIR [yes|no]   start redis-server on DIR/r.sock (AOF everysec by default, as in
#                              production), wait for it, export OPSWALL_REDIS_URL
#   bench_redis_stop DIR       shut it down without saving (call it from the script's cleanup)
#   R ...                      redis-cli on that socket
#   now                        wall clock in seconds, with nanoseconds
bench_redis() {
  local dir=$1 aof=${2:-yes}
  BENCH_SOCK=$dir/r.sock
  redis-server --port 0 --unixsocket "$BENCH_SOCK" --dir "$dir" --save '' --appendonly "$aof" \
    --appendfsync everysec --daemonize yes --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 100); do redis-cli -s "$BENCH_SOCK" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export OPSWALL_REDIS_URL="unix://$BENCH_SOCK"
}
bench_redis_stop() { redis-cli -s "$1/r.sock" shutdown nosave >/dev/null 2>&1 || true; }
R() { redis-cli -s "$BENCH_SOCK" "$@"; }
now() { date +%s.%N; }
