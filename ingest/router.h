/*
 * router — partitioned ingest (docs/scaling.md §3): each validated event goes to its partition's
 * stream ops:{p<N>}:events, technician and stock reports to the shared stream ops:{g}:shared,
 * through the ow_append Redis Function (io/route_library.h) on a Redis Cluster or a single node.
 *
 * Where an event goes is core/route.h's decision. Orders and complaints are recorded in the
 * directory (ops:dir:{order:<id>} = partition, SET NX, 90 days) and cached here; an event for an
 * order not yet in the directory is parked in this process until its order.created arrives (or
 * is found in the directory), and rejected as "order never created" when the watermark has moved
 * past it by ingest.dedup_window or the input ends first.
 *
 * Each routed entry carries wm (the largest event time this router had seen before it) and sseq
 * (the shared stream's entry count before it): engines use them to decide every alert with the
 * knowledge one node would have had (docs/scaling.md §5). A flush is two pipelined rounds of the
 * cluster client, both marked idempotent (de-dup makes a resend harmless): the shared stream's
 * call with the directory records and rejects, then one call per partition (the partitions' calls
 * need the shared entries' numbers). With ingest.wait_replicas > 0 each round ends with WAIT on
 * every node it wrote to, and is sent again until enough replicas have it or cluster.retry_for
 * runs out: only then is the flush reported done (acknowledged).
 *
 * Lifecycle: ow_router_new → (add | reject)* → flush … → finish → free. Not thread-safe.
 */
#ifndef OW_ROUTER_H
#define OW_ROUTER_H

#include <stdint.h>

#include "cluster.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "partition.h"

typedef struct ow_router ow_router;

typedef struct ow_router_stats {
    int64_t accepted, duplicates, rejected; /* of items flushed */
    int64_t shared;                         /* accepted items that went to the shared stream */
    int64_t parked_now, parked_total;       /* waiting for their order; ever parked */
    int64_t flushes, resends;               /* rounds sent again for want of replica acks */
    int64_t per_partition[OW_PARTITIONS_MAX > 64 ? 64 : OW_PARTITIONS_MAX]; /* first 64 */
} ow_router_stats;

/* c, cfg and t are borrowed and must outlive the router. Loads the Redis Function on every
 * master. NULL with err on failure. */
ow_router *ow_router_new(ow_cluster *c, const ow_config *cfg, const ow_partition_table *t,
                         ow_err *err);
void ow_router_free(ow_router *r);

/* Queue a validated event (raw copied); flushes when ingest.batch items are queued. */
int ow_router_add(ow_router *r, const ow_event *ev, const char *raw, size_t len, ow_err *err);

/* Queue a reject for ops:{p0}:rejects (raw kept up to 64 KiB). */
int ow_router_reject(ow_router *r, const char *reason, const char *source, int64_t pos,
                     const char *raw, size_t len, ow_err *err);

/* Send what is queued and wait for it (and for WAIT when configured). */
int ow_router_flush(ow_router *r, ow_err *err);

/* End of input: events still parked become rejects, every partition gets a tick with the final
 * watermark (so its engine fires what one node would have fired by the end), then a flush.
 * While input flows, a flush also ticks every partition at most once a second, so an engine
 * whose partition is quiet still follows the shared stream and the watermark. */
int ow_router_finish(ow_router *r, ow_err *err);

/* Items queued and not yet flushed. */
int64_t ow_router_queued(const ow_router *r);

const ow_router_stats *ow_router_stats_get(const ow_router *r);

#endif
