/*
 * Checkpoint: a state saved and loaded behaves exactly like the state that never stopped, and
 * damaged bytes are refused with a message, never half-loaded.
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
#include "state.h"
#include "timefmt.h"

static ow_config cfg;
static ow_policy pol;

/* A deterministic mixed workload: orders through their lifecycles with pauses, re-dispatches,
 * reopens, cancellations; complaints; technicians. Event i of n. */
static void make_event(uint32_t i, ow_event *ev)
{
    static const char *const prios[] = {"emergency", "important", "general"};
    static const char *const segs[] = {"standard", "vip", "public", "elderly"};
    uint32_t order = i / 10, step = i % 10;
    int64_t t0 = 1795309200000 + (int64_t)order * 37000; /* a new order every 37 s */
    int64_t ts = t0 + (int64_t)step * (90000 + (order % 7) * 60000);
    char line[512], tsx[OW_TIME_TEXT_MAX];
    ow_time_format(ts, tsx);
    char fields[256];
    const char *type;
    snprintf(fields, sizeof fields, "\"order_id\":\"o%u\",\"tech_id\":\"t%u\"", order, order % 13);
    switch (step) {
    case 0:
        type = "order.created";
        snprintf(fields, sizeof fields,
                 "\"order_id\":\"o%u\",\"priority\":\"%s\",\"segment\":\"%s\",\"category\":\"c%u\","
                 "\"region\":\"r%u\"",
                 order, prios[order % 3], segs[order % 4], order % 5, order % 4);
        break;
    case 1: type = "order.dispatched"; break;
    case 2: type = order % 3 ? "order.accepted" : "order.dispatched"; break;
    case 3:
        type = order % 5 == 1 ? "order.paused" : "order.departed";
        if (order % 5 == 1)
            snprintf(fields, sizeof fields, "\"order_id\":\"o%u\",\"reason\":\"awaiting_parts\"",
                     order);
        break;
    case 4:
        type = order % 5 == 1 ? "order.resumed" : "order.arrived";
        if (order % 5 == 1) snprintf(fields, sizeof fields, "\"order_id\":\"o%u\"", order);
        break;
    case 5:
        type = order % 11 == 3 ? "order.cancelled" : "order.resolved";
        if (order % 11 == 3) snprintf(fields, sizeof fields, "\"order_id\":\"o%u\"", order);
        break;
    case 6:
        type = "complaint.created";
        snprintf(fields, sizeof fields,
                 "\"complaint_id\":\"k%u\",\"severity\":\"%s\",\"category\":\"late\",\"order_id\":"
                 "\"o%u\"",
                 order, order % 2 ? "urgent" : "normal", order);
        break;
    case 7:
        type = order % 4 ? "order.reopened" : "order.callback";
        if (order % 4)
            snprintf(fields, sizeof fields, "\"order_id\":\"o%u\"", order);
        else
            snprintf(fields, sizeof fields, "\"order_id\":\"o%u\",\"score\":4", order);
        break;
    case 8:
        type = "tech.status";
        snprintf(fields, sizeof fields,
                 "\"tech_id\":\"t%u\",\"status\":\"idle\",\"region\":\"r%u\"", order % 13,
                 order % 4);
        break;
    default:
        type = order % 2 ? "complaint.responded" : "tech.location";
        if (order % 2)
            snprintf(fields, sizeof fields, "\"complaint_id\":\"k%u\"", order);
        else
            snprintf(fields, sizeof fields, "\"tech_id\":\"t%u\",\"lat\":31.2,\"lon\":121.5",
                     order % 13);
        break;
    }
    snprintf(line, sizeof line, "{\"v\":1,\"id\":\"e%u\",\"ts\":\"%s\",\"type\":\"%s\",%s}", i, tsx,
             type, fields);
    ow_err err;
    if (ow_event_parse(line, strlen(line), ev, &err))
        fail_msg("bad test event %s: %s", line, err.msg);
}

/* Apply events [from, to) in event time; append every alert record as text to log. */
static void run(ow_state *s, uint32_t from, uint32_t to, char **log, size_t *len)
{
    ow_event *ev = malloc(sizeof *ev);
    for (uint32_t i = from; i < to; i++) {
        make_event(i, ev);
        assert_true(ow_state_apply(s, ev) >= 0);
        assert_true(ow_state_advance(s, ow_state_totals_get(s)->last_event_ms) >= 0);
        size_t n;
        const ow_alert *a = ow_state_outbox(s, &n);
        for (size_t k = 0; k < n; k++) {
            char *j = ow_alert_format(&a[k], NULL);
            size_t jl = strlen(j);
            *log = realloc(*log, *len + jl + 2);
            memcpy(*log + *len, j, jl);
            (*log)[*len + jl] = '\n';
            *len += jl + 1;
            (*log)[*len] = '\0';
            free(j);
        }
        ow_state_outbox_clear(s);
    }
    free(ev);
}

static void test_roundtrip_behaves_identically(void **st)
{
    (void)st;
    const uint32_t n = 6000, cut = 3337;
    ow_state *a = ow_state_new(&pol);
    char *log_a = calloc(1, 1), *log_b = calloc(1, 1), *ignored = calloc(1, 1);
    size_t la = 0, lb = 0, li = 0;
    run(a, 0, cut, &ignored, &li);
    char *bytes, cursor[OW_CHECKPOINT_CURSOR_MAX];
    size_t blen;
    ow_err err;
    assert_int_equal(ow_checkpoint_save(a, "1795309200000-7", &bytes, &blen, &err), 0);
    ow_state *b = NULL;
    assert_int_equal(ow_checkpoint_load(&pol, bytes, blen, &b, cursor, &err), 0);
    assert_string_equal(cursor, "1795309200000-7");
    char *snap_a = ow_picture_snapshot(a, 1, 0, OW_MODE_REPLAY);
    char *snap_b = ow_picture_snapshot(b, 1, 0, OW_MODE_REPLAY);
    assert_string_equal(snap_a, snap_b);
    free(snap_a), free(snap_b);
    assert_true(ow_state_totals_get(a)->alerts_raised > 100); /* the workload raises alerts */

    run(a, cut, n, &log_a, &la);
    run(b, cut, n, &log_b, &lb);
    assert_true(la > 0);
    assert_string_equal(log_a, log_b);
    snap_a = ow_picture_snapshot(a, 9, 0, OW_MODE_REPLAY);
    snap_b = ow_picture_snapshot(b, 9, 0, OW_MODE_REPLAY);
    assert_string_equal(snap_a, snap_b);
    /* a second save of the loaded state loads again */
    char *bytes2;
    size_t blen2;
    assert_int_equal(ow_checkpoint_save(b, "x", &bytes2, &blen2, &err), 0);
    ow_state *c = NULL;
    assert_int_equal(ow_checkpoint_load(&pol, bytes2, blen2, &c, cursor, &err), 0);
    ow_state_free(c);
    free(bytes2);
    free(snap_a), free(snap_b), free(bytes), free(log_a), free(log_b), free(ignored);
    ow_state_free(a);
    ow_state_free(b);
}

static void test_damaged_bytes_are_refused(void **st)
{
    (void)st;
    ow_state *a = ow_state_new(&pol);
    char *log = calloc(1, 1);
    size_t l = 0;
    run(a, 0, 400, &log, &l);
    char *bytes, cursor[OW_CHECKPOINT_CURSOR_MAX];
    size_t blen;
    ow_err err;
    assert_int_equal(ow_checkpoint_save(a, "c", &bytes, &blen, &err), 0);
    ow_state *b = NULL;
    /* every truncation is refused */
    for (size_t cut = 0; cut < blen; cut += 1 + cut / 50) {
        assert_int_equal(ow_checkpoint_load(&pol, bytes, cut, &b, cursor, &err), OW_EINVAL);
        assert_non_null(strstr(err.msg, "checkpoint:"));
    }
    /* trailing garbage */
    char *longer = malloc(blen + 1);
    memcpy(longer, bytes, blen);
    longer[blen] = 'x';
    assert_int_equal(ow_checkpoint_load(&pol, longer, blen + 1, &b, cursor, &err), OW_EINVAL);
    assert_non_null(strstr(err.msg, "unexpected bytes at the end"));
    /* flipped bytes: refused or loaded, never a crash (the sanitizer build checks memory) */
    for (size_t i = 8; i < blen; i += 7) {
        memcpy(longer, bytes, blen);
        longer[i] ^= 0x5a;
        if (ow_checkpoint_load(&pol, longer, blen, &b, cursor, &err) == 0) ow_state_free(b);
    }
    assert_int_equal(ow_checkpoint_load(&pol, "OWCK", 4, &b, cursor, &err), OW_EINVAL);
    free(longer);
    free(bytes);
    free(log);
    ow_state_free(a);
}

/* engine.checkpoint_interval 5 s for up to 4 MiB; a 12 MiB checkpoint (an alert storm's) every
 * 15 s, a 1 GiB one every 1280 s; unknown size or a small one: the interval itself. */
static void test_wait_stretches_with_size(void **st)
{
    (void)st;
    const int64_t mib = 1024 * 1024;
    assert_int_equal(ow_checkpoint_wait_ms(5000, 4 * mib, 0), 5000);
    assert_int_equal(ow_checkpoint_wait_ms(5000, 4 * mib, 100000), 5000);
    assert_int_equal(ow_checkpoint_wait_ms(5000, 4 * mib, 4 * mib), 5000);
    assert_int_equal(ow_checkpoint_wait_ms(5000, 4 * mib, 5 * mib), 6250);
    assert_int_equal(ow_checkpoint_wait_ms(5000, 4 * mib, 12 * mib), 15000);
    assert_int_equal(ow_checkpoint_wait_ms(5000, 4 * mib, 1024 * mib), 1280000);
    /* a hostile size from Redis cannot overflow the instant it is added to */
    assert_true(ow_checkpoint_wait_ms(3600000, 4096, INT64_MAX) <= INT64_MAX / 2);
}

int main(void)
{
    ow_config_defaults(&cfg);
    ow_policy_from_config(&pol, &cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_behaves_identically),
        cmocka_unit_test(test_damaged_bytes_are_refused),
        cmocka_unit_test(test_wait_stretches_with_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
