/*
 * appender — the one path by which events enter Redis: de-duplicate and append, atomically.
 *
 * Valid events are buffered and sent in batches to the Redis Function ow_append (io/functions.c),
 * which for each
 * event sets its dedup key (SET NX PX window) and, only when the key was new, XADDs the event to
 * ops:events — the check and the append are one atomic step on the Redis side, so several ingest
 * processes and restarts never append an event twice. Rejected input goes to ops:rejects with
 * the reason, the source and position, and the raw text.
 *
 * Lifecycle: ow_appender_new → (ow_appender_add | ow_appender_reject)* → ow_appender_flush →
 * ow_appender_free. The redisContext is borrowed and must outlive the appender.
 */
#ifndef OW_APPENDER_H
#define OW_APPENDER_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "event.h"

typedef struct ow_appender ow_appender;

typedef struct ow_append_stats {
    int64_t accepted;   /* appended to ops:events */
    int64_t duplicates; /* id seen within the dedup window: not appended again */
    int64_t rejected;   /* written to ops:rejects */
} ow_append_stats;

/* Loads (or replaces) the Redis Function library. NULL with err on failure. */
ow_appender *ow_appender_new(redisContext *c, const ow_config *cfg, ow_err *err);
void ow_appender_free(ow_appender *a);

/* Queue a validated event; raw[0..len) is its original text (copied). Flushes when the batch is
 * full. */
int ow_appender_add(ow_appender *a, const ow_event *ev, const char *raw, size_t len, ow_err *err);

/* Send whatever is queued and wait for the outcome of each event. */
int ow_appender_flush(ow_appender *a, ow_err *err);

/* Record a rejected input. raw is kept up to 64 KiB (longer text is cut and marked). */
int ow_appender_reject(ow_appender *a, const char *source, int64_t position, const char *reason,
                       const char *raw, size_t len, ow_err *err);

const ow_append_stats *ow_appender_stats(const ow_appender *a);

#endif
