/*
 * router — partitioned ingest (docs/scaling.md §3): each validated event goes to its partition's
 * stream ops:{p<N>}:events, technician and stock reports to the shared stream ops:{g}:shared,
 * through the ow_append Redis Function (io/route_library.h) on a Redis Cluster or a single node.
 *
 * Where an event goes is core/route.h's decision. Orders and complaints are recorded in the
 * directory (ops:dir:{order:<id>} = partition, SET NX, 90 days) and cached here; an event for an
 * order not yet in the directory is parked: written to the stream ops:{g}:unrouted (ow_park, in
 * the flush's first round, so it is in Redis before its source is answered) and kept in this
 * process until its route is known — its order.created arrives here, or another ingest process
 * records the order (the directory is polled for every parked event once a second). Then it goes
 * to its partition and, once that is acknowledged, its unrouted entry is deleted. Entries parked
 * by other processes (or by this one before a crash) are read from the stream at start and once a
 * second, so a parked event survives its ingest process. An event parked longer than
 * ingest.dedup_window of event time (by this router's watermark) is rejected as "order never
 * created". The end of input leaves parked events in the stream for a later ingest.
 *
 * Each routed entry carries wm (the largest event time this router had seen before it) and sseq
 * (the shared stream's entry count before it): engines use them to decide every alert with the
 * knowledge one node would have had (docs/scaling.md §5). With more than one partition, every
 * order event is preceded on the shared stream by its holding record (core/holding.h: technician,
 * order, type, instant, partition), from which every engine's technician replica knows each
 * technician's orders in all partitions (§4). A flush is two pipelined rounds of the
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

#include <stdbool.h>
#include <stdint.h>

#include "cluster.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "partition.h"

typedef struct ow_router ow_router;

/* What became of one event or reject, filled in by the flush that wrote it (for sources that
 * answer per record, through ingest/route_worker.h). */
typedef enum {
    OW_ROUTED_PENDING,   /* not flushed yet */
    OW_ROUTED_ACCEPTED,  /* in its partition or the shared stream, or parked in ops:{g}:unrouted */
    OW_ROUTED_DUPLICATE, /* its id was seen within the de-dup window */
    OW_ROUTED_REJECTED,  /* kept in ops:{p0}:rejects */
} ow_routed_result;

typedef struct ow_route_outcome {
    ow_routed_result result;
    bool parked;        /* accepted into ops:{g}:unrouted: its route is not known yet */
    char stream_id[32]; /* the entry written ("" for shared-stream events and duplicates) */
} ow_route_outcome;

typedef struct ow_router_stats {
    int64_t accepted, duplicates, rejected; /* of items flushed */
    int64_t shared;                         /* accepted items that went to the shared stream */
    int64_t records;  /* cross-partition records appended there (core/xrecord.h; not items) */
    int64_t holdings; /* holding records written to the shared stream (partitions > 1) */
    int64_t parked_now, parked_total; /* waiting for their order; ever parked here */
    int64_t drained, loaded;          /* parked events sent on; read from the stream */
    int64_t flushes, resends;         /* rounds sent again for want of replica acks */
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

/* The same, with *out (borrowed; it must stay valid until a flush has returned OW_OK after this
 * call) filled in by the flush that writes the item. */
int ow_router_add_out(ow_router *r, const ow_event *ev, const char *raw, size_t len,
                      ow_route_outcome *out, ow_err *err);
int ow_router_reject_out(ow_router *r, const char *reason, const char *source, int64_t pos,
                         const char *raw, size_t len, ow_route_outcome *out, ow_err *err);

/* Send what is queued and wait for it (and for WAIT when configured). Once a second it also
 * reads new entries of ops:{g}:unrouted and looks the parked events' orders up, queueing those
 * whose route became known. After an error, calling it again resumes the same flush (items stay
 * queued; every round is idempotent). */
int ow_router_flush(ow_router *r, ow_err *err);

/* End of input: parked events whose order became known are sent on (the others stay in
 * ops:{g}:unrouted for a later ingest), every partition gets a tick with the final watermark (so
 * its engine fires what one node would have fired by the end), then a flush. While input flows, a
 * flush also ticks every partition at most once a second, so an engine whose partition is quiet
 * still follows the shared stream and the watermark. */
int ow_router_finish(ow_router *r, ow_err *err);

/* Items queued and not yet flushed. */
int64_t ow_router_queued(const ow_router *r);

const ow_router_stats *ow_router_stats_get(const ow_router *r);

#endif
