/* The send log (outbox.c) with an injected clock and seed: backoff doubles within its jitter
 * band and stops at the last attempt (dead letter); a refusal is not retried; each receiver is
 * paced to its rate and has one attempt in flight while others go on; a record read back after a
 * crash is resumed, or — in flight and not idempotent — ended UNKNOWN, never sent twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"
#include "outbox.h"

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
        cmocka_unit_test(test_backoff_and_dead_letter), cmocka_unit_test(test_refusal_and_success),
        cmocka_unit_test(test_pacing_per_receiver),     cmocka_unit_test(test_restart_semantics),
        cmocka_unit_test(test_trim_and_since),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
