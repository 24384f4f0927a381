# Shared helpers for integration scripts (bash). Source it: . "$(dirname "$0")/lib.sh"
# Every wait has a deadline; nothing sleeps blindly.
set -euo pipefail

T_FAILS=0
T_PASSES=0
ok()   { T_PASSES=$((T_PASSES + 1)); echo "ok   - $*"; }
fail() { T_FAILS=$((T_FAILS + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
finish() { echo "$T_PASSES passed, $T_FAILS failed"; [ "$T_FAILS" -eq 0 ]; }

# wait_for SECONDS CMD... : retry CMD every 0.1 s until it succeeds or the deadline passes.
wait_for() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.1
  done
}

# promoted_from KEY VICTIM CLI_ARGS... : a node other than VICTIM (its port) is now named the
# master of KEY's slot by the cluster (redis-cli CLI_ARGS...); for wait_for after a kill -9.
promoted_from() {
  local key=$1 victim=$2 m
  shift 2
  m=$(python3 "$(dirname "${BASH_SOURCE[0]}")/cluster_alerts.py" master_of "$key" "$@" 2>/dev/null) || return 1
  [ -n "$m" ] && [ "$m" != "$victim" ]
}

# free_port: a TCP port nobody listens on right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_redis DIR [extra args...]: private redis-server on DIR/redis.sock (no TCP); sets REDIS_PID.
start_redis() {
  local dir=$1; shift
  mkdir -p "$dir"
  redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --dir "$dir" \
    --save '' --appendonly no --daemonize no --logfile "$dir/redis.log" "$@" &
  REDIS_PID=$!
  wait_for 10 redis-cli -s "$dir/redis.sock" ping || { echo "redis did not start"; cat "$dir/redis.log"; return 1; }
}

stop_pid() { # stop_pid PID: TERM, wait up to 5 s, then KILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# json_get FILE_OR_- EXPR: read a value from JSON with python3 (EXPR like ["open"]["total"]).
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1]) if sys.argv[1]!='-' else sys.stdin); print(d$2)" "$1"; }
