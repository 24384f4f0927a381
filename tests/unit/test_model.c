/*
 * test_model — open orders per priority; order-independent and idempotent application.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "model.h"

static ow_config cfg;

static ow_event mk(ow_event_type t, const char *order, int64_t ts, ow_priority p)
{
    ow_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.ts_ms = ts;
    snprintf(ev.id, sizeof ev.id, "%s-%s-%lld", order, ow_event_type_name(t), (long long)ts);
    snprintf(ev.order_id, sizeof ev.order_id, "%s", order);
    ev.priority = p;
    ev.nps = -1;
    ev.eta_s = -1;
    return ev;
}

static int apply(ow_model *m, ow_event_type t, const char *order, int64_t ts, ow_priority p)
{
    ow_event ev = mk(t, order, ts, p);
    return ow_model_apply(m, &ev, ts);
}

static void expect_open(const ow_model *m, int64_t e, int64_t i, int64_t g)
{
    const ow_model_stats *st = ow_model_stats_get(m);
    if (st->open[OW_PRIO_EMERGENCY] != e || st->open[OW_PRIO_IMPORTANT] != i ||
        st->open[OW_PRIO_GENERAL] != g || st->open_total != e + i + g)
        fail_msg("open E/I/G/total %lld/%lld/%lld/%lld, want %lld/%lld/%lld/%lld",
                 (long long)st->open[0], (long long)st->open[1], (long long)st->open[2],
                 (long long)st->open_total, (long long)e, (long long)i, (long long)g,
                 (long long)(e + i + g));
}

static void test_lifecycle_counts(void **state)
{
    (void)state;
    ow_config_defaults(&cfg);
    ow_model *m = ow_model_new(&cfg);
    assert_non_null(m);
    expect_open(m, 0, 0, 0);
    assert_true(ow_model_stats_get(m)->last_event_ms == 0);

    assert_int_equal(apply(m, OW_EV_ORDER_CREATED, "o1", 1000, OW_PRIO_EMERGENCY), 1);
    assert_int_equal(apply(m, OW_EV_ORDER_CREATED, "o2", 1000, OW_PRIO_IMPORTANT), 1);
    assert_int_equal(apply(m, OW_EV_ORDER_CREATED, "o3", 1000, OW_PRIO_GENERAL), 1);
    assert_int_equal(apply(m, OW_EV_ORDER_CREATED, "o4", 1000, OW_PRIO_GENERAL), 1);
    assert_int_equal(apply(m, OW_EV_ORDER_CREATED, "o5", 1000, OW_PRIO_EMERGENCY), 1);
    expect_open(m, 2, 1, 2);

    /* stages in between do not open or close anything */
    static const ow_event_type middle[] = {
        OW_EV_ORDER_DISPATCHED, OW_EV_ORDER_ACCEPTED, OW_EV_ORDER_DEPARTED, OW_EV_ORDER_ARRIVED,
        OW_EV_ORDER_PAUSED,     OW_EV_ORDER_RESUMED,  OW_EV_ORDER_CALLBACK};
    for (size_t i = 0; i < sizeof middle / sizeof middle[0]; i++)
        assert_int_equal(apply(m, middle[i], "o1", 1100 + (int64_t)i, OW_PRIO_EMERGENCY), 0);
    expect_open(m, 2, 1, 2);

    assert_int_equal(apply(m, OW_EV_ORDER_RESOLVED, "o1", 2000, 0), 1);
    expect_open(m, 1, 1, 2);
    assert_int_equal(apply(m, OW_EV_ORDER_CLOSED, "o2", 2000, 0), 1);
    expect_open(m, 1, 0, 2);
    assert_int_equal(apply(m, OW_EV_ORDER_CANCELLED, "o3", 2000, 0), 1);
    expect_open(m, 1, 0, 1);
    /* a resolved order that is closed later stays closed */
    assert_int_equal(apply(m, OW_EV_ORDER_CLOSED, "o1", 2500, 0), 0);
    expect_open(m, 1, 0, 1);
    /* reopened after its end: open again, with its priority */
    assert_int_equal(apply(m, OW_EV_ORDER_REOPENED, "o1", 3000, 0), 1);
    expect_open(m, 2, 0, 1);
    /* and resolved again */
    assert_int_equal(apply(m, OW_EV_ORDER_RESOLVED, "o1", 4000, 0), 1);
    expect_open(m, 1, 0, 1);

    const ow_model_stats *st = ow_model_stats_get(m);
    assert_true(st->orders_known == 5);
    assert_true(st->events_applied == 5 + 7 + 6);
    assert_true(st->events_by_type[OW_EV_ORDER_CREATED] == 5);
    assert_true(st->events_by_type[OW_EV_ORDER_CLOSED] == 2);
    assert_true(st->events_by_type[OW_EV_ORDER_RESOLVED] == 2);
    assert_true(st->last_event_ms == 4000);
    ow_model_free(m);
    ow_model_free(NULL);
}

static void test_non_order_events(void **state)
{
    (void)state;
    ow_config_defaults(&cfg);
    ow_model *m = ow_model_new(&cfg);
    assert_non_null(m);
    ow_event ev = mk(OW_EV_TECH_STATUS, "", 5000, 0);
    snprintf(ev.tech_id, sizeof ev.tech_id, "t1");
    assert_int_equal(ow_model_apply(m, &ev, 5000), 0);
    ev = mk(OW_EV_COMPLAINT_CREATED, "o1", 6000, 0);
    assert_int_equal(ow_model_apply(m, &ev, 6000), 0);
    const ow_model_stats *st = ow_model_stats_get(m);
    assert_true(st->orders_known == 0);
    assert_true(st->events_applied == 2);
    assert_true(st->events_by_type[OW_EV_TECH_STATUS] == 1);
    assert_true(st->last_event_ms == 6000);
    expect_open(m, 0, 0, 0);
    ow_model_free(m);
}

static void test_out_of_order(void **state)
{
    (void)state;
    ow_config_defaults(&cfg);
    ow_model *m = ow_model_new(&cfg);
    assert_non_null(m);
    /* closed arrives before created */
    assert_int_equal(apply(m, OW_EV_ORDER_CLOSED, "a", 2000, 0), 0);
    expect_open(m, 0, 0, 0);
    assert_true(ow_model_stats_get(m)->orders_known == 1);
    assert_int_equal(apply(m, OW_EV_ORDER_CREATED, "a", 1000, OW_PRIO_GENERAL), 0);
    expect_open(m, 0, 0, 0);

    /* reopen, then close, then create, all late: the reopen (3000) is after the close (2000) */
    apply(m, OW_EV_ORDER_REOPENED, "b", 3000, 0);
    apply(m, OW_EV_ORDER_CLOSED, "b", 2000, 0);
    expect_open(m, 0, 0, 0);
    apply(m, OW_EV_ORDER_CREATED, "b", 1000, OW_PRIO_IMPORTANT);
    expect_open(m, 0, 1, 0);

    /* a reopen earlier than the last resolve does not reopen */
    apply(m, OW_EV_ORDER_RESOLVED, "c", 2000, 0);
    apply(m, OW_EV_ORDER_CREATED, "c", 1000, OW_PRIO_EMERGENCY);
    apply(m, OW_EV_ORDER_REOPENED, "c", 1500, 0);
    expect_open(m, 0, 1, 0);

    /* two creates: the earliest one's priority counts, whatever the arrival order */
    apply(m, OW_EV_ORDER_CREATED, "d", 5000, OW_PRIO_GENERAL);
    expect_open(m, 0, 1, 1);
    assert_int_equal(apply(m, OW_EV_ORDER_CREATED, "d", 4000, OW_PRIO_EMERGENCY), 1);
    expect_open(m, 1, 1, 0);
    assert_int_equal(apply(m, OW_EV_ORDER_CREATED, "d", 4500, OW_PRIO_IMPORTANT), 0);
    expect_open(m, 1, 1, 0);
    assert_true(ow_model_stats_get(m)->last_event_ms == 5000);
    ow_model_free(m);
}

/* A fixed history; after all of it: A open (emergency), D open (general), others closed. */
typedef struct {
    ow_event_type t;
    const char *order;
    int64_t ts;
    ow_priority p;
} step;

static const step history[] = {
    {OW_EV_ORDER_CREATED, "A", 100, OW_PRIO_EMERGENCY},
    {OW_EV_ORDER_DISPATCHED, "A", 200, 0},
    {OW_EV_ORDER_RESOLVED, "A", 300, 0},
    {OW_EV_ORDER_REOPENED, "A", 400, 0},
    {OW_EV_ORDER_CREATED, "B", 100, OW_PRIO_IMPORTANT},
    {OW_EV_ORDER_CANCELLED, "B", 250, 0},
    {OW_EV_ORDER_CLOSED, "C", 500, 0}, /* never created: known, not open */
    {OW_EV_ORDER_CREATED, "D", 150, OW_PRIO_GENERAL},
    {OW_EV_ORDER_CREATED, "E", 100, OW_PRIO_GENERAL},
    {OW_EV_ORDER_RESOLVED, "E", 200, 0},
    {OW_EV_ORDER_REOPENED, "E", 300, 0},
    {OW_EV_ORDER_CLOSED, "E", 400, 0},
};
#define NSTEPS (sizeof history / sizeof history[0])

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

static void test_any_order_any_duplicates(void **state)
{
    (void)state;
    ow_config_defaults(&cfg);
    /* in time order, once */
    ow_model *m = ow_model_new(&cfg);
    assert_non_null(m);
    for (size_t i = 0; i < NSTEPS; i++)
        apply(m, history[i].t, history[i].order, history[i].ts, history[i].p);
    expect_open(m, 1, 0, 1);
    assert_true(ow_model_stats_get(m)->orders_known == 5);
    assert_true(ow_model_stats_get(m)->last_event_ms == 500);
    ow_model_free(m);

    /* shuffled, each event one to three times */
    size_t order[NSTEPS * 3];
    for (int round = 0; round < 3000; round++) {
        size_t n = 0;
        for (size_t i = 0; i < NSTEPS; i++) {
            int copies = 1 + (int)(rng() % 3);
            for (int c = 0; c < copies; c++)
                order[n++] = i;
        }
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = rng() % (i + 1);
            size_t tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        m = ow_model_new(&cfg);
        assert_non_null(m);
        for (size_t i = 0; i < n; i++) {
            const step *s = &history[order[i]];
            apply(m, s->t, s->order, s->ts, s->p);
            const ow_model_stats *st = ow_model_stats_get(m);
            int64_t sum = st->open[0] + st->open[1] + st->open[2];
            if (sum != st->open_total || st->open[0] < 0 || st->open[1] < 0 || st->open[2] < 0)
                fail_msg("round %d: inconsistent totals", round);
        }
        expect_open(m, 1, 0, 1);
        assert_true(ow_model_stats_get(m)->orders_known == 5);
        assert_true(ow_model_stats_get(m)->last_event_ms == 500);
        ow_model_free(m);
    }
}

static void test_duplicates_change_nothing(void **state)
{
    (void)state;
    ow_config_defaults(&cfg);
    ow_model *m = ow_model_new(&cfg);
    assert_non_null(m);
    for (size_t i = 0; i < NSTEPS; i++) {
        apply(m, history[i].t, history[i].order, history[i].ts, history[i].p);
        /* the same event again: the picture does not change */
        assert_int_equal(apply(m, history[i].t, history[i].order, history[i].ts, history[i].p), 0);
    }
    expect_open(m, 1, 0, 1);
    ow_model_free(m);
}

static void test_many_orders(void **state)
{
    (void)state;
    ow_config_defaults(&cfg);
    ow_model *m = ow_model_new(&cfg);
    assert_non_null(m);
    char id[32];
    for (int i = 0; i < 30000; i++) {
        snprintf(id, sizeof id, "ord-%d", i);
        apply(m, OW_EV_ORDER_CREATED, id, 1000 + i, (ow_priority)(i % 3));
    }
    for (int i = 0; i < 30000; i += 2) {
        snprintf(id, sizeof id, "ord-%d", i);
        apply(m, OW_EV_ORDER_CLOSED, id, 100000 + i, 0);
    }
    /* closed: the even ones; i % 3 over even i cycles 0,2,1: 5000 each */
    expect_open(m, 5000, 5000, 5000);
    assert_true(ow_model_stats_get(m)->orders_known == 30000);
    ow_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle_counts),
        cmocka_unit_test(test_non_order_events),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_any_order_any_duplicates),
        cmocka_unit_test(test_duplicates_change_nothing),
        cmocka_unit_test(test_many_orders),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
