/*
 * The root-cause flags (DESIGN §5): for each flag a scenario where it must fire (id, instant,
 * evidence) and a near miss where it must not, clearing, acknowledgement, the snapshot members,
 * replay determinism and the checkpoint round trip. Events are written by hand; every expected
 * instant follows from the rules with the default thresholds (config/opswall.json), as UTC times
 * of 2026-11-22 ("+2d 01:00:00" is two days later).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "config.h"
#include "picture.h"
#include "policy.h"
#include "regions.h"
#include "spatial.h"
#include "state.h"
#include "timefmt.h"

static ow_config cfg;
static ow_policy pol;

static int64_t T(const char *hms)
{
    int days = 0;
    if (hms[0] == '+') {
        days = hms[1] - '0';
        hms += 4;
    }
    char text[64];
    snprintf(text, sizeof text, "2026-11-%02dT%sZ", 22 + days, hms);
    int64_t ms;
    assert_int_equal(ow_time_parse(text, strlen(text), &ms, NULL), 0);
    return ms;
}

static int nid;

static void apply(ow_state *s, const char *hms, const char *type, const char *fields)
{
    char line[2048], ts[OW_TIME_TEXT_MAX];
    ow_time_format(T(hms), ts);
    snprintf(line, sizeof line, "{\"v\":1,\"id\":\"e%d\",\"ts\":\"%s\",\"type\":\"%s\",%s}", nid++,
             ts, type, fields);
    ow_event ev;
    ow_err err;
    if (ow_event_parse(line, strlen(line), &ev, &err)) fail_msg("bad test event: %s", err.msg);
    if (ow_state_apply(s, &ev) < 0) fail_msg("apply failed: %s", line);
}

/* Evidence of the raises drained last, "id => {json}" lines. */
static char evidence[16384];

/* The outbox's flag records as "op id L<level> @HH:MM:SS" lines (SLA records skipped), then
 * cleared. With `only`, just that flag's records. */
static const char *drain_only(ow_state *s, const char *only)
{
    static char out[16384];
    size_t n, used = 0, eused = 0;
    const ow_alert *a = ow_state_outbox(s, &n);
    out[0] = evidence[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        static const char *const ops[] = {"raise", "resolve", "ack"};
        if (a[i].kind != OW_ALERT_FLAG || (only && strcmp(a[i].flag, only) != 0)) continue;
        char at[OW_TIME_TEXT_MAX], id[OW_ALERT_ID_BUF];
        ow_time_format(a[i].at, at);
        ow_alert_id(&a[i], id);
        used += (size_t)snprintf(out + used, sizeof out - used, "%s %s L%d @%.8s\n", ops[a[i].op],
                                 id, a[i].level, at + 11);
        if (a[i].op == OW_ALERT_RAISE)
            eused += (size_t)snprintf(evidence + eused, sizeof evidence - eused, "%s => %s\n", id,
                                      a[i].evidence);
    }
    ow_state_outbox_clear(s);
    return out;
}

static const char *drain(ow_state *s)
{
    return drain_only(s, NULL);
}

#define assert_evidence(part)                                                                      \
    do {                                                                                           \
        if (!strstr(evidence, part)) fail_msg("evidence lacks %s:\n%s", part, evidence);           \
    } while (0)

static int setup(void **st)
{
    ow_config_defaults(&cfg);
    ow_policy_from_config(&pol, &cfg);
    *st = ow_state_new(&pol);
    return *st ? 0 : -1;
}

static int teardown(void **st)
{
    ow_state_free(*st);
    return 0;
}

/* An order of category `cat` in region r1 at (lon, lat); general priority (dispatch target 1 h,
 * so no neglect flag gets in the way unless a test wants it). */
static void order_at(ow_state *s, const char *hms, const char *id, const char *cat, double lon,
                     double lat, const char *extra)
{
    char f[512];
    snprintf(f, sizeof f,
             "\"order_id\":\"%s\",\"priority\":\"general\",\"category\":\"%s\",\"region\":\"r1\","
             "\"lon\":%.6f,\"lat\":%.6f%s",
             id, cat, lon, lat, extra ? extra : "");
    apply(s, hms, "order.created", f);
}

static void order_ev(ow_state *s, const char *hms, const char *type, const char *order,
                     const char *tech)
{
    char f[256];
    if (tech)
        snprintf(f, sizeof f, "\"order_id\":\"%s\",\"tech_id\":\"%s\"", order, tech);
    else
        snprintf(f, sizeof f, "\"order_id\":\"%s\"", order);
    apply(s, hms, type, f);
}

static void tech_status(ow_state *s, const char *hms, const char *tech, const char *status,
                        const char *region, const char *skills)
{
    char f[256];
    snprintf(f, sizeof f, "\"tech_id\":\"%s\",\"status\":\"%s\",\"region\":\"%s\"%s%s", tech,
             status, region, skills ? ",\"skills\":" : "", skills ? skills : "");
    apply(s, hms, "tech.status", f);
}

static void tech_at(ow_state *s, const char *hms, const char *tech, double lon, double lat)
{
    char f[256];
    snprintf(f, sizeof f, "\"tech_id\":\"%s\",\"lon\":%.6f,\"lat\":%.6f", tech, lon, lat);
    apply(s, hms, "tech.location", f);
}

/* Metres to degrees of latitude (the haversine's sphere). */
#define M(lat_m) ((lat_m) / 111195.08)
#define LON0     121.5
#define LAT0     31.2

/* ---------------------------------------------------------------- duplicate_dispatch */

static void test_duplicate_dispatch_nearby(void **st)
{
    ow_state *s = *st;
    order_at(s, "01:00:00", "o1", "drain", LON0, LAT0, NULL);
    order_at(s, "01:10:00", "o2", "drain", LON0, LAT0 + M(20), NULL); /* 20 m away */
    order_ev(s, "01:05:00", "order.dispatched", "o1", "t1");
    assert_string_equal(drain(s), "");
    order_ev(s, "01:12:00", "order.dispatched", "o2", "t2");
    assert_string_equal(drain(s), "raise flag:duplicate_dispatch:o2:1 L2 @01:12:00\n");
    assert_evidence("\"orders\":[\"o2\",\"o1\"],\"techs\":[\"t2\",\"t1\"]");
    assert_evidence("\"distance_m\":20");
    /* the order's detail names its raised flags */
    char *detail = ow_picture_order(s, "o2", T("01:12:00"));
    assert_non_null(detail);
    assert_non_null(strstr(detail, "\"flags\":[{\"id\":\"flag:duplicate_dispatch:o2:1\""));
    free(detail);
    /* the duplicate is cancelled: the condition ends */
    order_ev(s, "01:20:00", "order.cancelled", "o2", NULL);
    assert_string_equal(drain(s), "resolve flag:duplicate_dispatch:o2:1 L2 @01:20:00\n");
}

static void test_duplicate_dispatch_same_address(void **st)
{
    ow_state *s = *st;
    apply(s, "01:00:00", "order.created",
          "\"order_id\":\"o1\",\"priority\":\"general\",\"category\":\"drain\",\"region\":\"r1\","
          "\"address\":\"12 Main St.\"");
    apply(s, "01:25:00", "order.created",
          "\"order_id\":\"o2\",\"priority\":\"general\",\"category\":\"drain\",\"region\":\"r1\","
          "\"address\":\"12 main st\"");
    order_ev(s, "01:26:00", "order.dispatched", "o1", "t1");
    order_ev(s, "01:27:00", "order.dispatched", "o2", "t2");
    assert_string_equal(drain(s), "raise flag:duplicate_dispatch:o2:1 L2 @01:27:00\n");
}

/* Near misses: 60 m apart; 31 minutes apart; another category; the first not dispatched. */
static void test_duplicate_dispatch_near_miss(void **st)
{
    ow_state *s = *st;
    order_at(s, "01:00:00", "o1", "drain", LON0, LAT0, NULL);
    order_at(s, "01:10:00", "o2", "drain", LON0, LAT0 + M(60), NULL);
    order_at(s, "01:31:00", "o3", "drain", LON0, LAT0 + M(10), NULL);
    order_at(s, "01:05:00", "o4", "water", LON0, LAT0 + M(5), NULL);
    order_at(s, "01:06:00", "o5", "drain", LON0 + 0.5, LAT0, NULL);
    order_at(s, "01:07:00", "o6", "drain", LON0 + 0.5, LAT0 + M(5), NULL);
    order_ev(s, "01:11:00", "order.dispatched", "o1", "t1");
    order_ev(s, "01:12:00", "order.dispatched", "o2", "t2");
    order_ev(s, "01:32:00", "order.dispatched", "o3", "t3");
    order_ev(s, "01:33:00", "order.dispatched", "o4", "t4");
    order_ev(s, "01:34:00", "order.dispatched", "o6", "t6"); /* o5 is not dispatched */
    assert_string_equal(drain_only(s, "duplicate_dispatch"), "");
}

static void test_duplicate_dispatch_accepted_twice(void **st)
{
    ow_state *s = *st;
    order_at(s, "01:00:00", "o1", "drain", LON0, LAT0, NULL);
    order_ev(s, "01:01:00", "order.dispatched", "o1", "t1");
    order_ev(s, "01:02:00", "order.accepted", "o1", "t1");
    order_ev(s, "01:03:00", "order.accepted", "o1", "t2");
    assert_string_equal(drain(s), "raise flag:duplicate_dispatch:o1/accepted:1 L2 @01:03:00\n");
    assert_evidence("\"orders\":[\"o1\"],\"techs\":[\"t1\",\"t2\"]");
    order_ev(s, "01:30:00", "order.resolved", "o1", "t2");
    assert_string_equal(drain(s), "resolve flag:duplicate_dispatch:o1/accepted:1 L2 @01:30:00\n");
    /* near miss: a reassignment (dispatched to t2 in between) is not a second acceptance */
    order_at(s, "02:00:00", "o2", "drain", LON0 + 1, LAT0, NULL);
    order_ev(s, "02:01:00", "order.dispatched", "o2", "t1");
    order_ev(s, "02:02:00", "order.accepted", "o2", "t1");
    order_ev(s, "02:03:00", "order.dispatched", "o2", "t2");
    order_ev(s, "02:04:00", "order.accepted", "o2", "t2");
    assert_string_equal(drain(s), "");
}

/* ---------------------------------------------------------------- repeat_visit */

static void test_repeat_visit_new_order(void **st)
{
    ow_state *s = *st;
    order_at(s, "01:00:00", "o1", "drain", LON0, LAT0, NULL);
    order_ev(s, "01:10:00", "order.dispatched", "o1", "t1");
    order_ev(s, "02:00:00", "order.resolved", "o1", "t1");
    order_ev(s, "03:00:00", "order.closed", "o1", NULL);
    ow_state_advance(s, T("03:00:00"));
    order_at(s, "+2d 01:00:00", "o2", "drain", LON0, LAT0 + M(30), NULL);
    assert_string_equal(drain(s), "raise flag:repeat_visit:o2:1 L1 @01:00:00\n");
    assert_evidence("\"orders\":[\"o2\",\"o1\"],\"techs\":[\"t1\"]");
    order_ev(s, "+2d 05:00:00", "order.cancelled", "o2", NULL);
    assert_string_equal(drain(s), "resolve flag:repeat_visit:o2:1 L1 @05:00:00\n");
}

/* Near misses: more than 7 days after the resolution; another category; 80 m away; resolved
 * after the new order was created. */
static void test_repeat_visit_near_miss(void **st)
{
    ow_state *s = *st;
    order_at(s, "01:00:00", "o1", "drain", LON0, LAT0, NULL);
    order_ev(s, "02:00:00", "order.resolved", "o1", "t1");
    order_at(s, "03:00:00", "o2", "water", LON0, LAT0, NULL);
    order_at(s, "03:00:00", "o3", "drain", LON0, LAT0 + M(80), NULL);
    order_at(s, "04:00:00", "o4", "drain", LON0 + 0.2, LAT0, NULL);
    order_at(s, "05:00:00", "o5", "drain", LON0 + 0.2, LAT0 + M(10), NULL);
    order_ev(s, "06:00:00", "order.resolved", "o4", "t1"); /* after o5 came in */
    ow_state_advance(s, T("+7d 02:00:01"));                /* o1 leaves the memory */
    order_at(s, "+7d 03:00:00", "o6", "drain", LON0, LAT0, NULL);
    assert_string_equal(drain_only(s, "repeat_visit"), "");
}

static void test_repeat_visit_reopened(void **st)
{
    ow_state *s = *st;
    order_at(s, "01:00:00", "o1", "drain", LON0, LAT0, NULL);
    order_ev(s, "02:00:00", "order.resolved", "o1", "t1");
    assert_string_equal(drain(s), "");
    apply(s, "03:00:00", "order.reopened", "\"order_id\":\"o1\",\"reason\":\"blocked again\"");
    assert_string_equal(drain(s), "raise flag:repeat_visit:o1/reopened:1 L1 @03:00:00\n");
    assert_evidence("\"reason\":\"blocked again\"");
    order_ev(s, "04:00:00", "order.resolved", "o1", "t1");
    assert_string_equal(drain(s), "resolve flag:repeat_visit:o1/reopened:1 L1 @04:00:00\n");
    /* a second reopen is a new instance of the same condition */
    apply(s, "05:00:00", "order.reopened", "\"order_id\":\"o1\"");
    assert_string_equal(drain(s), "raise flag:repeat_visit:o1/reopened:2 L1 @05:00:00\n");
}

/* ---------------------------------------------------------------- neglected_region */

/* Emergency order in r1 (dispatch target 5 min): at 01:05 it is past target. */
static void test_neglected_region(void **st)
{
    ow_state *s = *st;
    tech_status(s, "00:50:00", "t1", "idle", "r2", NULL);
    apply(
        s, "01:00:00", "order.created",
        "\"order_id\":\"o1\",\"priority\":\"emergency\",\"category\":\"drain\",\"region\":\"r1\"");
    ow_state_advance(s, T("01:04:59"));
    assert_string_equal(drain(s), "");
    ow_state_advance(s, T("01:05:00"));
    assert_string_equal(drain(s), "raise flag:neglected_region:o1:1 L2 @01:05:00\n");
    assert_evidence("\"orders\":[\"o1\"],\"techs\":[\"t1\"],\"regions\":[\"r1\",\"r2\"]");
    assert_evidence("\"idle_elsewhere\":1");
    order_ev(s, "01:08:00", "order.dispatched", "o1", "t1");
    assert_string_equal(drain(s), "resolve flag:neglected_region:o1:1 L2 @01:08:00\n");
}

/* Near miss: the only idle technician is in the order's own region; then one turns idle
 * elsewhere while the order still waits: raised then. Dispatched in time: nothing. */
static void test_neglected_region_near_miss(void **st)
{
    ow_state *s = *st;
    tech_status(s, "00:50:00", "t1", "idle", "r1", NULL);
    tech_status(s, "00:50:00", "t2", "onsite", "r3", NULL);
    apply(
        s, "01:00:00", "order.created",
        "\"order_id\":\"o1\",\"priority\":\"emergency\",\"category\":\"drain\",\"region\":\"r1\"");
    apply(
        s, "01:00:00", "order.created",
        "\"order_id\":\"o2\",\"priority\":\"emergency\",\"category\":\"drain\",\"region\":\"r2\"");
    order_ev(s, "01:04:00", "order.dispatched", "o2", "t2");
    ow_state_advance(s, T("01:06:00"));
    assert_string_equal(drain_only(s, "neglected_region"), "");
    tech_status(s, "01:07:00", "t2", "idle", "r3", NULL);
    assert_string_equal(drain_only(s, "neglected_region"),
                        "raise flag:neglected_region:o1:1 L2 @01:07:00\n");
}

/* ---------------------------------------------------------------- surge */

static void orders_every(ow_state *s, const char *region, int from_min, int to_min, int step,
                         const char *prefix)
{
    for (int m = from_min; m < to_min; m += step) {
        char hms[16], f[256];
        snprintf(hms, sizeof hms, "%02d:%02d:00", m / 60, m % 60);
        snprintf(f, sizeof f,
                 "\"order_id\":\"%s%d\",\"priority\":\"general\",\"category\":\"drain\","
                 "\"region\":\"%s\"",
                 prefix, m, region);
        apply(s, hms, "order.created", f);
    }
}

/* Trailing 6 h: an order every 15 min from 01:00 to 06:45. At 07:39 the window (one-minute
 * buckets 07:10..07:39) holds the 10 orders of 07:30..07:39; the trailing span 01:10..07:09 holds
 * 23 → 23/12 = 1.92 per 30 min; 10 >= 10 and 10 > 3 × 1.92. */
static void test_surge(void **st)
{
    ow_state *s = *st;
    orders_every(s, "r1", 60, 420, 15, "b");
    orders_every(s, "r1", 450, 459, 1, "s");
    assert_string_equal(drain_only(s, "surge"), "");
    orders_every(s, "r1", 459, 460, 1, "s");
    assert_string_equal(drain_only(s, "surge"), "raise flag:surge:r1:1 L2 @07:39:00\n");
    assert_evidence("\"count\":10,\"baseline\":1.92");
    assert_evidence("\"orders\":[\"s459\",\"s458\",");
    /* the window slides past 07:30 at the 08:00 bucket: 9 orders left, below 10 */
    ow_state_advance(s, T("07:59:59"));
    assert_string_equal(drain_only(s, "surge"), "");
    ow_state_advance(s, T("08:00:00"));
    assert_string_equal(drain_only(s, "surge"), "resolve flag:surge:r1:1 L2 @08:00:00\n");
}

/* Near miss: a busier trailing span (every 5 min: 70 in 01:10..07:09, 5.83 per 30 min). */
static void test_surge_near_miss(void **st)
{
    ow_state *s = *st;
    orders_every(s, "r1", 60, 420, 5, "b");
    orders_every(s, "r1", 450, 460, 1, "s");
    ow_state_advance(s, T("09:00:00"));
    assert_string_equal(drain_only(s, "surge"), "");
}

/* ---------------------------------------------------------------- understaffed, backlog */

static void test_understaffed(void **st)
{
    ow_state *s = *st;
    tech_status(s, "00:00:00", "t1", "idle", "r1", NULL);
    tech_status(s, "00:00:00", "t9", "break", "r1", NULL); /* not available */
    orders_every(s, "r1", 60, 69, 1, "o");
    assert_string_equal(drain_only(s, "understaffed"), "");
    orders_every(s, "r1", 69, 70, 1, "o"); /* 10 open, 1 available: 10 > 5 */
    assert_string_equal(drain_only(s, "understaffed"),
                        "raise flag:understaffed:r1:1 L2 @01:09:00\n");
    assert_evidence("\"open\":10,\"available\":1");
    tech_status(s, "01:20:00", "t2", "enroute", "r1", NULL); /* 10 > 10 no more */
    assert_string_equal(drain_only(s, "understaffed"),
                        "resolve flag:understaffed:r1:1 L2 @01:20:00\n");
}

static void test_understaffed_near_miss(void **st)
{
    ow_state *s = *st;
    tech_status(s, "00:00:00", "t1", "idle", "r1", NULL);
    tech_status(s, "00:00:00", "t2", "onsite", "r1", NULL);
    orders_every(s, "r1", 60, 70, 1, "o"); /* 10 open, 2 available: 10 > 10 is false */
    assert_string_equal(drain_only(s, "understaffed"), "");
}

static void test_backlog(void **st)
{
    ow_state *s = *st;
    orders_every(s, "r1", 60, 110, 1, "o"); /* 50 open: not more than 50 */
    assert_string_equal(drain_only(s, "backlog"), "");
    orders_every(s, "r1", 110, 111, 1, "o");
    assert_string_equal(drain_only(s, "backlog"), "raise flag:backlog:r1:1 L2 @01:50:00\n");
    assert_evidence("\"open\":51,\"max_open\":50");
    order_ev(s, "02:00:00", "order.cancelled", "o60", NULL);
    assert_string_equal(drain_only(s, "backlog"), "resolve flag:backlog:r1:1 L2 @02:00:00\n");
}

/* ---------------------------------------------------------------- overload */

static void test_overload(void **st)
{
    ow_state *s = *st;
    orders_every(s, "r1", 60, 65, 1, "o");
    order_ev(s, "01:10:00", "order.dispatched", "o60", "t1");
    order_ev(s, "01:11:00", "order.dispatched", "o61", "t1");
    order_ev(s, "01:12:00", "order.accepted", "o61", "t1");
    order_ev(s, "01:13:00", "order.dispatched", "o62", "t1");
    order_ev(s, "01:13:30", "order.dispatched", "o64", "t2");
    assert_string_equal(drain_only(s, "overload"), ""); /* 3: not more than 3 */
    order_ev(s, "01:14:00", "order.dispatched", "o63", "t1");
    assert_string_equal(drain_only(s, "overload"), "raise flag:overload:t1:1 L1 @01:14:00\n");
    assert_evidence("\"orders\":[\"o60\",\"o61\",\"o62\",\"o63\"],\"techs\":[\"t1\"]");
    order_ev(s, "01:40:00", "order.resolved", "o61", "t1");
    assert_string_equal(drain_only(s, "overload"), "resolve flag:overload:t1:1 L1 @01:40:00\n");
    /* near miss: a reassignment moves the order away, it does not add one */
    order_ev(s, "01:50:00", "order.dispatched", "o64", "t1");
    order_ev(s, "01:51:00", "order.dispatched", "o64", "t2");
    assert_string_equal(drain_only(s, "overload"),
                        "raise flag:overload:t1:2 L1 @01:50:00\nresolve flag:overload:t1:2 L1 "
                        "@01:51:00\n");
}

/* ---------------------------------------------------------------- skill_mismatch */

static void test_skill_mismatch(void **st)
{
    ow_state *s = *st;
    tech_status(s, "00:00:00", "t1", "idle", "r1", "[\"drain\"]");
    tech_status(s, "00:00:00", "t2", "idle", "r1", "[\"drain\",\"gas\"]");
    tech_status(s, "00:00:00", "t3", "idle", "r1", NULL); /* skills never reported */
    order_at(s, "01:00:00", "o1", "boiler", LON0, LAT0, ",\"skill\":\"gas\"");
    order_at(s, "01:00:00", "o2", "boiler", LON0 + 1, LAT0, ",\"skill\":\"gas\"");
    order_at(s, "01:00:00", "o3", "boiler", LON0 + 2, LAT0, ",\"skill\":\"gas\"");
    order_ev(s, "01:05:00", "order.dispatched", "o1", "t1");
    assert_string_equal(drain_only(s, "skill_mismatch"),
                        "raise flag:skill_mismatch:o1:1 L1 @01:05:00\n");
    assert_evidence(
        "\"orders\":[\"o1\"],\"techs\":[\"t1\"],\"regions\":[\"r1\"],\"skill\":\"gas\"");
    /* near misses: a technician with the skill; one whose skills are unknown */
    order_ev(s, "01:06:00", "order.dispatched", "o2", "t2");
    order_ev(s, "01:06:00", "order.dispatched", "o3", "t3");
    assert_string_equal(drain_only(s, "skill_mismatch"), "");
    /* re-dispatched to a technician with the skill: the condition ends */
    order_ev(s, "01:07:00", "order.dispatched", "o1", "t2");
    assert_string_equal(drain_only(s, "skill_mismatch"),
                        "resolve flag:skill_mismatch:o1:1 L1 @01:07:00\n");
}

/* ---------------------------------------------------------------- far_dispatch */

static void test_far_dispatch(void **st)
{
    ow_state *s = *st;
    tech_status(s, "00:00:00", "t1", "enroute", "r1", NULL);
    tech_status(s, "00:00:00", "t2", "idle", "r1", NULL);
    tech_status(s, "00:00:00", "t3", "idle", "r1", "[\"drain\"]");
    tech_at(s, "00:30:00", "t1", LON0, LAT0 + M(10000)); /* 10 km north */
    tech_at(s, "00:30:00", "t2", LON0, LAT0 - M(1000));  /* 1 km south */
    tech_at(s, "00:30:00", "t3", LON0, LAT0 + M(7000));  /* 7 km */
    order_at(s, "01:00:00", "o1", "drain", LON0, LAT0, NULL);
    order_ev(s, "01:01:00", "order.dispatched", "o1", "t1");
    assert_string_equal(drain_only(s, "far_dispatch"),
                        "raise flag:far_dispatch:o1:1 L1 @01:01:00\n");
    assert_evidence(
        "\"orders\":[\"o1\"],\"techs\":[\"t1\",\"t2\"],\"regions\":[\"r1\"],\"distance_m\":10000,"
        "\"nearest_m\":1000");
    order_ev(s, "01:40:00", "order.arrived", "o1", "t1");
    assert_string_equal(drain_only(s, "far_dispatch"),
                        "resolve flag:far_dispatch:o1:1 L1 @01:40:00\n");
}

/* Near misses: the order needs a skill only the 7 km technician has (10 < 2 × 7); a dispatch
 * from 2.5 km (not over 3 km). */
static void test_far_dispatch_near_miss(void **st)
{
    ow_state *s = *st;
    tech_status(s, "00:00:00", "t1", "enroute", "r1", NULL);
    tech_status(s, "00:00:00", "t2", "idle", "r1", NULL);
    tech_status(s, "00:00:00", "t3", "idle", "r1", "[\"jetting\"]");
    tech_status(s, "00:00:00", "t4", "enroute", "r1", NULL);
    tech_at(s, "00:30:00", "t1", LON0, LAT0 + M(10000));
    tech_at(s, "00:30:00", "t2", LON0, LAT0 - M(1000));
    tech_at(s, "00:30:00", "t3", LON0, LAT0 + M(7000));
    tech_at(s, "00:30:00", "t4", LON0, LAT0 + M(2500));
    order_at(s, "01:00:00", "o1", "drain", LON0, LAT0, ",\"skill\":\"jetting\"");
    order_at(s, "01:00:00", "o2", "drain", LON0, LAT0 + M(100), NULL);
    order_ev(s, "01:01:00", "order.dispatched", "o1", "t1");
    order_ev(s, "01:01:00", "order.dispatched", "o2", "t4");
    assert_string_equal(drain_only(s, "far_dispatch"), "");
}

/* ---------------------------------------------------------------- parts_wait */

static void test_parts_wait(void **st)
{
    ow_state *s = *st;
    order_at(s, "01:00:00", "o1", "boiler", LON0, LAT0, NULL);
    order_at(s, "01:00:00", "o2", "boiler", LON0 + 1, LAT0, NULL);
    apply(s, "02:00:00", "order.paused",
          "\"order_id\":\"o1\",\"reason\":\"awaiting_parts\",\"sku\":\"P-1\"");
    apply(s, "02:00:00", "order.paused",
          "\"order_id\":\"o2\",\"reason\":\"awaiting_parts\",\"sku\":\"P-2\"");
    order_ev(s, "03:59:00", "order.resumed", "o2", NULL); /* near miss: resumed within 2 h */
    ow_state_advance(s, T("03:59:59"));
    assert_string_equal(drain_only(s, "parts_wait"), "");
    ow_state_advance(s, T("04:00:00"));
    assert_string_equal(drain_only(s, "parts_wait"), "raise flag:parts_wait:o1:1 L1 @04:00:00\n");
    assert_evidence("\"sku\":\"P-1\",\"depot\":\"\",\"waited_s\":7200");
    order_ev(s, "05:00:00", "order.resumed", "o1", NULL);
    assert_string_equal(drain_only(s, "parts_wait"), "resolve flag:parts_wait:o1:1 L1 @05:00:00\n");
}

static void test_parts_wait_stock_out(void **st)
{
    ow_state *s = *st;
    order_at(s, "01:00:00", "o1", "boiler", LON0, LAT0, NULL);
    apply(s, "02:00:00", "order.paused",
          "\"order_id\":\"o1\",\"reason\":\"awaiting_parts\",\"sku\":\"P-1\"");
    apply(s, "02:10:00", "parts.stock", "\"depot\":\"D1\",\"sku\":\"P-1\",\"qty\":3");
    apply(s, "02:20:00", "parts.stock", "\"depot\":\"D1\",\"sku\":\"P-2\",\"qty\":0");
    assert_string_equal(drain_only(s, "parts_wait"), ""); /* near miss: other sku, or in stock */
    apply(s, "02:30:00", "parts.stock", "\"depot\":\"D2\",\"sku\":\"P-1\",\"qty\":0");
    assert_string_equal(drain_only(s, "parts_wait"), "raise flag:parts_wait:o1:1 L1 @02:30:00\n");
    assert_evidence("\"sku\":\"P-1\",\"depot\":\"D2\",\"waited_s\":1800");
    /* an order that pauses for a sku already out somewhere is flagged when it pauses */
    order_at(s, "02:40:00", "o2", "boiler", LON0 + 1, LAT0, NULL);
    apply(s, "02:45:00", "order.paused",
          "\"order_id\":\"o2\",\"reason\":\"awaiting_parts\",\"sku\":\"P-2\"");
    assert_string_equal(drain_only(s, "parts_wait"), "raise flag:parts_wait:o2:1 L1 @02:45:00\n");
}

/* ---------------------------------------------------------------- stale_technician */

static void test_stale_technician(void **st)
{
    ow_state *s = *st;
    tech_at(s, "01:00:00", "t1", LON0, LAT0);
    tech_status(s, "01:01:00", "t1", "enroute", "r1", NULL);
    ow_state_advance(s, T("01:09:59"));
    assert_string_equal(drain_only(s, "stale_technician"), "");
    ow_state_advance(s, T("01:10:00"));
    assert_string_equal(drain_only(s, "stale_technician"),
                        "raise flag:stale_technician:t1:1 L1 @01:10:00\n");
    assert_evidence("\"last_seen\":\"2026-11-22T01:00:00.000Z\",\"status\":\"enroute\"");
    tech_at(s, "01:12:00", "t1", LON0, LAT0 + M(100));
    assert_string_equal(drain_only(s, "stale_technician"),
                        "resolve flag:stale_technician:t1:1 L1 @01:12:00\n");
}

/* Near misses: a location inside the 10 minutes; an idle technician holding nothing. Then a
 * held, accepted order makes the idle one watched. */
static void test_stale_technician_near_miss(void **st)
{
    ow_state *s = *st;
    tech_at(s, "01:00:00", "t1", LON0, LAT0);
    tech_status(s, "01:00:00", "t1", "onsite", "r1", NULL);
    tech_at(s, "01:09:00", "t1", LON0, LAT0);
    tech_at(s, "01:00:00", "t2", LON0, LAT0);
    tech_status(s, "01:00:00", "t2", "idle", "r1", NULL);
    ow_state_advance(s, T("01:18:59"));
    assert_string_equal(drain_only(s, "stale_technician"), "");
    ow_state_advance(s, T("01:30:00"));
    assert_string_equal(drain_only(s, "stale_technician"),
                        "raise flag:stale_technician:t1:1 L1 @01:19:00\n");
    order_at(s, "01:30:00", "o1", "drain", LON0, LAT0, NULL);
    order_ev(s, "01:31:00", "order.dispatched", "o1", "t2");
    order_ev(s, "01:32:00", "order.accepted", "o1", "t2"); /* silent since 01:00, now watched */
    assert_string_equal(drain_only(s, "stale_technician"),
                        "raise flag:stale_technician:t2:1 L1 @01:32:00\n");
}

/* ---------------------------------------------------------------- complaint_cluster */

static void complaint(ow_state *s, const char *hms, const char *id, const char *cat)
{
    char f[256];
    snprintf(f, sizeof f, "\"complaint_id\":\"%s\",\"severity\":\"normal\",\"category\":\"%s\"", id,
             cat);
    apply(s, hms, "complaint.created", f);
}

/* Five noise complaints in a day with no history: raised at the fifth. One a day for a week
 * before (mean 1/day), five in a day is still > 1.2 × 1. */
static void test_complaint_cluster_category(void **st)
{
    ow_state *s = *st;
    char day[32], id[16];
    for (int d = 0; d < 7; d++) {
        snprintf(day, sizeof day, "+%dd 12:00:00", d);
        snprintf(id, sizeof id, "h%d", d);
        complaint(s, day, id, "noise");
    }
    complaint(s, "+7d 13:00:00", "c1", "noise");
    complaint(s, "+7d 13:01:00", "c2", "noise");
    complaint(s, "+7d 13:02:00", "c3", "noise");
    complaint(s, "+7d 13:03:00", "c4", "noise");
    assert_string_equal(drain_only(s, "complaint_cluster"), "");
    complaint(s, "+7d 13:04:00", "c5", "noise");
    assert_string_equal(drain_only(s, "complaint_cluster"),
                        "raise flag:complaint_cluster:category/noise:1 L2 @13:04:00\n");
    assert_evidence("\"category\":\"noise\",\"count\":5,\"daily_mean\":1");
    assert_evidence("\"complaints\":[\"c5\",\"c4\",\"c3\",\"c2\",\"c1\"]");
}

/* Near miss: five a day for a week before (mean 5/day): five more is not > 6. (The history
 * itself raises and resolves while its own trailing mean is still low.) */
static void test_complaint_cluster_near_miss(void **st)
{
    ow_state *s = *st;
    char hms[32], id[16];
    for (int d = 0; d < 7; d++)
        for (int k = 0; k < 5; k++) {
            snprintf(hms, sizeof hms, "+%dd 12:0%d:00", d, k);
            snprintf(id, sizeof id, "h%d-%d", d, k);
            complaint(s, hms, id, "noise");
        }
    ow_state_advance(s, T("+7d 12:30:00"));
    const char *history = drain_only(s, "complaint_cluster");
    assert_non_null(strstr(history, "raise flag:complaint_cluster:category/noise:1 L2 @12:04:00"));
    assert_non_null(strstr(history, "resolve flag:complaint_cluster:category/noise:6"));
    for (int k = 0; k < 5; k++) {
        snprintf(hms, sizeof hms, "+7d 13:0%d:00", k);
        snprintf(id, sizeof id, "c%d", k);
        complaint(s, hms, id, "noise");
    }
    assert_string_equal(drain_only(s, "complaint_cluster"), "");
}

static void callbacks(ow_state *s, int n, const int *scores)
{
    for (int i = 0; i < n; i++) {
        char id[16], hms[16], f[256];
        snprintf(id, sizeof id, "o%d", i);
        snprintf(hms, sizeof hms, "01:%02d:00", i);
        order_at(s, hms, id, "drain", LON0 + i, LAT0, NULL);
        snprintf(hms, sizeof hms, "02:%02d:00", i);
        order_ev(s, hms, "order.resolved", id, "t1");
        snprintf(hms, sizeof hms, "03:%02d:00", i);
        snprintf(f, sizeof f, "\"order_id\":\"%s\",\"score\":%d", id, scores[i]);
        apply(s, hms, "order.callback", f);
    }
}

/* Ten callbacks of 4 (CSAT 80 < 85): raised at the tenth. */
static void test_complaint_cluster_csat(void **st)
{
    ow_state *s = *st;
    const int fours[10] = {4, 4, 4, 4, 4, 4, 4, 4, 4, 4};
    callbacks(s, 10, fours);
    assert_string_equal(drain_only(s, "complaint_cluster"),
                        "raise flag:complaint_cluster:csat/r1:1 L2 @03:09:00\n");
    assert_evidence("\"csat\":80,\"callbacks\":10");
}

/* Near misses: CSAT exactly 85 (not under); nine callbacks only. */
static void test_complaint_cluster_csat_near_miss(void **st)
{
    ow_state *s = *st;
    /* five 5s, then fifteen 4s: never under 85, and 85 / 20 = 4.25 → CSAT 85.0 at the end */
    const int at85[20] = {5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4};
    callbacks(s, 20, at85);
    assert_string_equal(drain_only(s, "complaint_cluster"), "");
    ow_state *t = ow_state_new(&pol);
    const int low[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    callbacks(t, 9, low);
    assert_string_equal(drain_only(t, "complaint_cluster"), "");
    ow_state_free(t);
}

/* ---------------------------------------------------------------- ack, snapshot, ids */

static void test_ack_and_snapshot(void **st)
{
    ow_state *s = *st;
    orders_every(s, "r1", 60, 111, 1, "o");
    drain(s);
    ow_ack ack = {.by = "li.wei", .at = T("02:00:00"), .note = "calling the depot"};
    ow_err err;
    assert_int_equal(ow_state_ack(s, "flag:backlog:r1:1", &ack, &err), OW_OK);
    assert_string_equal(drain(s), "ack flag:backlog:r1:1 L2 @02:00:00\n");
    assert_int_equal(ow_state_ack(s, "flag:backlog:r1:2", &ack, &err), OW_ENOTFOUND);
    assert_int_equal(ow_state_ack(s, "flag:backlog", &ack, &err), OW_ENOTFOUND);
    assert_int_equal(ow_state_ack(s, "flag:", &ack, &err), OW_ENOTFOUND);
    char *snap = ow_picture_snapshot(s, 1, T("02:00:00"), OW_MODE_REPLAY);
    assert_non_null(snap);
    assert_non_null(strstr(snap,
                           "\"flags\":[{\"id\":\"flag:backlog:r1:1\",\"flag\":\"backlog\","
                           "\"region\":\"r1\",\"at\":\"2026-11-22T01:50:00.000Z\",\"level\":2,"
                           "\"summary\":\"r1: 51 open orders (more than 50)\",\"evidence\":{"));
    assert_non_null(strstr(snap, "{\"id\":\"flag:backlog:r1:1\",\"kind\":\"flag\",\"level\":2,"
                                 "\"at\":\"2026-11-22T01:50:00.000Z\",\"region\":\"r1\",\"flag\":"
                                 "\"backlog\",\"owner\":\"supervisor\",\"acked\":true,\"ack_by\":"
                                 "\"li.wei\"}"));
    free(snap);
    /* the open-alert listing carries the flag too */
    /* level 2: backlog, understaffed (51 open, nobody available), surge (51 in 51 min) */
    assert_int_equal(ow_state_totals_get(s)->alerts_open_by_level[2], 3);
}

/* ---------------------------------------------------------------- determinism, checkpoint */

/* A day with every flag's ingredients, as event texts. */
static int script(char lines[][512], int max)
{
    int n = 0;
#define L(...) (snprintf(lines[n], 512, __VA_ARGS__), n++)
    for (int i = 0; i < 300 && n < max - 20; i++) {
        int m = i * 3, tech = i % 7;
        char ts[OW_TIME_TEXT_MAX];
        ow_time_format(T("01:00:00") + (int64_t)m * 60000, ts);
        double lat = LAT0 + M((i % 9) * 25.0), lon = LON0 + (i % 4) * 0.01;
        L("{\"v\":1,\"id\":\"s%d\",\"ts\":\"%s\",\"type\":\"tech.location\",\"tech_id\":\"t%d\","
          "\"lon\":%.6f,\"lat\":%.6f}",
          n, ts, tech, lon + 0.02, lat);
        L("{\"v\":1,\"id\":\"s%d\",\"ts\":\"%s\",\"type\":\"tech.status\",\"tech_id\":\"t%d\","
          "\"status\":\"%s\",\"region\":\"r%d\",\"skills\":[\"drain\"%s]}",
          n, ts, tech, i % 3 ? "idle" : "enroute", i % 3, i % 2 ? ",\"gas\"" : "");
        L("{\"v\":1,\"id\":\"s%d\",\"ts\":\"%s\",\"type\":\"order.created\",\"order_id\":\"o%d\","
          "\"priority\":\"%s\",\"category\":\"c%d\",\"region\":\"r%d\",\"lon\":%.6f,\"lat\":%.6f,"
          "\"skill\":\"%s\"}",
          n, ts, i, i % 5 ? "important" : "emergency", i % 2, i % 3, lon, lat,
          i % 4 ? "drain" : "gas");
        ow_time_format(T("01:00:00") + (int64_t)(m + 20 + i % 5) * 60000, ts);
        if (i % 6)
            L("{\"v\":1,\"id\":\"s%d\",\"ts\":\"%s\",\"type\":\"order.dispatched\",\"order_id\":"
              "\"o%d\",\"tech_id\":\"t%d\"}",
              n, ts, i, (i * 3) % 7);
        if (i % 5 == 2)
            L("{\"v\":1,\"id\":\"s%d\",\"ts\":\"%s\",\"type\":\"order.paused\",\"order_id\":\"o%"
              "d\","
              "\"reason\":\"awaiting_parts\",\"sku\":\"P%d\"}",
              n, ts, i - 2, i % 3);
        if (i % 11 == 4)
            L("{\"v\":1,\"id\":\"s%d\",\"ts\":\"%s\",\"type\":\"parts.stock\",\"depot\":\"D1\","
              "\"sku\":\"P%d\",\"qty\":%d}",
              n, ts, i % 3, i % 2);
        if (i % 4 == 1)
            L("{\"v\":1,\"id\":\"s%d\",\"ts\":\"%s\",\"type\":\"complaint.created\","
              "\"complaint_id\":\"k%d\",\"severity\":\"normal\",\"category\":\"noise\"}",
              n, ts, i);
        ow_time_format(T("01:00:00") + (int64_t)(m + 90) * 60000, ts);
        if (i % 3 == 1)
            L("{\"v\":1,\"id\":\"s%d\",\"ts\":\"%s\",\"type\":\"order.resolved\",\"order_id\":"
              "\"o%d\",\"tech_id\":\"t%d\"}",
              n, ts, i - 1, (i * 3) % 7);
        if (i % 3 == 2)
            L("{\"v\":1,\"id\":\"s%d\",\"ts\":\"%s\",\"type\":\"order.callback\",\"order_id\":"
              "\"o%d\",\"score\":%d}",
              n, ts, i - 2, 2 + i % 3);
        if (i % 13 == 5)
            L("{\"v\":1,\"id\":\"s%d\",\"ts\":\"%s\",\"type\":\"order.reopened\",\"order_id\":"
              "\"o%d\"}",
              n, ts, i - 4);
    }
#undef L
    return n;
}

/* Apply the script (event, then advance to the latest time, as replay does); with `every` > 0
 * the state is saved and loaded again every `every` events. Returns the records as text. */
static char *run(char lines[][512], int n, int every, char **snapshot)
{
    ow_buf out = {0};
    ow_state *s = ow_state_new(&pol);
    assert_non_null(s);
    for (int i = 0; i < n; i++) {
        ow_event ev;
        ow_err err;
        if (ow_event_parse(lines[i], strlen(lines[i]), &ev, &err)) fail_msg("%s", err.msg);
        assert_true(ow_state_apply(s, &ev) >= 0);
        assert_true(ow_state_advance(s, ow_state_totals_get(s)->last_event_ms) >= 0);
        size_t k;
        const ow_alert *a = ow_state_outbox(s, &k);
        for (size_t j = 0; j < k; j++) {
            char *json = ow_alert_format(&a[j], NULL);
            ow_buf_put(&out, json, strlen(json));
            ow_buf_put(&out, "\n", 1);
            free(json);
        }
        ow_state_outbox_clear(s);
        if (every && i % every == every - 1) {
            char *bytes;
            size_t len;
            char cursor[OW_CHECKPOINT_CURSOR_MAX];
            assert_int_equal(ow_checkpoint_save(s, "c", &bytes, &len, &err), OW_OK);
            ow_state_free(s);
            s = NULL;
            if (ow_checkpoint_load(&pol, bytes, len, &s, cursor, &err)) fail_msg("%s", err.msg);
            free(bytes);
        }
    }
    *snapshot = ow_picture_snapshot(s, 1, ow_state_totals_get(s)->last_event_ms, OW_MODE_REPLAY);
    ow_state_free(s);
    return out.p;
}

static void test_replay_and_checkpoint_agree(void **st)
{
    (void)st;
    static char lines[3000][512];
    int n = script(lines, 3000);
    char *snap_a, *snap_b, *snap_c;
    char *a = run(lines, n, 0, &snap_a);
    char *b = run(lines, n, 0, &snap_b);
    char *c = run(lines, n, 37, &snap_c);
    assert_string_equal(a, b); /* the same events give the same flags, in the same order */
    assert_string_equal(snap_a, snap_b);
    /* every flag has something to say in this script */
    static const char *const names[] = {
        "duplicate_dispatch", "repeat_visit", "neglected_region", "overload", "skill_mismatch",
        "far_dispatch",       "parts_wait",   "stale_technician", "backlog"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "\"flag\":\"%s\"", names[i]);
        if (!strstr(a, key)) fail_msg("the script raised no %s", names[i]);
    }
    /* a state saved and loaded every 37 events raises and resolves exactly the same */
    assert_string_equal(a, c);
    assert_string_equal(snap_a, snap_c);
    free(a), free(b), free(c), free(snap_a), free(snap_b), free(snap_c);
}

/* The escalations' selection (no full sort) against sorting every open alert. */
typedef struct ow_open_alert {
    ow_alert a;
    char id[OW_ALERT_ID_BUF];
    const ow_ack *ack;
} ow_open_alert;

typedef struct all_alerts {
    ow_open_alert v[4096];
    size_t n;
} all_alerts;

static bool keep_alert(const ow_alert *a, const ow_ack *ack, void *arg)
{
    all_alerts *l = arg;
    assert_true(l->n < 4096);
    l->v[l->n].a = *a;
    l->v[l->n].ack = ack;
    ow_alert_id(a, l->v[l->n].id);
    l->n++;
    return true;
}

static int cmp_escalation(const void *x, const void *y)
{
    const ow_open_alert *a = x, *b = y;
    if (a->a.level != b->a.level) return b->a.level - a->a.level;
    if (a->a.at != b->a.at) return a->a.at < b->a.at ? -1 : 1;
    return strcmp(a->id, b->id);
}

static void test_escalations_match_a_full_sort(void **st)
{
    (void)st;
    static char lines[3000][512];
    int n = script(lines, 3000);
    ow_state *s = ow_state_new(&pol);
    static all_alerts all;
    for (int i = 0; i < n; i++) {
        ow_event ev;
        ow_err err;
        assert_int_equal(ow_event_parse(lines[i], strlen(lines[i]), &ev, &err), 0);
        assert_true(ow_state_apply(s, &ev) >= 0);
        assert_true(ow_state_advance(s, ow_state_totals_get(s)->last_event_ms) >= 0);
        ow_state_outbox_clear(s);
        if (i % 97 != 0 && i != n - 1) continue;
        all.n = 0;
        ow_state_each_open_alert(s, keep_alert, &all);
        qsort(all.v, all.n, sizeof all.v[0], cmp_escalation);
        if (i == n - 1) assert_true(all.n > 100); /* enough for the choice to matter */
        /* the candidates the board is offered, sorted the same way: their first 30 */
        static all_alerts cand;
        cand.n = 0;
        ow_state_each_top_alert(s, 30, keep_alert, &cand);
        qsort(cand.v, cand.n, sizeof cand.v[0], cmp_escalation);
        size_t k = cand.n < 30 ? cand.n : 30;
        assert_int_equal(k, all.n < 30 ? all.n : 30);
        for (size_t j = 0; j < k; j++) {
            if (strcmp(cand.v[j].id, all.v[j].id) != 0)
                fail_msg("event %d, rank %zu: %s, want %s", i, j, cand.v[j].id, all.v[j].id);
            assert_true(cand.v[j].a.at == all.v[j].a.at);
        }
    }
    ow_state_free(s);
}

/* ---------------------------------------------------------------- spatial index */

static bool count_cb(int32_t id, double d, void *arg)
{
    (void)id, (void)d;
    (*(int *)arg)++;
    return true;
}

static bool odd_only(int32_t id, void *arg)
{
    (void)arg;
    return id % 2 == 1;
}

/* The grid against brute force: 5,000 points over a city, radius and nearest-with-filter. */
static void test_spatial_matches_brute_force(void **st)
{
    (void)st;
    ow_spatial g;
    ow_spatial_init(&g, 1000);
    static double lon[5000], lat[5000];
    uint64_t x = 12345;
    for (int i = 0; i < 5000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        lon[i] = 121.3 + (double)(x >> 40) / (1 << 24) * 0.5;
        lat[i] = 31.1 + (double)((x >> 16) & 0xffffff) / (1 << 24) * 0.3;
        assert_int_equal(ow_spatial_put(&g, i, lon[i], lat[i]), 0);
    }
    for (int i = 0; i < 5000; i += 3) /* some move, some leave */
        assert_int_equal(ow_spatial_put(&g, i, lon[i] += 0.01, lat[i]), 0);
    for (int i = 1; i < 5000; i += 10)
        ow_spatial_remove(&g, i);
    for (int q = 0; q < 50; q++) {
        double qlon = 121.3 + q * 0.01, qlat = 31.1 + q * 0.006, r = 300 + q * 97;
        int got = 0, want = 0, best = -1;
        double bestd = 1e18;
        ow_spatial_within(&g, qlon, qlat, r, count_cb, &got);
        for (int i = 0; i < 5000; i++) {
            if (i % 10 == 1) continue;
            double d = ow_distance_m(qlon, qlat, lon[i], lat[i]);
            want += d <= r;
            if (i % 2 == 1 && d < bestd) bestd = d, best = i;
        }
        assert_int_equal(got, want);
        double d;
        assert_int_equal(ow_spatial_nearest(&g, qlon, qlat, 1e6, odd_only, NULL, &d), best);
        assert_true(d == bestd);
        /* bounded: nothing nearer than the bound means -1 */
        assert_int_equal(ow_spatial_nearest(&g, qlon, qlat, bestd * 0.99, odd_only, NULL, &d), -1);
    }
    /* a point due north (or south) exactly at the radius is within it: the latitude pre-check
     * before the haversine must not drop it */
    for (int k = 0; k < 2; k++) {
        ow_spatial n;
        ow_spatial_init(&n, 1000);
        double plat = 31.2 + (k ? -1 : 1) * 250.0 / 111195.08;
        assert_int_equal(ow_spatial_put(&n, 7, 121.4, plat), 0);
        int got = 0;
        ow_spatial_within(&n, 121.4, 31.2, ow_distance_m(121.4, 31.2, 121.4, plat), count_cb, &got);
        assert_int_equal(got, 1);
        ow_spatial_fini(&n);
    }
    ow_spatial_fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_duplicate_dispatch_nearby, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_dispatch_same_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_dispatch_near_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_dispatch_accepted_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_visit_new_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_visit_near_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_visit_reopened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_neglected_region, setup, teardown),
        cmocka_unit_test_setup_teardown(test_neglected_region_near_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_surge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_surge_near_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_understaffed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_understaffed_near_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skill_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_far_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_far_dispatch_near_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parts_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parts_wait_stock_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_technician, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_technician_near_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complaint_cluster_category, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complaint_cluster_near_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complaint_cluster_csat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complaint_cluster_csat_near_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_and_snapshot, setup, teardown),
        cmocka_unit_test(test_replay_and_checkpoint_agree),
        cmocka_unit_test(test_escalations_match_a_full_sort),
        cmocka_unit_test(test_spatial_matches_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
