/*
 * Merging partial snapshots (engine/merge.h, docs/scaling.md §4): a model's events are split by
 * partition the way ingest routes them (core/route.h: orders and complaints to their region's
 * partition, technician and stock events to every partition, as the shared stream does), each
 * partition's model is run as its engine would run it (advanced to the event-time watermark before
 * and after each event, section 5), its partial snapshot built, and the partials merged. The
 * merged snapshot is compared member by member with the snapshot one engine builds from all the
 * events: equal where the design says exact, and the known differences checked for what they are.
 * Models: the sample city's events file, and a simulator day (normal and rainstorm).
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
#include "crossfacts.h"
#include "files.h"
#include "json.h"
#include "map.h"
#include "merge.h"
#include "partition.h"
#include "picture.h"
#include "policy.h"
#include "route.h"
#include "sim.h"
#include "state.h"
#include "state_impl.h"

#include "partsim.h"

static void print_diff(const char *name, const cJSON *a, const cJSON *b)
{
    char *x = a ? cJSON_PrintUnformatted(a) : NULL, *y = b ? cJSON_PrintUnformatted(b) : NULL;
    fprintf(stderr, "member %s differs:\n one node: %.1500s\n merged:   %.1500s\n", name,
            x ? x : "(none)", y ? y : "(none)");
    cJSON_free(x), cJSON_free(y);
}

static bool expect_equal(const cJSON *one, const cJSON *merged, const char *name)
{
    const cJSON *a = ow_json_get(one, name), *b = ow_json_get(merged, name);
    if (cJSON_Compare(a, b, true)) return true;
    print_diff(name, a, b);
    return false;
}

/* heat_category: the same count for every (region, category) pair. */
static int64_t category_count(const cJSON *h, const char *region, const char *category)
{
    int ri = 0, ci = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, ow_json_get(h, "regions"))
    {
        if (strcmp(e->valuestring, region) == 0) break;
        ri++;
    }
    cJSON_ArrayForEach(e, ow_json_get(h, "categories"))
    {
        if (strcmp(e->valuestring, category) == 0) break;
        ci++;
    }
    const cJSON *v = cJSON_GetArrayItem(cJSON_GetArrayItem(ow_json_get(h, "counts"), ri), ci);
    return v ? (int64_t)v->valuedouble : 0;
}

static void expect_categories(const cJSON *one, const cJSON *merged)
{
    const cJSON *a = ow_json_get(one, "heat_category"), *b = ow_json_get(merged, "heat_category");
    assert_int_equal(cJSON_GetArraySize(ow_json_get(a, "categories")),
                     cJSON_GetArraySize(ow_json_get(b, "categories")));
    const cJSON *r, *c;
    int64_t total = 0;
    cJSON_ArrayForEach(r, ow_json_get(a, "regions"))
        cJSON_ArrayForEach(c, ow_json_get(a, "categories"))
    {
        int64_t x = category_count(a, r->valuestring, c->valuestring);
        assert_int_equal(x, category_count(b, r->valuestring, c->valuestring));
        total += x;
    }
    (void)total;
}

/* Alerts, flags, escalations: SLA and flag alerts equal in ids and instants, both ways; counts
 * summed; lists equal. Every flag, those decided from state that spans partitions included: the
 * holding records give a technician's home every partition's orders (engine/holdings.h), the
 * cross-partition records give each partition the others' orders and complaints
 * (engine/crossfacts.h), docs/scaling.md §4. Returns the number of failed checks (printed). */
static int expect_alerts(run *r, const cJSON *one, const cJSON *merged, cJSON *const *parts)
{
    int bad = 0;
    size_t pos = 0;
    const char *id;
    void *v;
    int64_t sla_parts = 0;
    while (ow_map_next(&r->raised_parts, &pos, &id, &v)) {
        void *o = ow_map_get(&r->raised_one, id);
        if (strncmp(id, "sla:", 4) == 0) {
            sla_parts++;
            if (o != v) {
                fprintf(stderr, "SLA alert %s: one node %s, partitions at %lld\n", id,
                        o ? "at another instant" : "never raised it", (long long)(intptr_t)v);
                bad++;
            }
        } else if (o != v) {
            fprintf(stderr, "flag alert %s differs from one node's\n", id);
            bad++;
        }
    }
    /* and the other way: every flag one node raised, raised by a partition at the same instant */
    int64_t exact[3] = {0};
    static const char *const exact_kinds[3] = {
        "flag:duplicate_dispatch:", "flag:repeat_visit:", "flag:complaint_cluster:"};
    pos = 0;
    while (ow_map_next(&r->raised_one, &pos, &id, &v)) {
        for (int k = 0; k < 3; k++)
            exact[k] += strncmp(id, exact_kinds[k], strlen(exact_kinds[k])) == 0;
        if (strncmp(id, "sla:", 4) == 0) continue;
        if (ow_map_get(&r->raised_parts, id) != v) {
            fprintf(stderr, "flag alert %s of one node: not raised by the partitions then\n", id);
            bad++;
        }
        const char *e1 = ow_map_get(&r->said_one, id), *ep = ow_map_get(&r->said_parts, id);
        if (e1 && ep && strcmp(e1, ep) != 0) {
            fprintf(stderr,
                    "flag alert %s: evidence and summary differ:\n  one node %s\n  partitions %s\n",
                    id, e1, ep);
            bad++;
        }
    }
    fprintf(stderr,
            "one node raised duplicate_dispatch %lld, repeat_visit %lld, complaint_cluster %lld "
            "times (%lld cross-partition records applied)\n",
            (long long)exact[0], (long long)exact[1], (long long)exact[2], (long long)r->records);
    if (sla_parts != r->sla_one) {
        fprintf(stderr, "SLA alerts: one node %lld, partitions %lld\n", (long long)r->sla_one,
                (long long)sla_parts);
        bad++;
    }
    assert_true(r->sla_one > 0);
    /* alerts: the partitions' counts summed */
    int64_t raised = 0;
    for (int p = 0; p < NP; p++)
        raised += (int64_t)ow_json_get(ow_json_get(parts[p], "alerts"), "raised")->valuedouble;
    assert_int_equal(raised, r->raised_sum);
    assert_int_equal((int64_t)ow_json_get(ow_json_get(merged, "alerts"), "raised")->valuedouble,
                     raised);
    /* each alert is raised by one partition only (flags about a region, a technician or a
     * complaint category by their home: ow_policy.home_table), so the summed counters count each
     * once: they equal one node's */
    assert_int_equal(r->raised_sum, (int64_t)r->raised_parts.len);
    int64_t raised_one = (int64_t)ow_json_get(ow_json_get(one, "alerts"), "raised")->valuedouble;
    fprintf(stderr, "alerts raised: one node %lld, merged %lld\n", (long long)raised_one,
            (long long)raised);
    assert_int_equal(raised, raised_one);
    const cJSON *lv_one = ow_json_get(ow_json_get(one, "alerts"), "open_by_level"),
                *lv_merged = ow_json_get(ow_json_get(merged, "alerts"), "open_by_level");
    for (int l = 0; l < 4; l++)
        assert_int_equal((int64_t)cJSON_GetArrayItem(lv_merged, l)->valuedouble,
                         (int64_t)cJSON_GetArrayItem(lv_one, l)->valuedouble);
    static const char *const lists[] = {"flags", "escalations"};
    for (int i = 0; i < 2; i++) {
        const cJSON *a = ow_json_get(one, lists[i]), *b = ow_json_get(merged, lists[i]);
        if (!cJSON_Compare(a, b, true)) {
            print_diff(lists[i], a, b);
            bad++;
        }
    }
    fprintf(stderr, "%lld SLA alerts equal\n", (long long)sla_parts);
    /* the technician flags, both ways: every one-node raise by some partition, at its instant */
    static const char *const tech_flags[] = {"flag:overload:", "flag:stale_technician:"};
    for (int k = 0; k < 2; k++) {
        int64_t n_one = 0, n_parts = 0, same = 0;
        pos = 0;
        while (ow_map_next(&r->raised_one, &pos, &id, &v)) {
            if (strncmp(id, tech_flags[k], strlen(tech_flags[k])) != 0) continue;
            n_one++;
            same += ow_map_get(&r->raised_parts, id) == v;
        }
        pos = 0;
        while (ow_map_next(&r->raised_parts, &pos, &id, &v))
            n_parts += strncmp(id, tech_flags[k], strlen(tech_flags[k])) == 0;
        fprintf(stderr, "%s one node %lld, partitions %lld, identical (id, instant) %lld\n",
                tech_flags[k], (long long)n_one, (long long)n_parts, (long long)same);
        if (same != n_one || n_parts != n_one) bad++;
    }
    return bad;
}

/* Build every snapshot, merge, compare. */
static void compare(run *r, int64_t *events_out)
{
    finish(r);
    /* the replicas' size at the end (the memory bound of docs/scaling.md §4) */
    for (int p = 0; p < NP; p++) {
        int64_t no, nc;
        ow_crossfacts_counts(r->part[p]->xf, &no, &nc);
        fprintf(stderr, "partition %d replica: %lld orders, %lld complaints of the others\n", p,
                (long long)no, (long long)nc);
    }
    char *one_text = ow_picture_build(r->one, 7, r->now, OW_MODE_REPLAY, NULL);
    assert_non_null(one_text);
    cJSON *one = cJSON_Parse(one_text); /* as published: the slow members are text */
    free(one_text);
    assert_non_null(one);
    cJSON *parts[NP];
    ow_merge_part in[NP];
    for (int p = 0; p < NP; p++) {
        ow_picture_opts o = {.partition = p, .partitions = NP};
        cJSON *t = ow_picture_build_tree(r->part[p], 100 + p, r->now, OW_MODE_REPLAY, &o);
        assert_non_null(t);
        /* as the readers get it: text from Redis */
        char *text = cJSON_PrintUnformatted(t);
        cJSON_Delete(t);
        parts[p] = cJSON_Parse(text);
        cJSON_free(text);
        assert_non_null(parts[p]);
        in[p] = (ow_merge_part){.snap = parts[p], .age_ms = 1000 * p};
        /* the fuzz target's seeds (tests/fuzz/corpus/merge): one partial per line, a file per
         * model in the directory OW_MERGE_SEEDS names */
        const char *seeds = getenv("OW_MERGE_SEEDS");
        if (seeds) {
            char path[512];
            snprintf(path, sizeof path, "%s/partials_%lld_events", seeds, (long long)r->events);
            FILE *f = fopen(path, p ? "a" : "w");
            char *t2 = cJSON_PrintUnformatted(parts[p]);
            fprintf(f, "%s%s", p ? "\n" : "", t2);
            cJSON_free(t2);
            fclose(f);
        }
        /* each partition really has its share of the orders */
        assert_true(ow_json_get(ow_json_get(parts[p], "open"), "total") != NULL);
    }
    ow_err err;
    cJSON *merged = ow_merge_build(in, NP, &r->table, 7, &err);
    if (!merged) fail_msg("merge: %s", err.msg);
    /* print as the feed does, then read back: what a viewer gets */
    char *text = cJSON_PrintUnformatted(merged);
    cJSON_Delete(merged);
    merged = cJSON_Parse(text);
    cJSON_free(text);

    static const char *const exact[] = {
        "v",     "type",        "seq",          "now",        "now_ms",
        "mode",  "open",        "orders_known", "last_event", "complaints_open",
        "techs", "urgent",      "city",         "regions",    "techs_pos",
        "kpi",   "kpi_targets", "heat_grid",    "heat_hour",  "bottleneck",
        "spark"};
    int differ = 0;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        differ += !expect_equal(one, merged, exact[i]);
    expect_categories(one, merged);
    differ += expect_alerts(r, one, merged, parts);
    if (differ && getenv("OW_MERGE_DUMP")) {
        char *x = cJSON_Print(one), *y = cJSON_Print(merged);
        FILE *f1 = fopen("/tmp/merge-one.json", "w"), *f2 = fopen("/tmp/merge-merged.json", "w");
        fputs(x, f1), fputs(y, f2);
        fclose(f1), fclose(f2);
        cJSON_free(x), cJSON_free(y);
    }
    if (differ) fail_msg("%d members differ from one node's", differ);

    /* technician and stock events are applied by every partition and counted by each */
    int64_t ea_one = (int64_t)ow_json_get(one, "events_applied")->valuedouble;
    int64_t ea_merged = (int64_t)ow_json_get(merged, "events_applied")->valuedouble;
    assert_int_equal(ea_merged, ea_one + (NP - 1) * r->shared);
    assert_int_equal((int64_t)ow_json_get(merged, "analytics_events")->valuedouble, ea_merged);
    /* the partitions member: one entry each, with its own seq and age */
    const cJSON *pm = ow_json_get(merged, "partitions");
    assert_int_equal(cJSON_GetArraySize(pm), NP);
    assert_int_equal((int)ow_json_get(ow_json_get(pm, "2"), "seq")->valuedouble, 102);
    assert_int_equal((int)ow_json_get(ow_json_get(pm, "1"), "age_s")->valuedouble, 1);
    assert_null(ow_json_get(merged, "part"));
    /* the model is not trivial: orders in every partition, alerts raised */
    for (int p = 0; p < NP; p++)
        assert_true(ow_json_get(ow_json_get(parts[p], "open"), "total")->valuedouble +
                        ow_json_get(parts[p], "orders_known")->valuedouble >
                    0);
    assert_true(ow_json_get(ow_json_get(one, "alerts"), "raised")->valuedouble > 0);
    *events_out = r->events;
    for (int p = 0; p < NP; p++)
        cJSON_Delete(parts[p]);
    cJSON_Delete(one);
    cJSON_Delete(merged);
}

static void test_sample_city(void **st)
{
    (void)st;
    run *r = malloc(sizeof *r);
    if (!run_init(r, OW_SOURCE_DIR "/config/opswall.json")) fail_msg("run_init");
    FILE *f = fopen(OW_SOURCE_DIR "/assets/cities/sample/events.ndjson", "r");
    assert_non_null(f);
    char line[8192];
    while (fgets(line, sizeof line, f))
        if (line[0] == '{') feed_line(r, line, strcspn(line, "\n"));
    fclose(f);
    int64_t n;
    compare(r, &n);
    assert_true(n > 100);
    run_fini(r);
    free(r);
}

static void sim_day(ow_sim_scenario sc)
{
    run *r = malloc(sizeof *r);
    if (!run_init(r, OW_SOURCE_DIR "/config/opswall.json")) fail_msg("run_init");
    ow_sim_config c;
    ow_sim_config_init(&c);
    c.seed = 12;
    c.scenario = sc;
    c.duration_ms = 24LL * 3600 * 1000;
    c.late_fraction = 0; /* late lines are parked by ingest (§3), which this test does not do */
    c.dup_fraction = 0;
    ow_err err;
    ow_sim *s = ow_sim_new(&c, &err);
    if (!s) fail_msg("%s", err.msg);
    ow_sim_line l;
    while (ow_sim_next(s, &l) > 0)
        feed_line(r, l.text, l.len);
    ow_sim_free(s);
    int64_t n;
    compare(r, &n);
    assert_true(n > 1000);
    run_fini(r);
    free(r);
}

static void test_sim_normal(void **st)
{
    (void)st;
    sim_day(OW_SIM_NORMAL);
}

static void test_sim_rainstorm(void **st)
{
    (void)st;
    sim_day(OW_SIM_RAINSTORM);
}

/* ---- a technician whose orders are in several partitions (docs/scaling.md §4) ---- */

static void line(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(run *r, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof text);
    int64_t before = r->events;
    feed_line(r, text, (size_t)n);
    assert_int_equal(r->events, before + 1); /* every line here is a valid event */
}

/* Every partition's model through its checkpoint: what a takeover resumes from. */
static void checkpoint_all(run *r)
{
    for (int p = 0; p < NP; p++) {
        char *buf, cursor[OW_CHECKPOINT_CURSOR_MAX];
        size_t len;
        ow_err err;
        assert_int_equal(ow_checkpoint_save(r->part[p], "0-0", &buf, &len, &err), 0);
        ow_state *s;
        if (ow_checkpoint_load(&r->ppol[p], buf, len, &s, cursor, &err))
            fail_msg("partition %d: %s", p, err.msg);
        free(buf);
        ow_state_free(r->part[p]);
        r->part[p] = s;
    }
}

/* The instant (+1) a raise of `id` was recorded at, 0 if never. */
static int64_t raised_at(ow_map *m, const char *id)
{
    return (int64_t)(intptr_t)ow_map_get(m, id);
}

/* Four active orders in three partitions (overload), and a silence while holding only another
 * partition's accepted order (stale_technician): one node raises both; the technician's home
 * partition must raise them with the same ids and instants, though it holds at most two of the
 * orders itself. Without the holding records it raises neither. */
static void test_tech_across_partitions(void **st)
{
    (void)st;
    run *r = malloc(sizeof *r);
    if (!run_init(r, OW_SOURCE_DIR "/config/opswall.json")) fail_msg("run_init");
    /* run_init's table: central, north -> 0; east, harbor -> 1; south, west, oldtown -> 2 */
    static const char *const region_of[NP] = {"central", "east", "south"};
    const char *tid = "TX-7";
    int home = (int)(ow_partition_hash(tid, strlen(tid)) % NP);
    int away = (home + 1) % NP; /* two orders there, one in each other partition */
    const char *regions[4] = {region_of[0], region_of[1], region_of[2], region_of[away]};
#define T(hms) "2026-11-22T" hms "+08:00"
    line(r,
         "{\"v\":1,\"id\":\"x1\",\"ts\":\"" T(
             "08:00:00") "\",\"type\":\"tech.status\","
                         "\"tech_id\":\"%s\",\"status\":\"idle\",\"region\":\"%s\"}",
         tid, region_of[home]);
    line(r,
         "{\"v\":1,\"id\":\"x2\",\"ts\":\"" T(
             "08:00:05") "\",\"type\":\"tech.location\","
                         "\"tech_id\":\"%s\",\"lat\":31.25,\"lon\":121.44}",
         tid);
    for (int i = 0; i < 4; i++)
        line(r,
             "{\"v\":1,\"id\":\"c%d\",\"ts\":\"" T(
                 "08:01:0%d") "\",\"type\":\"order.created\","
                              "\"order_id\":\"XO-%d\",\"priority\":\"general\",\"category\":"
                              "\"pipe\","
                              "\"region\":\"%s\"}",
             i, i, i, regions[i]);
    for (int i = 0; i < 3; i++)
        line(r,
             "{\"v\":1,\"id\":\"d%d\",\"ts\":\"" T(
                 "08:02:0%d") "\",\"type\":\"order.dispatched\","
                              "\"order_id\":\"XO-%d\",\"tech_id\":\"%s\"}",
             i, i, i, tid);
    checkpoint_all(r); /* the replica (3 orders, some held elsewhere) survives a takeover */
    line(r,
         "{\"v\":1,\"id\":\"d3\",\"ts\":\"" T(
             "08:02:03") "\",\"type\":\"order.dispatched\","
                         "\"order_id\":\"XO-3\",\"tech_id\":\"%s\"}",
         tid);
    /* the one acceptance: an order of another partition than the technician's home */
    line(r,
         "{\"v\":1,\"id\":\"a3\",\"ts\":\"" T(
             "08:03:00") "\",\"type\":\"order.accepted\","
                         "\"order_id\":\"XO-3\",\"tech_id\":\"%s\"}",
         tid);
    /* three of them cancelled: the overload ends; XO-3 stays held */
    for (int i = 0; i < 3; i++)
        line(r,
             "{\"v\":1,\"id\":\"k%d\",\"ts\":\"" T(
                 "08:04:0%d") "\",\"type\":\"order.cancelled\","
                              "\"order_id\":\"XO-%d\",\"reason\":\"test\"}",
             i, i, i);
    checkpoint_all(r);
    /* silent from 08:00:05: stale at 08:10:05, seen when another technician reports at 08:30 */
    line(r, "{\"v\":1,\"id\":\"y1\",\"ts\":\"" T(
                "08:30:00") "\",\"type\":\"tech.location\","
                            "\"tech_id\":\"TY-1\",\"lat\":31.2,\"lon\":121.4}");
#undef T
    finish(r);
    char id[128];
    snprintf(id, sizeof id, "flag:overload:%s:1", tid);
    int64_t want = raised_at(&r->raised_one, id);
    assert_true(want != 0); /* one node: 4 active orders at the fourth dispatch */
    assert_int_equal(raised_at(&r->raised_parts, id), want);
    snprintf(id, sizeof id, "flag:stale_technician:%s:1", tid);
    want = raised_at(&r->raised_one, id);
    assert_true(want != 0);
    assert_int_equal(raised_at(&r->raised_parts, id), want);
    /* and nothing else about this technician differs: the same raises, each by one partition */
    assert_int_equal(r->raised_sum, (int64_t)r->raised_parts.len);
    assert_int_equal((int64_t)r->raised_parts.len, (int64_t)r->raised_one.len);
    assert_int_equal(r->holdings, 4 + 4 + 1 + 3); /* every order event has its record */
    run_fini(r);
    free(r);
}

/* An order held in another partition, resolved, called back 2 h later and reopened 3.5 h after
 * the resolution, with engine.closed_retention 3 h: one node still knows the order (its latest
 * instant is the callback), so the reopen makes the technician hold it again, and their silence
 * (since 08:00) is stale at once. The replica must not have forgotten it by its resolution's
 * instant: the callback's record moves its latest instant too. */
static void test_reopen_within_retention(void **st)
{
    (void)st;
    run *r = malloc(sizeof *r);
    if (!run_init(r, OW_SOURCE_DIR "/config/opswall.json")) fail_msg("run_init");
    r->pol.closed_retention_ms = 3 * 3600 * 1000;
    for (int p = 0; p < NP; p++)
        r->ppol[p].closed_retention_ms = r->pol.closed_retention_ms;
    static const char *const region_of[NP] = {"central", "east", "south"};
    const char *tid = "TX-7";
    int away = (int)((ow_partition_hash(tid, strlen(tid)) + 1) % NP);
#define T(hms) "2026-11-22T" hms "+08:00"
#define ORDER(id, hms, type, extra)                                                                \
    line(r,                                                                                        \
         "{\"v\":1,\"id\":\"" id "\",\"ts\":\"" T(hms) "\",\"type\":\"" type "\","                 \
                                                       "\"order_id\":\"XO-1\"" extra "}",          \
         tid)
    line(r,
         "{\"v\":1,\"id\":\"x1\",\"ts\":\"" T(
             "08:00:00") "\",\"type\":\"tech.location\","
                         "\"tech_id\":\"%s\",\"lat\":31.25,\"lon\":121.44}",
         tid);
    line(r,
         "{\"v\":1,\"id\":\"c1\",\"ts\":\"" T(
             "08:01:00") "\",\"type\":\"order.created\","
                         "\"order_id\":\"XO-1\",\"priority\":\"general\",\"category\":\"pipe\","
                         "\"region\":\"%s\"}",
         region_of[away]);
    ORDER("d1", "08:02:00", "order.dispatched", ",\"tech_id\":\"%s\"");
    ORDER("a1", "08:03:00", "order.accepted", ",\"tech_id\":\"%s\"");
    ORDER("r1", "09:00:00", "order.resolved", ",\"tech_id\":\"%s\"");
    ORDER("b1", "11:00:00", "order.callback", ",\"score\":2%.0s");
    line(r, "{\"v\":1,\"id\":\"y1\",\"ts\":\"" T(
                "12:20:00") "\",\"type\":\"tech.location\","
                            "\"tech_id\":\"TY-1\",\"lat\":31.2,\"lon\":121.4}");
    ORDER("o1", "12:30:00", "order.reopened", "%.0s");
    line(r, "{\"v\":1,\"id\":\"y2\",\"ts\":\"" T(
                "12:45:00") "\",\"type\":\"tech.location\","
                            "\"tech_id\":\"TY-1\",\"lat\":31.2,\"lon\":121.4}");
#undef ORDER
#undef T
    finish(r);
    /* the one raise: at the reopen (event time fires nothing between 08:03 and the resolution) */
    char id[128];
    snprintf(id, sizeof id, "flag:stale_technician:%s:1", tid);
    int64_t want = raised_at(&r->raised_one, id);
    assert_int_equal(want - 1, INT64_C(1795321800000)); /* 12:30 +08:00 */
    assert_int_equal(raised_at(&r->raised_parts, id), want);
    assert_int_equal((int64_t)r->raised_parts.len, (int64_t)r->raised_one.len);
    run_fini(r);
    free(r);
}

/* One engine (no partitions, or one) publishes exactly what it published before: no `part`. */
/* ---- pairs and a cluster that straddle partitions (hand-made events) ---- */

/* The sample city's table (partsim): central, north → 0; east, harbor → 1; south, west,
 * oldtown → 2. A duplicate dispatch pair (central + east, 12 m apart, by place), a repeat visit
 * (north, then harbor, the same address written differently), a complaint cluster (5 "billing"
 * complaints, at most 2 in any one partition). Between the days every partition is checkpointed
 * and resumed from its bytes, as a takeover resumes. */
static const char *const straddle[] = {
    "{\"v\":1,\"id\":\"x1\",\"ts\":\"2026-11-22T08:00:00+08:00\",\"type\":\"order.created\","
    "\"order_id\":\"A\",\"priority\":\"general\",\"category\":\"leak\",\"region\":\"central\","
    "\"lat\":31.2300,\"lon\":121.4700}",
    "{\"v\":1,\"id\":\"x2\",\"ts\":\"2026-11-22T08:01:00+08:00\",\"type\":\"order.dispatched\","
    "\"order_id\":\"A\",\"tech_id\":\"T1\"}",
    "{\"v\":1,\"id\":\"x3\",\"ts\":\"2026-11-22T08:05:00+08:00\",\"type\":\"order.created\","
    "\"order_id\":\"B\",\"priority\":\"general\",\"category\":\"leak\",\"region\":\"east\","
    "\"lat\":31.23010,\"lon\":121.47005}",
    "{\"v\":1,\"id\":\"x4\",\"ts\":\"2026-11-22T08:06:00+08:00\",\"type\":\"order.dispatched\","
    "\"order_id\":\"B\",\"tech_id\":\"T2\"}",
    "{\"v\":1,\"id\":\"x5\",\"ts\":\"2026-11-22T08:10:00+08:00\",\"type\":\"order.created\","
    "\"order_id\":\"C\",\"priority\":\"general\",\"category\":\"no_water\",\"region\":\"north\","
    "\"address\":\"Harbor Road 7, Flat 2\"}",
    "{\"v\":1,\"id\":\"x6\",\"ts\":\"2026-11-22T08:20:00+08:00\",\"type\":\"order.dispatched\","
    "\"order_id\":\"C\",\"tech_id\":\"T3\"}",
    "{\"v\":1,\"id\":\"x7\",\"ts\":\"2026-11-22T09:00:00+08:00\",\"type\":\"order.resolved\","
    "\"order_id\":\"C\",\"tech_id\":\"T3\"}",
    "{\"v\":1,\"id\":\"x8\",\"ts\":\"2026-11-22T12:00:00+08:00\",\"type\":\"complaint.created\","
    "\"complaint_id\":\"K1\",\"severity\":\"normal\",\"category\":\"billing\",\"region\":"
    "\"central\"}",
    "{\"v\":1,\"id\":\"x9\",\"ts\":\"2026-11-22T12:10:00+08:00\",\"type\":\"complaint.created\","
    "\"complaint_id\":\"K2\",\"severity\":\"normal\",\"category\":\"billing\",\"region\":\"east\"}",
    "{\"v\":1,\"id\":\"x10\",\"ts\":\"2026-11-22T12:20:00+08:00\",\"type\":\"complaint.created\","
    "\"complaint_id\":\"K3\",\"severity\":\"normal\",\"category\":\"billing\",\"region\":"
    "\"south\"}",
    "{\"v\":1,\"id\":\"x11\",\"ts\":\"2026-11-22T12:30:00+08:00\",\"type\":\"complaint.created\","
    "\"complaint_id\":\"K4\",\"severity\":\"normal\",\"category\":\"billing\",\"region\":"
    "\"north\"}",
    NULL, /* checkpoint every partition, resume from the bytes */
    "{\"v\":1,\"id\":\"x12\",\"ts\":\"2026-11-22T12:40:00+08:00\",\"type\":\"complaint.created\","
    "\"complaint_id\":\"K5\",\"severity\":\"normal\",\"category\":\"billing\",\"region\":"
    "\"harbor\"}",
    "{\"v\":1,\"id\":\"x13\",\"ts\":\"2026-11-23T10:00:00+08:00\",\"type\":\"order.created\","
    "\"order_id\":\"D\",\"priority\":\"general\",\"category\":\"no_water\",\"region\":\"harbor\","
    "\"address\":\"harbor road 7 flat 2\"}",
};

/* Raises of the three flags by one node, and how many of them the partitions raised at the same
 * instant with the same evidence and summary. */
static void straddle_run(bool records, int64_t *one, int64_t *same)
{
    run *r = malloc(sizeof *r);
    assert_non_null(r);
    if (!run_init(r, OW_SOURCE_DIR "/config/opswall.json")) fail_msg("run_init");
    r->no_records = !records;
    for (size_t i = 0; i < sizeof straddle / sizeof straddle[0]; i++) {
        if (straddle[i]) {
            feed_line(r, straddle[i], strlen(straddle[i]));
            continue;
        }
        for (int p = 0; p < NP; p++) {
            char *bytes = NULL, cursor[OW_CHECKPOINT_CURSOR_MAX];
            size_t len = 0;
            ow_err err;
            ow_state *back = NULL;
            assert_int_equal(ow_checkpoint_save(r->part[p], "c", &bytes, &len, &err), OW_OK);
            if (ow_checkpoint_load(&r->ppol[p], bytes, len, &back, cursor, &err))
                fail_msg("%s", err.msg);
            free(bytes);
            ow_state_free(r->part[p]);
            r->part[p] = back;
        }
    }
    finish(r);
    static const char *const kinds[] = {"flag:duplicate_dispatch:B", "flag:repeat_visit:D",
                                        "flag:complaint_cluster:category/billing"};
    *one = *same = 0;
    size_t pos = 0;
    const char *id;
    void *v;
    while (ow_map_next(&r->raised_one, &pos, &id, &v)) {
        bool ours = false;
        for (int k = 0; k < 3; k++)
            ours |= strncmp(id, kinds[k], strlen(kinds[k])) == 0;
        if (!ours) continue;
        (*one)++;
        const char *e1 = ow_map_get(&r->said_one, id), *ep = ow_map_get(&r->said_parts, id);
        bool eq = ow_map_get(&r->raised_parts, id) == v && e1 && ep && strcmp(e1, ep) == 0;
        *same += eq;
        fprintf(stderr, "%s %s: %s\n", records ? "with records" : "without", id,
                eq ? "equal" : "differs");
    }
    run_fini(r);
    free(r);
}

static void test_straddling_pairs(void **st)
{
    (void)st;
    int64_t one, same;
    straddle_run(true, &one, &same);
    assert_int_equal(one, 3); /* one node raises each of the three */
    assert_int_equal(same, 3);
    /* the code before the records (each partition alone): none of them is raised */
    straddle_run(false, &one, &same);
    assert_int_equal(one, 3);
    assert_int_equal(same, 0);
}

static void test_one_node_unchanged(void **st)
{
    (void)st;
    run *r = malloc(sizeof *r);
    if (!run_init(r, OW_SOURCE_DIR "/config/opswall.json")) fail_msg("run_init");
    FILE *f = fopen(OW_SOURCE_DIR "/assets/cities/sample/events.ndjson", "r");
    assert_non_null(f);
    char line[8192];
    while (fgets(line, sizeof line, f))
        if (line[0] == '{') feed_line(r, line, strcspn(line, "\n"));
    fclose(f);
    char *plain = ow_picture_snapshot(r->one, 3, r->now, OW_MODE_REPLAY);
    ow_picture_opts o = {.partition = 0, .partitions = 1};
    char *one = ow_picture_build(r->one, 3, r->now, OW_MODE_REPLAY, &o);
    assert_string_equal(plain, one);
    assert_null(strstr(plain, "\"part\""));
    ow_picture_opts o3 = {.partition = 0, .partitions = 3};
    char *with = ow_picture_build(r->one, 3, r->now, OW_MODE_REPLAY, &o3);
    assert_non_null(strstr(with, ",\"part\":{\"p\":0,\"of\":3,\"kpi\":{\"1h\":{\"c\":["));
    free(plain), free(one), free(with);
    run_fini(r);
    free(r);
}

/* ---- hostile and malformed partials: a message naming partition and member, never a crash ---- */

static void expect_refused(const char *a, const char *b, const char *needle)
{
    cJSON *x = cJSON_Parse(a), *y = cJSON_Parse(b);
    ow_merge_part in[2] = {{.snap = x}, {.snap = y}};
    ow_err err;
    cJSON *m = ow_merge_build(in, 2, NULL, 1, &err);
    if (m) {
        cJSON_Delete(m);
        fail_msg("accepted %s", b);
    }
    if (!strstr(err.msg, needle)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
    cJSON_Delete(x), cJSON_Delete(y);
}

#define PART_OK                                                                                    \
    "\"part\":{\"p\":0,\"of\":2,\"kpi\":{\"1h\":{\"c\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"  \
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],\"len_ms\":0,\"backlog\":0,\"response\":[],\"dispatch\":[]}" \
    ","                                                                                            \
    "\"prev_1h\":{\"c\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"   \
    "0],\"len_ms\":0,\"backlog\":0},\"today\":{\"c\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"  \
    "0,"                                                                                           \
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0],\"len_ms\":0,\"backlog\":0},\"7d\":{\"c\":[0,0,0,0,0,0,0,0,0,0," \
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],\"len_ms\":0,\"backlog\":0}}}"

static void test_hostile(void **st)
{
    (void)st;
    const char *good = "{\"v\":1,\"type\":\"snapshot\",\"seq\":1,\"now_ms\":5," PART_OK "}";
    /* the good one merges with itself */
    cJSON *x = cJSON_Parse(good);
    ow_merge_part in[2] = {{.snap = x}, {.snap = x}};
    ow_err err;
    cJSON *m = ow_merge_build(in, 2, NULL, 9, &err);
    if (!m) fail_msg("%s", err.msg);
    cJSON_Delete(m);
    /* nothing at all yet */
    ow_merge_part none[2] = {{0}, {0}};
    assert_null(ow_merge_build(none, 2, NULL, 1, &err));
    assert_int_equal(err.code, OW_ENOTFOUND);
    cJSON_Delete(x);
    expect_refused(good, "[1,2]", "partition 1: (snapshot): expected an object");
    expect_refused(good, "{\"now_ms\":1,\"open\":[1]," PART_OK "}",
                   "partition 1: open: expected an object");
    expect_refused(good, "{\"now_ms\":1,\"open\":{\"total\":\"x\"}," PART_OK "}",
                   "partition 1: open: expected an integer");
    expect_refused(good, "{\"now_ms\":1,\"orders_known\":1e300," PART_OK "}",
                   "orders_known: expected an integer");
    expect_refused(good, "{\"now_ms\":1}", "partition 1: part.kpi: missing");
    expect_refused(good, "{\"now_ms\":1,\"part\":{\"kpi\":{\"1h\":{\"c\":[1]}}}}",
                   "part.kpi.1h: expected \"c\": an array of 36 integers");
    /* sketch pairs: odd length, index out of range, counts past 32 bits */
    static const char *const pairs[][2] = {{"[9]", "index (0-2559), count pairs"},
                                           {"[2560,1]", "index (0-2559), count pairs"},
                                           {"[-1,1]", "index (0-2559), count pairs"},
                                           {"[3,\"x\"]", "index (0-2559), count pairs"},
                                           {"[3,4294967295,3,1]", "counts that fit 32 bits"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char bad[4096];
        snprintf(bad, sizeof bad, "{\"now_ms\":1,%s}", PART_OK);
        char *at = strstr(bad, "\"response\":[]"), rest[4096];
        snprintf(rest, sizeof rest, "%s", at + strlen("\"response\":[]"));
        snprintf(at, sizeof bad - (size_t)(at - bad), "\"response\":%s%s", pairs[i][0], rest);
        expect_refused(good, bad, pairs[i][1]);
    }
    expect_refused(good, "{\"now_ms\":1,\"urgent\":[1]," PART_OK "}",
                   "urgent: expected an array of objects");
    expect_refused(good, "{\"now_ms\":1,\"urgent\":[{\"order_id\":3}]," PART_OK "}",
                   "urgent[].order_id: expected a string");
    expect_refused(
        good, "{\"now_ms\":9,\"heat_grid\":{\"cols\":1e15,\"rows\":1e15,\"cells\":[]}," PART_OK "}",
        "heat_grid.cols/rows");
    expect_refused(
        good,
        "{\"now_ms\":9,\"heat_grid\":{\"cols\":2,\"rows\":2,\"cells\":[[5,0,1,1,1]]}," PART_OK "}",
        "a cell inside the grid");
    expect_refused(good, "{\"now_ms\":1,\"regions\":[{\"name\":1}]," PART_OK "}",
                   "regions[]: expected objects with an id");
    expect_refused(good, "{\"now_ms\":1,\"alerts\":{\"open_by_level\":[1,2]}," PART_OK "}",
                   "alerts.open_by_level");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_node_unchanged),
        cmocka_unit_test(test_sample_city),
        cmocka_unit_test(test_sim_normal),
        cmocka_unit_test(test_sim_rainstorm),
        cmocka_unit_test(test_tech_across_partitions),
        cmocka_unit_test(test_reopen_within_retention),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_straddling_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
