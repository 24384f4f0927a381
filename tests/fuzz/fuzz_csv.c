/*
 * fuzz_csv — the streaming CSV reader on hostile bytes.
 *
 * Oracles: the records are the same whether the input arrives whole, byte by byte or in chunks
 * whose sizes come from the input; every field's length matches its NUL-terminated text; no raw
 * record or field is longer than the limits; record numbers count up from 1.
 */
#include <string.h>

#include "csv.h"
#include "fuzz_common.h"
#include "map.h"

typedef struct digest {
    uint64_t h;
    int64_t n;
} digest;

static int visit(const ow_csv_record *r, void *arg)
{
    digest *d = arg;
    fuzz_require(r->number == d->n + 1, "record numbers count up");
    fuzz_require(r->raw_len <= 64, "raw record within the limit");
    d->h = d->h * 31 + ow_hash(r->raw, r->raw_len);
    d->h = d->h * 31 + (r->error ? ow_hash(r->error, strlen(r->error)) : 7);
    if (!r->error) {
        fuzz_require(r->nfields >= 1 && r->nfields <= 8, "field count within the limit");
        for (size_t i = 0; i < r->nfields; i++) {
            fuzz_require(strlen(r->fields[i]) == r->lens[i], "field length");
            fuzz_require(r->lens[i] <= 16, "field within the limit");
            d->h = d->h * 31 + ow_hash(r->fields[i], r->lens[i]);
        }
    }
    d->n++;
    return OW_OK;
}

static digest run(const uint8_t *data, size_t size, const uint8_t *chunks, size_t nchunks)
{
    digest d = {0, 0};
    ow_csv *p = ow_csv_new((ow_csv_limits){16, 64, 8});
    if (!p) abort();
    size_t at = 0, k = 0;
    while (at < size) {
        size_t n = nchunks ? (size_t)chunks[k++ % nchunks] % 7 + 1 : size;
        if (n > size - at) n = size - at;
        fuzz_require(ow_csv_feed(p, (const char *)data + at, n, visit, &d) == OW_OK, "feed");
        at += n;
    }
    fuzz_require(ow_csv_finish(p, visit, &d) == OW_OK, "finish");
    ow_csv_free(p);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    digest whole = run(data, size, NULL, 0);
    uint8_t one = 0;
    digest bytes = run(data, size, &one, 1);
    digest chunked = run(data, size, data, size < 16 ? size : 16);
    fuzz_require(whole.n == bytes.n && whole.h == bytes.h, "byte by byte = whole");
    fuzz_require(whole.n == chunked.n && whole.h == chunked.h, "chunked = whole");
    return 0;
}
