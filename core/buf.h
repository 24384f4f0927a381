/*
 * buf — a growable byte buffer whose appends never fail loudly: an allocation failure sets `oom`
 * and later appends do nothing, so a writer checks once at the end (checkpoints, JSON text).
 */
#ifndef OW_BUF_H
#define OW_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct ow_buf {
    char *p; /* owned; always NUL-terminated after an append (not counted in n) */
    size_t n, cap;
    bool oom;
} ow_buf;

void ow_buf_init(ow_buf *b);

/* Grows the buffer, then appends (the rare path of ow_buf_put). */
void ow_buf_put_grow(ow_buf *b, const void *src, size_t n);

/* Append n bytes. Inline: JSON and RESP writers call it for every few bytes they emit. */
static inline void ow_buf_put(ow_buf *b, const void *src, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        ow_buf_put_grow(b, src, n);
        return;
    }
    if (n) memcpy(b->p + b->n, src, n); /* src may be NULL when n is 0 (an empty array) */
    b->n += n;
    b->p[b->n] = '\0';
}
/* Frees the bytes and resets. */
void ow_buf_fini(ow_buf *b);

/* The reading side: every read is bounds-checked and the first failure sticks (`bad` says what),
 * so a loader reads field after field and checks once. For bytes from outside (checkpoints). */
typedef struct ow_rbuf {
    const char *p;
    size_t n, off;
    const char *bad; /* first problem, or NULL */
} ow_rbuf;

/* Copy the next n bytes into dst; false (and bad = "truncated") when fewer remain. */
bool ow_rbuf_get(ow_rbuf *r, void *dst, size_t n);
/* Record a problem (the first one wins); returns false, for `return ow_rbuf_fail(r, "...")`. */
bool ow_rbuf_fail(ow_rbuf *r, const char *why);

#endif
