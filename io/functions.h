/*
 * functions — opswall's Redis Function library (Lua), the one place where Redis-side atomic steps
 * are written. Every program that appends loads it at start-up (FUNCTION LOAD REPLACE of the same
 * text is idempotent), and ingest again on every reconnect: a Redis restarted without AOF has
 * forgotten it.
 *
 *   ow_ingest  KEYS: events stream, de-dup bucket prefix, rejects stream (all in one hash tag)
 *              ARGV: bucket ms, buckets, events maxlen, rejects maxlen, then per item:
 *                    id key, raw line                         — an event (stream field d); the
 *                                                               key is the id's 16-byte digest
 *                                                               (io/batch.h), never empty
 *                    "", reason, source, position, raw text   — a reject, kept as given
 *              → per item: the new stream id, or 0 for an event whose id was seen before
 *
 * De-duplication: an event id's key is remembered in the set <prefix><bucket>, bucket = Redis time
 * / bucket ms; a call checks the current bucket and the `buckets` before it, so an id is remembered
 * for at least buckets × bucket ms (the configured window) and at most one bucket longer, after
 * which its set expires. The check, the XADD and the SADD are one atomic step in Redis, so neither
 * a retry, a restart nor a second ingest process appends an event twice. io/batch.h builds calls.
 */
#ifndef OW_FUNCTIONS_H
#define OW_FUNCTIONS_H

#include <hiredis/hiredis.h>

#include "err.h"

int ow_functions_load(redisContext *c, ow_err *err);

/* The library's Lua text (static), for asynchronous loading. */
const char *ow_functions_library(void);

#endif
