#include "linereader.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

int ow_linereader_init(ow_linereader *r, FILE *f, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->buf = malloc(cap + 1);
    if (!r->buf) return OW_ENOMEM;
    r->f = f;
    r->cap = cap;
    return OW_OK;
}

void ow_linereader_fini(ow_linereader *r)
{
    free(r->buf);
    r->buf = NULL;
}

bool ow_linereader_next(ow_linereader *r, size_t *len, size_t *total)
{
    size_t n = 0, all = 0;
    int c;
    bool any = false;
    while ((c = getc_unlocked(r->f)) != EOF) {
        any = true;
        if (c == '\n') break;
        if (n < r->cap) r->buf[n++] = (char)c;
        all++;
    }
    if (!any) return false;
    if (n > 0 && r->buf[n - 1] == '\r' && n == all) n--, all--;
    r->buf[n] = '\0';
    r->lineno++;
    *len = n;
    *total = all;
    return true;
}
