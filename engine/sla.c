#include "sla.h"

#include <stdbool.h>

const int ow_sla_pct[OW_SLA_THRESHOLDS] = {50, 80, 100, 150};
const int ow_sla_level[OW_SLA_THRESHOLDS] = {0, 1, 2, 3};

#define DAY_MS (86400 * INT64_C(1000))

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The free (not paused) interval that contains t, or the first one after t. */
static ow_interval next_free(int64_t t, const ow_interval *p, size_t n)
{
    int64_t from = t;
    for (size_t i = 0; i < n; i++) {
        if (p[i].to <= from) continue; /* pause entirely before */
        if (p[i].from <= from) {       /* inside this pause: free again at its end */
            if (p[i].to == OW_NEVER) return (ow_interval){OW_NEVER, OW_NEVER};
            from = p[i].to;
            continue;
        }
        return (ow_interval){from, p[i].from}; /* free until the next pause starts */
    }
    return (ow_interval){from, OW_NEVER};
}

/* The business-hours window that contains t, or the first one after t. */
static ow_interval next_open(int64_t t, const ow_calendar *cal)
{
    if (!cal) return (ow_interval){t, OW_NEVER};
    if (!cal->weekdays || cal->open_min >= cal->close_min) return (ow_interval){OW_NEVER, OW_NEVER};
    int64_t off = (int64_t)cal->utc_offset_min * 60000;
    int64_t day = floor_div(t + off, DAY_MS); /* local day number; day 0 = 1970-01-01, a Thursday */
    for (int k = 0; k < 8; k++, day++) {
        int weekday = (int)((day % 7 + 7 + 3) % 7); /* 0 = Monday */
        if (!(cal->weekdays & (1u << weekday))) continue;
        int64_t open = day * DAY_MS - off + (int64_t)cal->open_min * 60000;
        int64_t close = day * DAY_MS - off + (int64_t)cal->close_min * 60000;
        if (close <= t) continue;
        return (ow_interval){open > t ? open : t, close};
    }
    return (ow_interval){OW_NEVER, OW_NEVER};
}

/* The counting interval that contains t or comes next: free of pauses and inside business hours. */
static ow_interval next_counting(int64_t t, const ow_interval *p, size_t n, const ow_calendar *cal)
{
    for (int guard = 0; guard < 100000; guard++) {
        ow_interval f = next_free(t, p, n);
        if (f.from == OW_NEVER) return f;
        ow_interval o = next_open(f.from, cal);
        if (o.from == OW_NEVER) return o;
        if (o.from < f.to) return (ow_interval){o.from, o.to < f.to ? o.to : f.to};
        t = o.from; /* the window opens after this free interval ends: look from there */
    }
    return (ow_interval){OW_NEVER, OW_NEVER};
}

int64_t ow_sla_due(int64_t start, int64_t need_ms, const ow_interval *pauses, size_t n,
                   const ow_calendar *cal)
{
    if (n == 0 && !cal) return start + need_ms; /* the common case: nothing to skip */
    int64_t t = start, left = need_ms;
    for (;;) {
        ow_interval c = next_counting(t, pauses, n, cal);
        if (c.from == OW_NEVER) return OW_NEVER;
        if (c.to == OW_NEVER || c.to - c.from >= left) return c.from + left;
        left -= c.to - c.from;
        t = c.to;
    }
}

int64_t ow_sla_counted(int64_t start, int64_t t, const ow_interval *pauses, size_t n,
                       const ow_calendar *cal)
{
    int64_t sum = 0, cur = start;
    while (cur < t) {
        ow_interval c = next_counting(cur, pauses, n, cal);
        if (c.from == OW_NEVER || c.from >= t) break;
        int64_t end = c.to < t ? c.to : t;
        sum += end - c.from;
        cur = end;
    }
    return sum;
}
