/*
 * test_timefmt — RFC 3339 instants and durations. Epoch values were computed by hand and checked
 * with `date -u -d <instant> +%s` when the test was written; they are hard-coded here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "timefmt.h"

static ow_err err;

static int tparse(const char *s, int64_t *ms)
{
    ow_err_clear(&err);
    return ow_time_parse(s, strlen(s), ms, &err);
}

static void test_time_parse_values(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } rows[] = {
        /* the example from DESIGN §3: +08:00 is 8 hours ahead of UTC */
        {"2026-11-22T09:15:02.120+08:00", INT64_C(1795310102120)},
        {"2026-11-22T01:15:02.120Z", INT64_C(1795310102120)},
        {"2026-11-22T01:15:02.120z", INT64_C(1795310102120)},
        {"2026-11-22t01:15:02.120Z", INT64_C(1795310102120)},
        {"2026-11-22 01:15:02.120Z", INT64_C(1795310102120)},  /* RFC 3339 §5.6 note: space */
        {"2026-11-22T09:15:02-05:30", INT64_C(1795358702000)}, /* 14:45:02Z */
        {"2026-11-22T00:00:00+07:00", INT64_C(1795280400000)}, /* previous day 17:00Z */
        {"2026-11-22T01:15:02+00:00", INT64_C(1795310102000)},
        {"2026-11-22T01:15:02-00:00", INT64_C(1795310102000)},
        {"2026-11-22T01:15:02+23:59", INT64_C(1795310102000) - (23 * 60 + 59) * 60000},
        {"2026-01-01T00:00:00Z", INT64_C(1767225600000)},
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.001Z", 1},
        {"1969-12-31T23:59:59Z", -1000},
        {"1969-12-31T23:59:59.999Z", -1},
        {"1999-12-31T23:59:59Z", INT64_C(946684799000)},
        {"2000-03-01T00:00:00Z", INT64_C(951868800000)},
        {"2024-02-29T00:00:00Z", INT64_C(1709164800000)},
        {"2024-03-01T00:00:00Z", INT64_C(1709251200000)},
        {"2100-03-01T00:00:00Z", INT64_C(4107542400000)},
        {"9999-12-31T23:59:59Z", INT64_C(253402300799000)},
        {"0001-01-01T00:00:00Z", INT64_C(-62135596800000)},
        /* fraction: 1 to 9 digits, sub-millisecond digits truncated */
        {"2026-11-22T01:15:02.1Z", INT64_C(1795310102100)},
        {"2026-11-22T01:15:02.12Z", INT64_C(1795310102120)},
        {"2026-11-22T01:15:02.123Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.1239Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.12399Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.123999Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.1239999Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.12399999Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.123999999Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.000000001Z", INT64_C(1795310102000)},
        /* leap second: read as :59.999 */
        {"2016-12-31T23:59:60Z", INT64_C(1483228799999)},
        {"2016-12-31T23:59:60.5Z", INT64_C(1483228799999)},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t ms = 7;
        int rc = tparse(rows[i].text, &ms);
        if (rc != OW_OK) fail_msg("%s: %s", rows[i].text, err.msg);
        if (ms != rows[i].ms)
            fail_msg("%s: want %lld, got %lld", rows[i].text, (long long)rows[i].ms, (long long)ms);
    }
}

static void test_time_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026",
        "2026-11-22",            /* date only */
        "2026-11-22T09:15",      /* no seconds */
        "2026-11-22T09:15:02",   /* no zone */
        "2026-11-22T09:15:02.5", /* no zone */
        "2026-13-01T00:00:00Z",  /* month 13 */
        "2026-00-10T00:00:00Z",  /* month 0 */
        "2026-01-00T00:00:00Z",  /* day 0 */
        "2026-01-32T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-06-31T00:00:00Z",
        "2026-09-31T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2025-02-29T00:00:00Z", /* not a leap year */
        "1900-02-29T00:00:00Z", /* divisible by 100, not by 400 */
        "2100-02-29T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2026-11-22T24:00:00Z",     /* hour 24 */
        "2026-11-22T23:60:00Z",     /* minute 60 */
        "2026-11-22T23:59:61Z",     /* second 61 */
        "2026-11-22T09:15:02Zjunk", /* garbage after */
        "2026-11-22T09:15:02+08:00x",
        "2026-11-22T09:15:02Z ",
        " 2026-11-22T09:15:02Z",
        "2026-11-22T09:15:02.Z",           /* no fraction digits */
        "2026-11-22T09:15:02.1234567890Z", /* 10 fraction digits */
        "2026-11-22T09:15:02,120Z",        /* comma fraction */
        "2026-11-22T09:15:02+0800",
        "2026-11-22T09:15:02+08",
        "2026-11-22T09:15:02+8:00",
        "2026-11-22T09:15:02+24:00",
        "2026-11-22T09:15:02+08:60",
        "2026-11-22T09:15:02 +08:00",
        "2026-11-22X09:15:02Z",
        "2026-11-22T9:15:02Z",
        "+2026-11-22T09:15:02Z",
        "-001-11-22T09:15:02Z",
        "2026-1a-22T09:15:02Z",
        "２０２６-11-22T09:15:02Z", /* full-width digits */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 7;
        int rc = tparse(bad[i], &ms);
        if (rc != OW_EINVAL) fail_msg("\"%s\": want EINVAL, got %d", bad[i], rc);
        if (ms != 7) fail_msg("\"%s\": output written on failure", bad[i]);
        if (!err.msg[0]) fail_msg("\"%s\": no message", bad[i]);
    }
    int64_t ms;
    assert_int_equal(tparse("2026-11-22T09:15:02", &ms), OW_EINVAL);
    assert_string_equal(err.msg, "expected an RFC 3339 time with zone like "
                                 "2026-11-22T09:15:02.120+08:00 (the zone is missing)");
    assert_int_equal(tparse("2025-02-29T00:00:00Z", &ms), OW_EINVAL);
    assert_string_equal(err.msg, "date or time out of range (no such day or hour)");
    assert_int_equal(tparse("2026-11-22T09:15:02Z!", &ms), OW_EINVAL);
    assert_string_equal(err.msg, "expected an RFC 3339 time with zone like "
                                 "2026-11-22T09:15:02.120+08:00 (unexpected text after the zone)");
    /* NULL err is allowed */
    assert_int_equal(ow_time_parse("x", 1, &ms, NULL), OW_EINVAL);
}

static void test_time_parse_reads_len_bytes(void **state)
{
    (void)state;
    const char *s = "2026-11-22T01:15:02Z and more";
    int64_t ms = 0;
    assert_int_equal(ow_time_parse(s, 20, &ms, &err), OW_OK);
    assert_true(ms == INT64_C(1795310102000));
    /* cut inside: every proper prefix of a valid time fails */
    const char *full = "2026-11-22T09:15:02.120+08:00";
    for (size_t n = 0; n < strlen(full); n++) {
        int rc = ow_time_parse(full, n, &ms, &err);
        /* "...:02.1" cut before the zone, and the like: none may pass */
        if (rc == OW_OK) fail_msg("prefix of %zu bytes accepted", n);
    }
    /* a NUL inside the given length is not a separator */
    assert_int_equal(ow_time_parse("2026-11-22T01:15:02\0Z", 21, &ms, &err), OW_EINVAL);
}

static void test_days_from_civil(void **state)
{
    (void)state;
    assert_true(ow_days_from_civil(1970, 1, 1) == 0);
    assert_true(ow_days_from_civil(1969, 12, 31) == -1);
    assert_true(ow_days_from_civil(1970, 3, 1) == 59); /* 31 + 28 */
    assert_true(ow_days_from_civil(1972, 3, 1) == 365 + 365 + 31 + 29);
    assert_true(ow_days_from_civil(2000, 2, 29) == 11016);
    assert_true(ow_days_from_civil(2000, 3, 1) == 11017);
    assert_true(ow_days_from_civil(2023, 3, 1) == 19417);
    assert_true(ow_days_from_civil(2024, 2, 29) == 19782);
    assert_true(ow_days_from_civil(2024, 3, 1) == 19783);
    assert_true(ow_days_from_civil(2100, 3, 1) == 47541);
    assert_true(ow_days_from_civil(1900, 3, 1) == -25508);
    assert_true(ow_days_from_civil(1600, 3, 1) == -135080);
    assert_true(ow_days_from_civil(1, 1, 1) == -719162);
    /* year lengths: 366 in leap years (4, 400), 365 otherwise (100) */
    static const struct {
        int64_t y;
        int64_t len;
    } years[] = {{2023, 365}, {2024, 366}, {2000, 366}, {1900, 365},
                 {2100, 365}, {2400, 366}, {1996, 366}, {1970, 365}};
    for (size_t i = 0; i < sizeof years / sizeof years[0]; i++)
        assert_true(ow_days_from_civil(years[i].y + 1, 1, 1) -
                        ow_days_from_civil(years[i].y, 1, 1) ==
                    years[i].len);
    /* Feb has 29 days in leap years: Mar 1 - Feb 1 */
    assert_true(ow_days_from_civil(2024, 3, 1) - ow_days_from_civil(2024, 2, 1) == 29);
    assert_true(ow_days_from_civil(2026, 3, 1) - ow_days_from_civil(2026, 2, 1) == 28);
    assert_true(ow_days_from_civil(2100, 3, 1) - ow_days_from_civil(2100, 2, 1) == 28);
}

static void test_time_format(void **state)
{
    (void)state;
    char out[OW_TIME_TEXT_MAX];
    static const struct {
        int64_t ms;
        const char *text;
    } rows[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1, "1970-01-01T00:00:00.001Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {-1000, "1969-12-31T23:59:59.000Z"},
        {-86400000, "1969-12-31T00:00:00.000Z"},
        {INT64_C(1795310102120), "2026-11-22T01:15:02.120Z"},
        {INT64_C(1709164800000), "2024-02-29T00:00:00.000Z"},
        {INT64_C(1709164800000) - 1, "2024-02-28T23:59:59.999Z"},
        {INT64_C(951868800000) - 1, "2000-02-29T23:59:59.999Z"},
        {INT64_C(4107542400000) - 1, "2100-02-28T23:59:59.999Z"},
        {INT64_C(253402300799999), "9999-12-31T23:59:59.999Z"},
        {INT64_C(-62135596800000), "0001-01-01T00:00:00.000Z"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ow_time_format(rows[i].ms, out);
        if (strcmp(out, rows[i].text) != 0)
            fail_msg("%lld: want %s, got %s", (long long)rows[i].ms, rows[i].text, out);
    }
    /* the extremes (INT64_MIN is a common "never" sentinel) format without overflow */
    ow_time_format(INT64_MIN, out);
    assert_true(strlen(out) < OW_TIME_TEXT_MAX);
    assert_non_null(strstr(out, ".192Z")); /* ...775808 ms: floor to ...776 s, 192 ms */
    ow_time_format(INT64_MAX, out);
    assert_true(strlen(out) < OW_TIME_TEXT_MAX);
    assert_non_null(strstr(out, ".807Z"));
}

static void test_time_round_trip(void **state)
{
    (void)state;
    char out[OW_TIME_TEXT_MAX];
    /* every day of 1999-2001 and 2099-2101 at a changing time of day, plus scattered instants */
    for (int64_t ms = INT64_C(915148800000); ms < INT64_C(1009843200000);
         ms += 86400000 + 3661001) {
        ow_time_format(ms, out);
        int64_t back = 0;
        if (tparse(out, &back) != OW_OK || back != ms)
            fail_msg("%lld -> %s -> %lld (%s)", (long long)ms, out, (long long)back, err.msg);
    }
    for (int64_t ms = INT64_C(4070908800000); ms < INT64_C(4165516800000); ms += 86400000 + 7) {
        ow_time_format(ms, out);
        int64_t back = 0;
        if (tparse(out, &back) != OW_OK || back != ms)
            fail_msg("%lld -> %s -> %lld", (long long)ms, out, (long long)back);
    }
    for (int64_t ms = INT64_C(-62135596800000); ms < INT64_C(253402300799000);
         ms += INT64_C(99991) * 86400000 + 12345) {
        ow_time_format(ms, out);
        int64_t back = 0;
        if (tparse(out, &back) != OW_OK || back != ms)
            fail_msg("%lld -> %s -> %lld", (long long)ms, out, (long long)back);
    }
}

/* ---- durations ---- */

static int dparse(const char *s, int64_t *ms)
{
    ow_err_clear(&err);
    return ow_duration_parse(s, ms, &err);
}

static void test_duration_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {
        {"15m", 15 * 60000},
        {"2h", 2 * 3600000},
        {"1h30m", 90 * 60000},
        {"500ms", 500},
        {"7d", INT64_C(7) * 86400000},
        {"0s", 0},
        {"0ms", 0},
        {"1s", 1000},
        {"90s", 90000},
        {"1m30s", 90000},
        {"1d2h3m4s5ms", INT64_C(86400000) + 7200000 + 180000 + 4000 + 5},
        {"24h", INT64_C(86400000)},
        {"007m", 7 * 60000},
        {"106751991167d", INT64_C(106751991167) * 86400000}, /* largest whole-day count */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = -7;
        if (dparse(ok[i].text, &ms) != OW_OK) fail_msg("\"%s\": %s", ok[i].text, err.msg);
        if (ms != ok[i].ms)
            fail_msg("\"%s\": want %lld, got %lld", ok[i].text, (long long)ok[i].ms, (long long)ms);
    }
    static const struct {
        const char *text;
        int code;
    } bad[] = {
        {"", OW_EINVAL},
        {"15", OW_EINVAL},
        {"m", OW_EINVAL},
        {"-5m", OW_EINVAL},
        {"1.5h", OW_EINVAL},
        {"15 m", OW_EINVAL},
        {" 15m", OW_EINVAL},
        {"15m ", OW_EINVAL},
        {"15M", OW_EINVAL},
        {"15min", OW_EINVAL},
        {"15y", OW_EINVAL},
        {"1h30", OW_EINVAL},
        {"h1", OW_EINVAL},
        {"+5m", OW_EINVAL},
        {"5mss", OW_EINVAL},
        {"99999999999999999999d", OW_ERANGE},
        {"99999999999999999999ms", OW_ERANGE},
        {"106751991168d", OW_ERANGE},   /* one day past INT64_MAX ms */
        {"106751991167d1d", OW_ERANGE}, /* the sum overflows */
        {"9223372036854775807s", OW_ERANGE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = -7;
        int rc = dparse(bad[i].text, &ms);
        if (rc != bad[i].code)
            fail_msg("\"%s\": want %d, got %d (%s)", bad[i].text, bad[i].code, rc, err.msg);
        if (ms != -7) fail_msg("\"%s\": output written on failure", bad[i].text);
        if (!err.msg[0]) fail_msg("\"%s\": no message", bad[i].text);
    }
    int64_t ms;
    assert_int_equal(dparse("", &ms), OW_EINVAL);
    assert_string_equal(err.msg,
                        "expected a duration like \"15m\", \"2h\", \"1h30m\" or \"500ms\", "
                        "got an empty string");
    assert_int_equal(dparse("15", &ms), OW_EINVAL);
    assert_string_equal(err.msg, "expected a duration like \"15m\", \"2h\", \"1h30m\" or \"500ms\" "
                                 "(unit must be ms, s, m, h or d)");
    assert_int_equal(ow_duration_parse(NULL, &ms, &err), OW_EINVAL);
    assert_int_equal(ow_duration_parse("x", &ms, NULL), OW_EINVAL);
}

static void test_duration_format(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *text;
    } rows[] = {
        {0, "0s"},
        {-5, "0s"},
        {1, "1ms"},
        {500, "500ms"},
        {1000, "1s"},
        {60000, "1m"},
        {90000, "1m30s"},
        {5400000, "1h30m"},
        {3600000, "1h"},
        {INT64_C(86400000), "1d"},
        {INT64_C(172800000), "2d"},
        {INT64_C(90061001), "1d1h1m1s1ms"},
        {INT64_C(604800000), "7d"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ow_duration_format(rows[i].ms, out, sizeof out);
        if (strcmp(out, rows[i].text) != 0)
            fail_msg("%lld: want %s, got %s", (long long)rows[i].ms, rows[i].text, out);
    }
    /* round trip over a spread of values */
    for (int64_t ms = 0; ms < INT64_C(400) * 86400000; ms = ms * 3 + 7) {
        ow_duration_format(ms, out, sizeof out);
        int64_t back = -1;
        if (dparse(out, &back) != OW_OK || back != ms)
            fail_msg("%lld -> %s -> %lld", (long long)ms, out, (long long)back);
    }
    /* a short buffer is cut, still terminated */
    char small[5];
    memset(small, 'Z', sizeof small);
    ow_duration_format(INT64_C(93784005), small, sizeof small);
    assert_true(memchr(small, '\0', sizeof small) != NULL);
    assert_true(strncmp(small, "1d2h", strlen(small)) == 0);
    ow_duration_format(5, small, 0); /* n == 0: nothing written */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_parse_values),
        cmocka_unit_test(test_time_parse_errors),
        cmocka_unit_test(test_time_parse_reads_len_bytes),
        cmocka_unit_test(test_days_from_civil),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_round_trip),
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_duration_format),
    };
    return cmocka_run_group_tests_name("timefmt", tests, NULL, NULL);
}
