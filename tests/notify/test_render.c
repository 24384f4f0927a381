/* Templates and bodies: placeholders filled per role; each receiver kind's body is valid JSON of
 * its documented shape; text stays under the kind's size limit (WeCom) by counting the rest;
 * hostile alert text (quotes, newlines, control characters, long CJK) stays inside its string.
 * Also the silence codec: the API's body rules and the stored form round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"
#include "json.h"
#include "render.h"
#include "silence.h"

static const char *lookup(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "count") == 0 ? "30" : strcmp(name, "region") == 0 ? "北区" : NULL;
}

static void test_template(void **st)
{
    (void)st;
    static const char *const vars[] = {"count", "region", "level", NULL};
    ow_template *t = NULL;
    ow_err err;
    assert_int_equal(ow_template_parse("{{ region }}: {{count}} 条{{level}}!", vars, "p", &t, &err),
                     0);
    ow_buf b;
    ow_buf_init(&b);
    ow_template_render(t, lookup, NULL, &b);
    assert_string_equal(b.p, "北区: 30 条!"); /* NULL renders as nothing */
    ow_buf_fini(&b);
    assert_string_equal(ow_template_text(t), "{{ region }}: {{count}} 条{{level}}!");
    ow_template_free(t);
    assert_int_equal(ow_template_parse("plain", vars, "p", &t, &err), 0);
    ow_template_free(t);
    const char *bad[] = {"{{}}", "{{ nope }}", "{{count}", "}}", "{{count{{region}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ow_template_parse(bad[i], vars, "templates.en.firing", &t, &err),
                         OW_EINVAL);
        assert_null(t);
        assert_true(strncmp(err.msg, "templates.en.firing: ", 21) == 0);
    }
    char *huge = malloc(OW_TEMPLATE_MAX_BYTES + 2);
    memset(huge, 'x', OW_TEMPLATE_MAX_BYTES + 1);
    huge[OW_TEMPLATE_MAX_BYTES + 1] = '\0';
    assert_int_equal(ow_template_parse(huge, vars, "p", &t, &err), OW_EINVAL);
    free(huge);
}

/* Render n alerts of a group for receiver rx; returns the parsed body (caller deletes). */
static int last_listed;
static cJSON *render(const ow_nconfig *c, int rx, ow_nalert **alerts, int n, bool resolved,
                     char **text)
{
    ow_render_in in = {.cfg = c,
                       .rx = &c->receivers[rx],
                       .id = "abc-1-1",
                       .group_key = "0|region=north",
                       .group_labels = alerts[0],
                       .group_by = 1u << OW_LBL_REGION,
                       .resolved = resolved,
                       .alerts = (const ow_nalert *const *)alerts,
                       .n = n,
                       .nnew = n,
                       .now_ms = T0 + 10 * 60000};
    char *body = ow_render(&in, text, &last_listed);
    assert_true(strlen(body) <= OW_RENDER_BODY_MAX);
    assert_non_null(body);
    ow_err err;
    cJSON *root = ow_json_parse(body, strlen(body), 8, &err);
    if (!root) fail_msg("body is not JSON: %s\n%s", err.msg, body);
    free(body);
    return root;
}

static void test_bodies(void **st)
{
    (void)st;
    ow_nconfig *c = fx_config("{\"receiver\":\"a\"}", NULL);
    ow_nalert *a[2] = {fx_alert("O-1", "north", 2, T0, ",\"category\":\"drain\""),
                       fx_alert("O-2", "north", 1, T0 + 570000, NULL)};
    free(a[1]->ack_by);
    a[1]->ack_by = strdup("li.wei");
    char *text;
    /* webhook: the generic body */
    cJSON *b = render(c, 0, a, 2, false, &text);
    assert_string_equal(cJSON_GetObjectItem(b, "status")->valuestring, "firing");
    assert_string_equal(cJSON_GetObjectItem(b, "id")->valuestring, "abc-1-1");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "group"), "region")->valuestring,
                        "north");
    cJSON *alerts = cJSON_GetObjectItem(b, "alerts");
    assert_int_equal(cJSON_GetArraySize(alerts), 2);
    assert_int_equal(cJSON_GetObjectItem(b, "count")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(b, "more")->valueint, 0);
    assert_int_equal(last_listed, 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(alerts, 0), "category")->valuestring,
                        "drain");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(b, "acked"), "sla:O-2:dispatch:1:80")->valuestring,
        "li.wei");
    /* O-1 reached 100 % at T0: 10 min late now; O-2 reached 80 % at T0+9m30s, so 100 % at
     * T0+10m30s: due in 30 s */
    assert_string_equal(text, "L2 north: 2 (2 new)\n"
                              "- O-1 dispatch 100% of 5m, 10m overdue; desk to act "
                              "http://v/#/orders/O-1\n"
                              "- O-2 dispatch 80% of 5m, due in 30s; li.wei is on it "
                              "http://v/#/orders/O-2");
    free(text);
    cJSON_Delete(b);
    /* dingtalk (zh): markdown with title and text */
    b = render(c, 1, a, 2, false, &text);
    assert_string_equal(cJSON_GetObjectItem(b, "msgtype")->valuestring, "markdown");
    cJSON *md = cJSON_GetObjectItem(b, "markdown");
    assert_string_equal(cJSON_GetObjectItem(md, "title")->valuestring, "L2 north 2条");
    assert_string_equal(cJSON_GetObjectItem(md, "text")->valuestring, text);
    assert_non_null(strstr(text, "- O-1 超时10m 请b处理 http://v/#/orders/O-1"));
    free(text);
    cJSON_Delete(b);
    /* resolved */
    b = render(c, 0, a, 2, true, &text);
    assert_string_equal(cJSON_GetObjectItem(b, "status")->valuestring, "resolved");
    assert_string_equal(text,
                        "resolved north: 2\n- O-1 dispatch resolved\n- O-2 dispatch resolved");
    free(text);
    cJSON_Delete(b);
    ow_nalert_free(a[0]);
    ow_nalert_free(a[1]);
    ow_nconfig_free(c);
}

static void test_size_limits_and_hostile_text(void **st)
{
    (void)st;
    char *text = malloc(20000);
    snprintf(text, 20000,
             "{\"receivers\":[{\"name\":\"w\",\"type\":\"wecom\",\"url\":\"https://h/\","
             "\"max_alerts\":500},{\"name\":\"s\",\"type\":\"slack\",\"url\":\"https://h/\"}],"
             "\"route\":{\"receiver\":\"w\"},%s}",
             fx_templates);
    ow_nconfig *c = NULL;
    ow_err err;
    assert_int_equal(ow_nconfig_parse(text, strlen(text), "t", &c, &err), 0);
    free(text);
    enum { N = 300 };
    ow_nalert *a[N];
    for (int i = 0; i < N; i++) {
        char order[200];
        /* hostile: quotes, backslash, newline, a control character, markdown, long CJK */
        snprintf(order, sizeof order, "O-%d\\\\\\\"\\n\\u0001](x)北区北区北区北区北区北区", i);
        a[i] = fx_alert(order, "north", 2, T0, NULL);
    }
    char *t;
    cJSON *b = render(c, 0, a, N, false, &t);
    const char *content =
        cJSON_GetObjectItem(cJSON_GetObjectItem(b, "markdown"), "content")->valuestring;
    assert_true(strlen(content) <= 4000); /* WeCom's limit is 4096 bytes */
    assert_string_equal(content, t);
    assert_non_null(strstr(t, "另有"));              /* the rest is counted */
    assert_non_null(strstr(t, "O-0\\\"\n\x01](x)")); /* the text, whole, inside the JSON string */
    free(t);
    cJSON_Delete(b);
    b = render(c, 1, a, N, false, &t);
    assert_non_null(cJSON_GetObjectItem(b, "text"));
    free(t);
    cJSON_Delete(b);
    for (int i = 0; i < N; i++)
        ow_nalert_free(a[i]);
    ow_nconfig_free(c);
}

/* A storm's group (issue 9): the generic body lists the most urgent alerts (the order given) while
 * they fit in OW_RENDER_LIST_MAX, says how many there are and how many it left out, and names
 * acknowledgements of listed alerts only; the robot's text lists max_alerts. Before, the body
 * listed all 5,000 (about 1 MB). */
static void test_storm_list_capped(void **st)
{
    (void)st;
    enum { N = 5000 };
    ow_nconfig *c = fx_config("{\"receiver\":\"a\"}", NULL);
    ow_nalert **a = calloc(N, sizeof *a);
    for (int i = 0; i < N; i++) {
        char order[32];
        snprintf(order, sizeof order, "O-%05d", i);
        a[i] = fx_alert(order, "north", 2, T0 + i, NULL);
        if (i % 2) a[i]->ack_by = strdup("li.wei");
    }
    char *text;
    cJSON *b = render(c, 0, a, N, false, &text);
    cJSON *alerts = cJSON_GetObjectItem(b, "alerts"), *acked = cJSON_GetObjectItem(b, "acked");
    int k = cJSON_GetArraySize(alerts);
    assert_true(k > 20 && k < N); /* bytes bound the list, not the text's max_alerts (3) */
    assert_int_equal(k, last_listed);
    print_message("5,000 alerts: the webhook body lists %d\n", k);
    assert_int_equal(cJSON_GetObjectItem(b, "count")->valueint, N);
    assert_int_equal(cJSON_GetObjectItem(b, "more")->valueint, N - k);
    for (int i = 0; i < k; i++)
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(alerts, i), "id")->valuestring,
                            a[i]->id);
    assert_int_equal(cJSON_GetArraySize(acked), k / 2);
    char *list = cJSON_PrintUnformatted(alerts);
    assert_true(strlen(list) <= OW_RENDER_LIST_MAX);
    free(list);
    assert_non_null(strstr(text, "and 4997 more"));
    free(text);
    cJSON_Delete(b);
    b = render(c, 1, a, N, false, &text); /* dingtalk: max_alerts 20, then the count */
    assert_int_equal(last_listed, 20);
    assert_non_null(strstr(text, "另有4980条"));
    free(text);
    cJSON_Delete(b);
    for (int i = 0; i < N; i++)
        ow_nalert_free(a[i]);
    free(a);
    ow_nconfig_free(c);
}

/* Templates that expand past the limit (a title of 4 KiB of {{group}}): the text is cut, at a
 * character boundary, never over the limit. */
static void test_outsized_templates_cut(void **st)
{
    (void)st;
    ow_buf big;
    ow_buf_init(&big);
    for (int i = 0; i < 450; i++)
        ow_buf_put(&big, "{{group}}", 9);
    char *text = malloc(40000);
    snprintf(text, 40000,
             "{\"receivers\":[{\"name\":\"w\",\"type\":\"wecom\",\"url\":\"https://h/\"}],"
             "\"route\":{\"receiver\":\"w\",\"group_by\":[\"region\"]},"
             "\"templates\":{\"zh\":{\"firing\":\"%s\",\"resolved\":\"r\",\"alert\":\"%s\","
             "\"resolved_alert\":\"x\",\"flag\":\"f\",\"late\":\"l\",\"due\":\"d\",\"acked\":\"a\","
             "\"unacked\":\"u\",\"more\":\"%s\"},\"en\":{\"firing\":\"f\",\"resolved\":\"r\","
             "\"alert\":\"a\",\"resolved_alert\":\"x\",\"flag\":\"f\",\"late\":\"l\",\"due\":\"d\","
             "\"acked\":\"a\",\"unacked\":\"u\",\"more\":\"m\"}}}",
             big.p, "- {{subject}}", "{{n}}北区北区北区北区北区北区北区北区北区北区北区北区北区");
    ow_buf_fini(&big);
    ow_nconfig *c = NULL;
    ow_err err;
    if (ow_nconfig_parse(text, strlen(text), "t", &c, &err)) fail_msg("%s", err.msg);
    free(text);
    ow_nalert *a[1] = {fx_alert("O-1", "北区北区北区北区北区北区北区北区北区北区", 2, T0, NULL)};
    char *t;
    cJSON *b = render(c, 0, a, 1, false, &t);
    assert_true(strlen(t) <= 4000);
    size_t bad;
    assert_true(ow_json_utf8_valid(t, strlen(t), &bad));
    free(t);
    cJSON_Delete(b);
    ow_nalert_free(a[0]);
    ow_nconfig_free(c);
}

static void test_silence_codec(void **st)
{
    (void)st;
    ow_silence *s = NULL;
    ow_err err;
    const char *ok =
        "{\"matchers\":{\"region\":[\"north\",\"south\"],\"level\":1},"
        "\"starts_at\":\"2026-11-22T09:00:00+08:00\",\"ends_at\":\"2026-11-22T11:00:00+08:00\","
        "\"comment\":\"storm\"}";
    assert_int_equal(ow_silence_parse(ok, strlen(ok), "s-1", "wang", T0, &s, &err), 0);
    assert_int_equal(s->starts_ms, T0);
    assert_int_equal(s->ends_ms, T0 + 2 * 3600000);
    assert_false(ow_silence_active(s, T0 - 1));
    assert_true(ow_silence_active(s, T0));
    assert_false(ow_silence_active(s, T0 + 2 * 3600000));
    ow_nalert *n1 = fx_alert("O", "south", 1, T0, NULL), *n2 = fx_alert("O", "south", 2, T0, NULL);
    assert_true(ow_silence_covers(s, n1, T0 + 1));
    assert_false(ow_silence_covers(s, n2, T0 + 1));
    char *stored = ow_silence_format(s);
    ow_silence *back = NULL;
    assert_int_equal(ow_silence_load(stored, strlen(stored), &back, &err), 0);
    char *again = ow_silence_format(back);
    assert_string_equal(stored, again);
    assert_non_null(strstr(stored, "\"created_by\":\"wang\""));
    free(stored);
    free(again);
    ow_silence_free(back);
    ow_silence_free(s);
    ow_nalert_free(n1);
    ow_nalert_free(n2);
    struct {
        const char *body, *msg;
    } bad[] = {
        {"{\"duration\":\"1h\",\"comment\":\"c\"}",
         "matchers: missing (e.g. {\"region\":\"north\"})"},
        {"{\"matchers\":{},\"duration\":\"1h\",\"comment\":\"c\"}",
         "matchers: empty: a silence of every alert must name at least one label"},
        {"{\"matchers\":{\"region\":\"n\"},\"comment\":\"c\"}",
         "ends_at: missing (or give duration)"},
        {"{\"matchers\":{\"region\":\"n\"},\"duration\":\"1h\"}",
         "comment: expected a non-empty string (why) of at most 1024 bytes"},
        {"{\"matchers\":{\"region\":\"n\"},\"duration\":\"31d\",\"comment\":\"c\"}",
         "duration: at most 30d"},
        {"{\"matchers\":{\"region\":\"n\"},\"duration\":\"1h\",\"comment\":\"c\",\"by\":\"x\"}",
         "by: unknown field; known: matchers, starts_at, ends_at, duration, comment"},
        {"{\"matchers\":{\"region\":\"n\"},\"ends_at\":\"2020-01-01T00:00:00Z\",\"comment\":\"c\"}",
         "ends_at: must be after starts_at"},
        {"{\"matchers\":{\"region\":5},\"duration\":\"1h\",\"comment\":\"c\"}",
         "matchers.region: expected a non-empty string or a list of them, got 5"},
        {"not json", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_not_equal(
            ow_silence_parse(bad[i].body, strlen(bad[i].body), "s", "w", T0, &s, &err), 0);
        assert_null(s);
        if (bad[i].msg && strcmp(err.msg, bad[i].msg)) fail_msg("%zu: %s", i, err.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_size_limits_and_hostile_text),
        cmocka_unit_test(test_storm_list_capped),
        cmocka_unit_test(test_outsized_templates_cut),
        cmocka_unit_test(test_silence_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
