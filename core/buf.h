/*
 * buf — a growable byte buffer whose appends never fail loudly: an allocation failure sets `oom`
 * and later appends do nothing, so a writer checks once at the end (checkpoints, JSON text).
 */
#ifndef OW_BUF_H
#define OW_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ow_buf {
    char *p; /* owned; always NUL-terminated after an append (not counted in n) */
    size_t n, cap;
    bool oom;
} ow_buf;

void ow_buf_init(ow_buf *b);
void ow_buf_put(ow_buf *b, const void *src, size_t n);
/* Frees the bytes and resets. */
void ow_buf_fini(ow_buf *b);

#endif
