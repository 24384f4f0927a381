/*
 * test_wb_scene — the wallboard's snapshot decoder (wallboard/scene.h): every documented member of
 * docs/snapshot.md read from its documented example; missing members are "no data"; malformed,
 * wrong-typed, oversized and hostile members are refused one by one (named in `bad`) while the
 * rest of the snapshot still shows; the core members stay required.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scene.h"

#define CORE_NO_MODE                                                                               \
    "\"v\":1,\"type\":\"snapshot\",\"seq\":7,\"now\":\"2026-11-22T01:15:02.120Z\","                \
    "\"now_ms\":1795310102120,\"open\":{\"emergency\":3,\"important\":5,"                          \
    "\"general\":10,\"total\":18},\"orders_known\":30,\"events_applied\":120"
#define CORE CORE_NO_MODE ",\"mode\":\"live\""

static ow_scene *parse(const char *text)
{
    ow_err err;
    ow_scene *s = ow_scene_parse(text, strlen(text), &err);
    if (!s) fail_msg("%s\n  rejected: %s", text, err.msg);
    return s;
}

static void core_only_is_no_data(void **state)
{
    (void)state;
    ow_scene *s = parse("{" CORE "}");
    assert_int_equal(s->core.seq, 7);
    assert_int_equal(s->core.open_total, 18);
    assert_false(s->has_kpi || s->has_regions || s->has_techs_pos || s->has_heat || s->has_flags ||
                 s->has_escalations || s->has_urgent || s->has_spark || s->has_replay);
    assert_string_equal(s->bad, "");
    ow_scene_free(s);
}

static void documented_members(void **state)
{
    (void)state;
    ow_scene *s = parse(
        "{" CORE_NO_MODE ",\"mode\":\"replay_speed\","
        "\"replay\":{\"speed\":300,\"start\":\"2026-11-20T00:00:00Z\",\"end\":\"2026-11-25T00:00:"
        "00Z\",\"progress_pct\":42.5},"
        "\"regions\":[{\"id\":\"r01\",\"name_en\":\"North\",\"name_zh\":\"北区\",\"center\":[121.4,"
        "31.3],"
        "\"open\":12,\"breached\":3,\"alerts_open\":4,\"backlog\":12,\"techs\":{\"idle\":2,"
        "\"enroute\":1,"
        "\"onsite\":3,\"break\":0,\"offline\":1}}],"
        "\"techs_pos\":{\"at\":\"2026-11-22T01:15:00Z\",\"list\":[[\"t017\",121.41,31.31,"
        "\"enroute\",\"r01\"]]},"
        "\"kpi\":{\"overall\":{\"1h\":{\"created\":120,\"response_p90_s\":1900,\"csat\":88.0,"
        "\"sla_compliance_pct\":{\"response\":94.2}},\"prev_1h\":{\"response_p90_s\":2100}},"
        "\"regions\":{\"r01\":{\"1h\":{\"backlog\":57}}}},"
        "\"kpi_targets\":{\"response_p90_s\":{\"target\":3600,\"better\":\"lower\"},"
        "\"csat\":{\"target\":85,\"better\":\"higher\"}},"
        "\"heat_grid\":{\"cell_m\":500,\"bbox\":[121.3,31.1,121.8,31.4],\"cols\":40,\"rows\":30,"
        "\"cells\":[[0,0,5,1,2],[39,29,7,0,0]]},"
        "\"flags\":[{\"id\":\"flag:surge:r01:x\",\"flag\":\"surge\",\"region\":\"r01\",\"at\":"
        "\"2026-11-22T01:10:00Z\","
        "\"level\":2,\"summary\":\"r01: 14 orders in 30 min\",\"evidence\":{\"orders\":[]}}],"
        "\"escalations\":[{\"id\":\"sla:o1:response:1:100\",\"kind\":\"sla\",\"level\":2,\"at\":"
        "\"2026-11-22T01:00:00Z\","
        "\"region\":\"r01\",\"stage\":\"response\",\"order_id\":\"o1\",\"owner\":\"supervisor\","
        "\"acked\":true,\"ack_by\":\"li.wei\"}],"
        "\"urgent\":[{\"order_id\":\"o2\",\"region\":\"r01\",\"priority\":\"emergency\",\"stage\":"
        "\"dispatch\","
        "\"breach_at\":\"2026-11-22T01:20:00Z\",\"level\":1,\"next_at\":\"2026-11-22T01:20:00Z\","
        "\"next_pct\":100}],"
        "\"spark\":{\"bucket_s\":300,\"end\":\"2026-11-22T01:15:00Z\",\"series\":{\"created\":[1,2,"
        "null,4]}}}");
    assert_string_equal(s->bad, "");
    assert_int_equal(s->core.mode, OW_MODE_REPLAY);
    assert_true(s->has_replay);
    assert_true(fabs(s->replay_speed - 300) < 1e-9 && fabs(s->replay_progress_pct - 42.5) < 1e-9);
    assert_int_equal(s->nregions, 1);
    assert_string_equal(s->regions[0].name_zh, "北区");
    assert_int_equal(s->regions[0].techs[OW_TECH_ONSITE], 3);
    assert_true(s->regions[0].kpi[OW_WIN_1H].has[OW_KPI_BACKLOG]);
    assert_int_equal(s->ntechs_pos, 1);
    assert_int_equal(s->techs_pos[0].status, OW_TECH_ENROUTE);
    assert_true(s->kpi[OW_WIN_1H].has[OW_KPI_SLA_RESPONSE_PCT]);
    assert_true(fabs(s->kpi[OW_WIN_1H].v[OW_KPI_SLA_RESPONSE_PCT] - 94.2) < 1e-9);
    assert_false(s->kpi[OW_WIN_1H].has[OW_KPI_NPS]);
    assert_true(s->targets[OW_KPI_CSAT].has && s->targets[OW_KPI_CSAT].higher_better);
    assert_false(s->targets[OW_KPI_RESPONSE_P90_S].higher_better);
    assert_int_equal(s->heat_cols, 40);
    assert_int_equal(s->ncells, 2);
    assert_int_equal(s->nflags, 1);
    assert_string_equal(s->flags[0].flag, "surge");
    assert_int_equal(s->nescalations, 1);
    assert_string_equal(s->escalations[0].what, "response");
    assert_string_equal(s->escalations[0].subject, "o1");
    assert_true(s->escalations[0].acked);
    assert_true(s->escalations[0].id_hash != 0);
    assert_int_equal(s->nurgent, 1);
    assert_int_equal(s->urgent[0].priority, OW_PRIO_EMERGENCY);
    assert_int_equal(s->spark_n[OW_SPARK_CREATED], 4);
    assert_true(isnan(s->spark[OW_SPARK_CREATED][2]));
    assert_null(s->spark[OW_SPARK_OPEN]);
    ow_scene_free(s);
}

static void malformed_members_refused_one_by_one(void **state)
{
    (void)state;
    ow_scene *s = parse("{" CORE ",\"flags\":\"oops\",\"heat_grid\":{\"cols\":-1,\"rows\":3,"
                        "\"bbox\":[0,0,1,1],\"cells\":[]},\"regions\":{},\"spark\":[],"
                        "\"techs_pos\":{\"list\":7},\"urgent\":[{\"order_id\":\"o1\"}],"
                        "\"escalations\":[1,\"x\",null]}");
    assert_non_null(strstr(s->bad, "flags"));
    assert_non_null(strstr(s->bad, "heat_grid"));
    assert_non_null(strstr(s->bad, "regions"));
    assert_non_null(strstr(s->bad, "spark"));
    assert_non_null(strstr(s->bad, "techs_pos"));
    assert_false(s->has_flags || s->has_heat || s->has_regions || s->has_spark || s->has_techs_pos);
    /* an urgent row without breach_at is dropped, the member stays */
    assert_true(s->has_urgent);
    assert_int_equal(s->nurgent, 0);
    assert_true(s->has_escalations);
    assert_int_equal(s->nescalations, 0);
    assert_int_equal(s->core.open_total, 18);
    ow_scene_free(s);
}

static void hostile_values(void **state)
{
    (void)state;
    /* cells outside the grid, NaN-free but huge numbers, out-of-range coordinates, bad levels */
    ow_scene *s =
        parse("{" CORE ",\"heat_grid\":{\"bbox\":[0,0,1,1],\"cols\":2,\"rows\":2,\"cells\":"
              "[[5,0,1,1,1],[0,9,1,1,1],[1,1,1e300,0,0],[0,0,-1,0,0],[1,0,3,0,0]]},"
              "\"techs_pos\":{\"list\":[[\"t\",500,0,\"idle\"],[\"t\",1,1,\"flying\"],[\"t\",1,1,"
              "\"idle\"]]},"
              "\"flags\":[{\"flag\":\"surge\",\"level\":99},{\"level\":1}],"
              "\"replay\":{\"speed\":\"fast\",\"progress_pct\":1e9}}");
    assert_int_equal(s->ncells, 1); /* only [1,0,3,0,0] */
    assert_int_equal(s->ntechs_pos, 1);
    assert_int_equal(s->nflags, 1);
    assert_int_equal(s->flags[0].level, 0);
    assert_true(s->replay_progress_pct <= 100);
    assert_true(s->replay_speed == 0);
    ow_scene_free(s);
    /* a grid too large to hold */
    s = parse("{" CORE ",\"heat_grid\":{\"bbox\":[0,0,1,1],\"cols\":10000,\"rows\":10000,"
              "\"cells\":[]}}");
    assert_false(s->has_heat);
    ow_scene_free(s);
}

static void long_strings_cut_on_characters(void **state)
{
    (void)state;
    char text[4096], summary[1200] = "";
    for (int i = 0; i < 300; i++)
        strcat(summary, "暴"); /* 3 bytes each */
    snprintf(text, sizeof text, "{" CORE ",\"flags\":[{\"flag\":\"surge\",\"summary\":\"%s\"}]}",
             summary);
    ow_scene *s = parse(text);
    size_t n = strlen(s->flags[0].summary);
    assert_true(n < OW_SCENE_SUMMARY_BUF && n % 3 == 0 && n > 0);
    ow_scene_free(s);
}

static void oversized_arrays_capped(void **state)
{
    (void)state;
    size_t cap = 64 * 1024;
    char *text = malloc(cap);
    size_t n = (size_t)snprintf(text, cap, "{" CORE ",\"flags\":[");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s{\"flag\":\"f%d\"}", i ? "," : "", i);
    snprintf(text + n, cap - n, "]}");
    ow_scene *s = parse(text);
    assert_int_equal(s->nflags, OW_SCENE_FLAGS_MAX);
    assert_string_equal(s->flags[0].flag, "f0");
    ow_scene_free(s);
    free(text);
}

static void core_still_required(void **state)
{
    (void)state;
    const char *bad[] = {
        "{\"type\":\"snapshot\",\"seq\":1}", "{\"flags\":[]}", "[]",
        "{" CORE ",\"seq\":8}", /* duplicate key */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ow_err err;
        ow_scene *s = ow_scene_parse(bad[i], strlen(bad[i]), &err);
        if (s) fail_msg("accepted: %s", bad[i]);
        assert_true(err.msg[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(core_only_is_no_data),
        cmocka_unit_test(documented_members),
        cmocka_unit_test(malformed_members_refused_one_by_one),
        cmocka_unit_test(hostile_values),
        cmocka_unit_test(long_strings_cut_on_characters),
        cmocka_unit_test(oversized_arrays_capped),
        cmocka_unit_test(core_still_required),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
