#!/usr/bin/env bash
# The Redis ACL user opswall's programs need, with the least permissions (docs/security.md §4).
#
#   scripts/redis-acl.sh print [USER]              the ACL SETUSER line (password read from
#                                                  OPSWALL_REDIS_PASSWORD, else a placeholder)
#   scripts/redis-acl.sh apply REDIS-CLI-ARGS...   run it with redis-cli, e.g.
#       OPSWALL_REDIS_PASSWORD=... scripts/redis-acl.sh apply -h 10.0.0.5 -p 6379 --user admin --pass ...
#
# Then set redis.url = redis://opswall:PASSWORD@host:port/0 (or OPSWALL_REDIS_URL).
# Keys: only ops:* (every key of every partition, core/keys.h); channels: only ops:*.
# Commands: the ones ingest (and the Lua of its functions), the engine, the feed, the wallboard and notify send (each listed in
# docs/security.md with who sends it), nothing else: no FLUSHALL/FLUSHDB, KEYS, CONFIG, DEBUG,
# SHUTDOWN, MIGRATE, SCRIPT/EVAL, ACL, MODULE, REPLICAOF, CLIENT KILL. FUNCTION LOAD is allowed
# because the engine and ingest load the ow_append library (io/functions.c); its calls run with
# this user's permissions (SET and XADD on ops:* keys). A partitioned deployment (docs/scaling.md)
# adds INCR (the shared stream's counter, in routed ingest's function), the cluster client's
# CLUSTER INFO|SHARDS|SLOTS and ASKING, and FCALL of the opswall_fence library (the lease's
# renew/release and the engine's fenced writes: no EVAL).
# opswall-cluster's placement (MIGRATE, CLUSTER SETSLOT) and opswall-run --city's FLUSHDB of a
# private Redis are admin work, not for this user.
set -euo pipefail -f # -f: the ~ops:* and &ops:* patterns go to Redis unexpanded
acl_rules() {
  local pass=$1
  printf '%s ' reset on ">$pass" '~ops:*' '&ops:*' -@all \
    +ping +hello +auth +select +client\|setname \
    +get +set +exists +del +pexpire +time +sadd +smismember \
    +hget +hset +hdel +hgetall +zadd +zrange +zrem \
    +xadd +xack +xdel +xtrim +xlen +xrange +xrevrange +xread +xreadgroup +xgroup\|create +xinfo\|groups \
    +xinfo\|stream +publish +subscribe +unsubscribe \
    +fcall +function\|load +function\|list +multi +exec +discard +wait \
    +incr +cluster\|info +cluster\|shards +cluster\|slots +asking
}
cmd=${1:-print}
[ $# -gt 0 ] && shift
case $cmd in
print)
  echo "ACL SETUSER ${1:-opswall} $(acl_rules "${OPSWALL_REDIS_PASSWORD:-CHANGE-ME}")" ;;
apply)
  [ -n "${OPSWALL_REDIS_PASSWORD:-}" ] || { echo "redis-acl.sh: set OPSWALL_REDIS_PASSWORD" >&2; exit 2; }
  # shellcheck disable=SC2046
  redis-cli "$@" ACL SETUSER opswall $(acl_rules "$OPSWALL_REDIS_PASSWORD") ;;
*) sed -n '2,9p' "$0"; exit 2 ;;
esac
