/*
 * test_snapshot — reading the snapshot wire format: hand-written snapshot texts through
 * ow_snapshot_parse (the documented example, extra fields, strict rejection), and the engine's own
 * snapshot (ow_picture_snapshot of a small ow_state) read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "picture.h"
#include "policy.h"
#include "snapshot.h"
#include "state.h"

#define NOW_MS INT64_C(1795310102120) /* 2026-11-22T01:15:02.120Z */

static ow_err err;
static ow_snapshot_view view;

static void expect_parse(const char *text)
{
    ow_err_clear(&err);
    if (ow_snapshot_parse(text, strlen(text), &view, &err) != OW_OK)
        fail_msg("%s\n  rejected: %s", text, err.msg);
}

static const char good[] =
    "{\"v\":1,\"type\":\"snapshot\",\"seq\":7,\"now\":\"2026-11-22T01:15:02.120Z\","
    "\"now_ms\":1795310102120,\"mode\":\"replay\",\"open\":{\"emergency\":3,\"important\":5,"
    "\"general\":10,\"total\":18},\"orders_known\":30,\"events_applied\":120,"
    "\"last_event\":\"2026-11-22T01:15:00.000Z\"}";

static void test_parse_documented_example(void **state)
{
    (void)state;
    assert_int_equal(ow_snapshot_parse(good, strlen(good), &view, &err), OW_OK);
    assert_true(view.seq == 7);
    assert_true(view.now_ms == NOW_MS);
    assert_int_equal(view.mode, OW_MODE_REPLAY);
    assert_true(view.open[0] == 3 && view.open[1] == 5 && view.open[2] == 10);
    assert_true(view.open_total == 18);
    assert_true(view.orders_known == 30);
    assert_true(view.events_applied == 120);
    /* fields a reader does not need may be added later: ignored */
    const char *more = "{\"type\":\"snapshot\",\"seq\":1,\"now_ms\":2,\"orders_known\":3,"
                       "\"events_applied\":4,\"open\":{\"emergency\":0,\"important\":0,"
                       "\"general\":0,\"total\":0},\"heat\":[[1,2],[3,4]]}";
    assert_int_equal(ow_snapshot_parse(more, strlen(more), &view, &err), OW_OK);
}

static void test_parse_modes_and_bounds(void **state)
{
    (void)state;
    /* zero everywhere, the epoch, replay mode */
    expect_parse("{\"v\":1,\"type\":\"snapshot\",\"seq\":0,\"now\":\"1970-01-01T00:00:00.000Z\","
                 "\"now_ms\":0,\"mode\":\"replay\",\"open\":{\"emergency\":0,\"important\":0,"
                 "\"general\":0,\"total\":0},\"orders_known\":0,\"events_applied\":0}");
    assert_int_equal(view.mode, OW_MODE_REPLAY);
    assert_true(view.seq == 0 && view.now_ms == 0 && view.open_total == 0);
    /* the order of members does not matter; a missing or unknown mode reads as live */
    expect_parse("{\"open\":{\"total\":6,\"general\":3,\"important\":1,\"emergency\":2},"
                 "\"events_applied\":10,\"orders_known\":9,\"now_ms\":5,\"seq\":42,"
                 "\"type\":\"snapshot\"}");
    assert_int_equal(view.mode, OW_MODE_LIVE);
    assert_true(view.seq == 42 && view.now_ms == 5);
    assert_true(view.open[OW_PRIO_EMERGENCY] == 2 && view.open[OW_PRIO_IMPORTANT] == 1 &&
                view.open[OW_PRIO_GENERAL] == 3 && view.open_total == 6);
    assert_true(view.orders_known == 9 && view.events_applied == 10);
    expect_parse("{\"type\":\"snapshot\",\"mode\":\"LIVE\",\"seq\":1,\"now_ms\":2,"
                 "\"orders_known\":3,\"events_applied\":4,\"open\":{\"emergency\":0,"
                 "\"important\":0,\"general\":0,\"total\":0}}");
    assert_int_equal(view.mode, OW_MODE_LIVE);
    /* big numbers: 15 digits (cJSON prints 15 significant digits), and 2^53 exactly */
    expect_parse("{\"type\":\"snapshot\",\"seq\":999999999999999,\"now_ms\":9007199254740992,"
                 "\"orders_known\":0,\"events_applied\":0,\"open\":{\"emergency\":0,"
                 "\"important\":0,\"general\":0,\"total\":0}}");
    assert_true(view.seq == INT64_C(999999999999999));
    assert_true(view.now_ms == INT64_C(9007199254740992));
    /* 1e3 is an integer written as a real: accepted as 1000 */
    expect_parse("{\"type\":\"snapshot\",\"seq\":1e3,\"now_ms\":2.0,\"orders_known\":0,"
                 "\"events_applied\":0,\"open\":{\"emergency\":0,\"important\":0,\"general\":0,"
                 "\"total\":0}}");
    assert_true(view.seq == 1000 && view.now_ms == 2);
}

/* The engine's snapshot of a small state: 2 emergency, 1 important and 3 general orders open; 9
 * orders known (x1 and x2 never created), 11 events applied (one a duplicate). */
static void apply(ow_state *s, ow_event_type t, const char *order, int64_t ts, ow_priority p)
{
    ow_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.ts_ms = ts;
    snprintf(ev.order_id, sizeof ev.order_id, "%s", order);
    snprintf(ev.region, sizeof ev.region, "north");
    snprintf(ev.category, sizeof ev.category, "plumbing");
    ev.priority = p;
    if (t == OW_EV_ORDER_DISPATCHED) snprintf(ev.tech_id, sizeof ev.tech_id, "t1");
    assert_true(ow_state_apply(s, &ev) >= 0);
}

static void test_engine_snapshot_reads_back(void **state)
{
    (void)state;
    ow_config cfg;
    ow_policy pol;
    ow_config_defaults(&cfg);
    ow_policy_from_config(&pol, &cfg);
    ow_state *s = ow_state_new(&pol);
    assert_non_null(s);

    char *text = ow_picture_snapshot(s, 1, NOW_MS, OW_MODE_LIVE);
    assert_non_null(text);
    expect_parse(text);
    assert_true(view.open_total == 0 && view.orders_known == 0 && view.events_applied == 0);
    assert_non_null(strstr(text, "\"last_event\":\"1970-01-01T00:00:00.000Z\""));
    free(text);

    apply(s, OW_EV_ORDER_CREATED, "e1", NOW_MS - 9000, OW_PRIO_EMERGENCY);
    apply(s, OW_EV_ORDER_CREATED, "e2", NOW_MS - 8000, OW_PRIO_EMERGENCY);
    apply(s, OW_EV_ORDER_CREATED, "i1", NOW_MS - 7000, OW_PRIO_IMPORTANT);
    apply(s, OW_EV_ORDER_CREATED, "i2", NOW_MS - 6000, OW_PRIO_IMPORTANT);
    apply(s, OW_EV_ORDER_CLOSED, "i2", NOW_MS - 5000, 0);
    apply(s, OW_EV_ORDER_CREATED, "g1", NOW_MS - 4000, OW_PRIO_GENERAL);
    apply(s, OW_EV_ORDER_CREATED, "g2", NOW_MS - 3000, OW_PRIO_GENERAL);
    apply(s, OW_EV_ORDER_CREATED, "g3", NOW_MS - 2000, OW_PRIO_GENERAL);
    apply(s, OW_EV_ORDER_CREATED, "g3", NOW_MS - 2000, OW_PRIO_EMERGENCY); /* duplicate: no-op */
    apply(s, OW_EV_ORDER_CANCELLED, "x1", NOW_MS - 1000, 0);
    apply(s, OW_EV_ORDER_DISPATCHED, "x2", NOW_MS - 120, 0);
    assert_true(ow_state_advance(s, NOW_MS) >= 0);

    text = ow_picture_snapshot(s, 42, NOW_MS, OW_MODE_LIVE);
    assert_non_null(text);
    expect_parse(text);
    assert_true(view.seq == 42);
    assert_true(view.now_ms == NOW_MS);
    assert_int_equal(view.mode, OW_MODE_LIVE);
    assert_true(view.open[OW_PRIO_EMERGENCY] == 2);
    assert_true(view.open[OW_PRIO_IMPORTANT] == 1);
    assert_true(view.open[OW_PRIO_GENERAL] == 3);
    assert_true(view.open_total == 6);
    assert_true(view.orders_known == 9);
    assert_true(view.events_applied == 11);

    /* the documented fields, as a reader without opswall's parser sees them */
    cJSON *root = ow_json_parse(text, strlen(text), OW_JSON_MAX_DEPTH, &err);
    assert_non_null(root);
    assert_true(ow_json_get(root, "v")->valuedouble == 1);
    assert_string_equal(ow_json_get(root, "type")->valuestring, "snapshot");
    assert_string_equal(ow_json_get(root, "now")->valuestring, "2026-11-22T01:15:02.120Z");
    assert_string_equal(ow_json_get(root, "mode")->valuestring, "live");
    assert_string_equal(ow_json_get(root, "last_event")->valuestring, "2026-11-22T01:15:02.000Z");
    cJSON_Delete(root);
    free(text);

    text = ow_picture_snapshot(s, INT64_C(999999999999999), 0, OW_MODE_REPLAY);
    assert_non_null(text);
    expect_parse(text);
    assert_int_equal(view.mode, OW_MODE_REPLAY);
    assert_true(view.seq == INT64_C(999999999999999) && view.now_ms == 0);
    assert_non_null(strstr(text, "\"now\":\"1970-01-01T00:00:00.000Z\""));
    free(text);
    ow_state_free(s);
}

/* Replace the first occurrence of `from` in the good example by `to`, parse, expect EINVAL. */
static void expect_bad_edit(const char *from, const char *to, const char *msg)
{
    char buf[1024];
    const char *at = strstr(good, from);
    if (!at) fail_msg("test bug: %s not in the example", from);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
    ow_err_clear(&err);
    int rc = ow_snapshot_parse(buf, strlen(buf), &view, &err);
    if (rc != OW_EINVAL) fail_msg("%s -> %s: want EINVAL, got %d", from, to, rc);
    if (msg && strcmp(err.msg, msg) != 0)
        fail_msg("%s -> %s: wrong message\n  want: %s\n  got:  %s", from, to, msg, err.msg);
}

static void test_parse_rejects_malformed(void **state)
{
    (void)state;
    expect_bad_edit("\"type\":\"snapshot\"", "\"type\":\"delta\"",
                    "snapshot: field \"type\": expected \"snapshot\"");
    expect_bad_edit("\"type\":\"snapshot\",", "",
                    "snapshot: field \"type\": expected \"snapshot\"");
    expect_bad_edit("\"type\":\"snapshot\"", "\"type\":1", NULL);
    expect_bad_edit("\"seq\":7", "\"seq\":-1",
                    "snapshot: field \"seq\": expected a non-negative integer");
    expect_bad_edit("\"seq\":7", "\"seq\":7.5",
                    "snapshot: field \"seq\": expected a non-negative integer");
    expect_bad_edit("\"seq\":7", "\"seq\":\"7\"", NULL);
    expect_bad_edit("\"seq\":7", "\"seq\":null", NULL);
    expect_bad_edit("\"seq\":7,", "", "snapshot: field \"seq\": expected a non-negative integer");
    expect_bad_edit("\"seq\":7", "\"seq\":9007199254740994", NULL); /* past 2^53 */
    expect_bad_edit("\"now_ms\":1795310102120,", "",
                    "snapshot: field \"now_ms\": expected a non-negative integer");
    expect_bad_edit("\"orders_known\":30", "\"orders_known\":true", NULL);
    expect_bad_edit("\"events_applied\":120", "\"events_applied\":1e400", NULL);
    expect_bad_edit("\"open\":{", "\"open\":[{", NULL);
    expect_bad_edit("\"open\":{\"emergency\":3,\"important\":5,\"general\":10,\"total\":18}",
                    "\"open\":18", "snapshot: field \"open\": expected an object");
    expect_bad_edit("\"general\":10,", "",
                    "snapshot: field \"general\": expected a non-negative integer");
    expect_bad_edit("\"total\":18", "\"total\":-18", NULL);
    expect_bad_edit("\"emergency\":3", "\"Emergency\":3", NULL); /* keys are case-sensitive */
    expect_bad_edit("\"seq\":7", "\"seq\":7,\"seq\":8", NULL);   /* duplicate key */
    expect_bad_edit("Z\"}", "Z\"} x", NULL);                     /* nothing after the value */
    expect_bad_edit("replay", "re\xC0\xAFplay", NULL);           /* bad UTF-8 */

    static const char *const whole[] = {
        "", " ", "[]", "null", "\"snapshot\"", "{}", "{\"type\":\"snapshot\"}"};
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
        if (ow_snapshot_parse(whole[i], strlen(whole[i]), &view, &err) != OW_EINVAL)
            fail_msg("\"%s\" accepted", whole[i]);
    /* a NUL anywhere */
    char buf[1024];
    memcpy(buf, good, sizeof good);
    buf[40] = '\0';
    assert_int_equal(ow_snapshot_parse(buf, sizeof good - 1, &view, &err), OW_EINVAL);
    /* NULL err is allowed */
    assert_int_equal(ow_snapshot_parse("[]", 2, &view, NULL), OW_EINVAL);
}

static void test_parse_rejects_every_prefix(void **state)
{
    (void)state;
    size_t n = strlen(good);
    for (size_t cut = 0; cut < n; cut++)
        if (ow_snapshot_parse(good, cut, &view, &err) != OW_EINVAL)
            fail_msg("prefix of %zu bytes accepted", cut);
    assert_int_equal(ow_snapshot_parse(good, n, &view, &err), OW_OK);
}

static void test_parse_hostile_nesting(void **state)
{
    (void)state;
    size_t n = 50000;
    char *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, '[', n);
    assert_int_equal(ow_snapshot_parse(buf, n, &view, &err), OW_EINVAL);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_documented_example),
        cmocka_unit_test(test_parse_modes_and_bounds),
        cmocka_unit_test(test_engine_snapshot_reads_back),
        cmocka_unit_test(test_parse_rejects_malformed),
        cmocka_unit_test(test_parse_rejects_every_prefix),
        cmocka_unit_test(test_parse_hostile_nesting),
    };
    return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
