/*
 * linereader — NDJSON lines from a FILE, with a hard cap on memory per line.
 *
 * A line longer than the cap is not held whole: its first `cap` bytes are kept, the rest is
 * skipped, and `total` tells the real length so the caller can reject it with a reason.
 */
#ifndef OW_LINEREADER_H
#define OW_LINEREADER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ow_linereader {
    FILE *f;    /* borrowed */
    char *buf;  /* owned, cap + 1 bytes */
    size_t cap; /* most bytes kept per line */
    int64_t lineno;
} ow_linereader;

int ow_linereader_init(ow_linereader *r, FILE *f, size_t cap);
void ow_linereader_fini(ow_linereader *r);

/* Next line without its '\n' (and '\r'). Returns false at end of input.
 * *len = bytes kept in r->buf (<= cap), *total = the line's full length. */
bool ow_linereader_next(ow_linereader *r, size_t *len, size_t *total);

#endif
