/*
 * slotmap — which Redis Cluster node serves each of the 16384 hash slots, decoded from a node's
 * CLUSTER SHARDS reply (Redis 7) or CLUSTER SLOTS reply (older servers, and the fallback).
 *
 * Pure: decodes hiredis reply trees that io/cluster.c read from a node; no sockets, no clock.
 * The replies are outside input (any node, any version): every element is type-checked, slot
 * ranges must lie in 0..16383 with start <= end, ports in 1..65535, a host must be 1..255 bytes
 * and not "?" (Redis' "unknown endpoint"), and a slot claimed by two masters is an error. Fields
 * the decoder does not know are skipped, so newer servers still decode. Errors name the shard or
 * range index and the field, e.g.
 *   CLUSTER SHARDS: shard 2: node 0: "port": expected an integer from 1 to 65535, got string
 */
#ifndef OW_SLOTMAP_H
#define OW_SLOTMAP_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>

#include "crc16.h"
#include "err.h"

#define OW_SLOTMAP_NODES_MAX 1024 /* nodes a map may name (Redis' advice: at most 1000) */
#define OW_SLOTMAP_HOST_BUF  256

typedef struct ow_slotmap_node {
    char host[OW_SLOTMAP_HOST_BUF]; /* where to connect: the node's endpoint, else its ip */
    int port;
    char id[48];    /* node id (40 hex) when the reply gives it, else "" */
    bool master;    /* serves slots (CLUSTER SLOTS: first node of a range) */
    bool healthy;   /* CLUSTER SHARDS health "online"; always true from CLUSTER SLOTS */
    int replica_of; /* for a replica: index of its shard's master; -1 for masters and unknown */
} ow_slotmap_node;

typedef struct ow_slotmap {
    ow_slotmap_node nodes[OW_SLOTMAP_NODES_MAX]; /* masters and replicas, in reply order */
    int nnodes;
    int16_t owner[OW_CLUSTER_SLOTS]; /* index into nodes of the slot's master, -1 = no master */
} ow_slotmap;

/* Empty map: no nodes, every slot without a master. */
void ow_slotmap_init(ow_slotmap *m);

/* Decode a CLUSTER SHARDS reply into m (replaced whole). On error m is left empty. */
int ow_slotmap_from_shards(ow_slotmap *m, const redisReply *r, ow_err *err);

/* Decode a CLUSTER SLOTS reply into m (replaced whole). On error m is left empty. */
int ow_slotmap_from_slots(ow_slotmap *m, const redisReply *r, ow_err *err);

/* Index of the node at host:port, adding it (as master when `master`) when absent; -1 when the
 * map is full or the host does not fit. */
int ow_slotmap_add_node(ow_slotmap *m, const char *host, int port, bool master);

/* Parse "host:port" (the tail of a MOVED/ASK error: "MOVED 3999 127.0.0.1:6381"; the host may be
 * empty, meaning the node that answered). Returns OW_OK or OW_EINVAL. */
int ow_slotmap_parse_addr(const char *s, char *host, size_t hostlen, int *port);

/* Replicas the map lists for node `master` (whatever their health). */
int ow_slotmap_replicas(const ow_slotmap *m, int master);

/* Slots with a master, and the number of distinct masters serving them. */
int ow_slotmap_covered(const ow_slotmap *m, int *masters);

#endif
