/*
 * routed_input — opswall-ingest on a partitioned deployment (cluster.partitions > 1, or redis.url
 * naming a Redis Cluster): NDJSON from files (plain or .gz) and stdin, validated, routed to the
 * partitions by ingest/router.h, blocking on the cluster client (io/cluster.h).
 *
 * A batch is flushed when full, when the input pauses for 50 ms (stdin from a live producer) and
 * at the end of each file; a flush returns once the events are in Redis (and with
 * ingest.wait_replicas, on enough replicas). The line count of a file reaches the log only after
 * its flush, so the logged position is safe to resume from. This blocking reader is the fast
 * path for plain files and stdin; with --speed, --from-line or a listener, opswall-ingest runs its
 * libuv sources on the same router instead (ow_appender_new_routed, ingest/route_worker.h).
 */
#ifndef OW_ROUTED_INPUT_H
#define OW_ROUTED_INPUT_H

#include <stdbool.h>

#include "cluster.h"
#include "config.h"
#include "partition.h"
#include "redis.h"

/* Whether routed ingest applies: 1 yes (*c and *t are the caller's: ow_cluster_free,
 * ow_partition_table_fini), 0 no (one Redis, cluster.partitions 1), -1 Redis unreachable and
 * -2 a bad partition table (both logged). */
int ow_routed_open(const ow_config *cfg, const ow_redis_env *env, ow_cluster **c,
                   ow_partition_table *t);

/* Read files[0..nfiles) ("-" = stdin) into the router; the exit status (0 all in Redis, 1 not). */
int ow_routed_input_run(const ow_config *cfg, ow_cluster *c, const ow_partition_table *t,
                        const char *const *files, int nfiles);

#endif
