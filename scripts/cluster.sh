#!/usr/bin/env bash
# A local Redis Cluster on loopback for tests, benchmarks and trying opswall on a cluster.
#
#   scripts/cluster.sh start DIR [--masters N] [--replicas R] [--node-timeout MS] [--aof]
#                                [--owner PID]
#   scripts/cluster.sh stop DIR
#   scripts/cluster.sh seed DIR          # prints host:port of the first node
#   scripts/cluster.sh pid DIR PORT      # prints the pid of the node on PORT
#   scripts/cluster.sh restart DIR PORT  # starts a stopped (killed) node again: it rejoins
#                                        # from its nodes.conf, as a replica after a failover
#
# start: N masters (3) with R replicas each (1) on free 127.0.0.1 ports (each port and its bus
# port, port + 10000, both free), one folder per node under DIR, joined with
# `redis-cli --cluster create --cluster-replicas R --cluster-yes`; returns once every node reports
# cluster_state:ok and every replica's link to its master is up. Prints the seed (host:port) on
# stdout. DIR/ports lists the ports, DIR/<port>/pid the pids.
# --node-timeout is cluster-node-timeout (1000 ms: a killed master's replica takes over in about
# 2–3 s; Redis' own default is 15 s). --owner PID: a watcher stops the cluster when PID exits, so a
# test killed by its runner leaves no server behind. stop: TERM every node (KILL after 5 s).
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2

free_pair() { # a port P with P and P+10000 both free on 127.0.0.1, not in the list $1
  python3 - "$1" <<'EOF'
import random, socket, sys
taken = set(int(x) for x in sys.argv[1].split() if x)
def free(p):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", p)); return True
    except OSError: return False
    finally: s.close()
for _ in range(2000):
    p = random.randint(11000, 22700)  # p and p + 10000 below the ephemeral range (32768-)
    if p not in taken and p + 10000 not in taken and p - 10000 not in taken and free(p) and free(p + 10000):
        print(p); sys.exit(0)
sys.exit("no free port pair found")
EOF
}

wait_until() { # wait_until SECONDS CMD...: retry every 0.1 s until CMD succeeds
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.1; done
}

stop_all() {
  [ -f "$dir/ports" ] || return 0
  local pids=()
  for port in $(cat "$dir/ports"); do
    [ -f "$dir/$port/pid" ] && pids+=("$(cat "$dir/$port/pid")")
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 1 ] || break
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  if [ -f "$dir/watcher.pid" ]; then
    kill -TERM "$(cat "$dir/watcher.pid")" 2>/dev/null || true
    rm -f "$dir/watcher.pid"
  fi
}

start_node() { # start_node PORT NODE_TIMEOUT AOF
  redis-server --port "$1" --bind 127.0.0.1 --dir "$dir/$1" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$2" \
    --cluster-replica-validity-factor 0 --save '' --appendonly "$3" \
    --logfile "$dir/$1/redis.log" --pidfile "$dir/$1/pid" --daemonize yes
}

node_ok() { # cluster_state:ok on this port
  redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}
replica_linked() { # a master, or a replica whose link is up
  local info
  info=$(redis-cli -h 127.0.0.1 -p "$1" info replication 2>/dev/null) || return 1
  grep -q '^role:master' <<<"$info" || grep -q '^master_link_status:up' <<<"$info"
}

case "$cmd" in
start)
  masters=3 replicas=1 timeout=1000 aof=no owner=
  while [ $# -gt 0 ]; do
    case "$1" in
      --masters) masters=$2; shift 2 ;;
      --replicas) replicas=$2; shift 2 ;;
      --node-timeout) timeout=$2; shift 2 ;;
      --aof) aof=yes; shift ;;
      --owner) owner=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  mkdir -p "$dir"
  [ ! -f "$dir/ports" ] || { echo "cluster.sh: $dir already holds a cluster (stop it first)" >&2; exit 1; }
  n=$((masters * (1 + replicas)))
  ports=""
  for _ in $(seq "$n"); do ports="$ports $(free_pair "$ports")"; done
  echo $ports > "$dir/ports"
  echo "$timeout $aof" > "$dir/settings"
  for port in $ports; do
    mkdir -p "$dir/$port"
    start_node "$port" "$timeout" "$aof"
  done
  for port in $ports; do
    wait_until 10 redis-cli -h 127.0.0.1 -p "$port" ping || {
      echo "cluster.sh: node $port did not start:" >&2; tail -5 "$dir/$port/redis.log" >&2
      stop_all; exit 1; }
  done
  if [ -n "$owner" ]; then
    # stops the cluster when the owner is gone (a killed test leaves no server behind)
    (trap '' HUP; while kill -0 "$owner" 2>/dev/null && [ -f "$dir/ports" ]; do sleep 1; done
     "$0" stop "$dir" >/dev/null 2>&1) </dev/null >/dev/null 2>&1 &
    echo $! > "$dir/watcher.pid"
  fi
  addrs=()
  for port in $ports; do addrs+=("127.0.0.1:$port"); done
  if ! redis-cli --cluster create "${addrs[@]}" --cluster-replicas "$replicas" --cluster-yes \
       > "$dir/create.log" 2>&1; then
    echo "cluster.sh: redis-cli --cluster create failed:" >&2; tail -20 "$dir/create.log" >&2
    stop_all; exit 1
  fi
  for port in $ports; do
    wait_until 30 node_ok "$port" && wait_until 30 replica_linked "$port" || {
      echo "cluster.sh: node $port is not ready (cluster_state or replica link)" >&2
      stop_all; exit 1; }
  done
  set -- $ports
  echo "127.0.0.1:$1"
  ;;
stop)
  stop_all
  rm -f "$dir/ports"
  ;;
seed)
  set -- $(cat "$dir/ports")
  echo "127.0.0.1:$1"
  ;;
restart)
  [ $# -eq 1 ] && [ -f "$dir/settings" ] || usage
  read -r timeout aof < "$dir/settings"
  start_node "$1" "$timeout" "$aof"
  wait_until 10 redis-cli -h 127.0.0.1 -p "$1" ping
  ;;
pid)
  cat "$dir/$1/pid"
  ;;
*) usage ;;
esac
