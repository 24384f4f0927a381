/*
 * fuzz_csvmap — mapping files and rows on hostile input.
 *
 * The input is a mapping (JSON) and a CSV export separated by the first NUL byte (no NUL: the
 * whole input is the mapping). Oracles: a rejected mapping has a message and no object; with an
 * accepted one, the header binds or is refused with a message, and every row either fails with a
 * message or produces 1-3 events that all pass the event contract (ow_event_parse).
 */
#include <string.h>

#include "csv.h"
#include "csvmap.h"
#include "event.h"
#include "fuzz_common.h"

typedef struct ctx {
    ow_csvmap *map;
    bool bound;
    ow_csvmap_row row;
    ow_event ev;
} ctx;

static int visit(const ow_csv_record *r, void *arg)
{
    ctx *c = arg;
    ow_err err;
    if (!c->bound) {
        if (ow_csvmap_bind(c->map, r, "x.csv", &err)) {
            fuzz_require(err.msg[0] != '\0', "bind error with a message");
            return OW_EINVAL; /* stop: nothing is read after a bad header */
        }
        c->bound = true;
        return OW_OK;
    }
    if (ow_csvmap_row_make(c->map, r, NULL, NULL, &c->row, &err)) {
        fuzz_require(err.msg[0] != '\0', "row error with a message");
        return OW_OK;
    }
    fuzz_require(c->row.nevents >= 1 && c->row.nevents <= OW_CSVMAP_MAX_EVENTS, "1-3 events");
    for (int i = 0; i < c->row.nevents; i++) {
        const ow_buf *b = &c->row.events[i];
        /* the export's text is not checked for UTF-8 and control characters here: the event
         * contract does that, and ingest rejects the row with its message */
        int rc = ow_event_parse(b->p, b->n, &c->ev, &err);
        bool text_issue = rc && (strstr(err.msg, "UTF-8") || strstr(err.msg, "control char"));
        if (rc && !text_issue)
            fprintf(stderr, "event: %.*s\nerror: %s\n", (int)b->n, b->p, err.msg);
        fuzz_require(rc == OW_OK || text_issue,
                     "a made event passes the contract (or its text is not UTF-8 / has controls)");
    }
    return OW_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t mlen = nul ? (size_t)(nul - data) : size;
    ctx c = {0};
    ow_err err;
    int rc = ow_csvmap_parse((const char *)data, mlen, "m.json", &c.map, &err);
    if (rc) {
        fuzz_require(c.map == NULL && err.msg[0], "mapping error with a message");
        return 0;
    }
    fuzz_require(ow_csvmap_time_zone(c.map)[0] != '\0', "a zone name");
    if (nul) {
        ow_csvmap_row_init(&c.row);
        ow_csv *p = ow_csv_new(OW_CSV_LIMITS_DEFAULT);
        if (!p) abort();
        if (ow_csv_feed(p, (const char *)nul + 1, size - mlen - 1, visit, &c) == OW_OK)
            ow_csv_finish(p, visit, &c);
        ow_csv_free(p);
        ow_csvmap_row_fini(&c.row);
    }
    ow_csvmap_free(c.map);
    return 0;
}
