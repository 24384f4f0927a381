/*
 * fuzz_holding — the shared stream's holding records (core/holding.h) on arbitrary bytes, and the
 * technician replica they feed (engine/holdings.h).
 *
 * The input is lines; each goes through ow_holding_parse. A rejection has a code and a message
 * naming a field; an accepted record obeys the format (partition, an order type, ids without
 * control characters, a technician only on dispatches and acceptances) and formats to text that
 * parses back to the same record. Accepted records are applied, in order, to a replica (the
 * watermark: the largest instant so far); its checkpoint part then loads into a fresh replica
 * that gives every technician the same counts and saves the same bytes.
 */
#include <string.h>

#include "buf.h"
#include "fuzz_common.h"
#include "holding.h"
#include "holdings.h"
#include "map.h"

#define NTECHS 8 /* technicians by a hash of their id: collisions are fine, indices are stable */

static ow_holding h, again;

static bool clean(const char *s, bool may_be_empty)
{
    size_t n = strnlen(s, OW_ID_BUF);
    if (n == OW_ID_BUF || (!n && !may_be_empty)) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) return false;
    return true;
}

static void check_record(void)
{
    fuzz_require(h.partition >= 0 && h.partition < 1024, "partition 0-1023");
    fuzz_require(ow_event_is_order(h.type), "an order event type");
    fuzz_require(h.ts_ms >= -(INT64_C(1) << 50) && h.ts_ms <= (INT64_C(1) << 50), "ts range");
    fuzz_require(clean(h.order_id, false), "order id");
    bool who = h.type == OW_EV_ORDER_DISPATCHED || h.type == OW_EV_ORDER_ACCEPTED;
    fuzz_require(clean(h.tech_id, !who) && (who || !h.tech_id[0]), "tech id only when it names");
    char text[OW_HOLDING_MAX];
    int n = ow_holding_format(&h, text, sizeof text);
    fuzz_require(n > 0 && ow_holding_is(text, (size_t)n), "formats");
    memset(&again, 0, sizeof again);
    fuzz_require(ow_holding_parse(text, (size_t)n, &again, NULL) == OW_OK, "parses back");
    fuzz_require(again.partition == h.partition && again.type == h.type && again.ts_ms == h.ts_ms &&
                     strcmp(again.order_id, h.order_id) == 0 &&
                     strcmp(again.tech_id, h.tech_id) == 0,
                 "the same record");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    ow_holdings *hs = ow_holdings_new(3 * 3600 * 1000);
    fuzz_require(hs != NULL, "new");
    int64_t wm = INT64_MIN;
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        ow_err err;
        ow_err_clear(&err);
        memset(&h, 0, sizeof h);
        int rc = ow_holding_parse(p, len, &h, &err);
        if (rc) {
            fuzz_require(rc == OW_EINVAL && err.code == rc, "rejections are EINVAL");
            fuzz_require(strncmp(err.msg, "holding record: field ", 22) == 0, "names a field");
        } else {
            check_record();
            int32_t tech =
                h.tech_id[0] ? (int32_t)(ow_hash(h.tech_id, strlen(h.tech_id)) % NTECHS) : -1;
            ow_hold_change ch[OW_HOLD_CHANGES_MAX];
            int n = ow_holdings_apply(hs, &h, tech, wm == INT64_MIN ? h.ts_ms : wm, ch);
            fuzz_require(n >= 0 && n <= OW_HOLD_CHANGES_MAX, "changes");
            for (int i = 0; i < n; i++)
                fuzz_require(ch[i].tech >= 0 && ch[i].tech < NTECHS, "a change names a tech");
            if (h.ts_ms > wm) wm = h.ts_ms;
        }
        if (!nl) break;
        p = nl + 1;
    }
    for (int32_t t = 0; t < NTECHS; t++)
        fuzz_require(ow_holdings_active(hs, t) >= 0 && ow_holdings_held(hs, t) >= 0,
                     "counts never negative");
    ow_buf b = {0}, b2 = {0};
    ow_holdings_save(hs, &b);
    fuzz_require(!b.oom, "save");
    ow_holdings *back = ow_holdings_new(3 * 3600 * 1000);
    ow_rbuf r = {b.p, b.n, 0, NULL};
    fuzz_require(back && ow_holdings_load(back, &r, NTECHS) && r.off == r.n, "loads back");
    for (int32_t t = 0; t < NTECHS; t++)
        fuzz_require(ow_holdings_active(back, t) == ow_holdings_active(hs, t) &&
                         ow_holdings_held(back, t) == ow_holdings_held(hs, t),
                     "the same counts after a checkpoint");
    fuzz_require(ow_holdings_orders(back) == ow_holdings_orders(hs), "the same orders");
    ow_holdings_save(back, &b2);
    fuzz_require(!b2.oom && b2.n == b.n, "saves the same size");
    free(b.p), free(b2.p);
    ow_holdings_free(back);
    ow_holdings_free(hs);
    return 0;
}
