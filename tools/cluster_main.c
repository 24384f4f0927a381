/*
 * opswall-cluster — look at, and arrange, the Redis that redis.url names (docs/scaling.md).
 *
 *   opswall-cluster [--config PATH] map          the slot map and where each partition lives
 *   opswall-cluster [--config PATH] place        move partition slots (keys with them) until no
 *                                                master holds two more partitions than another,
 *                                                then map
 *   opswall-cluster keyslot KEY...               {"slots":[...]}: each key's hash slot, in
 *                                                order (no Redis needed)
 *
 * Output is one JSON object on stdout. Partitions are cluster.partitions of the configuration.
 * On a single Redis (cluster support off) map shows one node holding every slot and place does
 * nothing.
 */
#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "crc16.h"
#include "files.h"
#include "partition.h"
#include "reshard.h"

static int usage(void)
{
    fprintf(stderr, "usage: opswall-cluster [--config PATH] map|place\n"
                    "       opswall-cluster keyslot KEY...\n");
    return 2;
}

static void print_map(const ow_cluster *c, int partitions, int moves)
{
    const ow_slotmap *m = ow_cluster_map(c);
    printf("{\"cluster\":%s,\"moves\":%d,\"masters\":[", ow_cluster_enabled(c) ? "true" : "false",
           moves);
    int slots[OW_SLOTMAP_NODES_MAX] = {0};
    int uncovered = 0;
    for (int s = 0; s < OW_CLUSTER_SLOTS; s++) {
        if (m->owner[s] >= 0)
            slots[m->owner[s]]++;
        else
            uncovered++;
    }
    int first = 1;
    for (int i = 0; i < m->nnodes; i++) {
        if (!slots[i]) continue;
        printf("%s{\"addr\":\"%s:%d\",\"id\":\"%s\",\"slots\":%d,\"healthy\":%s}", first ? "" : ",",
               m->nodes[i].host, m->nodes[i].port, m->nodes[i].id, slots[i],
               m->nodes[i].healthy ? "true" : "false");
        first = 0;
    }
    printf("],\"uncovered_slots\":%d,\"partitions\":[", uncovered);
    for (int p = 0; p < partitions; p++) {
        int slot = ow_partition_slot(p), o = m->owner[slot];
        printf("%s{\"partition\":%d,\"slot\":%d,\"master\":", p ? "," : "", p, slot);
        if (o >= 0)
            printf("\"%s:%d\"}", m->nodes[o].host, m->nodes[o].port);
        else
            printf("null}");
    }
    printf("]}\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--config") == 0) i += 2;
    if (i >= argc) return usage();
    const char *cmd = argv[i];
    if (strcmp(cmd, "keyslot") == 0) {
        printf("{\"slots\":[");
        for (int k = i + 1; k < argc; k++)
            printf("%s%d", k > i + 1 ? "," : "", ow_crc16_keyslot(argv[k], strlen(argv[k])));
        printf("]}\n");
        return 0;
    }
    if (strcmp(cmd, "map") != 0 && strcmp(cmd, "place") != 0) return usage();
    static ow_config cfg;
    ow_err err;
    if (ow_config_load(&cfg, ow_args_config(argc, argv), &err)) {
        fprintf(stderr, "opswall-cluster: %s\n", err.msg);
        return 1;
    }
    if (!cfg.redis.url[0]) {
        fprintf(stderr, "opswall-cluster: redis.url is empty (opswall's private Redis is one node "
                        "with nothing to place); set redis.url or OPSWALL_REDIS_URL to a node of "
                        "the cluster, e.g. redis://10.0.0.5:7000\n");
        return 1;
    }
    ow_cluster_opts opts = {.timeout_ms = cfg.redis.timeout_ms,
                            .retry_for_ms = cfg.cluster.retry_for_ms};
    ow_cluster *c;
    if (ow_cluster_open_url(cfg.redis.url, &opts, &c, &err)) {
        fprintf(stderr, "opswall-cluster: %s\n", err.msg);
        return 1;
    }
    int moves = 0, rc = 0;
    if (strcmp(cmd, "place") == 0 &&
        ow_reshard_place(c, (int)cfg.cluster.partitions, &moves, &err)) {
        fprintf(stderr, "opswall-cluster: %s\n", err.msg);
        rc = 1;
    }
    print_map(c, (int)cfg.cluster.partitions, moves);
    ow_cluster_free(c);
    return rc;
}
