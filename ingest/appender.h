/*
 * appender — the one path by which input enters Redis: validate → de-duplicate → append.
 *
 * Every source (files, stdin, TCP, HTTP, CSV) hands its records to ow_appender_submit (or, having
 * validated them itself, to ow_appender_add_event / ow_appender_add_reject). Items are packed into
 * calls of the ow_ingest Redis Function (io/functions.h, io/batch.h): the de-dup check, the XADD to
 * ops:events and the record of the id are one atomic step in Redis; invalid input is kept in
 * ops:rejects with the reason, source, position and raw text. Up to ingest.inflight calls are in
 * flight at once on one asynchronous connection (io/redis_async.h), so Redis always has the next
 * batch while this process validates the one after.
 *
 * Items complete in the order they were submitted; each item's `done` callback says what became
 * of it, and only then is it in Redis (what a producer may be told is safe). When Redis goes away
 * nothing is dropped: batches in flight go back to the queue, the connection is retried with
 * backoff, and every batch is sent again once Redis answers — the de-dup step makes a batch sent
 * twice land once. The queue is bounded (ingest.buffer_events, ingest.buffer_bytes): past the
 * bound ow_appender_full() turns true and sources stop taking input until the on_space callback.
 *
 * Lifecycle: ow_appender_new → ow_appender_start → submits … → (ow_appender_buffered() == 0) →
 * ow_appender_close (items still queued complete as ABANDONED). One libuv loop, one thread.
 */
#ifndef OW_APPENDER_H
#define OW_APPENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "err.h"
#include "event.h"
#include "cluster.h"
#include "partition.h"
#include "redis.h"

typedef struct ow_appender ow_appender;

typedef enum {
    OW_RESULT_ACCEPTED,  /* appended to ops:events (stream_id given) */
    OW_RESULT_DUPLICATE, /* its id was seen within the de-dup window: not appended again */
    OW_RESULT_REJECTED,  /* invalid: kept in ops:rejects (stream_id of the reject entry) */
    OW_RESULT_ABANDONED  /* not known to be in Redis: the appender closed first */
} ow_result;

const char *ow_result_name(ow_result o); /* "accepted", "duplicate", "rejected", "abandoned" */

/* Called once per item, in submission order. stream_id is borrowed (NULL for duplicates and
 * abandoned items). */
typedef void ow_appender_done_fn(void *ud, int64_t tag, ow_result outcome, const char *stream_id);

/* Called when the buffer has room again after ow_appender_full() was true. */
typedef void ow_appender_space_fn(void *ud);

/* What validation said about a submitted record, for sources that answer per line. */
typedef struct ow_submit_info {
    bool rejected;
    char reason[OW_ERR_MSG_MAX + 96]; /* when rejected */
    char id[OW_ID_BUF];               /* event id when valid */
    int64_t ts_ms;                    /* event time when valid */
} ow_submit_info;

typedef struct ow_append_stats {
    int64_t accepted, duplicates, rejected; /* completed items */
    int64_t buffered_events, buffered_bytes;
    int64_t peak_events;     /* most items buffered at once */
    int64_t retries;         /* batches sent again after a failure */
    uint64_t redis_connects; /* reconnects = connects - 1 */
    bool redis_up;
} ow_append_stats;

/* cfg and env are borrowed and must outlive the appender. NULL with err on failure. */
ow_appender *ow_appender_new(uv_loop_t *loop, const ow_config *cfg, const ow_redis_env *env,
                             ow_err *err);
/* The same contract on a partitioned deployment (cluster.partitions > 1 or a Redis Cluster):
 * items go through the router (ingest/router.h) on its own thread (ingest/route_worker.h), each
 * to its partition, the shared stream or ops:{g}:unrouted. c and t are borrowed: keep them until
 * the appender is closed. */
ow_appender *ow_appender_new_routed(uv_loop_t *loop, const ow_config *cfg, ow_cluster *c,
                                    const ow_partition_table *t, ow_err *err);
/* End of input (routed only: ticks every partition with the final watermark; else nothing).
 * Counts as one buffered item until done. */
void ow_appender_finish(ow_appender *a);
void ow_appender_set_space_cb(ow_appender *a, ow_appender_space_fn *fn, void *ud);
void ow_appender_start(ow_appender *a);

/* Validate one record and queue it as an event or a reject. text[0..len) is the record (copied),
 * total its real length (> len when the source cut it at 64 KiB). source names where it came from
 * ("stdin", a file, "tcp 10.0.0.5:41000", "http token li.wei") and unit+pos where in it
 * ("line", 12): both go into a reject. info (optional) receives the validation result.
 * Returns OW_OK or OW_ENOMEM. Never refuses for lack of room: sources check ow_appender_full. */
int ow_appender_submit(ow_appender *a, const char *text, size_t len, size_t total,
                       const char *source, const char *unit, int64_t pos, ow_appender_done_fn *done,
                       void *ud, int64_t tag, ow_submit_info *info);

/* Queue an event the caller validated (ev from ow_event_parse of raw). */
int ow_appender_add_event(ow_appender *a, const ow_event *ev, const char *raw, size_t len,
                          ow_appender_done_fn *done, void *ud, int64_t tag);

/* Queue a reject with its reason (raw text kept up to 64 KiB). */
int ow_appender_add_reject(ow_appender *a, const char *reason, const char *source, int64_t pos,
                           const char *raw, size_t len, ow_appender_done_fn *done, void *ud,
                           int64_t tag);

/* Past the buffer bound: sources should stop reading until the space callback. */
bool ow_appender_full(const ow_appender *a);

/* Items submitted and not yet completed. */
int64_t ow_appender_buffered(const ow_appender *a);

ow_append_stats ow_appender_stats(const ow_appender *a);

/* Close the Redis connection and the handles; queued items complete as ABANDONED now. The
 * appender frees itself once its handles are closed (run the loop). */
void ow_appender_close(ow_appender *a);

#endif
