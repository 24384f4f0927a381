/*
 * routed_input — opswall-ingest on a partitioned deployment (cluster.partitions > 1, or redis.url
 * naming a Redis Cluster): NDJSON from files (plain or .gz) and stdin, validated, routed to the
 * partitions by ingest/router.h, blocking on the cluster client (io/cluster.h).
 *
 * A batch is flushed when full, when the input pauses for 50 ms (stdin from a live producer) and
 * at the end of each file; a flush returns once the events are in Redis (and with
 * ingest.wait_replicas, on enough replicas). The line count of a file reaches the log only after
 * its flush, so the logged position is safe to resume from (--from-line is not offered here yet).
 * TCP and HTTP listeners and --speed are not offered in this mode yet: asking for them is an error
 * that says so.
 */
#ifndef OW_ROUTED_INPUT_H
#define OW_ROUTED_INPUT_H

#include <stdbool.h>

#include "config.h"
#include "redis.h"

/* When routed ingest applies, run it over files[0..nfiles) ("-" = stdin) and return the exit
 * status (0 all in Redis, 1 not, 2 usage), with *handled = true; otherwise *handled = false and
 * nothing was read. */
int ow_routed_input_run(const ow_config *cfg, const ow_redis_env *env, const char *const *files,
                        int nfiles, bool listeners_or_speed, bool *handled);

#endif
