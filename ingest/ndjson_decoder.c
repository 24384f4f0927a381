/* NDJSON decoder (ingest/source.h): core/lineframe.c does the cutting. */
#include <stdlib.h>

#include "event.h"
#include "lineframe.h"
#include "source.h"

typedef struct ndjson {
    ow_decoder base;
    ow_lineframe frame;
} ndjson;

static void to_record(const ow_line *l, ow_record *out)
{
    out->text = l->text;
    out->len = l->len;
    out->total = l->total;
    out->pos = l->lineno;
    out->reject = NULL;
}

static void nd_feed(ow_decoder *d, const char *data, size_t n)
{
    ow_lineframe_feed(&((ndjson *)d)->frame, data, n);
}

static int nd_next(ow_decoder *d, ow_record *out, ow_err *err)
{
    (void)err;
    ow_line l;
    if (!ow_lineframe_next(&((ndjson *)d)->frame, &l)) return 0;
    to_record(&l, out);
    return 1;
}

static int nd_finish(ow_decoder *d, ow_record *out, ow_err *err)
{
    (void)err;
    ow_line l;
    if (!ow_lineframe_finish(&((ndjson *)d)->frame, &l)) return 0;
    to_record(&l, out);
    return 1;
}

static void nd_free(ow_decoder *d)
{
    if (!d) return;
    ow_lineframe_fini(&((ndjson *)d)->frame);
    free(d);
}

static const ow_decoder_ops ndjson_ops = {"ndjson", "line", nd_feed, nd_next, nd_finish, nd_free};

ow_decoder *ow_ndjson_decoder_new(const ow_config *cfg, const char *path, ow_err *err)
{
    (void)cfg;
    (void)path;
    ndjson *d = calloc(1, sizeof *d);
    if (!d || ow_lineframe_init(&d->frame, OW_EVENT_MAX_BYTES)) {
        free(d);
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    d->base.ops = &ndjson_ops;
    return &d->base;
}
