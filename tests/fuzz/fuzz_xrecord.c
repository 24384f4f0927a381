/*
 * fuzz_xrecord — ow_xrec_decode (core/xrecord.h) on arbitrary bytes: the cross-partition records
 * an engine reads from the shared stream.
 *
 * Beyond "no crash, no leak, no UB": a rejection has a code and a message; an accepted record
 * obeys the format (kind and type agree, partition in range, the members its type carries), and
 * encoding it again and decoding that gives the same record (what the engine applies is what
 * ingest meant).
 */
#include <string.h>

#include "fuzz_common.h"
#include "json.h"
#include "xrecord.h"

static ow_xrec x, again;
static ow_event ev;

static bool text_ok(const char *s, size_t buf, bool empty_ok)
{
    size_t len = strnlen(s, buf);
    return len < buf && (empty_ok || len > 0) && ow_json_utf8_valid(s, len, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ow_err err;
    ow_err_clear(&err);
    int rc = ow_xrec_decode(text, size, &x, &err);
    if (rc != OW_OK) {
        fuzz_require(rc == OW_EINVAL || rc == OW_ETOOBIG, "rejections are EINVAL or ETOOBIG");
        fuzz_require((rc == OW_ETOOBIG) == (size > OW_XREC_MAX_BYTES), "ETOOBIG iff too long");
        fuzz_require(err.code == rc, "err.code matches");
        size_t ml = strnlen(err.msg, sizeof err.msg);
        fuzz_require(ml > 0 && ml < sizeof err.msg, "a message");
        fuzz_require(ow_xrec_decode(text, size, &again, NULL) == rc, "NULL err: same code");
        return 0;
    }
    fuzz_require(ow_xrec_is(text, size), "a record starts with '['");
    fuzz_require(x.partition >= 0 && x.partition < OW_XREC_PARTITIONS_MAX, "partition");
    fuzz_require((x.kind == OW_XREC_COMPLAINT) == (x.type == OW_EV_COMPLAINT_CREATED),
                 "kind and type agree");
    fuzz_require(x.kind == OW_XREC_COMPLAINT || ow_event_is_order(x.type), "an order type");
    fuzz_require(x.ts_ms >= 0, "instant");
    fuzz_require(text_ok(x.id, sizeof x.id, false), "id");
    fuzz_require(text_ok(x.tech, sizeof x.tech, x.type != OW_EV_ORDER_DISPATCHED), "tech");
    fuzz_require(text_ok(x.category, sizeof x.category, true), "category");
    fuzz_require(text_ok(x.region, sizeof x.region, true), "region");
    if (x.type == OW_EV_ORDER_CREATED) fuzz_require(x.has_geo || x.has_address, "a place");
    if (x.has_geo)
        fuzz_require(x.lat >= -90 && x.lat <= 90 && x.lon >= -180 && x.lon <= 180, "geo");
    /* round trip through the encoder */
    memset(&ev, 0, sizeof ev);
    ev.type = x.type;
    ev.ts_ms = x.ts_ms;
    memcpy(x.kind == OW_XREC_COMPLAINT ? ev.complaint_id : ev.order_id, x.id, sizeof x.id);
    memcpy(ev.tech_id, x.tech, sizeof x.tech);
    memcpy(ev.category, x.category, sizeof x.category);
    memcpy(ev.region, x.region, sizeof x.region);
    ev.has_geo = x.has_geo, ev.lon = x.lon, ev.lat = x.lat;
    ev.has_address = x.has_address, ev.address_key = x.address_key;
    fuzz_require(ow_xrec_wanted(&ev), "an accepted record is of an event that carries one");
    ow_buf b;
    ow_buf_init(&b);
    fuzz_require(ow_xrec_encode(&ev, x.partition, &b) == OW_OK, "encodes");
    fuzz_require(ow_xrec_decode(b.p, b.n, &again, &err) == OW_OK, "its encoding decodes");
    ow_buf_fini(&b);
    fuzz_require(memcmp(&x, &again, sizeof x) == 0 ||
                     (x.kind == again.kind && x.partition == again.partition &&
                      x.type == again.type && x.ts_ms == again.ts_ms &&
                      strcmp(x.id, again.id) == 0 && strcmp(x.tech, again.tech) == 0 &&
                      strcmp(x.category, again.category) == 0 &&
                      strcmp(x.region, again.region) == 0 && x.has_geo == again.has_geo &&
                      (!x.has_geo || (x.lon == again.lon && x.lat == again.lat)) &&
                      x.has_address == again.has_address && x.address_key == again.address_key),
                 "the round trip gives the same record");
    return 0;
}
