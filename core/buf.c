#include "buf.h"

#include <stdlib.h>
#include <string.h>

void ow_buf_init(ow_buf *b)
{
    memset(b, 0, sizeof *b);
}

void ow_buf_put_grow(ow_buf *b, const void *src, size_t n)
{
    if (b->oom) return; /* an out-of-memory buffer keeps cap 0 below n, so it always comes here */
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            b->cap = 0; /* every later append takes the slow path and is dropped */
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void ow_buf_fini(ow_buf *b)
{
    free(b->p);
    ow_buf_init(b);
}

bool ow_rbuf_get(ow_rbuf *r, void *dst, size_t n)
{
    if (r->bad) return false;
    if (r->n - r->off < n) return ow_rbuf_fail(r, "truncated");
    if (n) memcpy(dst, r->p + r->off, n); /* dst may be NULL for an empty array */
    r->off += n;
    return true;
}

bool ow_rbuf_fail(ow_rbuf *r, const char *why)
{
    if (!r->bad) r->bad = why;
    return false;
}
