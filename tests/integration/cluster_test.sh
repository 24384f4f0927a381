#!/usr/bin/env bash
# io/cluster.c and io/cluster_async.c against a real Redis Cluster (issue 12, item 2):
# scripts/cluster.sh starts 3 masters + 3 replicas on free loopback ports, cluster_async_check
# and cluster_check run the steps listed at their tops (key slots, routing, MOVED, ASK, pipelined
# streams, WAIT, leases, a slot with no master, kill -9 of a master each), opswall-cluster looks
# at the result, and the cluster is stopped whatever happens. Both clients also run on a plain
# Redis first.
. "$(dirname "$0")/lib.sh"
CHECK=$1 ROOT=$2 TOOL=$3 ACHECK=$4
tmp=$(mktemp -d /tmp/ow-cluster.XXXXXX)
REDIS_PID=
trap 'for d in c o; do "$ROOT/scripts/cluster.sh" stop "$tmp/$d" >/dev/null 2>&1 || true; done; [ -z "$REDIS_PID" ] || stop_pid $REDIS_PID; rm -rf "$tmp"' EXIT

# single node first: the same client on a plain Redis over a unix socket
start_redis "$tmp/single"
if "$CHECK" --single "$tmp/single/redis.sock"; then ok "cluster_check --single"; else fail "cluster_check --single"; fi
if "$ACHECK" --single "$tmp/single/redis.sock"; then ok "cluster_async_check --single"; else fail "cluster_async_check --single"; fi
mkdir -p "$tmp/conf"
echo '{"cluster": {"partitions": 3}}' > "$tmp/conf/opswall.json"
OPSWALL_REDIS_URL=unix://$tmp/single/redis.sock "$TOOL" --config "$tmp/conf/opswall.json" place > "$tmp/single.json"
check "opswall-cluster on a single node: not a cluster, nothing to place" \
  test "$(json_get "$tmp/single.json" '["cluster"]'):$(json_get "$tmp/single.json" '["moves"]')" = False:0
stop_pid $REDIS_PID
REDIS_PID=

seed=$("$ROOT/scripts/cluster.sh" start "$tmp/c" --owner $$)
check "cluster of 6 nodes up at $seed" test -n "$seed"
# the synchronous client first on the whole cluster (it kills one master), then the async one
# (it kills another, one that still has a replica)
if "$CHECK" "$tmp/c" "$seed"; then ok "cluster_check"; else fail "cluster_check"; fi
if "$ACHECK" "$tmp/c" "$seed"; then ok "cluster_async_check"; else fail "cluster_async_check"; fi
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

# --owner: a cluster whose owner dies is stopped by its watcher (a killed test leaves no server)
sleep 600 &
owner=$!
"$ROOT/scripts/cluster.sh" start "$tmp/o" --masters 3 --replicas 0 --owner $owner > /dev/null
ports=$(cat "$tmp/o/ports")
kill -9 $owner
wait $owner 2>/dev/null || true
all_gone() {
  for port in $ports; do redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && return 1; done
  return 0
}
check "cluster stopped by its watcher after its owner was killed" wait_for 15 all_gone
finish
