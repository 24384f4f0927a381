/*
 * partials — the wallboard's view of a partitioned deployment (docs/scaling.md §7): every
 * partition's snapshot key (ops:{p}:snapshot) read through the blocking cluster client
 * (io/cluster.h: each GET to its partition's master, pipelined, one round trip per node per
 * poll; MOVED, ASK and failovers followed; a single Redis is one node), the latest partial of each
 * kept, and the partials merged into one picture (engine/merge.h) whenever one changed. A partition
 * whose key has not changed for stale_ms (its engine stopped publishing: engines republish at least
 * every 5 s) is marked stale in the merged `partitions` member; while any is stale the picture is
 * merged on every read, so the board's ages count up.
 *
 * A partial that is not a snapshot, or that the merge refuses (outside input), is dropped with a
 * warning naming the partition, and read again when its key changes.
 *
 * Used by source.c's worker thread only (not thread-safe). Lifecycle: ow_partials_new →
 * ow_partials_read… → ow_partials_free.
 */
#ifndef OW_WALLBOARD_PARTIALS_H
#define OW_WALLBOARD_PARTIALS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "cluster.h"
#include "err.h"
#include "partition.h"

typedef struct ow_partials ow_partials;

/* n partitions (2..OW_PARTITIONS_MAX); owners is borrowed. NULL on out of memory. */
ow_partials *ow_partials_new(int n, const ow_partition_table *owners, int64_t stale_ms);
void ow_partials_free(ow_partials *ps);

/* Read every partition's snapshot key through c at mono time now_ms. 1 with a new merged picture
 * in *merged (the caller owns it; its seq counts the merges), 0 when nothing changed, OW_EREDIS
 * when the cluster could not be read (after the client's retries; the caller drops c) and
 * OW_ENOTFOUND when no partition has a snapshot yet, with err. */
int ow_partials_read(ow_partials *ps, ow_cluster *c, int64_t now_ms, cJSON **merged, ow_err *err);

#endif
