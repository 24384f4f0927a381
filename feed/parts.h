/*
 * parts — the feed's view of a partitioned deployment (docs/scaling.md §7): the latest partial
 * snapshot of every partition, kept from Redis, merged into one picture (engine/merge.h) and
 * handed on as a snapshot message and the delta from the previous merged one (core/delta.h), as
 * one engine would publish them. The merged stream's sequence numbers are the feed's own.
 *
 * Per partition p, one ow_redis_sub subscribes to ops:{p}:live, ops:{p}:deltas and
 * ops:{p}:order_ready (handed to on_ready: the engine answered a request) and GETs
 * ops:{p}:snapshot at start, after a reconnect and after a gap. A delta is
 * applied to the held partial (core/delta.h); one that does not continue it triggers a GET. A
 * partial the merge refuses (malformed: outside input) is dropped with a warning naming the
 * partition and member, and fetched again. Merges are coalesced (a partition's snapshot and delta
 * arrive together, partitions publish at about the same time): at most one per MERGE_MS.
 *
 * Staleness: a partition not heard from for cluster.stale_after (engines publish at least every
 * 5 s) is marked stale in the merged `partitions` member; while any is stale the picture is
 * re-merged every second so its age_s counts up for viewers.
 *
 * Single Redis or one partition: not used (the feed reads ops:{p0}: directly, unchanged).
 * With a cluster client (ow_parts_use_cluster; also on one Redis holding every partition) the
 * GETs go to each partition's master through it, and each subscription moves to another node
 * when its node fails (feed/redis_sub.h).
 *
 * Lifecycle: ow_parts_init → ow_parts_start → … → ow_parts_close (the loop must then run to close
 * the handles) → ow_parts_fini.
 */
#ifndef OW_FEED_PARTS_H
#define OW_FEED_PARTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "merge.h"
#include "partition.h"
#include "redis_sub.h"

/* A merged message to hand on (a snapshot, then the delta from the previous one); borrowed text,
 * valid during the call. */
typedef void ow_parts_publish_fn(void *ud, const char *text, size_t len);
/* Partition p's engine published `text` on its order_ready channel (borrowed, during the call). */
typedef void ow_parts_ready_fn(void *ud, int partition, const char *text, size_t len);

typedef struct ow_part {
    struct ow_parts *owner;
    int index;
    ow_redis_sub sub;
    char chan_live[OW_PARTITION_KEY_MAX], chan_deltas[OW_PARTITION_KEY_MAX];
    char chan_ready[OW_PARTITION_KEY_MAX];
    char snapshot_key[OW_PARTITION_KEY_MAX];
    const char *channels[3];
    cJSON *snap; /* latest partial, owned; NULL = none yet */
    int64_t seq;
    int64_t heard_ms; /* mono time of the last message, 0 = never */
    bool stale;       /* as in the last merge */
    bool sub_ok;
} ow_part;

typedef struct ow_parts {
    uv_loop_t *loop;
    int n;
    ow_part *v;
    const ow_partition_table *owners; /* borrowed */
    int64_t stale_ms;
    ow_parts_publish_fn *publish;
    ow_parts_ready_fn *on_ready; /* NULL = ignored */
    void *ud;
    uv_timer_t merge_timer, tick;
    bool merge_pending, closing, timers_ok;
    cJSON *merged; /* the last merged picture handed on, owned */
    int64_t seq;   /* of the merged stream */
    uint64_t merges, refused;
} ow_parts;

/* Prepare n partitions (no I/O yet). owners is borrowed. 0, or -1 on out of memory / libuv. */
int ow_parts_init(ow_parts *ps, uv_loop_t *loop, int n, const ow_partition_table *owners,
                  const ow_redis_target *target, const char *desc, int64_t timeout_ms,
                  int64_t stale_ms, ow_parts_publish_fn *publish, void *ud);
/* Before start: route every partition's GET through c (borrowed, see ow_redis_sub_use_cluster),
 * and hand order_ready messages to on_ready (with the ud of init). */
void ow_parts_use_cluster(ow_parts *ps, ow_cluster_async *c);
void ow_parts_on_ready(ow_parts *ps, ow_parts_ready_fn *on_ready);
void ow_parts_start(ow_parts *ps);
void ow_parts_close(ow_parts *ps);
void ow_parts_fini(ow_parts *ps);

/* The partition whose partial lists alert `id` among its escalations, or -1. */
int ow_parts_alert_partition(const ow_parts *ps, const char *id);

/* Prometheus lines: opswall_feed_partition_age_seconds, opswall_feed_partition_stale (per
 * partition), opswall_feed_partition_refused_total, opswall_feed_merges_total. */
void ow_parts_metrics(const ow_parts *ps, ow_buf *b);

/* Every partition's connections are up. */
bool ow_parts_connected(const ow_parts *ps);

#endif
