/*
 * shared_feed — a partition engine's view of what spans partitions (docs/scaling.md §4–5): the
 * shared stream ops:{g}:shared (tech.status, tech.location, parts.stock of the whole city), applied
 * to the engine's model in the order one node would have applied them, and the watermark.
 *
 * Routed ingest (ingest/router.h) gives every entry wm (the largest event time it had seen before
 * it) and sseq (shared entries before it); shared entries carry their number n. Before applying a
 * partition entry the engine calls ow_shared_feed_before: shared entries up to n = sseq are applied
 * (each as one node would: advance to its wm, apply, advance to max(wm, ts)), then the model is
 * advanced to the entry's wm; after it, ow_shared_feed_after advances to max(wm, ts). A tick entry
 * (end of an ingest run) only advances. So each partition decides every alert with the now and
 * the technicians one node had.
 *
 * The shared stream also carries a holding record (core/holding.h) for every order event routed
 * to a partition; those of other partitions' orders go to the technician replica
 * (ow_flags_holding, engine/holdings.h), so a technician's home partition decides overload and
 * stale_technician on every partition's orders.
 *
 * The position (last shared entry id and its n) goes into the engine's checkpoint cursor, so a
 * restart or a takeover resumes the replica where the checkpoint's model has it.
 *
 * It reads through its own blocking cluster client (io/cluster.h), so a failover of the shared
 * stream's master is retried there. Single-threaded; one per partition engine.
 */
#ifndef OW_SHARED_FEED_H
#define OW_SHARED_FEED_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "partition.h"
#include "state.h"

#define OW_SHARED_CURSOR_MAX 64 /* "<stream id>/<n>" */

typedef struct ow_shared_feed ow_shared_feed;

/* c is borrowed and must outlive the feed. NULL on out of memory. */
ow_shared_feed *ow_shared_feed_new(ow_cluster *c);
void ow_shared_feed_free(ow_shared_feed *f);

/* Start from a cursor written by ow_shared_feed_cursor ("" or NULL = the stream's start). */
void ow_shared_feed_reset(ow_shared_feed *f, const char *cursor);
void ow_shared_feed_cursor(const ow_shared_feed *f, char *out, size_t n);

/* Before a partition stream entry (its field list): bring the model up to the entry's sseq and
 * wm. *tick: the entry is a tick (nothing to apply after). Shared entries applied set *changed.
 * Waits (up to cluster.retry_for) for shared entries not yet readable. */
int ow_shared_feed_before(ow_shared_feed *f, ow_state *m, const redisReply *fields, bool *tick,
                          bool *changed, ow_err *err);

/* After the entry's event was applied: advance to max(wm, ts). */
int ow_shared_feed_after(ow_shared_feed *f, ow_state *m, int64_t ts_ms, ow_err *err);

/* Shared entries applied since the start (logs, tests). */
int64_t ow_shared_feed_applied(const ow_shared_feed *f);

#endif
