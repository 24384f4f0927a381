/*
 * test_holdings — the technician replica of other partitions' orders (engine/holdings.h), record
 * by record, against what one node's model does (state.c, flags.c): who an order is active for
 * and held by, reassignment, duplicates, the end and the reopen, forgetting after the retention
 * and records of orders forgotten that long ago, and the checkpoint part.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "holdings.h"

#define H       (3600 * 1000LL)
#define T0      (1795306000000LL)
#define KEEP    (3 * H)
#define TA      0
#define TB      1
#define NO_TECH -1

static int rec(ow_holdings *hs, ow_event_type type, int64_t ts, const char *order, int32_t tech,
               ow_hold_change *out)
{
    ow_holding h = {.partition = 1, .type = type, .ts_ms = ts};
    strcpy(h.order_id, order);
    if (tech >= 0) strcpy(h.tech_id, tech == TA ? "A" : "B");
    ow_hold_change tmp[OW_HOLD_CHANGES_MAX];
    int n = ow_holdings_apply(hs, &h, tech, ts, out ? out : tmp);
    assert_true(n >= 0);
    return n;
}

static void counts(const ow_holdings *hs, int32_t tech, int32_t active, int32_t held)
{
    assert_int_equal(ow_holdings_active(hs, tech), active);
    assert_int_equal(ow_holdings_held(hs, tech), held);
}

static void test_lifecycle(void **st)
{
    (void)st;
    ow_holdings *hs = ow_holdings_new(KEEP);
    ow_hold_change ch[OW_HOLD_CHANGES_MAX];
    /* dispatched before created: not open, so nothing yet */
    assert_int_equal(rec(hs, OW_EV_ORDER_DISPATCHED, T0, "o1", TA, ch), 0);
    counts(hs, TA, 0, 0);
    assert_int_equal(rec(hs, OW_EV_ORDER_CREATED, T0 - 1000, "o1", NO_TECH, ch), 1);
    assert_int_equal(ch[0].tech, TA);
    assert_int_equal(ch[0].what, OW_HOLD_ACTIVE);
    assert_string_equal(ow_holdings_active_id(hs, TA, 0), "o1");
    assert_int_equal(rec(hs, OW_EV_ORDER_ACCEPTED, T0 + 1000, "o1", TA, ch), 1);
    assert_int_equal(ch[0].what, OW_HOLD_HELD);
    counts(hs, TA, 1, 1);
    /* the same acceptance again (an identical instant): a duplicate, nothing changes */
    assert_int_equal(rec(hs, OW_EV_ORDER_ACCEPTED, T0 + 1000, "o1", TA, ch), 0);
    /* reassigned to B: A loses it active and held, B has it active, not held */
    assert_int_equal(rec(hs, OW_EV_ORDER_DISPATCHED, T0 + 2000, "o1", TB, ch), 3);
    counts(hs, TA, 0, 0);
    counts(hs, TB, 1, 0);
    /* A's old acceptance replayed with another instant: it holds it again (one node does too) */
    assert_int_equal(rec(hs, OW_EV_ORDER_ACCEPTED, T0 + 2500, "o1", TA, ch), 1);
    counts(hs, TA, 0, 1);
    /* resolved: no longer open; reopened later than that: open again, the same people */
    assert_int_equal(rec(hs, OW_EV_ORDER_RESOLVED, T0 + H, "o1", NO_TECH, ch), 2);
    counts(hs, TB, 0, 0);
    counts(hs, TA, 0, 0);
    rec(hs, OW_EV_ORDER_CALLBACK, T0 + 2 * H, "o1", NO_TECH, NULL);
    /* 3.5 h after the resolution, 1.5 h after the callback: still known (3 h retention) */
    assert_int_equal(rec(hs, OW_EV_ORDER_REOPENED, T0 + 4 * H, "o1", NO_TECH, ch), 2);
    counts(hs, TB, 1, 0);
    counts(hs, TA, 0, 1);
    /* a reopen at an instant before the latest end does not open it */
    assert_int_equal(rec(hs, OW_EV_ORDER_CLOSED, T0 + 5 * H, "o1", NO_TECH, ch), 2);
    assert_int_equal(rec(hs, OW_EV_ORDER_REOPENED, T0 + 5 * H - 1, "o1", NO_TECH, ch), 0);
    counts(hs, TB, 0, 0);
    ow_holdings_free(hs);
}

static void test_forget(void **st)
{
    (void)st;
    ow_holdings *hs = ow_holdings_new(KEEP);
    rec(hs, OW_EV_ORDER_CREATED, T0, "o1", NO_TECH, NULL);
    rec(hs, OW_EV_ORDER_DISPATCHED, T0 + 1, "o1", TA, NULL);
    rec(hs, OW_EV_ORDER_CANCELLED, T0 + H, "o1", NO_TECH, NULL);
    assert_int_equal(ow_holdings_orders(hs), 1);
    /* another order's event 3 h after o1's latest instant: o1 is forgotten, as one node does */
    rec(hs, OW_EV_ORDER_CREATED, T0 + 4 * H, "o2", NO_TECH, NULL);
    assert_int_equal(ow_holdings_orders(hs), 1);
    /* a reopen of o1 now finds a new order, never created: not open */
    assert_int_equal(rec(hs, OW_EV_ORDER_REOPENED, T0 + 4 * H + 1, "o1", NO_TECH, NULL), 0);
    counts(hs, TA, 0, 0);
    /* a record of an unknown order older than the retention behind the watermark is skipped */
    assert_int_equal(rec(hs, OW_EV_ORDER_CREATED, T0, "o3", NO_TECH, NULL), 0);
    assert_int_equal(ow_holdings_orders(hs), 2);
    ow_holdings_free(hs);
}

static void test_checkpoint(void **st)
{
    (void)st;
    ow_holdings *hs = ow_holdings_new(KEEP);
    rec(hs, OW_EV_ORDER_CREATED, T0, "o1", NO_TECH, NULL);
    rec(hs, OW_EV_ORDER_DISPATCHED, T0 + 1, "o1", TA, NULL);
    rec(hs, OW_EV_ORDER_ACCEPTED, T0 + 2, "o1", TA, NULL);
    rec(hs, OW_EV_ORDER_CREATED, T0, "o2", NO_TECH, NULL);
    rec(hs, OW_EV_ORDER_DISPATCHED, T0 + 3, "o2", TB, NULL);
    rec(hs, OW_EV_ORDER_CANCELLED, T0 + 4, "o2", NO_TECH, NULL);
    ow_buf b = {0};
    ow_holdings_save(hs, &b);
    ow_holdings *back = ow_holdings_new(KEEP);
    ow_rbuf r = {b.p, b.n, 0, NULL};
    assert_true(ow_holdings_load(back, &r, 2));
    assert_int_equal(r.off, r.n);
    counts(back, TA, 1, 1);
    counts(back, TB, 0, 0);
    /* the duplicate check survives: the same acceptance again changes nothing */
    assert_int_equal(rec(back, OW_EV_ORDER_ACCEPTED, T0 + 2, "o1", TA, NULL), 0);
    /* and o2 is still forgotten on time */
    rec(back, OW_EV_ORDER_CREATED, T0 + 4 + KEEP, "o9", NO_TECH, NULL);
    assert_int_equal(ow_holdings_orders(back), 2);
    /* a technician index beyond the loader's is refused, naming why */
    ow_holdings *bad = ow_holdings_new(KEEP);
    ow_rbuf r2 = {b.p, b.n, 0, NULL};
    assert_false(ow_holdings_load(bad, &r2, 1));
    assert_non_null(strstr(r2.bad, "technician index"));
    /* cut anywhere: refused, never a crash */
    for (size_t cut = 0; cut < b.n; cut++) {
        ow_holdings *c = ow_holdings_new(KEEP);
        ow_rbuf r3 = {b.p, cut, 0, NULL};
        assert_false(ow_holdings_load(c, &r3, 2));
        ow_holdings_free(c);
    }
    free(b.p);
    ow_holdings_free(bad);
    ow_holdings_free(back);
    ow_holdings_free(hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_forget),
        cmocka_unit_test(test_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
