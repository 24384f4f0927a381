#include "lease.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fence.h"
#include "keys.h"

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

/* FCALL of a compare-and-act lease function (io/fence.c); the library is loaded on every master
 * when a node does not know it yet (a fresh cluster, a node that was replaced). */
static int call(ow_cluster *c, ow_lease *l, const char *what, const char *fn, long long *out,
                ow_err *err)
{
    for (int attempt = 0;; attempt++) {
        ow_err e = {0};
        redisReply *r = ow_cluster_cmd(c, &e, what, l->key, "FCALL %s 1 %s %s %lld", fn, l->key,
                                       l->token, (long long)l->ttl_ms);
        if (!r) { /* an error reply comes back as NULL with its text */
            if (attempt == 0 && strstr(e.msg, "Function not found")) {
                int rc = ow_fence_load_all(c, err);
                if (rc) return rc;
                continue;
            }
            if (err) *err = e;
            return e.code ? e.code : OW_EREDIS;
        }
        *out = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        freeReplyObject(r);
        return OW_OK;
    }
}

int ow_lease_renew(ow_cluster *c, ow_lease *l, ow_err *err)
{
    long long n = 0;
    int rc = call(c, l, "lease renew", OW_FENCE_LEASE_RENEW, &n, err);
    if (!rc) l->held = n == 1;
    return rc;
}

int ow_lease_release(ow_cluster *c, ow_lease *l, ow_err *err)
{
    long long n = 0;
    int rc = call(c, l, "lease release", OW_FENCE_LEASE_RELEASE, &n, err);
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
