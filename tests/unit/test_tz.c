/*
 * test_tz — TZif parsing and local → UTC. Expected instants were computed with GNU date when the
 * test was written (`date -u -d 'TZ="America/Los_Angeles" 2018-03-11 03:30:00' +%s`) and are
 * hard-coded. The system's tzdata file is read by the test (the parser itself reads no files);
 * a small hand-built TZif covers the version-1 path, the footer rule and malformed files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"
#include "config.h"
#include "files.h"
#include "tz.h"

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *b = malloc(1 << 20);
    *len = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static ow_tz *load(const char *zone)
{
    char path[256];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
    size_t len = 0;
    unsigned char *b = slurp(path, &len);
    if (!b) fail_msg("%s missing: install tzdata (scripts/setup.sh does)", path);
    ow_tz *tz = NULL;
    ow_err err;
    int rc = ow_tz_parse(b, len, zone, &tz, &err);
    free(b);
    if (rc) fail_msg("%s", err.msg);
    return tz;
}

/* local "YYYY-MM-DD HH:MM:SS" as ms since the local epoch */
static int64_t local(int y, int mo, int d, int h, int mi, int s)
{
    return ((ow_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60000 +
           s * 1000;
}

static void test_los_angeles(void **state)
{
    (void)state;
    ow_tz *tz = load("America/Los_Angeles");
    ow_tz_kind k;
    /* the first row of the MyLA311 export: PST, UTC-8 */
    assert_int_equal(ow_tz_local_to_utc(tz, local(2017, 12, 27, 13, 36, 22), &k),
                     INT64_C(1514410582000));
    assert_int_equal(k, OW_TZ_UNIQUE);
    assert_int_equal(ow_tz_offset(tz, 1514410582), -8 * 3600);
    /* summer: PDT, UTC-7 */
    assert_int_equal(ow_tz_local_to_utc(tz, local(2018, 7, 1, 12, 0, 0), &k),
                     INT64_C(1530471600000));
    assert_int_equal(k, OW_TZ_UNIQUE);
    /* 2018-03-11 02:30 never happened: read with PST, it is 03:30 PDT */
    assert_int_equal(ow_tz_local_to_utc(tz, local(2018, 3, 11, 2, 30, 0), &k),
                     INT64_C(1520764200000));
    assert_int_equal(k, OW_TZ_GAP);
    /* 2018-11-04 01:30 happened twice: the earlier (PDT) instant */
    assert_int_equal(ow_tz_local_to_utc(tz, local(2018, 11, 4, 1, 30, 0), &k),
                     INT64_C(1541320200000));
    assert_int_equal(k, OW_TZ_AMBIGUOUS);
    /* just around the edges */
    assert_int_equal(ow_tz_local_to_utc(tz, local(2018, 11, 4, 2, 0, 0), &k),
                     INT64_C(1541322000000) + 3600000);
    assert_int_equal(k, OW_TZ_UNIQUE);
    /* milliseconds survive */
    assert_int_equal(ow_tz_local_to_utc(tz, local(2017, 12, 27, 13, 36, 22) + 123, NULL),
                     INT64_C(1514410582123));
    /* after 2037 the footer rule decides (slim and fat files agree) */
    assert_int_equal(ow_tz_local_to_utc(tz, local(2050, 7, 1, 12, 0, 0), NULL),
                     INT64_C(2540314800000));
    assert_int_equal(ow_tz_local_to_utc(tz, local(2050, 12, 1, 12, 0, 0), NULL),
                     INT64_C(2553537600000));
    /* before 1970 (negative instants) */
    assert_int_equal(ow_tz_local_to_utc(tz, local(1950, 7, 1, 12, 0, 0), NULL),
                     INT64_C(-615445200000));
    ow_tz_free(tz);
}

static void test_fixed_zones(void **state)
{
    (void)state;
    ow_tz *tz = load("Asia/Shanghai");
    assert_int_equal(ow_tz_local_to_utc(tz, local(2026, 11, 22, 9, 15, 2), NULL),
                     INT64_C(1795310102000));
    ow_tz_free(tz);
    tz = load("UTC");
    assert_int_equal(ow_tz_local_to_utc(tz, local(2026, 11, 22, 1, 15, 2), NULL),
                     INT64_C(1795310102000));
    ow_tz_free(tz);
}

/* A hand-built TZif: version `ver` with one transition (2000-01-01T00:00Z → type 1) and a footer.
 */
static size_t build(unsigned char *b, char ver, const char *footer)
{
    size_t n = 0;
    /* header: magic, version, 15 unused, isut=0 isstd=0 leap=0 time=1 type=2 char=8 */
    const unsigned char hdr[44] = {'T', 'Z', 'i', 'f', (unsigned char)ver,
                                   0,   0,   0,   0,   0,
                                   0,   0,   0,   0,   0,
                                   0,   0,   0,   0,   0,
                                   0,   0,   0,   0,   0,
                                   0,   0,   0,   0,   0,
                                   0,   0,   0,   0,   0,
                                   1,   0,   0,   0,   2,
                                   0,   0,   0,   8};
    const unsigned char types[12] = {0, 0, 0x0e, 0x10, 0, 0,  /* +3600, std, "AAA" */
                                     0, 0, 0x1c, 0x20, 1, 4}; /* +7200, dst, "BBB" */
    const char chars[8] = {'A', 'A', 'A', 0, 'B', 'B', 'B', 0};
    memcpy(b + n, hdr, 44), n += 44;
    const unsigned char t32[4] = {0x38, 0x6d, 0x43, 0x80}; /* 946684800 */
    memcpy(b + n, t32, 4), n += 4;
    b[n++] = 1;
    memcpy(b + n, types, 12), n += 12;
    memcpy(b + n, chars, 8), n += 8;
    if (ver == 0) return n;
    memcpy(b + n, hdr, 44), n += 44;
    const unsigned char t64[8] = {0, 0, 0, 0, 0x38, 0x6d, 0x43, 0x80};
    memcpy(b + n, t64, 8), n += 8;
    b[n++] = 1;
    memcpy(b + n, types, 12), n += 12;
    memcpy(b + n, chars, 8), n += 8;
    n += (size_t)sprintf((char *)b + n, "\n%s\n", footer);
    return n;
}

static void test_handmade(void **state)
{
    (void)state;
    unsigned char b[512];
    ow_tz *tz;
    ow_err err;
    size_t n = build(b, 0, "");
    assert_int_equal(ow_tz_parse(b, n, "v1", &tz, &err), OW_OK);
    assert_int_equal(ow_tz_offset(tz, 0), 3600);                   /* before: type 0 */
    assert_int_equal(ow_tz_offset(tz, 946684800), 7200);           /* at the transition */
    assert_int_equal(ow_tz_offset(tz, INT64_C(4000000000)), 7200); /* no footer: last type */
    ow_tz_free(tz);
    /* v2 with a southern-hemisphere style rule: DST from October to April */
    n = build(b, '2', "<+01>-1<+02>,M10.1.0,M4.1.0/3");
    assert_int_equal(ow_tz_parse(b, n, "v2", &tz, &err), OW_OK);
    assert_int_equal(ow_tz_offset(tz, 1593561600), 3600); /* 2020-07-01: winter there */
    assert_int_equal(ow_tz_offset(tz, 1577836800), 7200); /* 2020-01-01: summer */
    ow_tz_free(tz);
    n = build(b, '3', "AAA-1");
    assert_int_equal(ow_tz_parse(b, n, "v3", &tz, &err), OW_OK);
    assert_int_equal(ow_tz_offset(tz, 1593561600), 3600);
    ow_tz_free(tz);
}

static void expect_bad(const unsigned char *b, size_t n, const char *needle)
{
    ow_tz *tz = (ow_tz *)1;
    ow_err err;
    assert_int_equal(ow_tz_parse(b, n, "zone", &tz, &err), OW_EINVAL);
    assert_null(tz);
    if (!strstr(err.msg, needle)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
    assert_non_null(strstr(err.msg, "zone: "));
}

static void test_malformed(void **state)
{
    (void)state;
    unsigned char b[512];
    size_t n = build(b, '2', "AAA-1BBB,M3.2.0,M11.1.0");
    expect_bad((const unsigned char *)"TZix", 4, "not a TZif file");
    expect_bad(b, 43, "not a TZif file");
    for (size_t cut = 44; cut < n; cut += 7)
        expect_bad(b, cut, ""); /* every cut fails, and none reads past the end */
    unsigned char c[512];
    memcpy(c, b, n);
    c[4] = '9';
    expect_bad(c, n, "unknown TZif version");
    memcpy(c, b, n);
    c[44 + 25 + 44 + 8] = 5; /* the 64-bit block's transition names type 5 of 2 */
    expect_bad(c, n, "names type 5");
    memcpy(c, b, n);
    c[39] = 0; /* no types */
    expect_bad(c, n, "local time types");
    size_t m = build(b, '2', "AAA-1BBB,M3.9.0,M11.1.0");
    expect_bad(b, m, "not a POSIX TZ rule");
    m = build(b, '2', "A-1");
    expect_bad(b, m, "not a POSIX TZ rule");
    m = build(b, '2', "AAA-1");
    b[m - 1] = 'x'; /* footer without its newline */
    expect_bad(b, m, "footer");
}

/* Zone names are joined to the zoneinfo directory: only tz database names pass. */
static void test_names(void **st)
{
    (void)st;
    assert_true(ow_tz_name_ok("America/Los_Angeles"));
    assert_true(ow_tz_name_ok("UTC"));
    assert_true(ow_tz_name_ok("Etc/GMT+8"));
    static const char *const bad[] = {
        "", "/etc/passwd", "../../etc/passwd", "America/../x", "Los Angeles", "UTC\n", "a;b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ow_tz_name_ok(bad[i])) fail_msg("accepted \"%s\"", bad[i]);
}

/* The programs' loader (io/files.c): analytics.time_zone, else the CSV mapping's zone, else none
 * (the fixed offset); errors name the setting. */
static void test_zone_load(void **st)
{
    (void)st;
    ow_config cfg;
    ow_err err;
    ow_tz *tz = (ow_tz *)&cfg; /* must be replaced */
    ow_config_defaults(&cfg);
    snprintf(cfg.base_dir, sizeof cfg.base_dir, "%s", OW_SOURCE_DIR);
    assert_int_equal(ow_zone_load(&cfg, &tz, &err), 0);
    assert_null(tz); /* nothing says a zone: the fixed analytics.utc_offset_min */
    snprintf(cfg.analytics.time_zone, sizeof cfg.analytics.time_zone, "America/Los_Angeles");
    assert_int_equal(ow_zone_load(&cfg, &tz, &err), 0);
    assert_non_null(tz);
    assert_int_equal(ow_tz_offset(tz, 1782864000), -7 * 3600); /* 2026-07-01: PDT */
    ow_tz_free(tz);
    /* from the city's CSV mapping when the setting is empty */
    cfg.analytics.time_zone[0] = '\0';
    snprintf(cfg.city.mapping, sizeof cfg.city.mapping, "config/mappings/la311.json");
    assert_int_equal(ow_zone_load(&cfg, &tz, &err), 0);
    assert_non_null(tz);
    assert_int_equal(ow_tz_offset(tz, 1767225600), -8 * 3600); /* 2026-01-01: PST */
    ow_tz_free(tz);
    /* the setting wins over the mapping */
    snprintf(cfg.analytics.time_zone, sizeof cfg.analytics.time_zone, "Asia/Shanghai");
    assert_int_equal(ow_zone_load(&cfg, &tz, &err), 0);
    assert_int_equal(ow_tz_offset(tz, 1782864000), 8 * 3600);
    ow_tz_free(tz);
    /* unknown zone, hostile name, a mapping that is not there */
    snprintf(cfg.analytics.time_zone, sizeof cfg.analytics.time_zone, "Mars/Olympus_Mons");
    assert_int_not_equal(ow_zone_load(&cfg, &tz, &err), 0);
    assert_null(tz);
    assert_non_null(strstr(err.msg, "analytics.time_zone"));
    assert_non_null(strstr(err.msg, "tzdata"));
    snprintf(cfg.analytics.time_zone, sizeof cfg.analytics.time_zone, "../../etc/passwd");
    assert_int_not_equal(ow_zone_load(&cfg, &tz, &err), 0);
    assert_non_null(strstr(err.msg, "analytics.time_zone: expected a zone name"));
    cfg.analytics.time_zone[0] = '\0';
    snprintf(cfg.city.mapping, sizeof cfg.city.mapping, "config/mappings/nowhere.json");
    assert_int_not_equal(ow_zone_load(&cfg, &tz, &err), 0);
    assert_non_null(strstr(err.msg, "city.mapping"));
}

/* Local days for reports and windows: expected instants worked out by hand from the US rules
 * (2026: clocks spring forward on Sunday 8 March at 02:00 PST, fall back on Sunday 1 November at
 * 02:00 PDT). */
static void test_local_days(void **st)
{
    (void)st;
    ow_tz *tz = load("America/Los_Angeles");
    const int64_t H = 3600000, D = 24 * H, fixed = -8 * H;
    /* 8 March: 00:00 PST = 08:00Z, the next midnight 00:00 PDT = 07:00Z: 23 hours */
    int64_t m8 = ow_tz_midnight(tz, fixed, local(2026, 3, 8, 0, 0, 0));
    assert_int_equal(m8, local(2026, 3, 8, 8, 0, 0));
    assert_int_equal(ow_tz_midnight(tz, fixed, local(2026, 3, 9, 0, 0, 0)) - m8, 23 * H);
    /* 1 November: 00:00 PDT = 07:00Z, the next midnight 00:00 PST = 08:00Z (2 Nov): 25 hours */
    int64_t n1 = ow_tz_midnight(tz, fixed, local(2026, 11, 1, 0, 0, 0));
    assert_int_equal(n1, local(2026, 11, 1, 7, 0, 0));
    assert_int_equal(ow_tz_midnight(tz, fixed, local(2026, 11, 2, 0, 0, 0)) - n1, 25 * H);
    /* 07:30Z on 2 November is 23:30 PST on 1 November: still that day */
    assert_int_equal(ow_tz_day_start(tz, fixed, local(2026, 11, 2, 7, 30, 0)), n1);
    assert_int_equal(ow_tz_local_day(tz, fixed, local(2026, 11, 2, 7, 30, 0)),
                     local(2026, 11, 1, 0, 0, 0));
    /* offsets either side of the fall-back instant 09:00Z */
    assert_int_equal(ow_tz_offset_ms(tz, fixed, local(2026, 11, 1, 8, 59, 59)), -7 * H);
    assert_int_equal(ow_tz_offset_ms(tz, fixed, local(2026, 11, 1, 9, 0, 0)), -8 * H);
    /* no zone: the fixed offset, every day 24 hours */
    assert_int_equal(ow_tz_midnight(NULL, fixed, local(2026, 3, 8, 0, 0, 0)),
                     local(2026, 3, 8, 8, 0, 0));
    assert_int_equal(ow_tz_day_start(NULL, fixed, local(2026, 3, 9, 7, 59, 0)),
                     local(2026, 3, 8, 8, 0, 0));
    assert_int_equal(ow_tz_local_day(NULL, 0, -1), -D); /* before 1970: floor, not truncation */
    ow_tz_free(tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_los_angeles), cmocka_unit_test(test_fixed_zones),
        cmocka_unit_test(test_handmade),    cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_names),       cmocka_unit_test(test_zone_load),
        cmocka_unit_test(test_local_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
