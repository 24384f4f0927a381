/*
 * test_config — defaults, the shipped config/opswall.json, strict loading and env overrides.
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

#define SHIPPED_CONFIG OPSWALL_SOURCE_DIR "/config/opswall.json"
#define MIN_MS         INT64_C(60000)
#define HOUR_MS        (60 * MIN_MS)

static ow_config a, b; /* static: zeroed, and off the stack */
static ow_err err;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static int parse(ow_config *cfg, const char *text)
{
    ow_err_clear(&err);
    return ow_config_parse(cfg, text, strlen(text), NULL, &err);
}

/* ---- field-by-field comparison that names the setting ---- */

static void eq_str(const char *path, const char *x, const char *y)
{
    if (strcmp(x, y) != 0) fail_msg("%s: \"%s\" != \"%s\"", path, x, y);
}

static void eq_int(const char *path, int64_t x, int64_t y)
{
    if (x != y) fail_msg("%s: %lld != %lld", path, (long long)x, (long long)y);
}

static void assert_cfg_equal(const ow_config *x, const ow_config *y)
{
    eq_str("redis.url", x->redis.url, y->redis.url);
    eq_str("redis.data_dir", x->redis.data_dir, y->redis.data_dir);
    eq_str("redis.server", x->redis.server, y->redis.server);
    eq_int("redis.start_timeout", x->redis.start_timeout_ms, y->redis.start_timeout_ms);
    eq_int("redis.timeout", x->redis.timeout_ms, y->redis.timeout_ms);
    eq_int("streams.events_maxlen", x->streams.events_maxlen, y->streams.events_maxlen);
    eq_int("streams.rejects_maxlen", x->streams.rejects_maxlen, y->streams.rejects_maxlen);
    eq_int("ingest.dedup_window", x->ingest.dedup_window_ms, y->ingest.dedup_window_ms);
    eq_int("ingest.batch", x->ingest.batch, y->ingest.batch);
    eq_str("engine.group", x->engine.group, y->engine.group);
    eq_str("engine.consumer", x->engine.consumer, y->engine.consumer);
    eq_int("engine.publish_interval", x->engine.publish_interval_ms, y->engine.publish_interval_ms);
    eq_int("engine.batch", x->engine.batch, y->engine.batch);
    eq_int("engine.block", x->engine.block_ms, y->engine.block_ms);
    eq_int("engine.checkpoint_interval", x->engine.checkpoint_ms, y->engine.checkpoint_ms);
    eq_int("engine.checkpoint_bytes", x->engine.checkpoint_bytes, y->engine.checkpoint_bytes);
    eq_str("feed.listen", x->feed.listen, y->feed.listen);
    eq_int("feed.port", x->feed.port, y->feed.port);
    eq_str("feed.web_root", x->feed.web_root, y->feed.web_root);
    eq_int("wallboard.width", x->wallboard.width, y->wallboard.width);
    eq_int("wallboard.height", x->wallboard.height, y->wallboard.height);
    eq_int("wallboard.fullscreen", x->wallboard.fullscreen, y->wallboard.fullscreen);
    eq_int("wallboard.display", x->wallboard.display, y->wallboard.display);
    eq_str("wallboard.font", x->wallboard.font, y->wallboard.font);
    eq_int("wallboard.poll", x->wallboard.poll_ms, y->wallboard.poll_ms);
    eq_int("wallboard.stale_after", x->wallboard.stale_ms, y->wallboard.stale_ms);
    for (int p = 0; p < OW_PRIO__COUNT; p++)
        for (int s = 0; s < OW_STAGE__ORDER_COUNT; s++) {
            char path[64];
            snprintf(path, sizeof path, "sla.%s.%s", ow_priority_name((ow_priority)p),
                     ow_stage_name((ow_stage)s));
            eq_int(path, x->sla.target_ms[p][s], y->sla.target_ms[p][s]);
        }
    eq_int("sla.complaint.urgent", x->sla.complaint_ms[OW_SEV_URGENT],
           y->sla.complaint_ms[OW_SEV_URGENT]);
    eq_int("sla.complaint.normal", x->sla.complaint_ms[OW_SEV_NORMAL],
           y->sla.complaint_ms[OW_SEV_NORMAL]);
    eq_str("city.name", x->city.name, y->city.name);
    eq_str("city.regions", x->city.regions, y->city.regions);
    eq_str("city.name_property", x->city.name_property, y->city.name_property);
    eq_str("city.events", x->city.events, y->city.events);
    eq_int("flags.surge.min_orders", x->flags.surge.min_orders, y->flags.surge.min_orders);
    eq_int("flags.surge.window", x->flags.surge.window_ms, y->flags.surge.window_ms);
    if (x->flags.surge.ratio != y->flags.surge.ratio)
        fail_msg("flags.surge.ratio: %g != %g", x->flags.surge.ratio, y->flags.surge.ratio);
    if (x->flags.complaint_cluster.csat_below != y->flags.complaint_cluster.csat_below)
        fail_msg("flags.complaint_cluster.csat_below: %g != %g",
                 x->flags.complaint_cluster.csat_below, y->flags.complaint_cluster.csat_below);
    eq_int("flags.far_dispatch.min_m", x->flags.far_dispatch.min_m, y->flags.far_dispatch.min_m);
    eq_int("flags.backlog.level", x->flags.backlog.level, y->flags.backlog.level);
}

/* Every setting changed to another valid value. */
static void mutate(ow_config *c)
{
    ow_config_defaults(c);
    strcpy(c->redis.url, "redis://cache:6380/2");
    strcpy(c->redis.data_dir, "/var/lib/opswall/redis");
    strcpy(c->redis.server, "/usr/bin/redis-server");
    c->redis.start_timeout_ms = 20000;
    c->redis.timeout_ms = 1500;
    c->streams.events_maxlen = 5000;
    c->streams.rejects_maxlen = 200;
    c->ingest.dedup_window_ms = 48 * HOUR_MS;
    c->ingest.batch = 64;
    strcpy(c->engine.group, "eng");
    strcpy(c->engine.consumer, "eng-2");
    c->engine.publish_interval_ms = 1000;
    c->engine.batch = 500;
    c->engine.block_ms = 100;
    c->engine.checkpoint_ms = 2500;
    c->engine.checkpoint_bytes = 1 << 20;
    strcpy(c->feed.listen, "0.0.0.0");
    c->feed.port = 8080;
    strcpy(c->feed.web_root, "/srv/opswall/web");
    c->wallboard.width = 3840;
    c->wallboard.height = 2160;
    c->wallboard.fullscreen = true;
    c->wallboard.display = 1;
    strcpy(c->wallboard.font, "/usr/share/fonts/x.ttf");
    c->wallboard.poll_ms = 100;
    c->wallboard.stale_ms = 30000;
    for (int p = 0; p < OW_PRIO__COUNT; p++)
        for (int s = 0; s < OW_STAGE__ORDER_COUNT; s++)
            c->sla.target_ms[p][s] = (p * 6 + s + 1) * MIN_MS + 1500;
    c->sla.complaint_ms[OW_SEV_URGENT] = 10 * MIN_MS;
    c->sla.complaint_ms[OW_SEV_NORMAL] = 2 * HOUR_MS;
    strcpy(c->city.name, "la");
    strcpy(c->city.regions, "assets/cities/la/regions.geojson");
    strcpy(c->city.name_property, "district");
    strcpy(c->city.events, "");
    c->flags.surge.min_orders = 25;
    c->flags.surge.window_ms = 15 * MIN_MS;
    c->flags.surge.ratio = 2.5;
    c->flags.complaint_cluster.csat_below = 80.5;
    c->flags.far_dispatch.min_m = 5000;
    c->flags.backlog.level = 3;
}

/* ---- defaults ---- */

static void test_defaults_follow_design(void **state)
{
    (void)state;
    ow_config_defaults(&a);
    /* DESIGN §4 table, by hand */
    static const int64_t want[OW_PRIO__COUNT][OW_STAGE__ORDER_COUNT] = {
        /* dispatch, accept, response, arrival, resolution, callback */
        {5 * MIN_MS, 10 * MIN_MS, 15 * MIN_MS, 2 * HOUR_MS, 4 * HOUR_MS, 24 * HOUR_MS},
        {15 * MIN_MS, 10 * MIN_MS, 1 * HOUR_MS, 4 * HOUR_MS, 24 * HOUR_MS, 24 * HOUR_MS},
        {60 * MIN_MS, 10 * MIN_MS, 24 * HOUR_MS, 48 * HOUR_MS, 72 * HOUR_MS, 24 * HOUR_MS},
    };
    for (int p = 0; p < OW_PRIO__COUNT; p++)
        for (int s = 0; s < OW_STAGE__ORDER_COUNT; s++)
            if (a.sla.target_ms[p][s] != want[p][s])
                fail_msg("sla.%s.%s: %lld, want %lld", ow_priority_name((ow_priority)p),
                         ow_stage_name((ow_stage)s), (long long)a.sla.target_ms[p][s],
                         (long long)want[p][s]);
    assert_true(a.sla.complaint_ms[OW_SEV_URGENT] == 15 * MIN_MS);
    assert_true(a.sla.complaint_ms[OW_SEV_NORMAL] == 1 * HOUR_MS);
    /* DESIGN §7: feed port 7681; §2: no URL = a private redis-server */
    assert_true(a.feed.port == 7681);
    assert_string_equal(a.redis.url, "");
    assert_string_equal(a.base_dir, "");
}

static void test_defaults_equal_shipped_file(void **state)
{
    (void)state;
    size_t len;
    char *text = read_file(SHIPPED_CONFIG, &len);
    ow_config_defaults(&a);
    ow_err_clear(&err);
    int rc = ow_config_parse(&a, text, len, "opswall.json", &err);
    if (rc != OW_OK) fail_msg("shipped config rejected: %s", err.msg);
    ow_config_defaults(&b);
    assert_cfg_equal(&a, &b);
    assert_memory_equal(&a, &b, sizeof a);
    free(text);
}

/* Same keys in the same shape (values are compared through the structs). */
static void same_keys(const cJSON *x, const cJSON *y, const char *where)
{
    for (const cJSON *c = x->child; c; c = c->next) {
        const cJSON *d = ow_json_get(y, c->string);
        if (!d) fail_msg("%s%s: in one tree only", where, c->string);
        if (cJSON_IsObject(c) != cJSON_IsObject(d))
            fail_msg("%s%s: shape differs", where, c->string);
        if (cJSON_IsObject(c)) {
            char path[128];
            snprintf(path, sizeof path, "%s%s.", where, c->string);
            same_keys(c, d, path);
        }
    }
}

static void test_shipped_file_lists_every_setting(void **state)
{
    (void)state;
    size_t len;
    char *text = read_file(SHIPPED_CONFIG, &len);
    cJSON *file = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &err);
    assert_non_null(file);
    ow_config_defaults(&a);
    char *fmt = ow_config_format(&a);
    assert_non_null(fmt);
    cJSON *all = ow_json_parse(fmt, strlen(fmt), OW_JSON_MAX_DEPTH, &err);
    assert_non_null(all);
    same_keys(file, all, "");
    same_keys(all, file, "");
    cJSON_Delete(file);
    cJSON_Delete(all);
    free(fmt);
    free(text);
}

static void test_format_round_trip(void **state)
{
    (void)state;
    /* defaults → text → parsed over a config where every value differs → defaults again */
    ow_config_defaults(&a);
    char *text = ow_config_format(&a);
    assert_non_null(text);
    mutate(&b);
    assert_int_equal(parse(&b, text), OW_OK);
    assert_cfg_equal(&b, &a);
    free(text);

    /* every setting changed → text → parsed over defaults → the changed values */
    mutate(&a);
    text = ow_config_format(&a);
    assert_non_null(text);
    ow_config_defaults(&b);
    if (parse(&b, text) != OW_OK) fail_msg("%s", err.msg);
    assert_cfg_equal(&b, &a);
    free(text);

    /* durations are written in the shortest exact form */
    a.sla.target_ms[OW_PRIO_EMERGENCY][OW_STAGE_DISPATCH] = 90 * MIN_MS;
    text = ow_config_format(&a);
    assert_non_null(strstr(text, "\"1h30m\""));
    free(text);
}

static void test_partial_keeps_defaults(void **state)
{
    (void)state;
    ow_config_defaults(&a);
    assert_int_equal(parse(&a, "{}"), OW_OK);
    ow_config_defaults(&b);
    assert_memory_equal(&a, &b, sizeof a);

    assert_int_equal(parse(&a, "{\"feed\":{\"port\":9000},\"sla\":{\"important\":{\"arrival\":"
                               "\"3h\"}},\"wallboard\":{\"fullscreen\":true}}"),
                     OW_OK);
    assert_true(a.feed.port == 9000);
    assert_true(a.sla.target_ms[OW_PRIO_IMPORTANT][OW_STAGE_ARRIVAL] == 3 * HOUR_MS);
    assert_true(a.wallboard.fullscreen);
    a.feed.port = b.feed.port;
    a.sla.target_ms[OW_PRIO_IMPORTANT][OW_STAGE_ARRIVAL] =
        b.sla.target_ms[OW_PRIO_IMPORTANT][OW_STAGE_ARRIVAL];
    a.wallboard.fullscreen = false;
    assert_memory_equal(&a, &b, sizeof a);
}

/* ---- errors ---- */

static void expect_error(const char *text, const char *msg)
{
    ow_config_defaults(&a);
    int rc = parse(&a, text);
    if (rc != OW_EINVAL) fail_msg("%s: want EINVAL, got %d", text, rc);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("%s: wrong message\n  want: %s\n  got:  %s", text, msg, err.msg);
}

/* feed.ping_interval / ping_timeout: defaults, durations only, and a timeout longer than the
 * interval (a client must be pinged before it can be found silent). */
static void test_ping(void **state)
{
    (void)state;
    ow_config_defaults(&a);
    assert_int_equal(a.feed.ping_interval_ms, 30000);
    assert_int_equal(a.feed.ping_timeout_ms, 90000);
    ow_config_defaults(&a);
    assert_int_equal(parse(&a, "{\"feed\":{\"ping_interval\":\"1s\",\"ping_timeout\":\"3s\"}}"), 0);
    assert_int_equal(a.feed.ping_interval_ms, 1000);
    assert_int_equal(a.feed.ping_timeout_ms, 3000);
    expect_error("{\"feed\":{\"ping_timeout\":\"30s\"}}",
                 "config: feed.ping_timeout: 30s is not longer than feed.ping_interval (30s): "
                 "clients would be closed before they were pinged; set it to 1m30s or more");
    expect_error("{\"feed\":{\"ping_interval\":30}}",
                 "config: feed.ping_interval: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 1s to 1h, got 30");
    expect_error("{\"feed\":{\"ping_interval\":\"100ms\"}}",
                 "config: feed.ping_interval: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 1s to 1h, got \"100ms\"");
}

/* engine.closed_retention: its default, its range, and that it may not be shorter than the
 * repeat-visit window (which looks back at resolved orders the model must still hold). */
static void test_closed_retention(void **state)
{
    (void)state;
    const int64_t day = INT64_C(86400000);
    ow_config_defaults(&a);
    assert_int_equal(a.engine.closed_retention_ms, 8 * day);
    assert_true(a.engine.closed_retention_ms >= a.flags.repeat_visit.window_ms);
    ow_config_defaults(&a); /* equal to the window: accepted */
    assert_int_equal(parse(&a, "{\"engine\":{\"closed_retention\":\"7d\"}}"), 0);
    assert_int_equal(a.engine.closed_retention_ms, 7 * day);
    ow_config_defaults(&a); /* a shorter window allows a shorter retention (scripts/soak.sh) */
    assert_int_equal(parse(&a, "{\"engine\":{\"closed_retention\":\"6h\"},"
                               "\"flags\":{\"repeat_visit\":{\"window\":\"6h\"}}}"),
                     0);
    assert_int_equal(a.engine.closed_retention_ms, day / 4);
    expect_error("{\"engine\":{\"closed_retention\":\"6d\"}}",
                 "config: engine.closed_retention: 6d is shorter than flags.repeat_visit.window "
                 "(7d): closed orders would be forgotten before a repeat visit can be recognised; "
                 "set it to at least 7d");
    /* the window alone raised past the default retention names the retention to raise */
    expect_error("{\"flags\":{\"repeat_visit\":{\"window\":\"9d12h\"}}}",
                 "config: engine.closed_retention: 8d is shorter than flags.repeat_visit.window "
                 "(9d12h): closed orders would be forgotten before a repeat visit can be "
                 "recognised; set it to at least 9d12h");
    expect_error("{\"engine\":{\"closed_retention\":8}}",
                 "config: engine.closed_retention: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 1m to 3650d, got 8");
    expect_error("{\"engine\":{\"closed_retention\":\"30s\"}}",
                 "config: engine.closed_retention: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 1m to 3650d, got \"30s\"");
    expect_error("{\"engine\":{\"closed_retention\":\"forever\"}}",
                 "config: engine.closed_retention: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 1m to 3650d, got \"forever\"");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    ow_config_defaults(&a);
    ow_err_clear(&err);
    const char *t = "{\"redsi\":{}}";
    assert_int_equal(ow_config_parse(&a, t, strlen(t), "opswall.json", &err), OW_EINVAL);
    /* the list grows with every section; its start shows the keys are listed in file order */
    const char *want = "opswall.json: redsi: unknown key (a typo?); known keys: redis, ";
    assert_memory_equal(err.msg, want, strlen(want));
    assert_non_null(strstr(err.msg, ", streams, ingest, engine, feed, "));
    assert_non_null(strstr(err.msg, ", city"));
    expect_error("{\"sla\":{\"emergncy\":{\"dispatch\":\"5m\"}}}",
                 "config: sla.emergncy: unknown key (a typo?); known keys in sla: emergency, "
                 "important, general, complaint, pause, overrides, business_hours");
    expect_error("{\"sla\":{\"emergency\":{\"dispatc\":\"5m\"}}}",
                 "config: sla.emergency.dispatc: unknown key (a typo?); known keys in "
                 "sla.emergency: dispatch, accept, response, arrival, resolution, callback");
    expect_error(
        "{\"feed\":{\"port\":7681,\"host\":\"x\"}}",
        "config: feed.host: unknown key (a typo?); known keys in feed: listen, port, "
        "web_root, allowed_origins, queue, client_rate, workers, send_threads, compression, "
        "ping_interval, ping_timeout, tls");
    expect_error("{\"sla\":{\"complaint\":{\"urgent\":\"15m\",\"low\":\"2h\"}}}",
                 "config: sla.complaint.low: unknown key (a typo?); known keys in sla.complaint: "
                 "urgent, normal");
    expect_error("{\"city\":{\"nam\":\"x\"}}",
                 "config: city.nam: unknown key (a typo?); known keys in city: name, regions, "
                 "name_property, events, csv, mapping");
    /* keys are case-sensitive */
    expect_error("{\"sla\":{\"Emergency\":{}}}",
                 "config: sla.Emergency: unknown key (a typo?); known keys in sla: emergency, "
                 "important, general, complaint, pause, overrides, business_hours");
    /* base_dir is set by the loader, not by the file */
    ow_config_defaults(&a);
    assert_int_equal(parse(&a, "{\"base_dir\":\"/x\"}"), OW_EINVAL);
    /* a dotted key is not another spelling of a nested one */
    ow_config_defaults(&a);
    assert_int_equal(parse(&a, "{\"redis.url\":\"redis://evil:1/0\"}"), OW_EINVAL);
    assert_string_equal(a.redis.url, "");
    assert_non_null(strstr(err.msg, "redis.url: unknown key"));
    ow_config_defaults(&a);
    assert_int_equal(parse(&a, "{\"sla.emergency\":{\"dispatch\":\"1m\"}}"), OW_EINVAL);
    ow_config_defaults(&a);
    assert_int_equal(parse(&a, "{\"sla\":{\"emergency.dispatch\":\"1m\"}}"), OW_EINVAL);
    assert_true(a.sla.target_ms[OW_PRIO_EMERGENCY][OW_STAGE_DISPATCH] == 5 * MIN_MS);
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_error("{\"sla\":{\"emergency\":{\"response\":15}}}",
                 "config: sla.emergency.response: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 1s to 365d, got 15");
    expect_error("{\"feed\":{\"port\":\"7681\"}}",
                 "config: feed.port: expected an integer from 0 to 65535, got \"7681\"");
    expect_error("{\"wallboard\":{\"fullscreen\":\"yes\"}}",
                 "config: wallboard.fullscreen: expected true or false, got \"yes\"");
    expect_error("{\"wallboard\":{\"fullscreen\":1}}",
                 "config: wallboard.fullscreen: expected true or false, got 1");
    expect_error("{\"redis\":{\"url\":5}}", "config: redis.url: expected a string, got 5");
    expect_error("{\"redis\":{\"url\":null}}", "config: redis.url: expected a string, got null");
    expect_error("{\"redis\":{\"data_dir\":\"\"}}",
                 "config: redis.data_dir: expected a string (not empty), got \"\"");
    expect_error("{\"redis\":{\"timeout\":\"5 s\"}}",
                 "config: redis.timeout: expected a duration like \"15m\", \"2h\" or \"500ms\", "
                 "from 10ms to 10m, got \"5 s\"");
    expect_error("{\"redis\":{\"timeout\":5000}}",
                 "config: redis.timeout: expected a duration like \"15m\", \"2h\" or \"500ms\", "
                 "from 10ms to 10m, got 5000");
    expect_error("{\"flags\":{\"surge\":{\"ratio\":\"3\"}}}",
                 "config: flags.surge.ratio: expected a number from 0 to 1000, got \"3\"");
    expect_error("{\"flags\":{\"surge\":{\"ratio\":-0.5}}}",
                 "config: flags.surge.ratio: expected a number from 0 to 1000, got -0.5");
    expect_error("{\"flags\":{\"backlog\":{\"level\":4}}}",
                 "config: flags.backlog.level: expected an integer from 0 to 3, got 4");
    expect_error("{\"streams\":{\"events_maxlen\":10000.5}}",
                 "config: streams.events_maxlen: expected an integer from 1000 to 1099511627776, "
                 "got 10000.5");
    expect_error("{\"ingest\":{\"batch\":[256]}}",
                 "config: ingest.batch: expected an integer from 1 to 4096, got [256]");
    expect_error("{\"feed\":{\"port\":{}}}",
                 "config: feed.port: expected an integer from 0 to 65535, got {}");
    expect_error("{\"engine\":{\"group\":true}}",
                 "config: engine.group: expected a string (not empty), got true");
}

static void test_out_of_range(void **state)
{
    (void)state;
    expect_error("{\"feed\":{\"port\":65536}}",
                 "config: feed.port: expected an integer from 0 to 65535, got 65536");
    expect_error("{\"feed\":{\"port\":-1}}",
                 "config: feed.port: expected an integer from 0 to 65535, got -1");
    expect_error("{\"ingest\":{\"batch\":0}}",
                 "config: ingest.batch: expected an integer from 1 to 4096, got 0");
    expect_error("{\"ingest\":{\"batch\":4097}}",
                 "config: ingest.batch: expected an integer from 1 to 4096, got 4097");
    expect_error("{\"wallboard\":{\"width\":319}}",
                 "config: wallboard.width: expected an integer from 320 to 16384, got 319");
    expect_error("{\"wallboard\":{\"display\":16}}",
                 "config: wallboard.display: expected an integer from 0 to 15, got 16");
    expect_error("{\"sla\":{\"general\":{\"resolution\":\"366d\"}}}",
                 "config: sla.general.resolution: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 1s to 365d, got \"366d\"");
    expect_error("{\"sla\":{\"emergency\":{\"dispatch\":\"999ms\"}}}",
                 "config: sla.emergency.dispatch: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 1s to 365d, got \"999ms\"");
    expect_error("{\"sla\":{\"emergency\":{\"dispatch\":\"0s\"}}}",
                 "config: sla.emergency.dispatch: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 1s to 365d, got \"0s\"");
    expect_error("{\"sla\":{\"complaint\":{\"urgent\":\"31d\"}}}",
                 "config: sla.complaint.urgent: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 1s to 30d, got \"31d\"");
    expect_error("{\"engine\":{\"publish_interval\":\"61s\"}}",
                 "config: engine.publish_interval: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 10ms to 1m, got \"61s\"");
    expect_error("{\"wallboard\":{\"stale_after\":\"25h\"}}",
                 "config: wallboard.stale_after: expected a duration like \"15m\", \"2h\" or "
                 "\"500ms\", from 100ms to 1d, got \"25h\"");
    /* the edges themselves are accepted */
    ow_config_defaults(&a);
    assert_int_equal(parse(&a, "{\"feed\":{\"port\":0},\"ingest\":{\"batch\":4096},"
                               "\"sla\":{\"general\":{\"resolution\":\"365d\"},"
                               "\"emergency\":{\"dispatch\":\"1s\"}},"
                               "\"engine\":{\"publish_interval\":\"1m\"}}"),
                     OW_OK);
    assert_true(a.feed.port == 0);
    assert_true(a.ingest.batch == 4096);
    assert_true(a.sla.target_ms[OW_PRIO_GENERAL][OW_STAGE_RESOLUTION] == INT64_C(365) * 86400000);
    assert_true(a.sla.target_ms[OW_PRIO_EMERGENCY][OW_STAGE_DISPATCH] == 1000);
    assert_true(a.engine.publish_interval_ms == 60000);

    /* string lengths: buffers hold size - 1 bytes */
    char url[300], text[400];
    memset(url, 'u', 255);
    url[255] = '\0';
    snprintf(text, sizeof text, "{\"redis\":{\"url\":\"%s\"}}", url);
    ow_config_defaults(&a);
    assert_int_equal(parse(&a, text), OW_OK);
    assert_int_equal(strlen(a.redis.url), 255);
    url[255] = 'u', url[256] = '\0';
    snprintf(text, sizeof text, "{\"redis\":{\"url\":\"%s\"}}", url);
    assert_int_equal(parse(&a, text), OW_EINVAL);
    assert_non_null(strstr(err.msg, "config: redis.url: expected a string, got \"uuu"));
    memset(url, 'g', 63);
    url[63] = '\0';
    snprintf(text, sizeof text, "{\"engine\":{\"group\":\"%s\"}}", url);
    assert_int_equal(parse(&a, text), OW_OK);
    url[63] = 'g', url[64] = '\0';
    snprintf(text, sizeof text, "{\"engine\":{\"group\":\"%s\"}}", url);
    assert_int_equal(parse(&a, text), OW_EINVAL);
}

static void test_sections_and_shapes(void **state)
{
    (void)state;
    expect_error("{\"sla\":5}", "config: sla: expected an object, got 5");
    expect_error("{\"sla\":{\"emergency\":[]}}",
                 "config: sla.emergency: expected an object, got []");
    expect_error("{\"redis\":\"redis://x\"}",
                 "config: redis: expected an object, got \"redis://x\"");
    expect_error("{\"redis\":null}", "config: redis: expected an object, got null");
    expect_error("[]", "config: expected a JSON object at the top, got array");
    expect_error("\"x\"", "config: expected a JSON object at the top, got string");
    expect_error("{\"feed\":{\"port\":1,\"port\":2}}",
                 "config: duplicate key \"port\": each key may appear once");
    ow_config_defaults(&a);
    assert_int_equal(parse(&a, "{\"feed\":"), OW_EINVAL);
    assert_non_null(strstr(err.msg, "config: malformed JSON at byte offset"));
    assert_int_equal(parse(&a, ""), OW_EINVAL);
    assert_string_equal(err.msg, "config: empty input: expected a JSON value");
    /* NULL err is allowed */
    assert_int_equal(ow_config_parse(&a, "[]", 2, NULL, NULL), OW_EINVAL);
}

/* ---- environment ---- */

static const char *const (*env_now)[2];

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; env_now && env_now[i][0]; i++)
        if (strcmp(env_now[i][0], name) == 0) return env_now[i][1];
    return NULL;
}

static int apply_env(ow_config *cfg, const char *const (*table)[2])
{
    env_now = table;
    ow_err_clear(&err);
    return ow_config_apply_env(cfg, fake_getenv, &err);
}

static void test_env_overrides(void **state)
{
    (void)state;
    static const char *const empty[][2] = {{NULL, NULL}};
    ow_config_defaults(&a);
    ow_config_defaults(&b);
    assert_int_equal(apply_env(&a, empty), OW_OK);
    assert_memory_equal(&a, &b, sizeof a);

    static const char *const port[][2] = {{"OPSWALL_FEED_PORT", "8080"}, {NULL, NULL}};
    assert_int_equal(apply_env(&a, port), OW_OK);
    assert_true(a.feed.port == 8080);

    static const char *const all[][2] = {{"OPSWALL_REDIS_URL", "redis://db.internal:6380/3"},
                                         {"OPSWALL_DATA_DIR", "/var/lib/ow"},
                                         {"OPSWALL_REDIS_SERVER", "/opt/redis/bin/redis-server"},
                                         {"OPSWALL_ENGINE_CONSUMER", "engine-7"},
                                         {"OPSWALL_FEED_LISTEN", "0.0.0.0"},
                                         {"OPSWALL_FEED_PORT", "0"},
                                         {"OPSWALL_SLA_EMERGENCY_DISPATCH", "1m"}, /* not a var */
                                         {NULL, NULL}};
    ow_config_defaults(&a);
    assert_int_equal(apply_env(&a, all), OW_OK);
    assert_string_equal(a.redis.url, "redis://db.internal:6380/3");
    assert_string_equal(a.redis.data_dir, "/var/lib/ow");
    assert_string_equal(a.redis.server, "/opt/redis/bin/redis-server");
    assert_string_equal(a.engine.consumer, "engine-7");
    assert_string_equal(a.feed.listen, "0.0.0.0");
    assert_true(a.feed.port == 0);
    assert_true(a.sla.target_ms[OW_PRIO_EMERGENCY][OW_STAGE_DISPATCH] == 5 * MIN_MS);

    /* the env name list holds the documented six, and each listed name overrides something */
    const char *const *names = ow_config_env_names();
    static const char *const documented[] = {"OPSWALL_REDIS_URL",    "OPSWALL_DATA_DIR",
                                             "OPSWALL_REDIS_SERVER", "OPSWALL_ENGINE_CONSUMER",
                                             "OPSWALL_FEED_LISTEN",  "OPSWALL_FEED_PORT"};
    for (size_t d = 0; d < sizeof documented / sizeof documented[0]; d++) {
        bool listed = false;
        for (size_t k = 0; names[k]; k++)
            listed = listed || strcmp(names[k], documented[d]) == 0;
        if (!listed) fail_msg("%s missing from ow_config_env_names()", documented[d]);
    }
    size_t n = 0;
    for (; names[n]; n++) {
        const char *const one[][2] = {{names[n], "7"}, {NULL, NULL}};
        ow_config_defaults(&a);
        ow_config_defaults(&b);
        assert_int_equal(apply_env(&a, one), OW_OK);
        if (memcmp(&a, &b, sizeof a) == 0) fail_msg("%s changes nothing", names[n]);
    }
    assert_true(n >= 6);
}

static void test_env_errors(void **state)
{
    (void)state;
    static const struct {
        const char *name, *value, *msg;
    } rows[] = {
        {"OPSWALL_FEED_PORT", "abc",
         "environment OPSWALL_FEED_PORT: feed.port: expected an integer from 0 to 65535, got "
         "\"abc\""},
        {"OPSWALL_FEED_PORT", "70000",
         "environment OPSWALL_FEED_PORT: feed.port: expected an integer from 0 to 65535, got "
         "70000"},
        {"OPSWALL_FEED_PORT", "",
         "environment OPSWALL_FEED_PORT: feed.port: expected an integer from 0 to 65535, got "
         "\"\""},
        {"OPSWALL_FEED_PORT", "80.5",
         "environment OPSWALL_FEED_PORT: feed.port: expected an integer from 0 to 65535, got "
         "80.5"},
        {"OPSWALL_FEED_PORT", "8080x",
         "environment OPSWALL_FEED_PORT: feed.port: expected an integer from 0 to 65535, got "
         "\"8080x\""},
        {"OPSWALL_DATA_DIR", "",
         "environment OPSWALL_DATA_DIR: redis.data_dir: expected a string (not empty), got \"\""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *const table[][2] = {{rows[i].name, rows[i].value}, {NULL, NULL}};
        ow_config_defaults(&a);
        int rc = apply_env(&a, table);
        if (rc != OW_EINVAL)
            fail_msg("%s=%s: want EINVAL, got %d", rows[i].name, rows[i].value, rc);
        if (strcmp(err.msg, rows[i].msg) != 0)
            fail_msg("%s=%s: wrong message\n  want: %s\n  got:  %s", rows[i].name, rows[i].value,
                     rows[i].msg, err.msg);
    }
}

static void test_stage_names(void **state)
{
    (void)state;
    static const char *const want[] = {"dispatch", "accept",     "response",
                                       "arrival",  "resolution", "callback"};
    for (int s = 0; s < OW_STAGE__ORDER_COUNT; s++)
        assert_string_equal(ow_stage_name((ow_stage)s), want[s]);
    assert_string_equal(ow_stage_name(OW_STAGE__ORDER_COUNT), "?");
    assert_string_equal(ow_stage_name((ow_stage)-1), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_follow_design),
        cmocka_unit_test(test_defaults_equal_shipped_file),
        cmocka_unit_test(test_shipped_file_lists_every_setting),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_partial_keeps_defaults),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_sections_and_shapes),
        cmocka_unit_test(test_env_overrides),
        cmocka_unit_test(test_env_errors),
        cmocka_unit_test(test_stage_names),
        cmocka_unit_test(test_closed_retention),
        cmocka_unit_test(test_ping),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
