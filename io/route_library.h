/*
 * route_library — the Redis Function of routed (partitioned) ingest, docs/scaling.md §3.
 *
 *   ow_append  KEYS: the stream, its de-dup prefix (both in one hash tag), and for the shared
 *                    stream its entry counter (same tag)
 *              ARGV: de-dup ms, stream maxlen, then per item: id, raw line, wm, sseq
 *                    An item with id "" is a tick: no de-dup, fields tick=<wm>, sseq.
 *              → per item: with a counter, the counter's new value (the entry's number in the
 *                shared stream, "n"); without, the new stream id; 0 for an id seen before
 *
 *   ow_park    KEYS: the unrouted stream ops:{g}:unrouted, its de-dup prefix ops:{g}:parked:
 *              ARGV: de-dup ms, then per item: event id, directory key ("order:<id>"), raw line
 *              → per item: the new entry's id, or 0 for an id parked before (within the window)
 *              Entries have fields id, key, d; the stream is never trimmed (ingest deletes an
 *              entry once its event is in its partition, or rejected).
 *
 * An event's de-dup mark is its own key <prefix><id> (SET NX PX), so check and append are one
 * atomic step in the partition's slot; a batch sent twice (the cluster client resends idempotent
 * batches after a failover) lands once. Entries get fields d (the raw event), wm (the largest
 * event time ingest had seen before it, ms) and sseq (shared-stream entries before it); shared
 * entries also n, their number. The library is loaded on every master (a function is replicated
 * to the master's replicas, so a promoted replica has it).
 */
#ifndef OW_ROUTE_LIBRARY_H
#define OW_ROUTE_LIBRARY_H

#include "cluster.h"
#include "err.h"

/* The Lua text (static). */
const char *ow_route_library(void);

/* FUNCTION LOAD REPLACE on every master of the current map. */
int ow_route_library_load(ow_cluster *c, ow_err *err);

#endif
