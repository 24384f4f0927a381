#include "reshard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partition.h"

/* One command on one node of the map; an error reply is an error naming the node. */
static int node_do(ow_cluster *c, int node, ow_err *err, const char *fmt, ...)
{
    redisContext *ctx = ow_cluster_node_context(c, node, err);
    if (!ctx) return OW_EREDIS;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(ctx, fmt, ap);
    va_end(ap);
    const ow_slotmap_node *n = &ow_cluster_map(c)->nodes[node];
    int rc = OW_OK;
    if (!r || r->type == REDIS_REPLY_ERROR)
        rc = ow_err_set(err, OW_EREDIS, "%s:%d: %s", n->host, n->port, r ? r->str : ctx->errstr);
    if (r) freeReplyObject(r);
    return rc;
}

static int source_of(ow_cluster *c, int slot, int to, ow_err *err)
{
    const ow_slotmap *m = ow_cluster_map(c);
    if (slot < 0 || slot >= OW_CLUSTER_SLOTS)
        return ow_err_set(err, OW_EINVAL, "reshard: slot %d: expected 0 to 16383", slot);
    if (to < 0 || to >= m->nnodes || !m->nodes[to].master || !m->nodes[to].id[0])
        return ow_err_set(err, OW_EINVAL, "reshard: node %d is not a master with a known id", to);
    int from = m->owner[slot];
    if (from < 0)
        return ow_err_set(err, OW_ENOTFOUND, "reshard: slot %d has no master to move it from",
                          slot);
    return from;
}

int ow_reshard_begin(ow_cluster *c, int slot, int to, ow_err *err)
{
    int from = source_of(c, slot, to, err);
    if (from < 0) return from;
    const ow_slotmap *m = ow_cluster_map(c);
    char from_id[48], to_id[48];
    snprintf(from_id, sizeof from_id, "%s", m->nodes[from].id);
    snprintf(to_id, sizeof to_id, "%s", m->nodes[to].id);
    int rc = node_do(c, to, err, "CLUSTER SETSLOT %d IMPORTING %s", slot, from_id);
    if (!rc) rc = node_do(c, from, err, "CLUSTER SETSLOT %d MIGRATING %s", slot, to_id);
    return rc;
}

int ow_reshard_keys(ow_cluster *c, int slot, int to, int max, int *moved, ow_err *err)
{
    *moved = 0;
    int from = source_of(c, slot, to, err);
    if (from < 0) return from;
    redisContext *ctx = ow_cluster_node_context(c, from, err);
    if (!ctx) return OW_EREDIS;
    redisReply *keys = redisCommand(ctx, "CLUSTER GETKEYSINSLOT %d %d", slot, max > 0 ? max : 100);
    if (!keys || keys->type != REDIS_REPLY_ARRAY) {
        int rc = ow_err_set(err, OW_EREDIS, "reshard: CLUSTER GETKEYSINSLOT %d: %s", slot,
                            keys && keys->type == REDIS_REPLY_ERROR ? keys->str : ctx->errstr);
        if (keys) freeReplyObject(keys);
        return rc;
    }
    int rc = OW_OK;
    if (keys->elements) {
        /* MIGRATE host port "" 0 timeout KEYS k1 k2 ... */
        size_t argc = 8 + keys->elements;
        const char **argv = calloc(argc, sizeof *argv);
        size_t *lens = calloc(argc, sizeof *lens);
        const ow_slotmap_node *dst = &ow_cluster_map(c)->nodes[to];
        char port[16];
        snprintf(port, sizeof port, "%d", dst->port);
        const char *head[] = {"MIGRATE", dst->host, port, "", "0", "60000", "REPLACE", "KEYS"};
        if (!argv || !lens) {
            rc = ow_err_set(err, OW_ENOMEM, "reshard: out of memory");
        } else {
            for (size_t i = 0; i < 8; i++)
                argv[i] = head[i], lens[i] = strlen(head[i]);
            for (size_t i = 0; i < keys->elements; i++)
                argv[8 + i] = keys->element[i]->str, lens[8 + i] = keys->element[i]->len;
            redisReply *r = redisCommandArgv(ctx, (int)argc, argv, lens);
            if (!r || r->type == REDIS_REPLY_ERROR)
                rc = ow_err_set(err, OW_EREDIS, "reshard: MIGRATE of slot %d to %s:%d: %s", slot,
                                dst->host, dst->port, r ? r->str : ctx->errstr);
            else
                *moved = (int)keys->elements;
            if (r) freeReplyObject(r);
        }
        free(argv);
        free(lens);
    }
    freeReplyObject(keys);
    return rc;
}

int ow_reshard_finish(ow_cluster *c, int slot, int to, ow_err *err)
{
    int from = source_of(c, slot, to, err);
    if (from < 0) return from;
    int masters[OW_SLOTMAP_NODES_MAX];
    int nm = ow_reshard_masters(c, masters, OW_SLOTMAP_NODES_MAX);
    char to_id[48];
    snprintf(to_id, sizeof to_id, "%s", ow_cluster_map(c)->nodes[to].id);
    /* the target first, so the source's MOVED never points at a node that would bounce back */
    int rc = node_do(c, to, err, "CLUSTER SETSLOT %d NODE %s", slot, to_id);
    if (!rc && from != to) rc = node_do(c, from, err, "CLUSTER SETSLOT %d NODE %s", slot, to_id);
    for (int i = 0; !rc && i < nm; i++)
        if (masters[i] != to && masters[i] != from)
            rc = node_do(c, masters[i], err, "CLUSTER SETSLOT %d NODE %s", slot, to_id);
    if (!rc) rc = ow_cluster_refresh(c, err);
    return rc;
}

int ow_reshard_slot(ow_cluster *c, int slot, int to, ow_err *err)
{
    int from = source_of(c, slot, to, err);
    if (from < 0) return from;
    if (from == to) return OW_OK;
    int rc = ow_reshard_begin(c, slot, to, err);
    for (int moved = 1; !rc && moved;)
        rc = ow_reshard_keys(c, slot, to, 500, &moved, err);
    if (!rc) rc = ow_reshard_finish(c, slot, to, err);
    return rc;
}

static bool addr_before(const ow_slotmap_node *x, const ow_slotmap_node *y)
{
    int d = strcmp(x->host, y->host);
    return d ? d < 0 : x->port < y->port;
}

int ow_reshard_masters(const ow_cluster *c, int *out, int max)
{
    const ow_slotmap *m = ow_cluster_map(c);
    bool serves[OW_SLOTMAP_NODES_MAX] = {false};
    for (int s = 0; s < OW_CLUSTER_SLOTS; s++)
        if (m->owner[s] >= 0) serves[m->owner[s]] = true;
    int n = 0;
    for (int i = 0; i < m->nnodes && n < max; i++)
        if (serves[i]) out[n++] = i;
    /* insertion sort: a handful of masters */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && addr_before(&m->nodes[out[j]], &m->nodes[out[j - 1]]); j--) {
            int t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

int ow_reshard_place(ow_cluster *c, int partitions, int *moves, ow_err *err)
{
    *moves = 0;
    if (!ow_cluster_enabled(c)) return OW_OK; /* one node holds everything */
    if (partitions < 1 || partitions > OW_PARTITIONS_MAX)
        return ow_err_set(err, OW_EINVAL, "reshard: %d partitions: expected 1 to %d", partitions,
                          OW_PARTITIONS_MAX);
    /* Balance with as few moves as possible: while the busiest master has two partitions more
     * than the idlest, move the busiest one's highest partition there. A balanced layout (also
     * the one a failover leaves, with a replica in its master's place) is left alone. */
    for (int round = 0; round < partitions; round++) {
        int masters[OW_SLOTMAP_NODES_MAX];
        int nm = ow_reshard_masters(c, masters, OW_SLOTMAP_NODES_MAX);
        if (nm == 0) return ow_err_set(err, OW_ENOTFOUND, "reshard: the cluster has no master");
        const ow_slotmap *m = ow_cluster_map(c);
        int count[OW_SLOTMAP_NODES_MAX] = {0};
        for (int p = 0; p < partitions; p++) {
            int o = m->owner[ow_partition_slot(p)];
            if (o < 0)
                return ow_err_set(err, OW_ENOTFOUND,
                                  "reshard: partition %d (slot %d) has no master", p,
                                  ow_partition_slot(p));
            count[o]++;
        }
        int hi = masters[0], lo = masters[0];
        for (int i = 1; i < nm; i++) {
            if (count[masters[i]] > count[hi]) hi = masters[i];
            if (count[masters[i]] < count[lo]) lo = masters[i];
        }
        if (count[hi] - count[lo] <= 1) return OW_OK;
        int move = -1;
        for (int p = partitions - 1; p >= 0 && move < 0; p--)
            if (m->owner[ow_partition_slot(p)] == hi) move = p;
        int rc = ow_reshard_slot(c, ow_partition_slot(move), lo, err);
        if (rc) {
            ow_err_prefix(err, "placing partition %d (slot %d)", move, ow_partition_slot(move));
            return rc;
        }
        (*moves)++;
    }
    return OW_OK;
}
