/* SLA arithmetic: counting time with pauses and business hours, computed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sla.h"

#define MIN  (60 * INT64_C(1000))
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)
/* 2026-11-23 is a Monday; 00:00Z that day: */
#define MON (INT64_C(1795392000000))

static void test_part(void **st)
{
    (void)st;
    assert_int_equal(ow_sla_part(5 * MIN, 50), 150000);
    assert_int_equal(ow_sla_part(5 * MIN, 150), 450000);
    assert_int_equal(ow_sla_part(1001, 50), 500); /* rounded down to the ms */
    assert_int_equal(ow_sla_part(15 * MIN, 80), 12 * MIN);
}

static void test_no_pauses(void **st)
{
    (void)st;
    assert_int_equal(ow_sla_due(1000, 5 * MIN, NULL, 0, NULL), 1000 + 5 * MIN);
    assert_int_equal(ow_sla_counted(1000, 1000 + 7 * MIN, NULL, 0, NULL), 7 * MIN);
    assert_int_equal(ow_sla_counted(1000, 500, NULL, 0, NULL), 0);
}

static void test_pauses(void **st)
{
    (void)st;
    /* start 0; paused 10 h .. 14 h; need 24 h of counting → 28 h */
    ow_interval p[] = {{10 * HOUR, 14 * HOUR}};
    assert_int_equal(ow_sla_due(0, 24 * HOUR, p, 1, NULL), 28 * HOUR);
    /* need 10 h exactly: reached when the pause starts, not after it */
    assert_int_equal(ow_sla_due(0, 10 * HOUR, p, 1, NULL), 10 * HOUR);
    /* two pauses, the second still open: never */
    ow_interval q[] = {{1 * HOUR, 2 * HOUR}, {3 * HOUR, OW_NEVER}};
    assert_int_equal(ow_sla_due(0, 2 * HOUR, q, 2, NULL), 3 * HOUR);
    assert_true(ow_sla_due(0, 2 * HOUR + 1, q, 2, NULL) == OW_NEVER);
    /* a pause before the start does not count against it */
    ow_interval r[] = {{-5 * HOUR, -4 * HOUR}};
    assert_int_equal(ow_sla_due(0, HOUR, r, 1, NULL), HOUR);
    /* start inside a pause: counting begins when it ends */
    ow_interval u[] = {{-HOUR, 30 * MIN}};
    assert_int_equal(ow_sla_due(0, HOUR, u, 1, NULL), 90 * MIN);
    assert_int_equal(ow_sla_counted(0, 28 * HOUR, p, 1, NULL), 24 * HOUR);
}

static void test_calendar(void **st)
{
    (void)st;
    /* Mon-Fri 09:00-18:00 at UTC+08:00 = 01:00Z-10:00Z, 9 h a day */
    ow_calendar cal = {.utc_offset_min = 480, .weekdays = 0x1f, .open_min = 540, .close_min = 1080};
    /* start Monday 00:00Z (08:00 local, before opening): 1 h of counting → Monday 02:00Z */
    assert_int_equal(ow_sla_due(MON, HOUR, NULL, 0, &cal), MON + 2 * HOUR);
    /* 10 h of counting from Monday 01:00Z: 9 h Monday, 1 h Tuesday → Tuesday 02:00Z */
    assert_int_equal(ow_sla_due(MON + HOUR, 10 * HOUR, NULL, 0, &cal), MON + DAY + 2 * HOUR);
    /* Friday 09:00Z (17:00 local): 1 h Friday, then the weekend, then Monday 01:00Z + 1 h */
    int64_t fri = MON + 4 * DAY;
    assert_int_equal(ow_sla_due(fri + 9 * HOUR, 2 * HOUR, NULL, 0, &cal), MON + 7 * DAY + 2 * HOUR);
    /* a pause inside business hours counts with both */
    ow_interval p[] = {{MON + 2 * HOUR, MON + 4 * HOUR}};
    assert_int_equal(ow_sla_due(MON, 3 * HOUR, p, 1, &cal), MON + 6 * HOUR);
    ow_calendar closed = {.utc_offset_min = 0, .weekdays = 0, .open_min = 0, .close_min = 60};
    assert_true(ow_sla_due(MON, HOUR, NULL, 0, &closed) == OW_NEVER);
    assert_int_equal(ow_sla_counted(MON, MON + DAY, NULL, 0, &cal), 9 * HOUR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_part),
        cmocka_unit_test(test_no_pauses),
        cmocka_unit_test(test_pauses),
        cmocka_unit_test(test_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
