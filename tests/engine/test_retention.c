/*
 * engine.closed_retention: the model forgets an order that is no longer open, by event time, so
 * a model left running at a constant load stays bounded (issue 9's soak: it never forgot one).
 *
 * - several simulated days of the simulator (ingest/sim.c, the normal scenario) through one model
 *   with a one-day retention: the orders known and the model's size (its checkpoint, and the heap
 *   where the allocator reports it) plateau at about the retention's worth of orders, while the
 *   orders created keep growing;
 * - a late event of a forgotten order is counted and ignored, never a half order with clocks;
 * - what the retention must keep is kept: a repeat visit 6 days after the resolution (window 7d,
 *   retention 8d), a reopen and a callback within it; an open order is never forgotten;
 * - the checkpoint carries no forgotten order, and a model loaded from it forgets and ignores
 *   exactly as the one that saved it.
 * Expected figures follow from the rules (docs/internals.md "Forgetting closed orders").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <malloc.h>
#include <math.h>

#include "checkpoint.h"
#include "config.h"
#include "picture.h"
#include "policy.h"
#include "sim.h"
#include "state.h"
#include "timefmt.h"

#define DAY  INT64_C(86400000)
#define HOUR INT64_C(3600000)

static ow_config cfg;
static ow_policy pol;
static int nid;

/* 2026-11-22T00:00:00Z + day days + hms */
static int64_t at(int day, const char *hms)
{
    char text[64];
    snprintf(text, sizeof text, "2026-11-22T%sZ", hms);
    int64_t ms;
    assert_int_equal(ow_time_parse(text, strlen(text), &ms, NULL), 0);
    return ms + day * DAY;
}

/* Apply one event; returns what ow_state_apply returned. */
static int apply(ow_state *s, int64_t ts, const char *type, const char *fields)
{
    char line[1024], t[OW_TIME_TEXT_MAX];
    ow_time_format(ts, t);
    snprintf(line, sizeof line, "{\"v\":1,\"id\":\"r%d\",\"ts\":\"%s\",\"type\":\"%s\",%s}", nid++,
             t, type, fields);
    ow_event ev;
    ow_err err;
    if (ow_event_parse(line, strlen(line), &ev, &err)) fail_msg("bad test event: %s", err.msg);
    int rc = ow_state_apply(s, &ev);
    if (rc < 0) fail_msg("apply failed: %s", line);
    assert_true(ow_state_advance(s, ow_state_totals_get(s)->last_event_ms) >= 0);
    return rc;
}

static void created(ow_state *s, int64_t ts, const char *id, double lat)
{
    char f[256];
    snprintf(
        f, sizeof f,
        "\"order_id\":\"%s\",\"priority\":\"general\",\"category\":\"drain\",\"region\":\"r1\","
        "\"lon\":113.9,\"lat\":%.6f",
        id, lat);
    apply(s, ts, "order.created", f);
}

static int order_ev(ow_state *s, int64_t ts, const char *type, const char *id, const char *tech)
{
    char f[256];
    if (tech)
        snprintf(f, sizeof f, "\"order_id\":\"%s\",\"tech_id\":\"%s\"", id, tech);
    else if (strcmp(type, "order.callback") == 0)
        snprintf(f, sizeof f, "\"order_id\":\"%s\",\"score\":4", id);
    else
        snprintf(f, sizeof f, "\"order_id\":\"%s\"", id);
    return apply(s, ts, type, f);
}

/* An order through its whole life: created, dispatched, accepted, arrived, resolved, closed. */
static void life(ow_state *s, int64_t t0, const char *id, double lat)
{
    created(s, t0, id, lat);
    order_ev(s, t0 + 10 * 60000, "order.dispatched", id, "t1");
    order_ev(s, t0 + 12 * 60000, "order.accepted", id, "t1");
    order_ev(s, t0 + 40 * 60000, "order.arrived", id, "t1");
    order_ev(s, t0 + 90 * 60000, "order.resolved", id, "t1");
    order_ev(s, t0 + 2 * HOUR, "order.closed", id, NULL);
}

static bool known(const ow_state *s, const char *id)
{
    ow_order_view v;
    return ow_state_order(s, id, &v);
}

static bool contains(const char *buf, size_t n, const char *text, size_t len)
{
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(buf + i, text, len) == 0) return true;
    return false;
}

static size_t outbox_len(ow_state *s)
{
    size_t n;
    ow_state_outbox(s, &n);
    return n;
}

static int setup(void **st)
{
    ow_config_defaults(&cfg);
    ow_policy_from_config(&pol, &cfg);
    nid = 0;
    *st = ow_state_new(&pol);
    return *st ? 0 : -1;
}

static int teardown(void **st)
{
    ow_state_free(*st);
    return 0;
}

/* ---------------------------------------------------------------- the rules, by hand */

static void test_forgotten_after_retention(void **st)
{
    ow_state *s = *st;
    assert_int_equal(pol.closed_retention_ms, 8 * DAY);
    life(s, at(0, "01:00:00"), "o1", 22.5); /* closed at 03:00 */
    created(s, at(0, "01:30:00"), "open", 22.6);
    order_ev(s, at(0, "04:00:00"), "order.cancelled", "o2", NULL); /* never created */
    ow_state_outbox_clear(s);
    assert_int_equal(ow_state_totals_get(s)->orders_known, 3);
    /* one millisecond before o1's latest event + 8 days: still known */
    order_ev(s, at(8, "02:59:59.999"), "order.dispatched", "open", "t2");
    assert_true(known(s, "o1"));
    /* an event at that instant forgets it first; o2 (latest 04:00) an hour later */
    order_ev(s, at(8, "03:00:00"), "order.accepted", "open", "t2");
    assert_false(known(s, "o1"));
    assert_true(known(s, "o2"));
    order_ev(s, at(8, "04:00:00"), "order.arrived", "open", "t2");
    assert_false(known(s, "o2"));
    const ow_state_totals *t = ow_state_totals_get(s);
    assert_int_equal(t->orders_forgotten, 2);
    assert_int_equal(t->orders_known, 1);
    /* the open order, 8 days old and past every target, is kept with its clocks and alerts */
    assert_true(known(s, "open"));
    assert_int_equal(t->open_total, 1);
    assert_true(t->alerts_open_by_level[3] > 0);
    ow_state_outbox_clear(s);
}

static void test_late_event_of_forgotten_order(void **st)
{
    ow_state *s = *st;
    life(s, at(0, "01:00:00"), "o1", 22.5);
    created(s, at(9, "00:00:00"), "o9", 22.7); /* moves event time past o1's retention */
    assert_false(known(s, "o1"));
    ow_state_outbox_clear(s);
    int64_t next = ow_state_next_due(s);
    /* late events of o1 (a callback and a reopen timed before the horizon, a duplicate close):
     * counted, ignored, nothing re-created, nothing raised, no clock scheduled */
    assert_int_equal(order_ev(s, at(0, "05:00:00"), "order.callback", "o1", NULL), 0);
    assert_int_equal(order_ev(s, at(0, "20:00:00"), "order.reopened", "o1", NULL), 0);
    assert_int_equal(order_ev(s, at(0, "03:00:00"), "order.closed", "o1", NULL), 0);
    const ow_state_totals *t = ow_state_totals_get(s);
    assert_int_equal(t->late_for_forgotten, 3);
    assert_false(known(s, "o1"));
    assert_int_equal(t->orders_known, 1);
    assert_int_equal(outbox_len(s), 0);
    assert_int_equal(ow_state_next_due(s), next);
    /* the same for an order never seen, older than the retention */
    assert_int_equal(order_ev(s, at(0, "23:00:00"), "order.dispatched", "ghost", "t1"), 0);
    assert_int_equal(t->late_for_forgotten, 4);
    /* inside the retention an unknown order's event is an early one (its creation may follow):
     * kept as a half order, with no clock, and itself forgotten after the retention */
    assert_int_equal(order_ev(s, at(8, "12:00:00"), "order.dispatched", "early", "t1"), 1);
    assert_true(known(s, "early"));
    ow_order_view v;
    assert_true(ow_state_order(s, "early", &v));
    assert_false(v.created || v.open);
    for (int st2 = 0; st2 < v.nclocks; st2++) /* no clock runs: nothing to breach */
        assert_int_equal(v.clocks[st2].state, OW_CLOCK_IDLE);
    assert_int_equal(t->open_total, 1);
    created(s, at(16, "12:00:00"), "o16", 22.8);
    assert_false(known(s, "early"));
    assert_int_equal(t->late_for_forgotten, 4);
}

/* What the retention exists for: a reopen, a callback, a repeat visit within it. */
static void test_kept_while_needed(void **st)
{
    ow_state *s = *st;
    life(s, at(0, "01:00:00"), "o1", 22.5);
    life(s, at(0, "02:00:00"), "o2", 22.9);
    /* a callback 5 days after the close moves o1's latest event */
    assert_int_equal(order_ev(s, at(5, "10:00:00"), "order.callback", "o1", NULL), 1);
    /* a repeat visit at o2's address 6 days after its resolution */
    ow_state_outbox_clear(s);
    created(s, at(6, "03:00:00"), "o3", 22.9);
    size_t n;
    const ow_alert *a = ow_state_outbox(s, &n);
    bool repeat = false;
    for (size_t i = 0; i < n; i++)
        repeat |= a[i].kind == OW_ALERT_FLAG && strcmp(a[i].flag, "repeat_visit") == 0 &&
                  a[i].op == OW_ALERT_RAISE;
    assert_true(repeat);
    ow_state_outbox_clear(s);
    /* 8 days after o2's close it goes; o1, called back later, stays until 8 days after that */
    created(s, at(8, "04:00:00"), "o4", 23.1);
    assert_false(known(s, "o2"));
    assert_true(known(s, "o1"));
    /* a reopen brings an order back among the open ones: never forgotten while open */
    assert_int_equal(order_ev(s, at(9, "00:00:00"), "order.reopened", "o1", NULL), 1);
    created(s, at(20, "00:00:00"), "o20", 23.2);
    assert_true(known(s, "o1"));
    ow_state_outbox_clear(s);
}

static int complaint_created(ow_state *s, int64_t ts, const char *id)
{
    char f[256];
    snprintf(f, sizeof f,
             "\"complaint_id\":\"%s\",\"severity\":\"normal\",\"category\":\"noise\","
             "\"region\":\"r1\"",
             id);
    return apply(s, ts, "complaint.created", f);
}

/* Complaints responded to go the same way; an open one stays. */
static void test_complaints_forgotten(void **st)
{
    ow_state *s = *st;
    complaint_created(s, at(0, "01:00:00"), "k1");
    apply(s, at(0, "02:00:00"), "complaint.responded", "\"complaint_id\":\"k1\"");
    complaint_created(s, at(0, "01:30:00"), "k2"); /* never responded: open */
    apply(s, at(1, "00:00:00"), "complaint.responded", "\"complaint_id\":\"k3\""); /* no create */
    ow_state_outbox_clear(s);
    const ow_state_totals *t = ow_state_totals_get(s);
    assert_int_equal(t->complaints_open, 1);
    created(s, at(8, "02:00:00"), "o8", 22.5); /* k1's response + 8 days */
    assert_int_equal(t->complaints_forgotten, 1);
    created(s, at(9, "00:00:00"), "o9", 22.6);
    assert_int_equal(t->complaints_forgotten, 2);
    assert_int_equal(t->complaints_open, 1);
    /* late: k1 responded again, and created again with an earlier time, before the horizon */
    assert_int_equal(apply(s, at(0, "03:00:00"), "complaint.responded", "\"complaint_id\":\"k1\""),
                     0);
    assert_int_equal(complaint_created(s, at(0, "00:30:00"), "k1"), 0);
    assert_int_equal(t->late_for_forgotten, 2);
    assert_int_equal(t->complaints_open, 1);
    /* the open one is in the checkpoint, the forgotten ones are not; it loads */
    char *b;
    size_t n;
    ow_err err;
    char cursor[OW_CHECKPOINT_CURSOR_MAX];
    assert_int_equal(ow_checkpoint_save(s, "1-0", &b, &n, &err), 0);
    assert_true(contains(b, n, "k2", 2));
    assert_false(contains(b, n, "k1", 2));
    assert_false(contains(b, n, "k3", 2));
    ow_state *l = NULL;
    assert_int_equal(ow_checkpoint_load(&pol, b, n, &l, cursor, &err), 0);
    assert_int_equal(ow_state_totals_get(l)->complaints_forgotten, 2);
    assert_int_equal(ow_state_totals_get(l)->complaints_open, 1);
    ow_state_free(l);
    free(b);
    ow_state_outbox_clear(s);
}

/* The checkpoint carries no forgotten order; the loaded model forgets and ignores the same. */
static void test_checkpoint_after_forgetting(void **st)
{
    ow_state *s = *st;
    char id[16];
    for (int d = 0; d < 10; d++) /* two orders a day, closed at 08:00 */
        for (int k = 0; k < 2; k++) {
            snprintf(id, sizeof id, "a%d", d + 10 * k);
            life(s, at(d, "06:00:00"), id, 22.5 + d * 0.01 + k * 0.001);
        }
    ow_state_outbox_clear(s);
    const ow_state_totals *t = ow_state_totals_get(s);
    assert_int_equal(t->orders_forgotten, 4); /* days 0 and 1 by day 9 08:00 */
    assert_int_equal(t->orders_known, 16);
    char *b1, *b2;
    size_t n1, n2;
    ow_err err;
    char cursor[OW_CHECKPOINT_CURSOR_MAX];
    assert_int_equal(ow_checkpoint_save(s, "1-0", &b1, &n1, &err), 0);
    assert_false(contains(b1, n1, "a10", 3)); /* a0, a1, a10, a11 forgotten: no trace */
    assert_false(contains(b1, n1, "a11", 3));
    assert_true(contains(b1, n1, "a12", 3));
    ow_state *l = NULL;
    assert_int_equal(ow_checkpoint_load(&pol, b1, n1, &l, cursor, &err), 0);
    free(b1);
    assert_int_equal(ow_state_totals_get(l)->orders_forgotten, 4);
    assert_int_equal(ow_state_totals_get(l)->orders_known, 16);
    /* the same events to both: the same forgets, the same late events ignored */
    ow_state *m[2] = {s, l};
    for (int k = 0; k < 2; k++) {
        nid = 1000;
        created(m[k], at(10, "08:00:00"), "b1", 24.0);                   /* day 2's close + 8d */
        order_ev(m[k], at(1, "09:00:00"), "order.callback", "a1", NULL); /* forgotten: late */
        order_ev(m[k], at(3, "09:00:00"), "order.callback", "a3", NULL); /* known: applied */
    }
    for (int k = 0; k < 2; k++) {
        const ow_state_totals *u = ow_state_totals_get(m[k]);
        assert_int_equal(u->late_for_forgotten, 1);
        assert_int_equal(u->orders_forgotten, 6);
        assert_int_equal(u->orders_known, 15);
        assert_false(known(m[k], "a2"));
        assert_true(known(m[k], "a3"));
        assert_int_equal(ow_checkpoint_save(m[k], "2-0", k ? &b2 : &b1, k ? &n2 : &n1, &err), 0);
    }
    assert_int_equal(n1, n2); /* the same content (map order may differ) */
    char *p1 = ow_picture_snapshot(s, 9, 0, OW_MODE_REPLAY);
    char *p2 = ow_picture_snapshot(l, 9, 0, OW_MODE_REPLAY);
    assert_string_equal(p1, p2);
    size_t o1, o2;
    const ow_alert *r1 = ow_state_outbox(s, &o1), *r2 = ow_state_outbox(l, &o2);
    assert_int_equal(o1, o2);
    for (size_t i = 0; i < o1; i++) {
        char x[OW_ALERT_ID_BUF], y[OW_ALERT_ID_BUF];
        ow_alert_id(&r1[i], x), ow_alert_id(&r2[i], y);
        assert_string_equal(x, y);
    }
    free(p1), free(p2), free(b1), free(b2);
    ow_state_free(l);
}

/* ---------------------------------------------------------------- days of the simulator */

typedef struct day_figures {
    int64_t created, known, forgotten, open;
    size_t checkpoint;
    size_t heap; /* bytes in use per the allocator; 0 where it does not say (sanitizers) */
} day_figures;

static size_t heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}

/* DAYS simulated days at 60 orders an hour (shaped over the day, the same each day),
 * figures at the same time of each day. */
#define DAYS 10
static void sim_days(int64_t retention_ms, day_figures f[DAYS])
{
    ow_config c;
    ow_policy p;
    ow_config_defaults(&c);
    c.engine.closed_retention_ms = retention_ms;
    c.flags.repeat_visit.window_ms = retention_ms ? retention_ms : c.flags.repeat_visit.window_ms;
    ow_policy_from_config(&p, &c);
    ow_state *s = ow_state_new(&p);
    assert_non_null(s);
    ow_sim_config sc;
    ow_sim_config_init(&sc);
    sc.duration_ms = DAYS * DAY;
    sc.orders_per_hour = 60;
    ow_err err;
    ow_sim *sim = ow_sim_new(&sc, &err);
    assert_non_null(sim);
    ow_sim_line l;
    int day = 0;
    int rc;
    while ((rc = ow_sim_next(sim, &l)) > 0) {
        while (day < DAYS && l.deliver_ms >= sc.start_ms + (day + 1) * DAY) {
            ow_sim_stats ss;
            ow_sim_stats_get(sim, &ss);
            const ow_state_totals *t = ow_state_totals_get(s);
            char *b;
            assert_int_equal(ow_checkpoint_save(s, "0-0", &b, &f[day].checkpoint, &err), 0);
            free(b);
            f[day] = (day_figures){ss.orders_created, t->orders_known,   t->orders_forgotten,
                                   t->open_total,     f[day].checkpoint, heap_in_use()};
            day++;
        }
        ow_event ev;
        if (ow_event_parse(l.text, l.len, &ev, &err)) continue; /* a deliberate mistake */
        assert_true(ow_state_apply(s, &ev) >= 0);
        assert_true(ow_state_advance(s, ow_state_totals_get(s)->last_event_ms) >= 0);
        ow_state_outbox_clear(s);
    }
    assert_int_equal(rc, 0);
    ow_sim_free(sim);
    ow_state_free(s);
    for (int d = 0; d < day; d++)
        print_message("retention %s day %d: created %lld known %lld (open %lld, forgotten %lld), "
                      "checkpoint %zu B, heap %zu B\n",
                      retention_ms ? "1d" : "none", d + 1, (long long)f[d].created,
                      (long long)f[d].known, (long long)f[d].open, (long long)f[d].forgotten,
                      f[d].checkpoint, f[d].heap);
    assert_true(day >= DAYS - 1); /* the last boundary: only when a late line comes after it */
}

static void test_simulated_days_plateau(void **st)
{
    (void)st;
    day_figures f[DAYS] = {0}, g[DAYS] = {0};
    sim_days(DAY, f);
    /* without forgetting (retention 0: only from code, the setting refuses it), the same days:
     * what the model did before engine.closed_retention */
    sim_days(0, g);
    int64_t per_day = f[1].created - f[0].created;
    assert_true(per_day > 1000);
    for (int d = 1; d < DAYS - 1; d++) {
        /* bounded by retention × rate (a day of orders) plus what is open or still ending */
        assert_true(f[d].known <= 2 * per_day);
        /* flat from day to day at the same time of day, while the orders created keep growing */
        assert_true(f[d].known <= f[1].known + f[1].known * 15 / 100);
        assert_true(f[d].known >= f[1].known - f[1].known * 15 / 100);
        if (d > 1) assert_true(f[d].forgotten > f[d - 1].forgotten);
        assert_int_equal(g[d].forgotten, 0);
        assert_true(g[d].known >= g[d].created * 99 / 100); /* a few lines are mistakes */
    }
    int last = DAYS - 2, week = 7; /* f[7]: the end of day 8, the KPIs' 7-day ring full */
    assert_true(f[last].created > 4 * f[last].known);
    /* the model's size: the KPIs' 7-day windows fill during the first week (bounded: see
     * engine/window.h); after that, a day adds to it with forgetting a small part of what it adds
     * without (a day of orders) */
    double grew = fabs((double)f[last].checkpoint - (double)f[week].checkpoint);
    double grew_all = (double)g[last].checkpoint - (double)g[week].checkpoint;
    assert_true(grew_all > 100.0 * (double)per_day); /* > 100 B a order: the orders themselves */
    assert_true(grew < 0.25 * grew_all);
    if (f[week].heap > (1u << 20) && g[week].heap > (1u << 20)) {
        grew = fabs((double)f[last].heap - (double)f[week].heap);
        grew_all = (double)g[last].heap - (double)g[week].heap;
        assert_true(grew < 0.25 * grew_all);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forgotten_after_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_event_of_forgotten_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kept_while_needed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_after_forgetting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complaints_forgotten, setup, teardown),
        cmocka_unit_test(test_simulated_days_plateau),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
