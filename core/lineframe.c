#include "lineframe.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

int ow_lineframe_init(ow_lineframe *f, size_t cap)
{
    memset(f, 0, sizeof *f);
    f->buf = malloc(cap + 1);
    if (!f->buf) return OW_ENOMEM;
    f->cap = cap;
    return OW_OK;
}

void ow_lineframe_fini(ow_lineframe *f)
{
    free(f->buf);
    f->buf = NULL;
}

void ow_lineframe_feed(ow_lineframe *f, const char *data, size_t n)
{
    f->in = data;
    f->in_len = n;
    f->in_off = 0;
}

/* Append part of a line to the partial line, keeping at most cap bytes. */
static void keep(ow_lineframe *f, const char *p, size_t n)
{
    size_t room = f->cap - f->have, k = n < room ? n : room;
    memcpy(f->buf + f->have, p, k);
    f->have += k;
    f->total += n;
    f->partial = true;
}

static void emit(ow_lineframe *f, const char *text, size_t len, size_t total, ow_line *out)
{
    /* "\r\n": the '\r' belongs to the line end, when it was kept */
    if (len > 0 && len == total && text[len - 1] == '\r') len--, total--;
    out->text = text;
    out->len = len;
    out->total = total;
    out->lineno = ++f->lineno;
}

bool ow_lineframe_next(ow_lineframe *f, ow_line *out)
{
    if (f->in_off >= f->in_len) return false;
    const char *p = f->in + f->in_off;
    size_t left = f->in_len - f->in_off;
    const char *nl = memchr(p, '\n', left);
    if (!nl) {
        keep(f, p, left);
        f->in_off = f->in_len;
        return false;
    }
    size_t n = (size_t)(nl - p);
    f->in_off += n + 1;
    if (!f->partial) {
        /* the whole line is inside this piece: hand it out in place */
        emit(f, p, n < f->cap ? n : f->cap, n, out);
        return true;
    }
    keep(f, p, n);
    f->buf[f->have] = '\0';
    emit(f, f->buf, f->have, f->total, out);
    f->have = f->total = 0;
    f->partial = false;
    return true;
}

bool ow_lineframe_finish(ow_lineframe *f, ow_line *out)
{
    if (!f->partial) return false;
    f->buf[f->have] = '\0';
    emit(f, f->buf, f->have, f->total, out);
    f->have = f->total = 0;
    f->partial = false;
    return true;
}
