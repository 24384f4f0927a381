#!/usr/bin/env bash
# Issue 9, security: no secret in the logs. The feed runs at debug log level with three role
# tokens; requests carry valid, unknown and oversized tokens in the Authorization header and in
# ?token= (the websocket's way), on every route, including an acknowledgement. Then no token, and
# no unknown token either, may appear in the feed's stdout or stderr, nor in Redis' log.
# (The Redis password in redis.url: tests/security/redis_acl.sh checks every program's log.)
BIN=$1
export FEED_BIN=$BIN/opswall-feed
. "$(dirname "$0")/../integration/feed_lib.sh"
trap 'for p in ${FEED_PID:-} ${REDIS_PID:-}; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
export OPSWALL_LOG=debug
redis_start
rcli set "$KEY" '{"v":1,"seq":1,"now_ms":1,"open":{"emergency":0,"important":0,"general":0,"total":0}}' > /dev/null
feed_start
BAD=unknown-$RANDOM$RANDOM-secret
LONG=$(head -c 3000 /dev/zero | tr '\0' 'q')
for tok in "$VIEWER_TOKEN" "$SUP_TOKEN" "$ADMIN_TOKEN" "$BAD" "$LONG"; do
  for path in / /healthz /metrics /api/v1/me /api/v1/snapshot /api/v1/city /api/v1/alerts \
    /api/v1/orders/o-1 /api/v1/live /nope; do
    curl -s -o /dev/null -H "Authorization: Bearer $tok" "$FEED_URL$path" || true
    curl -s -o /dev/null "$FEED_URL$path?token=$tok" || true
  done
  curl -s -o /dev/null -X POST -H "Authorization: Bearer $tok" -d '{"note":"x"}' \
    "$FEED_URL/api/v1/alerts/sla:o-1:dispatch:1:100/ack" || true
done
curl -s -o /dev/null -H "Authorization: Bearer $VIEWER_TOKEN" "$FEED_URL/api/v1/me" || fail "feed stopped answering"
grep -q . "$T"/feed1.err || fail "the feed logged nothing at debug level: the test would be blind"
for tok in "$VIEWER_TOKEN" "$SUP_TOKEN" "$ADMIN_TOKEN" "$BAD"; do
  if grep -F -- "$tok" "$T"/feed*.err "$T"/feed*.out "$T/redis.log" > /dev/null; then
    fail "a token appears in a log: $(grep -F -l -- "$tok" "$T"/feed*.err "$T"/feed*.out "$T/redis.log")"
  fi
done
pass "no token in the feed's or Redis' logs ($(wc -l < "$T/feed1.err") log lines at debug level)"
feed_stop
echo "1 passed, 0 failed"
