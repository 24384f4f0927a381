/*
 * Analytics (issue 5): the quantile sketch against exact quantiles, the rolling windows, every KPI
 * on a small event script worked out by hand, independence from arrival order, and the heat
 * gauges. Times are UTC on 2026-11-22; the city's zone is the default +08:00, so "today" began at
 * 2026-11-21T16:00Z.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "kpi.h"
#include "picture.h"
#include "policy.h"
#include "quantile.h"
#include "state.h"
#include "timefmt.h"
#include "tz.h"
#include "window.h"

static int64_t T(const char *hms)
{
    char text[64];
    snprintf(text, sizeof text, "2026-11-22T%sZ", hms);
    int64_t ms;
    assert_int_equal(ow_time_parse(text, strlen(text), &ms, NULL), 0);
    return ms;
}

/* ---- quantiles ---- */

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_quantile_accuracy(void **st)
{
    (void)st;
    enum { N = 20000 };
    int64_t *v = malloc(N * sizeof *v);
    ow_qsketch *q = malloc(sizeof *q), *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    ow_qs_init(q), ow_qs_init(a), ow_qs_init(b);
    for (int i = 0; i < N; i++) {
        /* durations from 1 ms to ~30 days, spread over many orders of magnitude */
        int64_t x = (int64_t)(next_rand() % 1000000) * (int64_t)(1 + next_rand() % 2600);
        v[i] = x;
        int idx = ow_qs_index(x);
        ow_qs_add(q, idx, 1);
        ow_qs_add(i % 2 ? a : b, idx, 1); /* two halves, merged below */
    }
    qsort(v, N, sizeof *v, cmp_i64);
    ow_qs_merge(a, b);
    const double ps[] = {0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        int64_t rank = (int64_t)(ps[i] * N + 0.999999);
        if (rank < 1) rank = 1;
        double exact = (double)v[rank - 1], got = ow_qs_quantile(q, ps[i]);
        double err = exact ? (got - exact) / exact : got;
        if (err < 0) err = -err;
        if (err > 0.01)
            fail_msg("p%.2f: exact %.0f, sketch %.1f (%.3f %%)", ps[i], exact, got, err * 100);
        assert_true(ow_qs_quantile(a, ps[i]) == got); /* merged halves = one sketch */
    }
    /* removal undoes an add */
    ow_qs_add(q, ow_qs_index(5), 1);
    ow_qs_add(q, ow_qs_index(5), -1);
    assert_int_equal(q->n, N);
    ow_qsketch *e = malloc(sizeof *e);
    ow_qs_init(e);
    assert_true(ow_qs_quantile(e, 0.5) < 0); /* empty: no value */
    ow_qs_add(e, ow_qs_index(0), 1);
    assert_true(ow_qs_quantile(e, 0.5) == 0);
    free(v), free(q), free(a), free(b), free(e);
}

/* ---- windows ---- */

static void test_window_rolling(void **st)
{
    (void)st;
    ow_win *w = ow_win_new(3, 1, 2, NULL, 480, 1u);
    assert_non_null(w);
    /* counter 0 at 01:00, 01:30, 02:10; now 02:20 */
    assert_int_equal(ow_win_count(w, 1, T("01:00:00"), 0, 1), 0);
    assert_int_equal(ow_win_advance(w, T("01:00:00")), 0);
    assert_int_equal(ow_win_count(w, 1, T("01:30:00"), 0, 1), 0);
    assert_int_equal(ow_win_count(w, 2, T("02:10:00"), 0, 1), 0);
    assert_int_equal(ow_win_sample(w, 1, T("02:10:00"), 0, 60000, 1), 0);
    assert_int_equal(ow_win_advance(w, T("02:20:00")), 0);
    /* 1h = [01:25, 02:25): 01:30 and 02:10; prev_1h = [00:25, 01:25): 01:00 */
    assert_int_equal(ow_win_total(w, OW_WIN_1H, 0, 0), 2);
    assert_int_equal(ow_win_total(w, OW_WIN_1H, 1, 0), 1);
    assert_int_equal(ow_win_total(w, OW_WIN_1H, 2, 0), 1);
    assert_int_equal(ow_win_total(w, OW_WIN_PREV_1H, 0, 0), 1);
    assert_int_equal(ow_win_total(w, OW_WIN_TODAY, 0, 0), 3);
    assert_int_equal(ow_win_total(w, OW_WIN_7D, 0, 0), 3);
    int64_t h[24];
    ow_win_hours(w, OW_WIN_7D, 0, 0, h);
    assert_int_equal(h[9], 2); /* 01:00Z and 01:30Z are 09:xx at +08:00 */
    assert_int_equal(h[10], 1);
    int64_t n;
    ow_win_open *o = ow_win_open_build(w);
    double v = ow_win_quantile(w, o, OW_WIN_1H, 0, 0, 0.5, &n);
    assert_int_equal(n, 1);
    assert_true(v > 60000 * 0.995 && v < 60000 * 1.005);
    assert_true(ow_win_quantile(w, o, OW_WIN_PREV_1H, 0, 0, 0.5, &n) < 0);
    assert_int_equal(n, 0);
    ow_win_open_free(o);
    /* a late value into a closed bucket inside the window, then taken out again */
    assert_int_equal(ow_win_advance(w, T("03:00:00")), 0);
    assert_int_equal(ow_win_count(w, 1, T("02:05:00"), 0, 5), 0);
    assert_int_equal(ow_win_total(w, OW_WIN_1H, 0, 0), 6); /* [02:05, 03:05): 02:05 ×5, 02:10 */
    assert_int_equal(ow_win_count(w, 1, T("02:05:00"), 0, -5), 0);
    assert_int_equal(ow_win_total(w, OW_WIN_1H, 0, 0), 1);
    o = ow_win_open_build(w);
    assert_true(ow_win_quantile(w, o, OW_WIN_1H, 0, 0, 0.5, &n) > 0); /* 02:10 is closed now */
    ow_win_open_free(o);
    assert_int_equal(ow_win_sample(w, 1, T("02:10:00"), 0, 60000, -1), 0);
    o = ow_win_open_build(w);
    assert_true(ow_win_quantile(w, o, OW_WIN_1H, 0, 0, 0.5, &n) < 0);
    ow_win_open_free(o);
    /* a day later "today" starts again; 8 days later nothing is left */
    assert_int_equal(ow_win_advance(w, T("16:30:00")), 0); /* 00:30 local, the next day */
    assert_int_equal(ow_win_total(w, OW_WIN_TODAY, 0, 0), 0);
    assert_int_equal(ow_win_total(w, OW_WIN_7D, 0, 0), 3);
    assert_int_equal(ow_win_advance(w, T("16:30:00") + 8 * 86400000LL), 0);
    assert_int_equal(ow_win_total(w, OW_WIN_7D, 0, 0), 0);
    /* too old to hold: dropped, and so is its removal */
    assert_int_equal(ow_win_count(w, 1, T("01:00:00"), 0, 1), 0);
    assert_int_equal(ow_win_total(w, OW_WIN_7D, 0, 0), 0);
    /* a checkpoint round trip gives the same totals */
    assert_int_equal(ow_win_count(w, 1, T("16:20:00") + 8 * 86400000LL, 0, 4), 0);
    ow_buf b = {0};
    ow_win_save(w, &b);
    ow_win *w2 = ow_win_new(3, 1, 2, NULL, 480, 1u);
    ow_rbuf r = {b.p, b.n, 0, NULL};
    assert_true(ow_win_load(w2, &r));
    assert_int_equal(r.off, b.n);
    for (int k = 0; k < OW_WIN__COUNT; k++)
        assert_int_equal(ow_win_total(w2, k, 0, 0), ow_win_total(w, k, 0, 0));
    r = (ow_rbuf){b.p, b.n - 3, 0, NULL}; /* truncated: refused */
    ow_win *w3 = ow_win_new(3, 1, 2, NULL, 480, 1u);
    assert_false(ow_win_load(w3, &r));
    assert_non_null(r.bad);
    ow_win_free(w3);
    ow_buf_fini(&b);
    ow_win_free(w2);
    ow_win_free(w);
}

/* ---- "today" and hours of day in the city's zone, across daylight saving ---- */

static int64_t Z(const char *rfc3339)
{
    int64_t ms;
    assert_int_equal(ow_time_parse(rfc3339, strlen(rfc3339), &ms, NULL), 0);
    return ms;
}

static ow_tz *zone(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s missing: install tzdata (scripts/setup.sh does)", path);
    static unsigned char b[1 << 16];
    size_t len = fread(b, 1, sizeof b, f);
    fclose(f);
    ow_tz *tz = NULL;
    ow_err err;
    if (ow_tz_parse(b, len, name, &tz, &err)) fail_msg("%s", err.msg);
    return tz;
}

/* Los Angeles, worked out by hand: 2026-03-08 springs forward at 02:00 PST (10:00Z) to 03:00 PDT,
 * so that day is 23 hours, [08:00Z, next day 07:00Z); 2026-11-01 falls back at 02:00 PDT (09:00Z)
 * to 01:00 PST, so that day is 25 hours, [07:00Z, next day 08:00Z). A fixed offset (-480, what
 * analytics.utc_offset_min said for this city) gets the summer-time half of each wrong. */
static void test_window_today_across_dst(void **st)
{
    (void)st;
    ow_tz *la = zone("America/Los_Angeles");
    ow_win *w = ow_win_new(3, 1, 2, la, -480, 1u);
    assert_non_null(w);
    /* spring: 12:00 PDT on the short day, then 00:30 PDT the next day (07:30Z) */
    assert_int_equal(ow_win_advance(w, Z("2026-03-08T20:00:00Z")), 0);
    assert_int_equal(ow_win_start(w, OW_WIN_TODAY), Z("2026-03-08T08:00:00Z"));
    assert_int_equal(ow_win_count(w, 1, Z("2026-03-08T10:30:00Z"), 0, 1), 0); /* 03:30 PDT */
    assert_int_equal(ow_win_count(w, 1, Z("2026-03-08T09:30:00Z"), 0, 1), 0); /* 01:30 PST */
    int64_t h[24];
    ow_win_hours(w, OW_WIN_7D, 0, 0, h);
    assert_int_equal(h[3], 1);
    assert_int_equal(h[1], 1);
    assert_int_equal(h[2], 0); /* 02:xx never happened that day */
    assert_int_equal(ow_win_advance(w, Z("2026-03-09T06:55:00Z")), 0); /* 23:55 PDT, Mar 8 */
    assert_int_equal(ow_win_start(w, OW_WIN_TODAY), Z("2026-03-08T08:00:00Z"));
    assert_int_equal(ow_win_total(w, OW_WIN_TODAY, 0, 0), 2);
    assert_int_equal(ow_win_advance(w, Z("2026-03-09T07:30:00Z")), 0); /* 00:30 PDT, Mar 9 */
    assert_int_equal(ow_win_start(w, OW_WIN_TODAY), Z("2026-03-09T07:00:00Z"));
    assert_int_equal(ow_win_total(w, OW_WIN_TODAY, 0, 0), 0);
    ow_win_free(w);

    /* autumn: a value at 00:10 PDT (07:10Z) is still "today" at 23:30 PST (07:30Z next day),
     * 24 h 20 min later, and the hour 01:xx happens twice */
    w = ow_win_new(3, 1, 2, la, -480, 1u);
    assert_int_equal(ow_win_advance(w, Z("2026-11-01T07:30:00Z")), 0);
    assert_int_equal(ow_win_start(w, OW_WIN_TODAY), Z("2026-11-01T07:00:00Z"));
    assert_int_equal(ow_win_count(w, 1, Z("2026-11-01T06:50:00Z"), 0, 1), 0); /* Oct 31 23:50 */
    assert_int_equal(ow_win_count(w, 1, Z("2026-11-01T07:10:00Z"), 0, 1), 0); /* 00:10 PDT */
    assert_int_equal(ow_win_count(w, 1, Z("2026-11-01T08:30:00Z"), 0, 1), 0); /* 01:30 PDT */
    assert_int_equal(ow_win_count(w, 1, Z("2026-11-01T09:30:00Z"), 0, 1), 0); /* 01:30 PST */
    assert_int_equal(ow_win_advance(w, Z("2026-11-02T07:30:00Z")), 0);        /* 23:30 PST, Nov 1 */
    assert_int_equal(ow_win_start(w, OW_WIN_TODAY), Z("2026-11-01T07:00:00Z"));
    assert_int_equal(ow_win_total(w, OW_WIN_TODAY, 0, 0), 3);
    ow_win_hours(w, OW_WIN_7D, 0, 0, h);
    assert_int_equal(h[23], 1);
    assert_int_equal(h[0], 1);
    assert_int_equal(h[1], 2);
    assert_int_equal(ow_win_advance(w, Z("2026-11-02T08:00:00Z")), 0); /* 00:00 PST, Nov 2 */
    assert_int_equal(ow_win_start(w, OW_WIN_TODAY), Z("2026-11-02T08:00:00Z"));
    assert_int_equal(ow_win_total(w, OW_WIN_TODAY, 0, 0), 0);
    ow_win_free(w);

    /* the same through the model: the policy's zone reaches the KPIs' "today" */
    ow_config c;
    ow_config_defaults(&c);
    ow_policy p;
    ow_policy_from_config(&p, &c);
    p.tz = la;
    ow_state *s = ow_state_new(&p);
    assert_non_null(s);
    assert_int_equal(ow_state_advance(s, Z("2026-11-02T07:30:00Z")), 0);
    assert_int_equal(ow_win_start(ow_kpi_window(ow_state_kpi(s)), OW_WIN_TODAY),
                     Z("2026-11-01T07:00:00Z"));
    ow_state_free(s);
    ow_tz_free(la);
}

/* ---- KPIs through the model ---- */

static ow_config cfg;
static ow_policy pol;
static int nid;

typedef struct line {
    const char *hms, *type, *fields;
} line;

/* The script. Worked out by hand (emergency: dispatch 5 m, accept 10 m, response 15 m,
 * arrival 2 h, resolution 4 h, callback 24 h; urgent complaint 15 m):
 *   o1 north: dispatch 120 s (met), accept 180 s (met), response 300 s (met), arrival 1800 s
 *      (met), resolution 3600 s (met, first-visit fix), callback 600 s (met) score 4, nps 10
 *   o2 north: dispatch 600 s (late), accept 1200 s (late), response 1800 s (late), resolved at
 *      02:30 (no first-visit fix), callback score 2 nps 3, then reopened at 02:45: its resolution
 *      and callback instances start again, so only o1's count
 *   o3 east: created, open
 *   k1 north: urgent complaint answered in 600 s (met)
 *   t1 north: idle 01:00, enroute 01:30, onsite 02:00, idle 02:30 → by 02:50: 110 min available,
 *      60 busy */
static const line script[] = {
    {"01:00:00", "tech.status", "\"tech_id\":\"t1\",\"status\":\"idle\",\"region\":\"north\""},
    {"01:00:00", "order.created",
     "\"order_id\":\"o1\",\"priority\":\"emergency\",\"category\":\"drain\",\"region\":\"north\","
     "\"lat\":31.35,\"lon\":121.4"},
    {"01:02:00", "order.dispatched", "\"order_id\":\"o1\",\"tech_id\":\"t1\""},
    {"01:05:00", "order.accepted", "\"order_id\":\"o1\",\"tech_id\":\"t1\""},
    {"01:10:00", "order.created",
     "\"order_id\":\"o2\",\"priority\":\"emergency\",\"category\":\"leak\",\"region\":\"north\""},
    {"01:20:00", "order.dispatched", "\"order_id\":\"o2\",\"tech_id\":\"t2\""},
    {"01:30:00", "tech.status", "\"tech_id\":\"t1\",\"status\":\"enroute\""},
    {"01:30:00", "order.arrived", "\"order_id\":\"o1\",\"tech_id\":\"t1\""},
    {"01:40:00", "order.accepted", "\"order_id\":\"o2\",\"tech_id\":\"t2\""},
    {"01:50:00", "order.created",
     "\"order_id\":\"o3\",\"priority\":\"general\",\"category\":\"drain\",\"region\":\"east\""},
    {"02:00:00", "tech.status", "\"tech_id\":\"t1\",\"status\":\"onsite\""},
    {"02:00:00", "order.resolved",
     "\"order_id\":\"o1\",\"tech_id\":\"t1\",\"first_visit_fix\":true"},
    {"02:10:00", "order.callback", "\"order_id\":\"o1\",\"score\":4,\"nps\":10"},
    {"02:20:00", "complaint.created",
     "\"complaint_id\":\"k1\",\"severity\":\"urgent\",\"category\":\"late\",\"region\":\"north\""},
    {"02:30:00", "complaint.responded", "\"complaint_id\":\"k1\""},
    {"02:30:00", "tech.status", "\"tech_id\":\"t1\",\"status\":\"idle\""},
    {"02:30:00", "order.resolved",
     "\"order_id\":\"o2\",\"tech_id\":\"t2\",\"first_visit_fix\":false"},
    {"02:40:00", "order.callback", "\"order_id\":\"o2\",\"score\":2,\"nps\":3"},
    {"02:45:00", "order.reopened", "\"order_id\":\"o2\""},
    {"02:50:00", "order.arrived", "\"order_id\":\"o3\",\"tech_id\":\"t9\""},
};
#define NSCRIPT (int)(sizeof script / sizeof script[0])

static void apply_line(ow_state *s, const line *l, int64_t *now)
{
    char text[1024], ts[OW_TIME_TEXT_MAX];
    int64_t t = T(l->hms);
    ow_time_format(t, ts);
    snprintf(text, sizeof text, "{\"v\":1,\"id\":\"e%d\",\"ts\":\"%s\",\"type\":\"%s\",%s}", nid++,
             ts, l->type, l->fields);
    ow_event ev;
    ow_err err;
    if (ow_event_parse(text, strlen(text), &ev, &err)) fail_msg("bad event %s: %s", text, err.msg);
    assert_true(ow_state_apply(s, &ev) >= 0);
    if (t > *now) *now = t;
    assert_true(ow_state_advance(s, *now) >= 0); /* replay: apply, then now = latest event time */
    ow_state_outbox_clear(s);
}

static ow_state *run_script(const int *order)
{
    ow_state *s = ow_state_new(&pol);
    assert_non_null(s);
    int64_t now = INT64_MIN;
    for (int i = 0; i < NSCRIPT; i++)
        apply_line(s, &script[order ? order[i] : i], &now);
    return s;
}

static void near(double got, double want, double rel)
{
    double d = got - want;
    if (d < 0) d = -d;
    if (d > rel * (want < 0 ? -want : want) + 1e-9) fail_msg("got %f, want %f", got, want);
}

static void test_kpis_by_hand(void **st)
{
    (void)st;
    ow_state *s = run_script(NULL);
    const ow_kpi *k = ow_state_kpi(s);
    ow_kpi_block b;
    ow_kpi_block_get(k, OW_WIN_TODAY, 0, 2, &b);
    assert_int_equal(b.created, 3);
    assert_int_equal(b.resolved, 2);
    assert_int_equal(b.complaints, 1);
    near(b.response_mean_s, (300 + 1800) / 2.0, 1e-9);
    near(b.response_p90_s, 1800, 0.01);
    near(b.dispatch_mean_s, (120 + 600) / 2.0, 1e-9);
    near(b.dispatch_p90_s, 600, 0.01);
    near(b.first_visit_fix_pct, 50, 1e-9);
    near(b.repeat_visit_pct, 50, 1e-9); /* 1 reopen / 2 resolutions */
    near(b.complaint_rate_pct, 100.0 / 3, 1e-9);
    near(b.csat, (4 + 2) / 2.0 * 20, 1e-9);
    near(b.nps, 0, 1e-9); /* one promoter, one detractor */
    near(b.sla_pct[OW_STAGE_DISPATCH], 50, 1e-9);
    near(b.sla_pct[OW_STAGE_ACCEPT], 50, 1e-9);
    near(b.sla_pct[OW_STAGE_RESPONSE], 50, 1e-9);
    near(b.sla_pct[OW_STAGE_ARRIVAL], 100, 1e-9); /* o1 in 30 min; o3's general 48 h */
    assert_int_equal(b.sla_n[OW_STAGE_ARRIVAL], 2);
    assert_int_equal(b.sla_n[OW_STAGE_RESOLUTION], 1); /* o2 reopened: a new instance runs */
    assert_int_equal(b.sla_n[OW_STAGE_CALLBACK], 1);
    near(b.sla_pct[OW_KPI_STAGE_CPL], 100, 1e-9);
    assert_int_equal(b.backlog, 2);
    near(b.utilisation_pct, 60.0 / 110 * 100, 1e-9);
    /* today = 2026-11-21T16:00Z .. 02:50Z = 650 min; 110 min on shift = 0.169 technicians */
    near(b.orders_per_tech, 2 / (110.0 / 650), 1e-9);

    /* the last hour [01:55, 02:55) and the one before [00:55, 01:55) */
    ow_kpi_block_get(k, OW_WIN_1H, 0, 2, &b);
    assert_int_equal(b.created, 0);
    assert_int_equal(b.resolved, 2);
    assert_true(b.response_mean_s != b.response_mean_s); /* NaN: nothing accepted in the hour */
    ow_kpi_block_get(k, OW_WIN_PREV_1H, 0, 0, &b);
    assert_int_equal(b.created, 3);
    near(b.response_mean_s, 1050, 1e-9);

    /* per region: north is slot 1 (first region interned), east 2 */
    ow_kpi_block_get(k, OW_WIN_TODAY, 1, 1, &b);
    assert_int_equal(b.created, 2);
    assert_int_equal(b.complaints, 1);
    ow_kpi_block_get(k, OW_WIN_TODAY, 2, 1, &b);
    assert_int_equal(b.created, 1);
    assert_int_equal(b.resolved, 0);
    assert_true(b.csat != b.csat);

    /* the snapshot carries it, null where there is no data */
    char *snap = ow_picture_snapshot(s, 1, T("02:50:00"), OW_MODE_REPLAY);
    assert_non_null(snap);
    assert_non_null(strstr(snap, "\"kpi\":{\"overall\":{\"1h\":{\"created\":0,\"resolved\":2,"
                                 "\"response_mean_s\":null"));
    assert_non_null(strstr(snap, "\"regions\":[{\"id\":\"north\""));
    assert_non_null(strstr(snap, "\"heat_category\":{\"regions\":[\"north\",\"east\"],"
                                 "\"categories\":[\"drain\",\"leak\"],\"counts\":[[0,1],[1,0]]}"));
    free(snap);
    ow_state_free(s);
}

static void test_kpis_independent_of_arrival_order(void **st)
{
    (void)st;
    /* the order events only, reversed; technicians stay in order (their time is integrated as
     * now moves, so their arrival order is part of the input) */
    int order[NSCRIPT], n = 0;
    for (int i = NSCRIPT - 1; i >= 0; i--)
        if (strncmp(script[i].type, "tech.", 5) != 0) order[n++] = i;
    int m = n;
    for (int i = 0; i < NSCRIPT; i++)
        if (strncmp(script[i].type, "tech.", 5) == 0) order[m++] = i;
    ow_state *a = run_script(NULL), *b = run_script(order);
    for (int w = 0; w < OW_WIN__COUNT; w++) {
        for (int slot = 0; slot < 3; slot++) {
            ow_kpi_block x, y;
            ow_kpi_block_get(ow_state_kpi(a), (ow_win_kind)w, slot, 0, &x);
            ow_kpi_block_get(ow_state_kpi(b), (ow_win_kind)w, slot, 0, &y);
            x.utilisation_pct = y.utilisation_pct = 0;
            x.orders_per_tech = y.orders_per_tech = 0;
            x.backlog = y.backlog = 0; /* the backlog history is what was open at the time */
            assert_memory_equal(&x, &y, sizeof x);
        }
    }
    ow_jsonw wa, wb;
    ow_jsonw_init(&wa), ow_jsonw_init(&wb);
    ow_kpi_write_bottleneck(ow_state_kpi(a), &wa, ow_state_regions(a));
    ow_kpi_write_bottleneck(ow_state_kpi(b), &wb, ow_state_regions(b));
    char *ta = ow_jsonw_take(&wa), *tb = ow_jsonw_take(&wb);
    assert_string_equal(ta, tb);
    free(ta), free(tb);
    ow_state_free(a);
    ow_state_free(b);
}

static void test_heat_grid(void **st)
{
    (void)st;
    /* a one-region city 0.1° × 0.1° at 31°N: 1000 m cells → 10 × 12 */
    ow_lonlat ring[4] = {{121.3, 31.3}, {121.4, 31.3}, {121.4, 31.4}, {121.3, 31.4}};
    ow_ring r = {ring, 4};
    ow_polygon poly = {&r, 1};
    ow_region reg = {.id = "north",
                     .polys = &poly,
                     .npolys = 1,
                     .bbox = {121.3, 31.3, 121.4, 31.4},
                     .center = {121.35, 31.35}};
    ow_regions city = {&reg, 1, {121.3, 31.3, 121.4, 31.4}};
    ow_policy p = pol;
    p.city = &city;
    p.analytics.cell_m = 1000;
    ow_state *s = ow_state_new(&p);
    assert_non_null(s);
    int64_t now = INT64_MIN;
    for (int i = 0; i < NSCRIPT; i++)
        apply_line(s, &script[i], &now);
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_heat_write_grid(ow_state_heat(s), &w);
    char *t = ow_jsonw_take(&w);
    /* 121.4 − 121.3 = 0.1° ≈ 9.54 km at 31.35°N → 10 cols; 0.1° lat ≈ 11.06 km → 12 rows. The
     * open orders o2 and o3 have no position; o1 is resolved; t1 (idle) has none either. */
    assert_string_equal(t, "{\"cell_m\":1000,\"bbox\":[121.3,31.3,121.4,31.4],\"cols\":10,"
                           "\"rows\":12,\"cells\":[]}");
    free(t);
    /* an open order with a position, and an idle technician at the same place */
    const line more[] = {
        {"03:00:00", "order.created",
         "\"order_id\":\"o4\",\"priority\":\"general\",\"category\":\"drain\",\"region\":\"north\","
         "\"lat\":31.355,\"lon\":121.355"},
        {"03:00:00", "tech.location", "\"tech_id\":\"t1\",\"lat\":31.355,\"lon\":121.355"}};
    for (int i = 0; i < 2; i++)
        apply_line(s, &more[i], &now);
    ow_heat_write_grid(ow_state_heat(s), &w);
    t = ow_jsonw_take(&w);
    /* col = floor(0.055 / 0.01) = 5, row = floor(0.055 / (0.1 / 12)) = 6 */
    assert_non_null(strstr(t, "\"cells\":[[5,6,1,0,1]]"));
    free(t);
    ow_jsonw_init(&w);
    ow_heat_write_regions(ow_state_heat(s), &w, ow_state_regions(s));
    t = ow_jsonw_take(&w);
    assert_non_null(strstr(t,
                           "{\"id\":\"north\",\"name_en\":\"\",\"name_zh\":\"\",\"center\":[121.35,"
                           "31.35],\"open\":2,\"breached\":"));
    free(t);
    ow_state_free(s);
}

static int setup(void **st)
{
    (void)st;
    ow_config_defaults(&cfg);
    ow_policy_from_config(&pol, &cfg);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile_accuracy),
        cmocka_unit_test(test_window_rolling),
        cmocka_unit_test(test_window_today_across_dst),
        cmocka_unit_test(test_kpis_by_hand),
        cmocka_unit_test(test_kpis_independent_of_arrival_order),
        cmocka_unit_test(test_heat_grid),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
