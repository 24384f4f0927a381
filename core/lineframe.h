/*
 * lineframe — cut a byte stream that arrives in pieces (TCP reads, file chunks, HTTP bodies) into
 * NDJSON lines, holding at most `cap` bytes of any one line.
 *
 * Lines that lie wholly inside the piece just fed are returned as pointers into it (no copy); a
 * line split across pieces is assembled in the frame's own buffer. A line longer than `cap` keeps
 * its first `cap` bytes; the rest is skipped as it arrives and `total` tells the real length, so
 * the caller can reject it with a reason instead of holding megabytes. "\r\n" ends a line like
 * "\n". Pure: no I/O.
 *
 * Lifecycle: ow_lineframe_init → (ow_lineframe_feed → ow_lineframe_next* until 0)* →
 * ow_lineframe_finish (at end of input) → ow_lineframe_fini.
 */
#ifndef OW_LINEFRAME_H
#define OW_LINEFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ow_line {
    const char *text; /* borrowed: valid until the next feed/next/finish call */
    size_t len;       /* bytes in text (≤ cap), without the line end */
    size_t total;     /* the line's real length; > len when it was cut at cap */
    int64_t lineno;   /* 1-based line number in the stream */
} ow_line;

typedef struct ow_lineframe {
    char *buf;      /* owned, cap + 1 bytes: a line split across pieces */
    size_t cap;     /* most bytes kept per line */
    size_t have;    /* bytes of the current partial line in buf */
    size_t total;   /* real length of the current partial line so far */
    const char *in; /* the piece being cut (borrowed) */
    size_t in_len, in_off;
    int64_t lineno; /* lines returned so far */
    bool partial;   /* a line has started and not ended */
} ow_lineframe;

/* Returns 0, or OW_ENOMEM. */
int ow_lineframe_init(ow_lineframe *f, size_t cap);
void ow_lineframe_fini(ow_lineframe *f);

/* Hand over the next piece (borrowed until ow_lineframe_next returns 0). */
void ow_lineframe_feed(ow_lineframe *f, const char *data, size_t n);

/* The next complete line of what was fed: true with *out filled, false when the piece is used up.
 */
bool ow_lineframe_next(ow_lineframe *f, ow_line *out);

/* End of input: a last line without a line end, if any (true with *out filled). */
bool ow_lineframe_finish(ow_lineframe *f, ow_line *out);

/* Bytes held for a partial line (for memory accounting). */
static inline size_t ow_lineframe_pending(const ow_lineframe *f)
{
    return f->have;
}

#endif
