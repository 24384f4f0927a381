/* Delivery's config file: the shipped files load; every kind of mistake is refused with the JSON
 * path; the route tree follows first-match-or-continue with inheritance; matchers and time
 * windows; the alert codec refuses malformed, wrong-typed, oversized and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void test_shipped_files(void **st)
{
    (void)st;
    const char *files[] = {OPSWALL_SOURCE_DIR "/config/notify.json",
                           OPSWALL_SOURCE_DIR "/config/notify.example.json"};
    for (int i = 0; i < 2; i++) {
        size_t len;
        char *text = slurp(files[i], &len);
        ow_nconfig *c = NULL;
        ow_err err;
        if (ow_nconfig_parse(text, len, files[i], &c, &err)) fail_msg("%s", err.msg);
        assert_true(c->nreceivers >= 1 && c->nroutes >= 1);
        ow_nconfig_free(c);
        free(text);
    }
}

/* Parse a config whose receivers / route / inhibit are given; return the message ("" = ok). */
static const char *try_parse(const char *receivers, const char *route, const char *inhibit)
{
    static char msg[OW_ERR_MSG_MAX];
    char *text = malloc(20000);
    snprintf(text, 20000, "{\"receivers\":%s,\"route\":%s,\"inhibit\":%s,%s}", receivers, route,
             inhibit, fx_templates);
    ow_nconfig *c = NULL;
    ow_err err;
    int rc = ow_nconfig_parse(text, strlen(text), "n.json", &c, &err);
    snprintf(msg, sizeof msg, "%s", rc ? err.msg : "");
    if (!rc) ow_nconfig_free(c);
    free(text);
    return msg;
}

#define RX_OK    "[{\"name\":\"a\",\"type\":\"webhook\",\"url\":\"http://h/x\"}]"
#define ROUTE_OK "{\"receiver\":\"a\"}"

static void expect(const char *rx, const char *route, const char *inhibit, const char *want)
{
    const char *got = try_parse(rx, route, inhibit ? inhibit : "[]");
    if (strcmp(got, want) != 0) fail_msg("\n  want: %s\n  got:  %s", want, got);
}

static void test_errors_name_the_path(void **st)
{
    (void)st;
    expect(RX_OK, ROUTE_OK, NULL, "");
    expect("[{\"name\":\"a\",\"type\":\"webhok\",\"url\":\"http://h/\"}]", ROUTE_OK, NULL,
           "n.json: receivers[0].type: expected one of webhook|dingtalk|wecom|slack|exec|stream, "
           "got \"webhok\"");
    expect("[{\"name\":\"a\",\"type\":\"webhook\",\"url\":\"ftp://h/\"}]", ROUTE_OK, NULL,
           "n.json: receivers[0].url: expected an http:// or https:// URL with a host, got "
           "\"ftp://h/\"");
    expect("[{\"name\":\"a\",\"type\":\"webhook\"}]", ROUTE_OK, NULL,
           "n.json: receivers[0].url: missing: this receiver kind posts to a URL");
    expect("[{\"name\":\"a\",\"type\":\"dingtalk\",\"url\":\"https://h/\",\"rate_per_min\":30}]",
           ROUTE_OK, NULL,
           "n.json: receivers[0].rate_per_min: dingtalk robots take at most 20 messages a minute; "
           "use 1..20 (default 18)");
    expect("[{\"name\":\"a\",\"type\":\"exec\",\"argv\":[\"page-me\"]}]", ROUTE_OK, NULL,
           "n.json: receivers[0].argv[0]: expected an absolute program path (no shell and no "
           "PATH search), got \"page-me\"");
    expect("[{\"name\":\"a\",\"type\":\"exec\",\"url\":\"http://h/\"}]", ROUTE_OK, NULL,
           "n.json: receivers[0].url: only webhook, dingtalk, wecom and slack receivers have a "
           "url");
    expect("[{\"name\":\"a\",\"type\":\"webhook\",\"url\":\"http://h/\",\"timout\":\"1s\"}]",
           ROUTE_OK, NULL,
           "n.json: receivers[0].timout: unknown key (a typo?); known keys: name, type, url, argv, "
           "lang, on_call, timeout, attempts, backoff, backoff_max, rate_per_min, max_alerts, "
           "idempotent");
    expect("[{\"name\":\"a\",\"type\":\"webhook\",\"url\":\"http://h/\",\"timeout\":10}]", ROUTE_OK,
           NULL,
           "n.json: receivers[0].timeout: expected a duration like \"30s\" or \"5m\", from 100ms "
           "to 5m, got 10");
    expect("[{\"name\":\"a\",\"type\":\"stream\"},{\"name\":\"a\",\"type\":\"stream\"}]", ROUTE_OK,
           NULL, "n.json: receivers[1].name: \"a\" is used twice");
    expect(RX_OK, "{\"receiver\":\"a\",\"routes\":[{\"match\":{},\"receiver\":\"b\"}]}", NULL,
           "n.json: route.routes[0].receiver: no receiver named \"b\"; receivers: a");
    expect(RX_OK, "{\"receiver\":\"a\",\"routes\":[{\"match\":{\"levl\":1}}]}", NULL,
           "n.json: route.routes[0].match.levl: unknown label (a typo?); known: kind, level, "
           "region, stage, category, priority, flag, time");
    expect(RX_OK, "{\"receiver\":\"a\",\"routes\":[{\"match\":{\"level\":7}}]}", NULL,
           "n.json: route.routes[0].match.level: expected a level 0..3 or a list of them, got 7");
    expect(
        RX_OK,
        "{\"receiver\":\"a\",\"routes\":[{\"routes\":[{\"match\":{\"time\":{\"from\":\"25:00\"}}}"
        "]}]}",
        NULL,
        "n.json: route.routes[0].routes[0].match.time.from: expected a time of day \"HH:MM\", "
        "got \"25:00\"");
    expect(RX_OK, "{\"receiver\":\"a\",\"group_by\":[\"regoin\"]}", NULL,
           "n.json: route.group_by[0]: expected one of "
           "kind|level|region|stage|category|priority|flag, got \"regoin\"");
    expect(RX_OK, "{\"receiver\":\"a\",\"match\":{}}", NULL,
           "n.json: route.match: the root route matches every alert: no match");
    expect(RX_OK, "{\"receiver\":\"a\",\"group_interval\":\"1h\",\"repeat_interval\":\"5m\"}", NULL,
           "n.json: route.repeat_interval: shorter than group_interval");
    expect(RX_OK, "{}", NULL,
           "n.json: route.receiver: missing: the root route needs a receiver (the default)");
    /* unknown keys at every level, all through ow_json_only_keys: the path and the known keys */
    expect(RX_OK, "{\"receiver\":\"a\",\"routes\":[{\"recevier\":\"a\"}]}", NULL,
           "n.json: route.routes[0].recevier: unknown key (a typo?); known keys: match, receiver, "
           "group_by, group_wait, group_interval, repeat_interval, continue, routes");
    expect(RX_OK, ROUTE_OK, "[{\"source\":{},\"target\":{},\"equals\":[]}]",
           "n.json: inhibit[0].equals: unknown key (a typo?); known keys: source, target, equal");
    expect(RX_OK, ROUTE_OK, "[],\"inhibits\":[]",
           "n.json: inhibits: unknown key (a typo?); known keys: viewer_url, receivers, route, "
           "inhibit, templates");
    expect(RX_OK, ROUTE_OK, "[{\"source\":{\"level\":3}}]",
           "n.json: inhibit[0]: needs both source and target matchers");
    expect(RX_OK, ROUTE_OK, "[{\"source\":{\"level\":3},\"target\":{},\"equal\":[\"x\"]}]",
           "n.json: inhibit[0].equal[0]: expected one of "
           "kind|level|region|stage|category|priority|flag, got \"x\"");
    expect("[]", ROUTE_OK, NULL,
           "n.json: receivers: expected a non-empty list of receivers, got []");
}

static void test_template_errors(void **st)
{
    (void)st;
    const char *cases[][2] = {
        {"{{cont}}", "unknown placeholder {{cont}}; known: count, new, region, level, receiver, "
                     "group, on_call"},
        {"{{count", "\"{{\" at byte 0 is never closed by \"}}\""},
        {"x }} y", "\"}}\" at byte 2 without \"{{\" before it"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[20000], *t = text;
        const char *at = strstr(fx_templates, "L{{level}} {{region}}: {{count}} ({{new}} new)");
        t += snprintf(t, 8000, "{\"receivers\":%s,\"route\":%s,%.*s%s%s}", RX_OK, ROUTE_OK,
                      (int)(at - fx_templates), fx_templates, cases[i][0],
                      at + strlen("L{{level}} {{region}}: {{count}} ({{new}} new)"));
        ow_nconfig *c = NULL;
        ow_err err;
        assert_int_equal(ow_nconfig_parse(text, strlen(text), "n.json", &c, &err), OW_EINVAL);
        char want[600];
        snprintf(want, sizeof want, "n.json: templates.en.firing: %s", cases[i][1]);
        if (strcmp(err.msg, want)) fail_msg("\n  want: %s\n  got:  %s", want, err.msg);
    }
    /* a language missing a template */
    char text[8000];
    snprintf(text, sizeof text,
             "{\"receivers\":%s,\"route\":%s,\"templates\":{\"zh\":{\"firing\":\"x\"},\"en\":{}}}",
             RX_OK, ROUTE_OK);
    ow_nconfig *c = NULL;
    ow_err err;
    assert_int_equal(ow_nconfig_parse(text, strlen(text), "n.json", &c, &err), OW_EINVAL);
    assert_string_equal(err.msg, "n.json: templates.zh.resolved: missing: every language needs "
                                 "every template");
    /* an unknown language, an unknown template name */
    snprintf(text, sizeof text, "{\"receivers\":%s,\"route\":%s,\"templates\":{\"fr\":{}}}", RX_OK,
             ROUTE_OK);
    assert_int_equal(ow_nconfig_parse(text, strlen(text), "n.json", &c, &err), OW_EINVAL);
    assert_string_equal(err.msg, "n.json: templates.fr: unknown key (a typo?); known keys: zh, en");
    snprintf(text, sizeof text,
             "{\"receivers\":%s,\"route\":%s,\"templates\":{\"zh\":{\"firng\":\"x\"}}}", RX_OK,
             ROUTE_OK);
    assert_int_equal(ow_nconfig_parse(text, strlen(text), "n.json", &c, &err), OW_EINVAL);
    assert_string_equal(err.msg, "n.json: templates.zh.firng: unknown key (a typo?); known keys: "
                                 "firing, resolved, alert, resolved_alert, flag, late, due, "
                                 "acked, unacked, more");
}

static void test_hostile_config(void **st)
{
    (void)st;
    const char *bad[] = {"",
                         "[]",
                         "{\"receivers\":1}",
                         "{\"receivers\":[{}]}",
                         "{\"a\":1,\"a\":2}",
                         "{\"receivers\":[\"\xff\"]}",
                         "nul\0x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ow_nconfig *c = NULL;
        ow_err err;
        size_t len = i == 6 ? 5 : strlen(bad[i]);
        assert_int_not_equal(ow_nconfig_parse(bad[i], len, "n.json", &c, &err), OW_OK);
        assert_null(c);
        assert_true(strncmp(err.msg, "n.json: ", 8) == 0);
    }
    /* deeply nested routes are refused, not recursed into without end */
    char text[20000] = "{\"receivers\":" RX_OK ",\"route\":{\"receiver\":\"a\"";
    for (int i = 0; i < 12; i++)
        strcat(text, ",\"routes\":[{\"match\":{}");
    for (int i = 0; i < 12; i++)
        strcat(text, "}]");
    strcat(text, "},");
    strcat(text, fx_templates);
    strcat(text, "}");
    ow_nconfig *c = NULL;
    ow_err err;
    assert_int_equal(ow_nconfig_parse(text, strlen(text), "n.json", &c, &err), OW_EINVAL);
    if (!strstr(err.msg, "deep")) fail_msg("%s", err.msg);
}

static int route_names(const ow_nconfig *c, const ow_nalert *a, char *out)
{
    int r[16], n = ow_nconfig_route(c, a, r, 16);
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        sprintf(out + strlen(out), "%s%s>%s", i ? " " : "", c->routes[r[i]].id,
                c->receivers[c->routes[r[i]].receiver].name);
    return n;
}

static void test_route_tree(void **st)
{
    (void)st;
    ow_nconfig *c =
        fx_config("{\"receiver\":\"s\",\"group_wait\":\"10s\",\"routes\":["
                  "{\"match\":{\"level\":3},\"receiver\":\"b\",\"continue\":true},"
                  "{\"match\":{\"region\":[\"north\",\"south\"]},\"group_wait\":\"1s\",\"routes\":["
                  "  {\"match\":{\"level\":1},\"receiver\":\"a\"},"
                  "  {\"match\":{\"priority\":\"emergency\"},\"receiver\":\"b\"}]},"
                  "{\"match\":{\"category\":\"drain\"},\"receiver\":\"a\"}]}",
                  NULL);
    char got[256];
    ow_nalert *a = fx_alert("o1", "north", 1, T0, NULL);
    route_names(c, a, got);
    assert_string_equal(got, "0.1.0>a"); /* first match at each level, deepest wins */
    assert_int_equal(c->routes[2].group_wait_ms, 1000); /* set on 0.1 */
    assert_int_equal(c->routes[3].group_wait_ms, 1000); /* inherited by 0.1.0 */
    ow_nalert_free(a);
    a = fx_alert("o2", "north", 3, T0, NULL);
    route_names(c, a, got);
    /* level 3 continues: then north matches, but none of its children: north's route takes it */
    assert_string_equal(got, "0.0>b 0.1>s");
    ow_nalert_free(a);
    a = fx_alert("o3", "east", 2, T0, ",\"category\":\"drain\",\"priority\":\"general\"");
    route_names(c, a, got);
    assert_string_equal(got, "0.2>a");
    ow_nalert_free(a);
    a = fx_alert("o4", "east", 2, T0, NULL);
    route_names(c, a, got);
    assert_string_equal(got, "0>s"); /* nothing matched: the root */
    ow_nalert_free(a);
    a = fx_alert("o5", "south", 2, T0, ",\"priority\":\"emergency\"");
    route_names(c, a, got);
    assert_string_equal(got, "0.1.1>b");
    ow_nalert_free(a);
    ow_nconfig_free(c);
}

static void test_time_windows(void **st)
{
    (void)st;
    /* T0 is Sunday 09:00 in +08:00 (01:00Z) */
    ow_nconfig *c = fx_config(
        "{\"receiver\":\"s\",\"routes\":["
        "{\"match\":{\"time\":{\"utc_offset\":\"+08:00\",\"days\":[\"mon\",\"tue\",\"wed\","
        "\"thu\",\"fri\"],\"from\":\"08:00\",\"to\":\"20:00\"}},\"receiver\":\"a\"},"
        "{\"match\":{\"time\":{\"utc_offset\":\"+08:00\",\"from\":\"20:00\",\"to\":\"08:00\"}},"
        "\"receiver\":\"b\"}]}",
        NULL);
    struct {
        int64_t at;
        const char *want;
    } cases[] = {
        {T0, "0>s"},                                    /* Sunday day time: neither */
        {T0 + 24 * 3600000LL, "0.0>a"},                 /* Monday 09:00 */
        {T0 + 24 * 3600000LL - 3600000, "0.0>a"},       /* Monday 08:00: the window opens */
        {T0 + 24 * 3600000LL - 3600000 - 1, "0.1>b"},   /* Monday 07:59:59.999 */
        {T0 + 12 * 3600000LL, "0.1>b"},                 /* Sunday 21:00: the night window */
        {T0 + 24 * 3600000LL - 2 * 3600000LL, "0.1>b"}, /* Monday 07:00 */
        {T0 + 35 * 3600000LL, "0.1>b"},                 /* Monday 20:00: the day window is over */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ow_nalert *a = fx_alert("o", "r", 2, cases[i].at, NULL);
        char got[128];
        route_names(c, a, got);
        if (strcmp(got, cases[i].want))
            fail_msg("case %zu: want %s, got %s", i, cases[i].want, got);
        ow_nalert_free(a);
    }
    ow_nconfig_free(c);
}

static void test_alert_codec(void **st)
{
    (void)st;
    ow_nalert *a = fx_alert("O-1", "north", 2, T0 + 120, ",\"category\":\"drain\"");
    assert_string_equal(a->id, "sla:O-1:dispatch:1:100");
    assert_string_equal(a->label[OW_LBL_LEVEL], "2");
    assert_string_equal(a->label[OW_LBL_CATEGORY], "drain");
    assert_string_equal(a->label[OW_LBL_PRIORITY], "");
    assert_int_equal(a->at_ms, T0 + 120);
    assert_int_equal(a->target_ms, 300000);
    assert_string_equal(a->subject, "O-1");
    ow_nalert_free(a);
    struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"kind\":\"sla\",\"level\":1,\"at\":\"2026-11-22T01:00:00Z\",\"region\":\"r\"}",
         "alert: field \"id\" is missing"},
        {"{\"id\":\"x\",\"kind\":\"sla\",\"level\":9,\"at\":\"2026-11-22T01:00:00Z\","
         "\"region\":\"r\"}",
         "alert: field \"level\": expected an integer from 0 to 3"},
        {"{\"id\":\"x\",\"kind\":\"sla\",\"level\":1,\"at\":\"yesterday\",\"region\":\"r\"}", NULL},
        {"{\"id\":\"x\",\"kind\":\"oops\",\"level\":1,\"at\":\"2026-11-22T01:00:00Z\","
         "\"region\":\"r\"}",
         "alert: field \"kind\": expected sla or flag"},
        {"{\"id\":7,\"kind\":\"sla\",\"level\":1,\"at\":\"2026-11-22T01:00:00Z\",\"region\":\"r\"}",
         "alert: field \"id\": expected a string, got number"},
        {"[1,2]", "alert: expected a JSON object, got array"},
        {"{\"id\":\"x\",\"id\":\"y\"}", NULL},
        {"{\"id\":\"\xc3\x28\"}", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ow_err err;
        assert_int_not_equal(ow_nalert_parse(bad[i].text, strlen(bad[i].text), &a, &err), 0);
        assert_null(a);
        if (bad[i].msg && strcmp(bad[i].msg, err.msg)) fail_msg("%zu: %s", i, err.msg);
    }
    /* oversized: refused before parsing */
    size_t big = OW_NALERT_MAX_BYTES + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    ow_err err;
    assert_int_equal(ow_nalert_parse(huge, big, &a, &err), OW_ETOOBIG);
    free(huge);
    /* resolve and ack records */
    ow_nchange ch;
    const char *res =
        "{\"id\":\"sla:O-1:dispatch:1:100\",\"op\":\"resolve\",\"at\":\"2026-11-22T01:"
        "00:00Z\",\"kind\":\"sla\"}";
    assert_int_equal(ow_nchange_parse(res, strlen(res), &ch, &err), 0);
    assert_int_equal(ch.op, OW_CHANGE_RESOLVE);
    const char *ack = "{\"id\":\"x\",\"op\":\"ack\",\"at\":\"2026-11-22T01:00:00Z\",\"ack\":{\"by\""
                      ":\"li\"}}";
    assert_int_equal(ow_nchange_parse(ack, strlen(ack), &ch, &err), 0);
    assert_string_equal(ch.by, "li");
    const char *noby = "{\"id\":\"x\",\"op\":\"ack\",\"at\":\"2026-11-22T01:00:00Z\"}";
    assert_int_not_equal(ow_nchange_parse(noby, strlen(noby), &ch, &err), 0);
    assert_string_equal(err.msg, "alert change: field \"ack.by\": expected a name");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_files),   cmocka_unit_test(test_errors_name_the_path),
        cmocka_unit_test(test_template_errors), cmocka_unit_test(test_hostile_config),
        cmocka_unit_test(test_route_tree),      cmocka_unit_test(test_time_windows),
        cmocka_unit_test(test_alert_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
