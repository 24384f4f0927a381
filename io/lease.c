#include "lease.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "keys.h"

/* Compare-and-act: only the holder of the token may extend or delete. */
static const char renew_lua[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                                "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
static const char release_lua[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                                  "return redis.call('DEL', KEYS[1]) else return 0 end";

void ow_lease_init(ow_lease *l, int partition, const char *owner, int64_t ttl_ms)
{
    memset(l, 0, sizeof *l);
    l->partition = partition;
    l->ttl_ms = ttl_ms;
    ow_partition_rekey(l->key, sizeof l->key, partition, OW_KEY_LEASE);
    snprintf(l->token, sizeof l->token, "%.120s/%ld/%lld", owner, (long)getpid(),
             (long long)ow_clock_mono_us());
}

int ow_lease_acquire(ow_cluster *c, ow_lease *l, ow_err *err)
{
    redisReply *r = ow_cluster_cmd(c, err, "lease acquire", l->key, "SET %s %s NX PX %lld", l->key,
                                   l->token, (long long)l->ttl_ms);
    if (!r) return err ? err->code : OW_EREDIS;
    l->held = r->type == REDIS_REPLY_STATUS; /* OK; nil when someone holds it */
    freeReplyObject(r);
    return OW_OK;
}

static int script(ow_cluster *c, ow_lease *l, const char *what, const char *lua, long long *out,
                  ow_err *err)
{
    redisReply *r = ow_cluster_cmd(c, err, what, l->key, "EVAL %s 1 %s %s %lld", lua, l->key,
                                   l->token, (long long)l->ttl_ms);
    if (!r) return err ? err->code : OW_EREDIS;
    *out = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return OW_OK;
}

int ow_lease_renew(ow_cluster *c, ow_lease *l, ow_err *err)
{
    long long n = 0;
    int rc = script(c, l, "lease renew", renew_lua, &n, err);
    if (!rc) l->held = n == 1;
    return rc;
}

int ow_lease_release(ow_cluster *c, ow_lease *l, ow_err *err)
{
    long long n = 0;
    int rc = script(c, l, "lease release", release_lua, &n, err);
    if (!rc) l->held = false;
    return rc;
}

int ow_lease_holder(ow_cluster *c, int partition, char *out, size_t n, ow_err *err)
{
    char key[OW_PARTITION_KEY_MAX];
    ow_partition_rekey(key, sizeof key, partition, OW_KEY_LEASE);
    redisReply *r = ow_cluster_cmd(c, err, "lease holder", key, "GET %s", key);
    if (!r) return err ? err->code : OW_EREDIS;
    snprintf(out, n, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    return OW_OK;
}
