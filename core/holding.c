#include "holding.h"

#include <stdio.h>
#include <string.h>

#include "partition.h"

#define INSTANT_LIMIT (INT64_C(1) << 50) /* every instant an event can carry lies inside */

bool ow_holding_is(const char *text, size_t len)
{
    return len >= 2 && text[0] == 'H' && text[1] == '\t';
}

int ow_holding_from_event(const ow_event *ev, int partition, ow_holding *h)
{
    if (!ow_event_is_order(ev->type) || partition < 0 || partition >= OW_PARTITIONS_MAX)
        return OW_EINVAL;
    h->partition = partition;
    h->type = ev->type;
    h->ts_ms = ev->ts_ms;
    snprintf(h->order_id, sizeof h->order_id, "%s", ev->order_id);
    bool who = ev->type == OW_EV_ORDER_DISPATCHED || ev->type == OW_EV_ORDER_ACCEPTED;
    snprintf(h->tech_id, sizeof h->tech_id, "%s", who ? ev->tech_id : "");
    return OW_OK;
}

int ow_holding_format(const ow_holding *h, char *out, size_t n)
{
    int k = snprintf(out, n, "H\t%d\t%s\t%lld\t%s\t%s", h->partition, ow_event_type_name(h->type),
                     (long long)h->ts_ms, h->order_id, h->tech_id);
    return k < 0 || (size_t)k >= n ? -1 : k;
}

int ow_holding_mark(const char *event_id, char *out, size_t n)
{
    int k = snprintf(out, n, "%s\thold", event_id);
    return k < 0 || (size_t)k >= n ? -1 : k;
}

static const char *const field_names[] = {"H", "partition", "type", "ts", "order_id", "tech_id"};

static int bad(ow_err *err, int field, const char *why)
{
    return ow_err_set(err, OW_EINVAL, "holding record: field %d (%s): %s", field + 1,
                      field_names[field], why);
}

/* A decimal integer filling the whole field, within [lo, hi]. */
static bool number(const char *p, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    bool neg = n > 0 && p[0] == '-';
    size_t i = neg;
    if (i == n || n - i > 18) return false; /* 18 digits: no overflow below */
    int64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        v = v * 10 + (p[i] - '0');
    }
    v = neg ? -v : v;
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* An id: no control characters (as core/event.c takes them), shorter than OW_ID_BUF. */
static bool id_field(const char *p, size_t n, char *out, bool may_be_empty)
{
    if ((!n && !may_be_empty) || n >= OW_ID_BUF) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7F) return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

int ow_holding_parse(const char *text, size_t len, ow_holding *h, ow_err *err)
{
    const char *f[6];
    size_t fl[6];
    int nf = 0;
    const char *p = text, *end = text + len;
    for (;;) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        if (nf == 6) return bad(err, 5, "more fields than six");
        f[nf] = p;
        fl[nf] = (size_t)((tab ? tab : end) - p);
        nf++;
        if (!tab) break;
        p = tab + 1;
    }
    if (nf < 6) return bad(err, nf, "missing (a record has six tab-separated fields)");
    if (fl[0] != 1 || f[0][0] != 'H') return bad(err, 0, "expected H");
    int64_t v;
    if (!number(f[1], fl[1], 0, OW_PARTITIONS_MAX - 1, &v))
        return bad(err, 1, "expected a partition 0-1023");
    h->partition = (int)v;
    char name[32];
    int type = -1;
    if (fl[2] < sizeof name) {
        memcpy(name, f[2], fl[2]);
        name[fl[2]] = '\0';
        type = ow_event_type_lookup(name);
    }
    if (type < 0 || !ow_event_is_order((ow_event_type)type))
        return bad(err, 2, "expected an order event type (order.created ... order.reopened)");
    h->type = (ow_event_type)type;
    if (!number(f[3], fl[3], -INSTANT_LIMIT, INSTANT_LIMIT, &h->ts_ms))
        return bad(err, 3, "expected epoch milliseconds within +-2^50");
    if (!id_field(f[4], fl[4], h->order_id, false))
        return bad(err, 4, "expected an id of 1-512 bytes without control characters");
    bool who = h->type == OW_EV_ORDER_DISPATCHED || h->type == OW_EV_ORDER_ACCEPTED;
    if (!id_field(f[5], fl[5], h->tech_id, !who) || (!who && fl[5]))
        return bad(err, 5,
                   who ? "expected the technician's id"
                       : "expected nothing (only dispatches and acceptances name a technician)");
    return OW_OK;
}
