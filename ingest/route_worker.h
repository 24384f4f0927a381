/*
 * route_worker — the router (ingest/router.h) on its own thread, behind the appender's contract,
 * so every libuv source (files with --speed/--from-line, the TCP listener, POST /api/v1/events)
 * feeds a partitioned deployment exactly as it feeds one Redis (docs/scaling.md §3).
 *
 * The router and the cluster client are blocking, the sources live on the loop: items are queued
 * on the loop thread and handed to the worker at the end of each loop iteration (everything
 * submitted in one iteration goes together, and while a flush is under way the next items pile up
 * into the next one). The worker routes them and flushes; a flush returns once every item is in
 * its partition, the shared stream, ops:{g}:unrouted (parked) or the rejects — with WAIT when
 * ingest.wait_replicas is set. Then the items' done callbacks run on the loop thread (uv_async),
 * in submission order, with the outcome (accepted, duplicate, rejected; a parked event is
 * accepted with its ops:{g}:unrouted entry as stream id). A flush that fails (a master away past
 * cluster.retry_for) is retried every half second for as long as it takes: items stay held,
 * the buffer fills to ingest.buffer_events / ingest.buffer_bytes, and the sources stop reading
 * (ow_route_worker_full) until it has room again (the space callback, below half the bound).
 *
 * Lifecycle (loop thread): new → (add_event | add_reject)* → finish (end of input: ticks) → close.
 * close waits for the worker's current call to return (at most cluster.retry_for) and completes
 * what was not written as ABANDONED. The cluster client and the table are borrowed; the worker
 * thread is their only user until close returns.
 */
#ifndef OW_ROUTE_WORKER_H
#define OW_ROUTE_WORKER_H

#include <stdbool.h>
#include <uv.h>

#include "appender.h"
#include "cluster.h"
#include "config.h"
#include "err.h"
#include "partition.h"

typedef struct ow_route_worker ow_route_worker;

/* Makes the router (loading its Redis Function and the parked events), starts the thread. */
ow_route_worker *ow_route_worker_new(uv_loop_t *loop, const ow_config *cfg, ow_cluster *c,
                                     const ow_partition_table *t, ow_err *err);
void ow_route_worker_set_space_cb(ow_route_worker *w, ow_appender_space_fn *fn, void *ud);

/* Queue an item (raw copied: an event validated by the caller, or a reject with its reason).
 * OW_OK or OW_ENOMEM. */
int ow_route_worker_add_event(ow_route_worker *w, const char *raw, size_t len,
                              ow_appender_done_fn *done, void *ud, int64_t tag);
int ow_route_worker_add_reject(ow_route_worker *w, const char *reason, const char *source,
                               int64_t pos, const char *raw, size_t len, ow_appender_done_fn *done,
                               void *ud, int64_t tag);
/* End of input: after what is queued, ticks to every partition (ow_router_finish). */
void ow_route_worker_finish(ow_route_worker *w);

bool ow_route_worker_full(const ow_route_worker *w);
int64_t ow_route_worker_buffered(const ow_route_worker *w); /* items (and a finish) not done */
ow_append_stats ow_route_worker_stats(const ow_route_worker *w);

/* Stop the thread, complete everything (ABANDONED where not written), free the router; the
 * worker frees itself once its handles are closed (run the loop). */
void ow_route_worker_close(ow_route_worker *w);

#endif
