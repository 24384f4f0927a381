#!/usr/bin/env bash
# io/cluster.c against a real Redis Cluster (issue 12, item 2): scripts/cluster.sh starts 3
# masters + 3 replicas on free loopback ports, cluster_check runs the steps listed at its top
# (key slots, routing, MOVED, ASK, pipelined streams, WAIT, a slot with no master, kill -9 of a
# master), and the cluster is stopped whatever happens.
. "$(dirname "$0")/lib.sh"
CHECK=$1 ROOT=$2 TOOL=$3
tmp=$(mktemp -d /tmp/ow-cluster.XXXXXX)
REDIS_PID=
trap '"$ROOT/scripts/cluster.sh" stop "$tmp/c" >/dev/null 2>&1 || true; [ -z "$REDIS_PID" ] || stop_pid $REDIS_PID; rm -rf "$tmp"' EXIT

# single node first: the same client on a plain Redis over a unix socket
start_redis "$tmp/single"
if "$CHECK" --single "$tmp/single/redis.sock"; then ok "cluster_check --single"; else fail "cluster_check --single"; fi
mkdir -p "$tmp/conf"
echo '{"cluster": {"partitions": 3}}' > "$tmp/conf/opswall.json"
OPSWALL_REDIS_URL=unix://$tmp/single/redis.sock "$TOOL" --config "$tmp/conf/opswall.json" place > "$tmp/single.json"
check "opswall-cluster on a single node: not a cluster, nothing to place" \
  test "$(json_get "$tmp/single.json" '["cluster"]'):$(json_get "$tmp/single.json" '["moves"]')" = False:0
stop_pid $REDIS_PID
REDIS_PID=

seed=$("$ROOT/scripts/cluster.sh" start "$tmp/c" --owner $$)
check "cluster of 6 nodes up at $seed" test -n "$seed"
if "$CHECK" "$tmp/c" "$seed"; then ok "cluster_check"; else fail "cluster_check"; fi
# the operator tool on the same cluster (after the failover above): one setting, redis.url
# every node as a seed: the first one may be the master killed above
OPSWALL_REDIS_URL=$(for p in $(cat "$tmp/c/ports"); do printf 'redis://127.0.0.1:%s,' "$p"; done)
export OPSWALL_REDIS_URL=${OPSWALL_REDIS_URL%,}
"$TOOL" --config "$tmp/conf/opswall.json" map > "$tmp/map.json"
check "opswall-cluster map: every slot covered" test "$(json_get "$tmp/map.json" '["uncovered_slots"]')" = 0
check "opswall-cluster map: 3 partitions on 3 masters" \
  test "$(json_get "$tmp/map.json" '["partitions"]' | python3 -c 'import ast,sys; print(len({p["master"] for p in ast.literal_eval(sys.stdin.read())}))')" = 3
"$TOOL" --config "$tmp/conf/opswall.json" place > "$tmp/place.json"
check "opswall-cluster place: already placed, nothing moved" test "$(json_get "$tmp/place.json" '["moves"]')" = 0
check "opswall-cluster keyslot" test "$("$TOOL" keyslot 'ops:{p2}:events' foo)" = '{"slots":[7752,12182]}'
unset OPSWALL_REDIS_URL
"$ROOT/scripts/cluster.sh" stop "$tmp/c"
alive=0
for port in $(cat "$tmp/c/ports" 2>/dev/null || true); do
  redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && alive=1
done
check "no cluster node left running" test $alive = 0
finish
