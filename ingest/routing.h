/*
 * routing — whether opswall-ingest routes (a partitioned deployment: cluster.partitions > 1, or
 * redis.url naming a Redis Cluster; docs/scaling.md §3), and the cluster client and partition
 * table it then routes with. Every source (files, stdin, TCP, HTTP) then feeds the appender made
 * by ow_appender_new_routed, which runs ingest/router.h on its own thread.
 */
#ifndef OW_ROUTING_H
#define OW_ROUTING_H

#include "cluster.h"
#include "config.h"
#include "partition.h"
#include "redis.h"

/* 1: routed (*c and *t are the caller's: ow_cluster_free, ow_partition_table_fini, after the
 * appender is closed), 0: one Redis, cluster.partitions 1 (nothing to free), -1 Redis unreachable
 * and -2 a bad partition table (both logged). */
int ow_routing_open(const ow_config *cfg, const ow_redis_env *env, ow_cluster **c,
                    ow_partition_table *t);

#endif
