/*
 * functions — opswall's Redis Function library (Lua), the one place where Redis-side atomic steps
 * are written. Every program that appends loads it at start-up (FUNCTION LOAD REPLACE of the same
 * text is idempotent); functions are not persisted without AOF, so loading at start is required.
 *
 *   ow_append  KEYS: events stream, one dedup key per event
 *              ARGV: dedup window ms, stream maxlen, then (ts, type, raw) per event
 *              → per event: the new stream id, or nil for a duplicate
 */
#ifndef OW_FUNCTIONS_H
#define OW_FUNCTIONS_H

#include <hiredis/hiredis.h>

#include "err.h"

int ow_functions_load(redisContext *c, ow_err *err);

#endif
