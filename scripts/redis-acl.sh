#!/usr/bin/env bash
# The Redis ACL users opswall's programs need, with the least permissions (docs/security.md §4).
#
#   scripts/redis-acl.sh print [opswall|notify]              the ACL SETUSER line (password read
#                                                            from OPSWALL_REDIS_PASSWORD, else a
#                                                            placeholder)
#   scripts/redis-acl.sh apply [opswall|notify] REDIS-CLI-ARGS...   run it with redis-cli, e.g.
#       OPSWALL_REDIS_PASSWORD=... scripts/redis-acl.sh apply -h 10.0.0.5 -p 6379 --user admin --pass ...
#       OPSWALL_REDIS_PASSWORD=... scripts/redis-acl.sh apply notify -h 10.0.0.5 ...
#
# User opswall (the default): ingest, engine, feed and wallboard; then set
# redis.url = redis://opswall:PASSWORD@host:port/0 (or OPSWALL_REDIS_URL).
# Keys: only ops:* (every key of every partition, core/keys.h); channels: only ops:*.
# Commands: the ones ingest (and the Lua of its functions), the engine, the feed, the wallboard and notify send (each listed in
# docs/security.md with who sends it), nothing else: no FLUSHALL/FLUSHDB, KEYS, CONFIG, DEBUG,
# SHUTDOWN, MIGRATE, SCRIPT/EVAL, ACL, MODULE, REPLICAOF, CLIENT KILL. FUNCTION LOAD is allowed
# because the engine and ingest load the ow_append library (io/functions.c); its calls run with
# this user's permissions (SET and XADD on ops:* keys). A partitioned deployment (docs/scaling.md)
# adds INCR (the shared stream's counter, in routed ingest's function), the cluster client's
# CLUSTER INFO|SHARDS|SLOTS and ASKING, and FCALL of the opswall_fence library (the lease's
# renew/release and the engine's fenced writes: no EVAL).
# User opswall-notify: only what opswall-notify sends (notify/store.c, io/redis.c), each command
# on only the keys it sends it to, with Redis 7 selectors: its consumer group on the alerts and
# alert_changes streams (XGROUP CREATE, XREADGROUP, XACK — not XADD: it cannot raise an alert),
# its state (HGETALL/HGET/HSET/HDEL on the ops:{p0}:notify:* hashes, ZADD/ZRANGE/ZREM on
# notify:log_time, XADD of dead letters to notify:dead), XADD to ops:{p0}:notifications, and
# MULTI/EXEC around its writes. No channel. Give opswall-notify its own redis.url
# (OPSWALL_REDIS_URL=redis://opswall-notify:PASSWORD@host:port/0 in its environment).
# opswall-cluster's placement (MIGRATE, CLUSTER SETSLOT) and opswall-run --city's FLUSHDB of a
# private Redis are admin work, not for these users.
set -euo pipefail -f # -f: the ~ops:* and &ops:* patterns go to Redis unexpanded
# The rules, one argument each, NUL-terminated (a selector "(~key +cmd ...)" is one argument).
acl_rules() {
  local pass=$1
  printf '%s\0' reset on ">$pass" '~ops:*' '&ops:*' -@all \
    +ping +hello +auth +select +client\|setname \
    +get +set +strlen +exists +del +pexpire +time +sadd +smismember \
    +hget +hset +hdel +hgetall +zadd +zrange +zrem \
    +xadd +xack +xdel +xtrim +xlen +xrange +xrevrange +xread +xreadgroup +xgroup\|create +xinfo\|groups \
    +xinfo\|stream +publish +subscribe +unsubscribe \
    +fcall +function\|load +function\|list +multi +exec +discard +wait \
    +incr +cluster\|info +cluster\|shards +cluster\|slots +asking
}
# notify's keys are one partition's (core/keys.h OW_KEY: "ops:{p0}:"); Redis globs treat { } as
# plain characters. A command is allowed when the root rules or one (selector) allow it with
# every key it names.
notify_rules() {
  local pass=$1 k='ops:{p0}:'
  printf '%s\0' reset on ">$pass" resetchannels -@all \
    +ping +hello +auth +select +multi +exec \
    "~${k}alerts" "~${k}alert_changes" +xgroup\|create +xreadgroup +xack \
    "(~${k}notify:* +hgetall +hget +hset +hdel +zadd +zrange +zrem +xadd)" \
    "(~${k}notifications +xadd)"
}
cmd=${1:-print}
[ $# -gt 0 ] && shift
who=opswall rules=acl_rules
case ${1:-} in
opswall) shift ;;
notify) who=opswall-notify rules=notify_rules; shift ;;
esac
case $cmd in
print)
  # for redis-cli's prompt: an argument with a space (a selector) in double quotes
  printf 'ACL SETUSER %s' "$who"
  while IFS= read -r -d '' a; do
    case $a in *' '*) printf ' "%s"' "$a" ;; *) printf ' %s' "$a" ;; esac
  done < <($rules "${OPSWALL_REDIS_PASSWORD:-CHANGE-ME}")
  echo ;;
apply)
  [ -n "${OPSWALL_REDIS_PASSWORD:-}" ] || { echo "redis-acl.sh: set OPSWALL_REDIS_PASSWORD" >&2; exit 2; }
  mapfile -d '' args < <($rules "$OPSWALL_REDIS_PASSWORD")
  redis-cli "$@" ACL SETUSER "$who" "${args[@]}" ;;
*) sed -n '2,29p' "$0"; exit 2 ;;
esac
