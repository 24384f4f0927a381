/*
 * delta — compact changes between two published snapshots (the wire format shared by the engine,
 * which makes them, and the feed and wallboard, which apply them; docs/protocol.md).
 *
 *   {"v":1,"type":"delta","seq":43,"base":42,"set":{"open":{...},"urgent":[...]},"del":["x"]}
 *
 * `set` holds every top-level member whose value changed (whole), `del` the members that went
 * away. A reader holding snapshot `base` applies the delta to get snapshot `seq`; a reader whose
 * snapshot is not `base` has missed a message and must resync (fetch the full snapshot).
 */
#ifndef OW_DELTA_H
#define OW_DELTA_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The delta from old to new (both snapshot JSON texts with a "seq"). Caller frees with free().
 * NULL with err when either is not a snapshot object. */
char *ow_delta_make(const char *old_text, size_t old_len, const char *new_text, size_t new_len,
                    ow_err *err);

/* The same from parsed snapshots (a publisher that holds the trees parses nothing). Members may
 * be raw JSON (cJSON_Raw): they are compared as text. */
char *ow_delta_make_tree(const cJSON *old_snap, const cJSON *new_snap, ow_err *err);

/* Apply a delta to a snapshot. Returns the new snapshot text (caller frees with free()).
 * OW_EAGAIN in err->code when the delta's base is not the snapshot's seq (resync needed);
 * OW_EINVAL for malformed input. */
char *ow_delta_apply(const char *snap_text, size_t snap_len, const char *delta_text,
                     size_t delta_len, ow_err *err);

/* The same on a parsed snapshot held by the reader (no text round trip: a large snapshot is not
 * parsed and printed again for every delta). `snap` (with integer "seq" == *snap_seq) is changed in
 * place and *snap_seq becomes the delta's seq; `delta` is borrowed. OW_EAGAIN when the delta's
 * base is not *snap_seq (resync), OW_EINVAL when it is not a delta; `snap` is unchanged then. */
int ow_delta_apply_tree(cJSON *snap, int64_t *snap_seq, const cJSON *delta, ow_err *err);

#endif
