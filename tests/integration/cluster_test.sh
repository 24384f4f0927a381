#!/usr/bin/env bash
# io/cluster.c against a real Redis Cluster (issue 12, item 2): scripts/cluster.sh starts 3
# masters + 3 replicas on free loopback ports, cluster_check runs the steps listed at its top
# (key slots, routing, MOVED, ASK, pipelined streams, WAIT, a slot with no master, kill -9 of a
# master), and the cluster is stopped whatever happens.
. "$(dirname "$0")/lib.sh"
CHECK=$1 ROOT=$2
tmp=$(mktemp -d /tmp/ow-cluster.XXXXXX)
trap '"$ROOT/scripts/cluster.sh" stop "$tmp/c" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
seed=$("$ROOT/scripts/cluster.sh" start "$tmp/c" --owner $$)
check "cluster of 6 nodes up at $seed" test -n "$seed"
if "$CHECK" "$tmp/c" "$seed"; then ok "cluster_check"; else fail "cluster_check"; fi
"$ROOT/scripts/cluster.sh" stop "$tmp/c"
alive=0
for port in $(cat "$tmp/c/ports" 2>/dev/null || true); do
  redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && alive=1
done
check "no cluster node left running" test $alive = 0
finish
