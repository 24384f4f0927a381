#!/usr/bin/env bash
# The private Redis (issue 2, item 4): started with a unix socket, AOF on and no TCP port when no
# URL is set; stopped on exit, on Ctrl-C and when its parent is killed; a URL with a password is
# used with AUTH; an unreachable Redis gives one clear line.
. "$(dirname "$0")/lib.sh"
BIN=$1
tmp=$(mktemp -d /tmp/ow-redisenv.XXXXXX)
trap 'pkill -f "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
export OPSWALL_DATA_DIR=$tmp/data
unset OPSWALL_REDIS_URL
sock=$tmp/data/redis.sock
server_pid() { pgrep -f "[r]edis-server.*$tmp/data" || true; }
no_server() { [ -z "$(server_pid)" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# 1. engine with no URL starts a private server with the promised settings
"$BIN/opswall-engine" > "$tmp/engine.log" 2>&1 &
epid=$!
check "private redis answers on the unix socket" wait_for 10 redis-cli -s "$sock" ping
check "private redis has no TCP port" test "$(redis-cli -s "$sock" config get port | tail -1)" = 0
check "private redis has AOF on" test "$(redis-cli -s "$sock" config get appendonly | tail -1)" = yes
check "engine published a snapshot" wait_for 10 redis-cli -s "$sock" exists 'ops:{p0}:snapshot'

# 2. a second program with the same data dir shares it instead of starting another
"$BIN/opswall-ingest" /dev/null > "$tmp/ingest.log" 2>&1
check "second program shares the running private server" grep -q "already running" "$tmp/ingest.log"
check "still exactly one private server" test "$(server_pid | wc -l)" = 1

# 3. Ctrl-C (SIGINT) stops engine and its server
kill -INT $epid
check "engine exits on SIGINT" wait_for 10 gone $epid
check "private server gone after SIGINT" wait_for 10 no_server

# 4. kill -9 of the owner: the server dies with it (no orphan)
"$BIN/opswall-engine" > "$tmp/engine2.log" 2>&1 &
epid=$!
wait_for 10 redis-cli -s "$sock" ping
kill -9 $epid
wait $epid 2>/dev/null || true
check "private server gone after kill -9 of its parent" wait_for 10 no_server

# 5. a URL with a password: AUTH is used; a wrong password gives one clear line
start_redis "$tmp/auth" --requirepass 's3cret@x'
printf '%s\n' '{"v":1,"id":"a1","ts":"2026-11-22T09:00:00+08:00","type":"order.closed","order_id":"o1"}' > "$tmp/one.ndjson"
OPSWALL_REDIS_URL="unix://$tmp/auth/redis.sock" "$BIN/opswall-ingest" "$tmp/one.ndjson" > "$tmp/noauth.log" 2>&1 && r=0 || r=$?
check "missing password is refused" test $r -ne 0
OPSWALL_REDIS_URL="redis://:wrong@127.0.0.1:1/0" "$BIN/opswall-ingest" "$tmp/one.ndjson" > "$tmp/unreach.log" 2>&1 && r=0 || r=$?
check "unreachable redis exits non-zero" test $r -ne 0
check "unreachable redis: exactly one error line" test "$(grep -c error "$tmp/unreach.log")" = 1
check "unreachable redis: says where and what to do" grep -q "cannot reach Redis at redis://127.0.0.1:1/0.*OPSWALL_REDIS_URL" "$tmp/unreach.log"
check "the password never appears in messages" bash -c "! grep -q wrong '$tmp/unreach.log'"
redis-cli -s "$tmp/auth/redis.sock" -a 's3cret@x' --no-auth-warning acl setuser opsw on '>pw:1' '~*' '&*' '+@all' >/dev/null
# user:password over TCP needs a TCP listener: give this server one on a free port
port=$(free_port)
redis-cli -s "$tmp/auth/redis.sock" -a 's3cret@x' --no-auth-warning config set port "$port" >/dev/null
OPSWALL_REDIS_URL="redis://opsw:pw%3A1@127.0.0.1:$port/0" "$BIN/opswall-ingest" "$tmp/one.ndjson" > "$tmp/auth.log" 2>&1 && r=0 || r=$?
check "user:password URL (percent-encoded) authenticates and appends" test $r -eq 0
check "event landed in the authenticated server" test "$(redis-cli -s "$tmp/auth/redis.sock" -a 's3cret@x' --no-auth-warning xlen 'ops:{p0}:events')" = 1
stop_pid $REDIS_PID
finish
