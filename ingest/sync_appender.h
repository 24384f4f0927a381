/*
 * sync_appender — the blocking twin-free way into the same ow_ingest step, for tools that run
 * start to end on one connection: the CSV import (csv_source.c) and opswall-rejects. Items are
 * packed into io/batch.h calls like the asynchronous appender's; a flush waits for the answer.
 * No buffering across outages: a Redis error is returned to the caller.
 *
 * Lifecycle: ow_sync_appender_new → (add | reject)* → flush → free. The redisContext is
 * borrowed and must outlive the appender.
 */
#ifndef OW_SYNC_APPENDER_H
#define OW_SYNC_APPENDER_H

#include <hiredis/hiredis.h>

#include "appender.h"
#include "config.h"
#include "err.h"
#include "event.h"

typedef struct ow_sync_appender ow_sync_appender;

/* Loads the Redis Function library. NULL with err on failure. */
ow_sync_appender *ow_sync_appender_new(redisContext *c, const ow_config *cfg, ow_err *err);
void ow_sync_appender_free(ow_sync_appender *s);

/* Queue a validated event (raw copied); sends the batch when it is full. */
int ow_sync_appender_add(ow_sync_appender *s, const ow_event *ev, const char *raw, size_t len,
                         ow_err *err);

/* Queue a reject (raw kept up to 64 KiB). */
int ow_sync_appender_reject(ow_sync_appender *s, const char *source, int64_t position,
                            const char *reason, const char *raw, size_t len, ow_err *err);

/* Send what is queued and wait: afterwards every item added is in Redis. */
int ow_sync_appender_flush(ow_sync_appender *s, ow_err *err);

/* Items still queued (not yet sent). */
size_t ow_sync_appender_queued(const ow_sync_appender *s);

const ow_append_stats *ow_sync_appender_stats(const ow_sync_appender *s);

#endif
