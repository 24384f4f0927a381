/*
 * jsonarray — walk the elements of a top-level JSON array without building it: each element comes
 * back as the slice of the original text, so an HTTP body `[{...},{...}]` is handled event by event
 * exactly like NDJSON lines (the event codec then checks each element strictly).
 *
 * The walker only tracks strings, escapes and bracket depth; it does not validate the elements.
 * Depth is capped (OW_JSONARRAY_MAX_DEPTH) so hostile nesting costs nothing. Pure: no I/O.
 *
 *   ow_jsonarray it; ow_jsonarray_init(&it, body, len);
 *   while ((rc = ow_jsonarray_next(&it, &elem, &n, &err)) == 1) ...   (0 = end, <0 = malformed)
 */
#ifndef OW_JSONARRAY_H
#define OW_JSONARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define OW_JSONARRAY_MAX_DEPTH 64

typedef struct ow_jsonarray {
    const char *text; /* borrowed */
    size_t len, off;
    int64_t index; /* elements returned so far */
    bool started, closing, done, failed;
} ow_jsonarray;

/* Does this body look like a JSON array (its first non-blank byte is an opening bracket)? */
bool ow_jsonarray_detect(const char *text, size_t len);

void ow_jsonarray_init(ow_jsonarray *it, const char *text, size_t len);

/* 1: (*elem, *n) is the next element (trimmed of blanks); 0: the array ended cleanly;
 * OW_EINVAL: the text is not a well-formed array here (err says where and why; later calls
 * return the same error). */
int ow_jsonarray_next(ow_jsonarray *it, const char **elem, size_t *n, ow_err *err);

#endif
