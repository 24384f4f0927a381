/*
 * test_feed — the feed's pure parts: coarsening (what viewers may see), the gate's origin rule and
 * rate bucket, the HTTP parameter parsers (malformed, oversized, wrong-typed and hostile input),
 * and the live picture's sequence logic (no sockets: no client is connected).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "coarsen.h"
#include "gate.h"
#include "http.h"
#include "json.h"
#include "live.h"

/* ---- coarsen ---- */

static char *coarse_text(ow_coarsen *c, const char *techs_pos)
{
    cJSON *tp = cJSON_Parse(techs_pos);
    assert_non_null(tp);
    assert_true(ow_coarsen_techs(c, tp));
    char *out = cJSON_PrintUnformatted(tp);
    cJSON_Delete(tp);
    return out;
}

static void test_coarsen_techs(void **st)
{
    (void)st;
    ow_coarsen c;
    ow_coarsen_init(&c);
    cJSON *regions = cJSON_Parse("[{\"id\":\"r1\",\"center\":[1.5,2.5]},{\"id\":\"r2\"},"
                                 "{\"id\":\"r3\",\"center\":[\"x\",1]},7,{\"center\":[0,0]}]");
    assert_true(ow_coarsen_learn(&c, regions));
    cJSON_Delete(regions);
    char *s = coarse_text(&c, "{\"at\":\"t\",\"list\":[[\"a\",1.23,4.56,\"idle\",\"r1\"],"
                              "[\"b\",9,9,\"idle\",\"r2\"],[\"c\",9,9],\"junk\",[\"d\"]],"
                              "\"extra\":[1,2]}");
    assert_string_equal(s, "{\"at\":\"t\",\"list\":[[\"a\",1.5,2.5,\"idle\",\"r1\"],"
                           "[\"b\",null,null,\"idle\",\"r2\"],[\"c\",null,null]]}");
    cJSON_free(s);
    /* not the documented shape: nothing of it survives */
    s = coarse_text(&c, "[[\"a\",1.23,4.56,\"idle\",\"r1\"]]");
    assert_string_equal(s, "{\"list\":[]}");
    cJSON_free(s);
    s = coarse_text(&c, "\"121.47,31.26\"");
    assert_string_equal(s, "{\"list\":[]}");
    cJSON_free(s);
    ow_coarsen_fini(&c);
}

static void test_coarsen_strip(void **st)
{
    (void)st;
    ow_coarsen c;
    ow_coarsen_init(&c);
    cJSON *doc = cJSON_Parse("{\"order\":\"o1\",\"tech\":{\"id\":\"t\",\"lon\":1.1,\"lat\":2.2,"
                             "\"position\":[1,2]},\"visits\":[{\"pos\":{\"x\":1}}],"
                             "\"techs_pos\":{\"list\":[[\"t\",1,2,\"idle\",\"r\"]]},\"n\":3}");
    assert_true(ow_coarsen_strip(&c, doc));
    char *s = cJSON_PrintUnformatted(doc);
    assert_string_equal(s, "{\"order\":\"o1\",\"tech\":{\"id\":\"t\",\"lon\":null,\"lat\":null,"
                           "\"position\":null},\"visits\":[{\"pos\":null}],"
                           "\"techs_pos\":{\"list\":[[\"t\",null,null,\"idle\",\"r\"]]},\"n\":3}");
    cJSON_free(s);
    cJSON_Delete(doc);
    ow_coarsen_fini(&c);
}

/* ---- gate ---- */

static void test_origin(void **st)
{
    (void)st;
    assert_true(ow_gate_origin_ok(NULL, "h:1", ""));
    assert_true(ow_gate_origin_ok("http://h:1", "h:1", ""));
    assert_true(ow_gate_origin_ok("https://H:1", "h:1", ""));
    assert_false(ow_gate_origin_ok("http://h:2", "h:1", ""));
    assert_false(ow_gate_origin_ok("http://h:1/path", "h:1", ""));
    assert_false(ow_gate_origin_ok("null", "h:1", ""));
    assert_false(ow_gate_origin_ok("", "h:1", ""));
    assert_false(ow_gate_origin_ok("http://h:1", "", ""));
    assert_false(ow_gate_origin_ok("://h:1", "h:1", ""));
    assert_true(ow_gate_origin_ok("https://ops.example", "h:1", "http://a, https://ops.example"));
    assert_false(ow_gate_origin_ok("https://ops.example.evil", "h:1", "https://ops.example"));
    assert_false(ow_gate_origin_ok("https://ops", "h:1", "https://ops.example"));
    assert_false(ow_gate_origin_ok("x", "h:1", ",,, ,"));
}

static void test_rate(void **st)
{
    (void)st;
    ow_rate r = {0};
    int ok = 0;
    for (int i = 0; i < 100; i++)
        ok += ow_rate_take(&r, 1000, 10, 40);
    assert_int_equal(ok, 40); /* the burst */
    assert_false(ow_rate_take(&r, 1000, 10, 40));
    assert_true(ow_rate_take(&r, 1100, 10, 40)); /* 100 ms later: one token */
    assert_false(ow_rate_take(&r, 1100, 10, 40));
    assert_false(ow_rate_take(&r, 500, 10, 40)); /* a clock going back gives nothing */
}

/* ---- HTTP parameters ---- */

static void test_ids(void **st)
{
    (void)st;
    char out[200];
    assert_true(
        ow_http_path_id("/api/v1/orders/o-1.2:x_y", "/api/v1/orders/", "", out, sizeof out));
    assert_string_equal(out, "o-1.2:x_y");
    assert_true(ow_http_path_id("/api/v1/alerts/sla:o1:response:0:80/ack", "/api/v1/alerts/",
                                "/ack", out, sizeof out));
    assert_string_equal(out, "sla:o1:response:0:80");
    const char *bad[] = {"/api/v1/orders/",    "/api/v1/orders/a/b",         "/api/v1/orders/a b",
                         "/api/v1/orders/..",  "/api/v1/orders/.",           "/api/v1/order/x",
                         "/api/v1/orders/%2e", "/api/v1/orders/\xe4\xb8\xad"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ow_http_path_id(bad[i], "/api/v1/orders/", "", out, sizeof out));
    assert_false(
        ow_http_path_id("/api/v1/alerts//ack", "/api/v1/alerts/", "/ack", out, sizeof out));
    assert_false(ow_http_path_id("/api/v1/alerts/ack", "/api/v1/alerts/", "/ack", out, sizeof out));
    char longp[300] = "/api/v1/orders/";
    memset(longp + 15, 'a', 129);
    longp[144] = '\0';
    assert_false(ow_http_path_id(longp, "/api/v1/orders/", "", out, sizeof out));
    longp[143] = '\0'; /* 128: the longest */
    assert_true(ow_http_path_id(longp, "/api/v1/orders/", "", out, sizeof out));
    assert_false(ow_http_path_id(longp, "/api/v1/orders/", "", out, 10)); /* does not fit */
}

static void test_since(void **st)
{
    (void)st;
    char out[80];
    assert_true(ow_http_since("", out, sizeof out));
    assert_string_equal(out, "-");
    assert_true(ow_http_since("0", out, sizeof out));
    assert_string_equal(out, "-");
    assert_true(ow_http_since("1795309502120-3", out, sizeof out));
    assert_string_equal(out, "(1795309502120-3");
    assert_true(ow_http_since("1795309502120", out, sizeof out));
    assert_string_equal(out, "(1795309502120-18446744073709551615");
    const char *bad[] = {"-",
                         "-1",
                         "1-",
                         "1--2",
                         "1-2-3",
                         "abc",
                         "1 2",
                         "+1",
                         "123456789012345678901",
                         "1-123456789012345678901",
                         "1e3",
                         "(1-2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ow_http_since(bad[i], out, sizeof out));
    assert_false(ow_http_since("1795309502120", out, 8)); /* too small an output */
    /* an epoch-ms since's cursor, echoed back as "next" when nothing is new, reads back */
    assert_true(ow_http_since("1795309502120-18446744073709551615", out, sizeof out));
    assert_string_equal(out, "(1795309502120-18446744073709551615");
}

static void test_since_parts(void **st)
{
    (void)st;
    char cur[3][OW_HTTP_RANGE_MAX];
    /* one point for every partition: nothing, "0", an id or epoch ms */
    assert_true(ow_http_since_parts("", 3, cur));
    for (int p = 0; p < 3; p++)
        assert_string_equal(cur[p], "-");
    assert_true(ow_http_since_parts("1795309502120", 3, cur));
    for (int p = 0; p < 3; p++)
        assert_string_equal(cur[p], "(1795309502120-18446744073709551615");
    /* a partitioned answer's next: one id per partition */
    assert_true(ow_http_since_parts("1795309502120-3,0-0,1795309502999-0", 3, cur));
    assert_string_equal(cur[0], "(1795309502120-3");
    assert_string_equal(cur[1], "(0-0");
    assert_string_equal(cur[2], "(1795309502999-0");
    assert_true(ow_http_since_parts("7-1", 1, cur));
    assert_string_equal(cur[0], "(7-1");
    const char *bad[] = {"1-1,2-2",         /* two items for three partitions */
                         "1-1,2-2,3-3,4-4", /* four */
                         "1-1,,3-3",        /* an empty item */
                         ",1-1,2-2",        "1-1,2-2,", "1-1,x,3-3", "1-1,2-2,3-3-3", ","};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ow_http_since_parts(bad[i], 3, cur));
    assert_false(ow_http_since_parts("1-1", 0, cur)); /* no partitions */
}

static void test_ack_body(void **st)
{
    (void)st;
    char note[257];
    const char *why = NULL;
    assert_true(ow_http_ack_body("", 0, note, sizeof note, &why));
    assert_string_equal(note, "");
    assert_true(ow_http_ack_body(" \r\n", 3, note, sizeof note, &why));
    const char *ok = "{\"note\":\"on my way 马上到\",\"x\":1}";
    assert_true(ow_http_ack_body(ok, strlen(ok), note, sizeof note, &why));
    assert_string_equal(note, "on my way 马上到");
    assert_true(ow_http_ack_body("{\"note\":null}", 13, note, sizeof note, &why));
    const char *bad[] = {
        "[]", "\"x\"", "{", "{\"note\":1}", "{\"note\":{}}", "null", "{} x", "{\"note\":\"\xff\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_false(ow_http_ack_body(bad[i], strlen(bad[i]), note, sizeof note, &why));
        assert_non_null(why);
    }
    char big[400];
    snprintf(big, sizeof big, "{\"note\":\"%0300d\"}", 0);
    assert_false(ow_http_ack_body(big, strlen(big), note, sizeof note, &why));
    assert_non_null(strstr(why, "256"));
    char deep[200] = "";
    for (int i = 0; i < 60; i++)
        strcat(deep, "[");
    assert_false(ow_http_ack_body(deep, strlen(deep), note, sizeof note, &why));
}

/* ---- live: sequence rules, held snapshot, views ---- */

#define SNAP(seq, extra)                                                                           \
    "{\"v\":1,\"type\":\"snapshot\",\"seq\":" #seq ",\"now\":\"2026-11-22T01:15:02.120Z\","        \
    "\"now_ms\":1795309502120,\"mode\":\"live\",\"open\":{\"emergency\":1,\"important\":2,"        \
    "\"general\":3,\"total\":6},\"orders_known\":1,\"events_applied\":5,"                          \
    "\"last_event\":\"2026-11-22T01:15:02.120Z\"" extra "}"

static int pub(ow_live *l, const char *text, bool *owes)
{
    ow_err err;
    return ow_live_publish(l, text, strlen(text), 1, 1, owes, &err);
}

static cJSON *held(ow_live *l, ow_view v)
{
    ow_msg *m = ow_live_snapshot(l, v);
    assert_non_null(m);
    return cJSON_Parse((const char *)ow_msg_data(m));
}

static void test_live_sequence(void **st)
{
    (void)st;
    ow_live *l = ow_live_new(8, 10, NULL, NULL, NULL);
    bool owes = false;
    assert_null(ow_live_snapshot(l, OW_VIEW_FULL));
    assert_int_equal(
        pub(l, "{\"v\":1,\"type\":\"delta\",\"seq\":2,\"base\":1,\"set\":{},\"del\":[]}", NULL),
        OW_EAGAIN); /* before any snapshot */
    assert_int_equal(pub(l,
                         SNAP(1, ",\"regions\":[{\"id\":\"r\",\"center\":[5,6]}],"
                                 "\"techs_pos\":{\"list\":[[\"t\",1.25,2.5,\"idle\",\"r\"]]}"),
                         &owes),
                     OW_OK);
    assert_false(owes); /* the first one is sent at once */
    assert_int_equal(pub(l,
                         "{\"v\":1,\"type\":\"delta\",\"seq\":2,\"base\":1,\"set\":{\"n\":1},"
                         "\"del\":[\"orders_known\"]}",
                         NULL),
                     OW_OK);
    assert_int_equal(
        pub(l, "{\"v\":1,\"type\":\"delta\",\"seq\":2,\"base\":1,\"set\":{},\"del\":[]}", NULL),
        OW_OK); /* already included: ignored */
    assert_int_equal(
        pub(l, "{\"v\":1,\"type\":\"delta\",\"seq\":5,\"base\":4,\"set\":{},\"del\":[]}", NULL),
        OW_EAGAIN); /* a gap */
    assert_int_equal(pub(l, "{\"v\":1,\"type\":\"delta\",\"seq\":3,\"base\":2,\"set\":{}}", NULL),
                     OW_EINVAL); /* no del */
    assert_int_equal(
        pub(l, "{\"v\":1,\"type\":\"delta\",\"seq\":3,\"base\":2,\"set\":{},\"del\":[1]}", NULL),
        OW_EINVAL);
    assert_int_equal(pub(l, "{\"v\":1,\"type\":\"delta\",\"seq\":3,\"set\":{}}", NULL), OW_EINVAL);
    assert_int_equal(pub(l, "{\"v\":1,\"type\":\"delta\",\"seq\":3,\"base\":2,\"set\":[]}", NULL),
                     OW_EINVAL);
    assert_int_equal(pub(l, "{\"v\":1,\"type\":\"hello\",\"seq\":3}", NULL), OW_EINVAL);
    assert_int_equal(pub(l, "not json", NULL), OW_EINVAL);
    cJSON *full = held(l, OW_VIEW_FULL), *coarse = held(l, OW_VIEW_COARSE);
    assert_int_equal(cJSON_GetObjectItem(full, "seq")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(full, "n")->valueint, 1);
    assert_null(cJSON_GetObjectItem(full, "orders_known"));
    char *t1 = cJSON_PrintUnformatted(cJSON_GetObjectItem(full, "techs_pos"));
    char *t2 = cJSON_PrintUnformatted(cJSON_GetObjectItem(coarse, "techs_pos"));
    assert_string_equal(t1, "{\"list\":[[\"t\",1.25,2.5,\"idle\",\"r\"]]}");
    assert_string_equal(t2, "{\"list\":[[\"t\",5,6,\"idle\",\"r\"]]}");
    cJSON_free(t1);
    cJSON_free(t2);
    cJSON_Delete(full);
    cJSON_Delete(coarse);
    /* a snapshot that continues the sequence is held back for its delta */
    assert_int_equal(pub(l, SNAP(3, ""), &owes), OW_OK);
    assert_true(owes);
    ow_live_stats s0 = ow_live_stats_get(l);
    assert_int_equal(
        pub(l, "{\"v\":1,\"type\":\"delta\",\"seq\":3,\"base\":2,\"set\":{},\"del\":[]}", NULL),
        OW_OK);
    ow_live_stats s1 = ow_live_stats_get(l);
    assert_int_equal(s1.published, s0.published + 1); /* the delta went out, not the snapshot */
    ow_live_settle(l);                                /* nothing owed any more */
    assert_int_equal(ow_live_stats_get(l).published, s1.published);
    /* a lone continuing snapshot goes out when settled */
    assert_int_equal(pub(l, SNAP(4, ""), &owes), OW_OK);
    ow_live_settle(l);
    assert_int_equal(ow_live_stats_get(l).published, s1.published + 1);
    /* identical snapshot: unchanged; an older seq (engine reset): taken */
    assert_int_equal(pub(l, SNAP(4, ""), NULL), OW_OK);
    assert_int_equal(ow_live_stats_get(l).unchanged, 1);
    assert_int_equal(pub(l, SNAP(1, ""), NULL), OW_OK);
    full = held(l, OW_VIEW_FULL);
    assert_int_equal(cJSON_GetObjectItem(full, "seq")->valueint, 1);
    cJSON_Delete(full);
    ow_live_free(l);
}

/* Many deltas fold into the held snapshot, also past OW_LIVE_PENDING_MAX. */
static void test_live_materialise(void **st)
{
    (void)st;
    ow_live *l = ow_live_new(4, 10, NULL, NULL, NULL);
    assert_int_equal(pub(l, SNAP(10, ""), NULL), OW_OK);
    char d[200];
    for (int i = 11; i < 11 + OW_LIVE_PENDING_MAX * 2 + 3; i++) {
        snprintf(
            d, sizeof d,
            "{\"v\":1,\"type\":\"delta\",\"seq\":%d,\"base\":%d,\"set\":{\"k\":%d},\"del\":[]}", i,
            i - 1, i);
        assert_int_equal(pub(l, d, NULL), OW_OK);
        if (i % 100 == 0) { /* a reader in between */
            cJSON *h = held(l, OW_VIEW_COARSE);
            assert_int_equal(cJSON_GetObjectItem(h, "k")->valueint, i);
            cJSON_Delete(h);
        }
    }
    int last = 11 + OW_LIVE_PENDING_MAX * 2 + 2;
    cJSON *h = held(l, OW_VIEW_FULL);
    assert_int_equal(cJSON_GetObjectItem(h, "seq")->valueint, last);
    assert_int_equal(cJSON_GetObjectItem(h, "k")->valueint, last);
    cJSON_Delete(h);
    ow_live_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coarsen_techs), cmocka_unit_test(test_coarsen_strip),
        cmocka_unit_test(test_origin),        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_ids),           cmocka_unit_test(test_since),
        cmocka_unit_test(test_since_parts),   cmocka_unit_test(test_ack_body),
        cmocka_unit_test(test_live_sequence), cmocka_unit_test(test_live_materialise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
