/*
 * fuzz_event — ow_event_parse on arbitrary bytes.
 *
 * Beyond "no crash, no leak, no UB": a result is either a rejection with a code and a message,
 * or an event that obeys the contract (DESIGN §3) — and parsing the same bytes twice gives the
 * same event.
 */
#include <string.h>

#include "event.h"
#include "fuzz_common.h"
#include "json.h"

static ow_event ev, again;

static bool text_ok(const char *s, size_t buf, size_t lo, size_t hi, bool free_text)
{
    size_t len = strnlen(s, buf);
    if (len == buf || !ow_json_utf8_valid(s, len, NULL)) return false;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80) chars++;
        if ((c < 0x20 || c == 0x7F) && !(free_text && (c == '\t' || c == '\n' || c == '\r')))
            return false;
    }
    return chars >= lo && chars <= hi;
}

static void check_event(void)
{
    fuzz_require(ev.type >= 0 && ev.type < OW_EV__COUNT, "type in range");
    fuzz_require(text_ok(ev.id, sizeof ev.id, 1, OW_ID_MAX_CHARS, false), "id 1-128 characters");
    /* optional text is empty or valid; required text is checked by type below */
    fuzz_require(text_ok(ev.order_id, sizeof ev.order_id, 0, OW_ID_MAX_CHARS, false), "order_id");
    fuzz_require(text_ok(ev.tech_id, sizeof ev.tech_id, 0, OW_ID_MAX_CHARS, false), "tech_id");
    fuzz_require(text_ok(ev.complaint_id, sizeof ev.complaint_id, 0, OW_ID_MAX_CHARS, false),
                 "complaint_id");
    fuzz_require(text_ok(ev.customer_id, sizeof ev.customer_id, 0, OW_ID_MAX_CHARS, false),
                 "customer_id");
    fuzz_require(text_ok(ev.category, sizeof ev.category, 0, OW_NAME_MAX_CHARS, false), "category");
    fuzz_require(text_ok(ev.region, sizeof ev.region, 0, OW_NAME_MAX_CHARS, false), "region");
    fuzz_require(text_ok(ev.skill, sizeof ev.skill, 0, OW_NAME_MAX_CHARS, false), "skill");
    fuzz_require(text_ok(ev.name, sizeof ev.name, 0, OW_NAME_MAX_CHARS, false), "name");
    fuzz_require(text_ok(ev.depot, sizeof ev.depot, 0, OW_NAME_MAX_CHARS, false), "depot");
    fuzz_require(text_ok(ev.sku, sizeof ev.sku, 0, OW_NAME_MAX_CHARS, false), "sku");
    fuzz_require(text_ok(ev.reason, sizeof ev.reason, 0, OW_REASON_MAX_CHARS, true), "reason");
    fuzz_require(ev.nskills >= 0 && ev.nskills <= OW_SKILLS_MAX, "nskills");
    for (int i = 0; i < ev.nskills; i++)
        fuzz_require(text_ok(ev.skills[i], OW_NAME_BUF, 1, OW_NAME_MAX_CHARS, false), "skill item");
    fuzz_require(ev.nparts >= 0 && ev.nparts <= OW_PARTS_MAX, "nparts");
    fuzz_require(ev.priority >= 0 && ev.priority < OW_PRIO__COUNT, "priority");
    fuzz_require(ev.channel >= 0 && ev.channel < OW_CH__COUNT, "channel");
    fuzz_require(ev.segment >= 0 && ev.segment < OW_SEG__COUNT, "segment");
    fuzz_require(ev.pause_reason >= 0 && ev.pause_reason < OW_PAUSE__COUNT, "pause reason");
    fuzz_require(ev.severity >= 0 && ev.severity < OW_SEV__COUNT, "severity");
    fuzz_require(ev.status >= 0 && ev.status < OW_TECH__COUNT, "status");
    if (ev.has_geo)
        fuzz_require(ev.lat >= -90 && ev.lat <= 90 && ev.lon >= -180 && ev.lon <= 180, "geo");
    fuzz_require(ev.nps >= -1 && ev.nps <= 10, "nps");
    fuzz_require(ev.eta_s >= -1 && ev.eta_s <= 7 * 86400, "eta_s");
    fuzz_require(ev.qty >= 0 && ev.qty <= INT32_MAX, "qty");
    /* ts: years 0000-9999 (0000 is a leap year) with a zone of at most ±23:59 */
    fuzz_require(ev.ts_ms >= INT64_C(-62135596800000) - 367 * INT64_C(86400000) &&
                     ev.ts_ms <= INT64_C(253402300800000) + 86400000,
                 "ts range");
    switch (ev.type) {
    case OW_EV_ORDER_CALLBACK: fuzz_require(ev.score >= 1 && ev.score <= 5, "score 1-5"); break;
    case OW_EV_TECH_LOCATION: fuzz_require(ev.has_geo, "tech.location has geo"); break;
    case OW_EV_PARTS_STOCK: fuzz_require(ev.depot[0] && ev.sku[0], "depot and sku"); break;
    case OW_EV_COMPLAINT_CREATED:
    case OW_EV_COMPLAINT_RESPONDED: fuzz_require(ev.complaint_id[0], "complaint_id"); break;
    case OW_EV_TECH_STATUS: fuzz_require(ev.tech_id[0], "tech_id"); break;
    default: fuzz_require(!ow_event_is_order(ev.type) || ev.order_id[0], "order_id"); break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ow_err err;
    ow_err_clear(&err);
    /* the parser leaves the bytes after a string's terminator as they were: start both parses
     * alike, so the byte comparison below compares what the parser wrote */
    memset(&ev, 0, sizeof ev);
    memset(&again, 0, sizeof again);
    int rc = ow_event_parse(text, size, &ev, &err);
    if (rc != OW_OK) {
        fuzz_require(rc == OW_EINVAL || rc == OW_ETOOBIG, "rejections are EINVAL or ETOOBIG");
        fuzz_require((rc == OW_ETOOBIG) == (size > OW_EVENT_MAX_BYTES), "ETOOBIG iff > 64 KiB");
        fuzz_require(err.code == rc, "err.code matches");
        size_t ml = strnlen(err.msg, sizeof err.msg);
        fuzz_require(ml > 0 && ml < sizeof err.msg, "a message");
        fuzz_require(ow_json_utf8_valid(err.msg, ml, NULL), "the message is valid UTF-8");
        fuzz_require(ow_event_parse(text, size, &again, NULL) == rc, "NULL err: same code");
        return 0;
    }
    fuzz_require(size <= OW_EVENT_MAX_BYTES, "accepted events fit 64 KiB");
    check_event();
    /* deterministic: the same bytes give the same event, byte for byte */
    fuzz_require(ow_event_parse(text, size, &again, NULL) == OW_OK, "second parse succeeds");
    fuzz_require(memcmp(&ev, &again, sizeof ev) == 0, "second parse gives the same event");
    return 0;
}
