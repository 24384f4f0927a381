#include "routing.h"

#include "files.h"
#include "keys.h"
#include "log.h"

int ow_routing_open(const ow_config *cfg, const ow_redis_env *env, ow_cluster **out,
                    ow_partition_table *t)
{
    ow_err err;
    ow_cluster *c = NULL;
    *out = NULL;
    if (ow_cluster_open_env(env, cfg, &c, &err)) {
        if (cfg->cluster.partitions <= 1) return 0; /* the single-node path reports it */
        ow_error("%s", err.msg);
        return -1;
    }
    if (cfg->cluster.partitions <= 1 && !ow_cluster_enabled(c)) {
        ow_cluster_free(c);
        return 0;
    }
    if (ow_partition_load(cfg, t, &err)) {
        ow_cluster_free(c);
        ow_error("%s", err.msg);
        return -2;
    }
    ow_info("routing to %d partitions on %s (shared stream %s)", t->n,
            ow_cluster_enabled(c) ? "a Redis Cluster" : "one Redis", OW_KEY_SHARED);
    *out = c;
    return 1;
}
