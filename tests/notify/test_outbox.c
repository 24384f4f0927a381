/* The send log (outbox.c) with an injected clock and seed: backoff doubles within its jitter
 * band and stops at the last attempt (dead letter); a refusal is not retried; each receiver is
 * paced to its rate and has one attempt in flight while others go on; a record read back after a
 * crash is resumed, or — in flight and not idempotent — ended UNKNOWN, never sent twice.
 * Records have a bounded size (issue 9): a storm's group of 5,000 alerts, and a group of alerts
 * of the longest hostile fields, to every receiver kind, stay under OW_SEND_RECORD_MAX while
 * waiting and OW_SEND_RECORD_DONE_MAX once finished (no body kept, its length and digest are). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"
#include "jsonw.h"
#include "outbox.h"
#include "render.h"

static const char route[] = "{\"receiver\":\"a\"}";

static ow_nconfig *config(void)
{
    /* a: webhook, 5 attempts from 1 s up to 5 min; b: dingtalk at 18 a minute; s: stream */
    return fx_config(route, NULL);
}

static ow_notice notice(const char *id, int receiver)
{
    ow_notice n;
    memset(&n, 0, sizeof n);
    snprintf(n.id, sizeof n.id, "%s", id);
    n.receiver = receiver;
    n.group_key = strdup("0|region=north");
    n.alert_ids = calloc(1, sizeof *n.alert_ids);
    n.alert_ids[0] = strdup("sla:O:dispatch:1:100");
    n.nalerts = 1;
    n.text = strdup("text \"quoted\"");
    n.body = strdup("{\"b\":1}");
    return n;
}

static void test_backoff_and_dead_letter(void **st)
{
    (void)st;
    ow_nconfig *c = config();
    for (uint64_t seed = 1; seed < 200; seed += 37) {
        ow_outbox *o = ow_outbox_new(c, seed, 100);
        ow_notice n = notice("n1", 0);
        ow_send *s = ow_outbox_add(o, &n, T0);
        int64_t now = T0, base = c->receivers[0].backoff_ms;
        for (int attempt = 1; attempt <= 5; attempt++) {
            assert_ptr_equal(ow_outbox_start(o, now), s);
            assert_int_equal(s->attempts, attempt);
            assert_null(ow_outbox_start(o, now)); /* one in flight per receiver */
            ow_outbox_done(o, s, false, true, 500, "HTTP 500", now);
            if (attempt == 5) break;
            assert_int_equal(s->state, OW_SEND_RETRY);
            int64_t d = s->next_ms - now, full = base << (attempt - 1);
            /* jitter: uniform in [half, full] of the doubled delay */
            if (d < full / 2 || d > full) fail_msg("attempt %d: delay %lld", attempt, (long long)d);
            assert_null(ow_outbox_start(o, s->next_ms - 1));
            now = s->next_ms;
        }
        assert_int_equal(s->state, OW_SEND_DEAD);
        assert_string_equal(s->last_error, "HTTP 500");
        assert_int_equal(ow_outbox_next_ms(o, now), INT64_MAX);
        ow_outbox_free(o);
    }
    ow_nconfig_free(c);
}

static void test_refusal_and_success(void **st)
{
    (void)st;
    ow_nconfig *c = config();
    ow_outbox *o = ow_outbox_new(c, 7, 100);
    ow_notice n1 = notice("n1", 0), n2 = notice("n2", 0);
    ow_send *a = ow_outbox_add(o, &n1, T0), *b = ow_outbox_add(o, &n2, T0);
    assert_ptr_equal(ow_outbox_start(o, T0), a);
    ow_outbox_done(o, a, false, false, 400, "HTTP 400: bad body", T0);
    assert_int_equal(a->state, OW_SEND_DEAD); /* refused: no retry */
    assert_ptr_equal(ow_outbox_start(o, T0), b);
    ow_outbox_done(o, b, true, true, 200, NULL, T0 + 5);
    assert_int_equal(b->state, OW_SEND_DELIVERED);
    assert_string_equal(b->last_error, "");
    ow_outbox_stats s = ow_outbox_stats_get(o);
    assert_int_equal((int)s.delivered, 1);
    assert_int_equal((int)s.dead, 1);
    ow_outbox_free(o);
    ow_nconfig_free(c);
}

static void test_pacing_per_receiver(void **st)
{
    (void)st;
    ow_nconfig *c = config();
    assert_int_equal(c->receivers[1].rate_per_min, 18);
    ow_outbox *o = ow_outbox_new(c, 3, 100);
    ow_notice n[4] = {notice("d1", 1), notice("d2", 1), notice("d3", 1), notice("w1", 0)};
    ow_send *s[4];
    for (int i = 0; i < 4; i++)
        s[i] = ow_outbox_add(o, &n[i], T0);
    /* the robot's first message, and the webhook's alongside it */
    assert_ptr_equal(ow_outbox_start(o, T0), s[0]);
    assert_ptr_equal(ow_outbox_start(o, T0), s[3]);
    ow_outbox_done(o, s[0], true, true, 200, NULL, T0 + 100);
    /* the next robot message waits 60 s / 18 = 3333 ms after the previous start */
    assert_null(ow_outbox_start(o, T0 + 3332));
    assert_int_equal(ow_outbox_next_ms(o, T0 + 200), T0 + 3333);
    assert_ptr_equal(ow_outbox_start(o, T0 + 3333), s[1]);
    ow_outbox_done(o, s[1], true, true, 200, NULL, T0 + 3400);
    assert_ptr_equal(ow_outbox_start(o, T0 + 6666), s[2]);
    /* over any minute: at most 18 starts — 60 000 / 3333 < 18.01 */
    ow_outbox_free(o);
    ow_nconfig_free(c);
}

static void test_restart_semantics(void **st)
{
    (void)st;
    ow_nconfig *c = config();
    ow_outbox *o = ow_outbox_new(c, 5, 100);
    ow_notice n1 = notice("inflight", 0), n2 = notice("queued", 0);
    ow_send *f = ow_outbox_add(o, &n1, T0), *q = ow_outbox_add(o, &n2, T0 + 1);
    assert_ptr_equal(ow_outbox_start(o, T0 + 1), f); /* in flight; q waits behind it */
    char *r_inflight = ow_send_format(o, f);
    char *r_queued = ow_send_format(o, q);
    assert_non_null(strstr(r_inflight, "\"state\":\"sending\""));
    assert_non_null(strstr(r_queued, "\"state\":\"queued\""));
    assert_non_null(strstr(r_inflight, "\"text\":\"text \\\"quoted\\\"\""));
    ow_outbox_free(o);
    /* after the crash */
    ow_outbox *r = ow_outbox_new(c, 6, 100);
    ow_send *a = NULL, *b = NULL;
    ow_err err;
    assert_int_equal(ow_outbox_load(r, r_inflight, strlen(r_inflight), &a, &err), 0);
    assert_int_equal(ow_outbox_load(r, r_queued, strlen(r_queued), &b, &err), 0);
    assert_int_equal(a->state, OW_SEND_UNKNOWN); /* receiver a is not idempotent: not again */
    assert_non_null(strstr(a->last_error, "outcome unknown"));
    assert_int_equal(b->state, OW_SEND_QUEUED); /* never left: sent now */
    assert_ptr_equal(ow_outbox_start(r, T0 + 2), b);
    assert_string_equal(b->n.body, "{\"b\":1}");
    assert_string_equal(b->n.alert_ids[0], "sla:O:dispatch:1:100");
    ow_outbox_free(r);
    /* with an idempotent receiver the in-flight send is tried again */
    char *text = malloc(20000);
    snprintf(text, 20000,
             "{\"receivers\":[{\"name\":\"a\",\"type\":\"webhook\",\"url\":\"http://h/\","
             "\"idempotent\":true}],\"route\":{\"receiver\":\"a\"},%s}",
             fx_templates);
    ow_nconfig *ci = NULL;
    assert_int_equal(ow_nconfig_parse(text, strlen(text), "i.json", &ci, &err), 0);
    ow_outbox *ri = ow_outbox_new(ci, 8, 100);
    assert_int_equal(ow_outbox_load(ri, r_inflight, strlen(r_inflight), &a, &err), 0);
    assert_int_equal(a->state, OW_SEND_RETRY);
    assert_ptr_equal(ow_outbox_start(ri, a->next_ms), a);
    assert_int_equal(a->attempts, 2);
    /* malformed records are refused */
    assert_int_not_equal(ow_outbox_load(ri, "{\"id\":1}", 8, NULL, &err), 0);
    assert_int_not_equal(ow_outbox_load(ri, "[", 1, NULL, &err), 0);
    ow_outbox_free(ri);
    ow_nconfig_free(ci);
    free(text);
    free(r_inflight);
    free(r_queued);
    ow_nconfig_free(c);
}

/* Every receiver kind, texts listing up to max_alerts (500: as long as allowed), one group per
 * region and stage: the largest records a group can make. */
static ow_nconfig *every_kind(int max_alerts)
{
    char *text = malloc(20000), rx[2000];
    const char *kinds[] = {
        "\"name\":\"a\",\"type\":\"webhook\",\"url\":\"http://h/a\"",
        "\"name\":\"b\",\"type\":\"dingtalk\",\"url\":\"https://h/b\"",
        "\"name\":\"w\",\"type\":\"wecom\",\"url\":\"https://h/w\"",
        "\"name\":\"sl\",\"type\":\"slack\",\"url\":\"https://h/s\",\"lang\":\"en\"",
        "\"name\":\"x\",\"type\":\"exec\",\"argv\":[\"/bin/true\"]",
        "\"name\":\"s\",\"type\":\"stream\""};
    size_t used = 0;
    for (int i = 0; i < 6; i++)
        used += (size_t)snprintf(rx + used, sizeof rx - used, "%s{%s,\"max_alerts\":%d}",
                                 i ? "," : "", kinds[i], max_alerts);
    snprintf(text, 20000,
             "{\"viewer_url\":\"http://v/\",\"receivers\":[%s],"
             "\"route\":{\"receiver\":\"a\",\"group_by\":[\"region\",\"stage\"],\"routes\":["
             "{\"match\":{},\"receiver\":\"a\",\"continue\":true},"
             "{\"match\":{},\"receiver\":\"b\",\"continue\":true},"
             "{\"match\":{},\"receiver\":\"w\",\"continue\":true},"
             "{\"match\":{},\"receiver\":\"sl\",\"continue\":true},"
             "{\"match\":{},\"receiver\":\"x\",\"continue\":true},"
             "{\"match\":{},\"receiver\":\"s\"}]},%s}",
             rx, fx_templates);
    ow_nconfig *c = NULL;
    ow_err err;
    if (ow_nconfig_parse(text, strlen(text), "k.json", &c, &err)) fail_msg("%s", err.msg);
    free(text);
    return c;
}

typedef struct sizes {
    size_t body, waiting, done; /* the largest seen */
    int messages, listed_min;
} sizes;

/* Flush the groups once their wait is over; put every message in the send log; check the bounds
 * while it waits and once delivered (also after a restart: the finished record loads back). */
static sizes check_records(const ow_nconfig *c, ow_groups *g, int64_t now, int count)
{
    sizes z = {0, 0, 0, 0, INT32_MAX};
    ow_notice *v = NULL;
    int n = 0;
    assert_int_equal(ow_groups_flush(g, now, NULL, 0, &v, &n), 0);
    assert_int_equal(n, c->nreceivers);
    ow_outbox *o = ow_outbox_new(c, 11, 100);
    for (int i = 0; i < n; i++) {
        ow_send *s = ow_outbox_add(o, &v[i], now);
        assert_int_equal(s->n.count, count);
        assert_true(s->n.nalerts <= count);
        size_t body = strlen(s->n.body);
        assert_true(body <= OW_RENDER_BODY_MAX);
        assert_true(ow_jsonw_str_len(s->n.text, strlen(s->n.text)) <=
                    c->receivers[s->n.receiver].max_bytes);
        char *rec = ow_send_format(o, s);
        size_t waiting = strlen(rec);
        if (waiting > OW_SEND_RECORD_MAX)
            fail_msg("%s: waiting record of %zu bytes", c->receivers[s->n.receiver].name, waiting);
        free(rec);
        assert_ptr_equal(ow_outbox_start(o, now), s);
        ow_outbox_done(o, s, true, true, 200, NULL, now + 1);
        assert_null(s->n.body); /* delivered: never sent again, the body goes */
        assert_int_equal(s->body_bytes, body);
        rec = ow_send_format(o, s);
        size_t done = strlen(rec);
        if (done > OW_SEND_RECORD_DONE_MAX)
            fail_msg("%s: finished record of %zu bytes", c->receivers[s->n.receiver].name, done);
        assert_non_null(strstr(rec, "\"body\":\"\""));
        ow_outbox *r = ow_outbox_new(c, 12, 100);
        ow_send *back = NULL;
        ow_err err;
        assert_int_equal(ow_outbox_load(r, rec, strlen(rec), &back, &err), 0);
        assert_int_equal(back->n.count, count);
        assert_int_equal(back->body_bytes, body);
        assert_string_equal(back->body_sha256, s->body_sha256);
        assert_int_equal(back->n.nalerts, s->n.nalerts);
        assert_string_equal(back->n.text, s->n.text);
        ow_outbox_free(r);
        free(rec);
        if (body > z.body) z.body = body;
        if (waiting > z.waiting) z.waiting = waiting;
        if (done > z.done) z.done = done;
        if (s->n.nalerts < z.listed_min) z.listed_min = s->n.nalerts;
        z.messages++;
    }
    free(v);
    ow_outbox_free(o);
    return z;
}

static void test_storm_records_bounded(void **st)
{
    (void)st;
    enum { N = 5000 };
    for (int max = 20; max <= 500; max += 480) { /* max_alerts: the default, the largest */
        ow_nconfig *c = every_kind(max);
        ow_groups *g = ow_groups_new(c);
        for (int i = 0; i < N; i++) {
            char order[32];
            snprintf(order, sizeof order, "O-%05d", i);
            assert_int_equal(ow_groups_add(g, fx_alert(order, "north", 2, T0 + i, NULL), T0 + i),
                             0);
            if (i % 7 == 0) {
                ow_nchange ch = {.op = OW_CHANGE_ACK, .at_ms = T0 + i};
                snprintf(ch.id, sizeof ch.id, "sla:%s:dispatch:1:100", order);
                snprintf(ch.by, sizeof ch.by, "li.wei");
                assert_int_equal(ow_groups_change(g, &ch, T0 + i), 0);
            }
        }
        sizes z = check_records(c, g, T0 + 10 * 60000, N);
        assert_int_equal(z.messages, 6);
        assert_true(z.listed_min >= 1);
        print_message("5,000 alerts, max_alerts %d: body <= %zu B, record <= %zu B waiting, "
                      "<= %zu B finished\n",
                      max, z.body, z.waiting, z.done);
        ow_groups_free(g);
        ow_nconfig_free(c);
    }
}

/* Alerts with every field at its longest, of characters that escape longest (a control character
 * is 6 bytes in JSON, a quote 2, and both again inside a record): the bounds are hard. */
static void test_hostile_records_bounded(void **st)
{
    (void)st;
    enum { N = 300 };
    ow_nconfig *c = every_kind(500);
    ow_groups *g = ow_groups_new(c);
    ow_buf ctl, quotes, summary;
    ow_buf_init(&ctl);
    ow_buf_init(&quotes);
    ow_buf_init(&summary);
    for (int i = 0; i < 500; i++) {
        ow_buf_put(&ctl, "\\u0001", 6);
        ow_buf_put(&quotes, "\\\"", 2);
    }
    for (int i = 0; i < 4096; i++)
        ow_buf_put(&summary, "\\u0002", 6);
    for (int i = 0; i < N; i++) {
        ow_buf a;
        ow_buf_init(&a);
        char head[64];
        snprintf(head, sizeof head, "{\"id\":\"%05d", i);
        ow_buf_put(&a, head, strlen(head));
        const char *parts[] = {ctl.p,
                               "\",\"kind\":\"sla\",\"level\":3,\"at\":\"2026-11-22T01:00:00Z\","
                               "\"region\":\"",
                               ctl.p,
                               "\",\"stage\":\"",
                               quotes.p,
                               "\",\"order_id\":\"",
                               ctl.p,
                               "\",\"pct\":150,\"target_s\":300,\"summary\":\"",
                               summary.p,
                               "\"}"};
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
            ow_buf_put(&a, parts[k], strlen(parts[k]));
        ow_nalert *al = NULL;
        ow_err err;
        if (ow_nalert_parse(a.p, a.n, &al, &err)) fail_msg("hostile alert refused: %s", err.msg);
        ow_nchange ch = {.op = OW_CHANGE_ACK, .at_ms = T0};
        snprintf(ch.id, sizeof ch.id, "%s", al->id);
        memset(ch.by, 1, sizeof ch.by - 1);
        ch.by[sizeof ch.by - 1] = '\0';
        assert_int_equal(ow_groups_add(g, al, T0), 0);
        assert_int_equal(ow_groups_change(g, &ch, T0), 0);
        ow_buf_fini(&a);
    }
    sizes z = check_records(c, g, T0 + 10 * 60000, N);
    assert_int_equal(z.messages, 6);
    print_message("hostile: body <= %zu B, record <= %zu B waiting, <= %zu B finished\n", z.body,
                  z.waiting, z.done);
    ow_buf_fini(&ctl);
    ow_buf_fini(&quotes);
    ow_buf_fini(&summary);
    ow_groups_free(g);
    ow_nconfig_free(c);
}

/* The members added for bounded records: checked when read back from Redis. */
static void test_record_members_checked(void **st)
{
    (void)st;
    ow_nconfig *c = config();
    ow_outbox *o = ow_outbox_new(c, 13, 100);
    ow_notice n1 = notice("n1", 0);
    ow_send *s = ow_outbox_add(o, &n1, T0);
    ow_outbox_start(o, T0);
    ow_outbox_done(o, s, true, true, 200, NULL, T0);
    char *rec = ow_send_format(o, s);
    /* the digest is the body's: sha256 of {"b":1} */
    assert_non_null(strstr(rec, "\"body_bytes\":7,\"body_sha256\":\"eb8ed3ccb5023093b56f"));
    ow_err err;
    struct {
        const char *from, *to;
    } bad[] = {
        {"\"id\":\"n1\"", "\"id\":\"\""},
        {"\"count\":1", "\"count\":-1"},
        {"\"count\":1", "\"count\":\"1\""},
        {"\"count\":1", "\"count\":1e99"},
        {"\"body_bytes\":7", "\"body_bytes\":7.5"},
        {"\"body_bytes\":7", "\"body_bytes\":null"},
        {"\"body_sha256\":\"eb", "\"body_sha256\":\"EB"},
        {"\"body_sha256\":\"eb", "\"body_sha256\":\"e"},
        {"\"body_sha256\":\"eb", "\"body_sha256\":7,\"x\":\"eb"},
        {"\"text\":\"", "\"text\":1,\"t\":\""},
        {"\"group_key\":\"", "\"group_key\":[],\"g\":\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *at = strstr(rec, bad[i].from);
        assert_non_null(at);
        char edited[4096];
        snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - rec), rec, bad[i].to,
                 at + strlen(bad[i].from));
        if (ow_outbox_load(o, edited, strlen(edited), NULL, &err) == 0)
            fail_msg("accepted: %s", edited);
        assert_true(strncmp(err.msg, "stored notification record: ", 28) == 0);
    }
    /* a record of an earlier version (no count, digest; a finished one with its body) loads, and
     * lets the body go */
    const char *old =
        "{\"id\":\"o1\",\"receiver\":\"a\",\"state\":\"delivered\",\"resolved\":false,"
        "\"group_key\":\"0|region=north\",\"alerts\":[\"x\",\"y\"],\"attempts\":1,"
        "\"created_ms\":1,\"next_ms\":1,\"last_status\":200,\"last_error\":\"\","
        "\"text\":\"t\",\"body\":\"{\\\"b\\\":1}\"}";
    ow_send *back = NULL;
    assert_int_equal(ow_outbox_load(o, old, strlen(old), &back, &err), 0);
    assert_int_equal(back->n.count, 2);
    assert_null(back->n.body);
    assert_int_equal(back->body_bytes, 7);
    assert_string_equal(back->body_sha256, s->body_sha256);
    /* an error text cut inside a character, or not UTF-8 at all, stays loadable text */
    ow_notice n2 = notice("n2", 0);
    ow_send *e = ow_outbox_add(o, &n2, T0);
    ow_outbox_start(o, T0);
    char msg[400];
    memset(msg, 'x', 254);
    snprintf(msg + 254, sizeof msg - 254, "北区\xff");
    ow_outbox_done(o, e, false, false, 400, msg, T0);
    assert_int_equal(strlen(e->last_error), 255);
    assert_string_equal(e->last_error + 254, "?");
    char *erec = ow_send_format(o, e);
    assert_int_equal(ow_outbox_load(o, erec, strlen(erec), NULL, &err), 0);
    free(erec);
    free(rec);
    ow_outbox_free(o);
    ow_nconfig_free(c);
}

static void dropped_one(const char *id, void *arg)
{
    (void)id;
    ++*(int *)arg;
}

static bool counter(const ow_send *s, void *arg)
{
    (void)s;
    ++*(int *)arg;
    return true;
}

static void test_trim_and_since(void **st)
{
    (void)st;
    ow_nconfig *c = config();
    ow_outbox *o = ow_outbox_new(c, 9, 2);
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "n%d", i);
        ow_notice n = notice(id, 2);
        ow_send *s = ow_outbox_add(o, &n, T0 + i);
        assert_ptr_equal(ow_outbox_start(o, T0 + i), s);
        ow_outbox_done(o, s, true, true, 0, NULL, T0 + i);
    }
    int dropped = 0, n = 0;
    ow_outbox_trim(o, dropped_one, &dropped);
    assert_int_equal(dropped, 3); /* keep 2 */
    ow_outbox_each(o, T0, counter, &n);
    assert_int_equal(n, 2);
    n = 0;
    ow_outbox_each(o, T0 + 4, counter, &n);
    assert_int_equal(n, 1);
    ow_outbox_free(o);
    ow_nconfig_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_and_dead_letter),
        cmocka_unit_test(test_refusal_and_success),
        cmocka_unit_test(test_pacing_per_receiver),
        cmocka_unit_test(test_restart_semantics),
        cmocka_unit_test(test_trim_and_since),
        cmocka_unit_test(test_storm_records_bounded),
        cmocka_unit_test(test_hostile_records_bounded),
        cmocka_unit_test(test_record_members_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
