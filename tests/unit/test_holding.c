/*
 * test_holding — the shared stream's holding records (core/holding): made from order events,
 * formatted and parsed back, and malformed, oversized, wrong-typed and hostile text refused with
 * a message naming the field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "holding.h"

static void parse_ok(const char *text, ow_holding *h)
{
    ow_err err;
    if (ow_holding_parse(text, strlen(text), h, &err)) fail_msg("%s: %s", text, err.msg);
}

static void refused(const char *text, size_t len, const char *needle)
{
    ow_holding h;
    ow_err err;
    assert_int_equal(ow_holding_parse(text, len, &h, &err), OW_EINVAL);
    if (!strstr(err.msg, needle)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}
#define REFUSED(lit, needle) refused(lit, sizeof lit - 1, needle)

static void test_from_event(void **st)
{
    (void)st;
    ow_event ev;
    ow_err err;
    const char *line = "{\"v\":1,\"id\":\"e1\",\"ts\":\"2026-11-22T08:07:10+08:00\",\"type\":"
                       "\"order.dispatched\",\"order_id\":\"SO-1001\",\"tech_id\":\"T104\"}";
    assert_int_equal(ow_event_parse(line, strlen(line), &ev, &err), 0);
    ow_holding h, back;
    assert_int_equal(ow_holding_from_event(&ev, 2, &h), 0);
    char text[OW_HOLDING_MAX];
    int n = ow_holding_format(&h, text, sizeof text);
    assert_string_equal(text, "H\t2\torder.dispatched\t1795306030000\tSO-1001\tT104");
    assert_int_equal(n, (int)strlen(text));
    assert_true(ow_holding_is(text, (size_t)n));
    assert_false(ow_holding_is(line, strlen(line)));
    parse_ok(text, &back);
    assert_int_equal(back.partition, 2);
    assert_int_equal(back.type, OW_EV_ORDER_DISPATCHED);
    assert_int_equal(back.ts_ms, ev.ts_ms);
    assert_string_equal(back.order_id, "SO-1001");
    assert_string_equal(back.tech_id, "T104");
    /* a resolution names no technician in its record, even when the event does */
    const char *res = "{\"v\":1,\"id\":\"e2\",\"ts\":\"2026-11-22T09:00:00Z\",\"type\":"
                      "\"order.resolved\",\"order_id\":\"SO-1001\",\"tech_id\":\"T104\"}";
    assert_int_equal(ow_event_parse(res, strlen(res), &ev, &err), 0);
    assert_int_equal(ow_holding_from_event(&ev, 0, &h), 0);
    ow_holding_format(&h, text, sizeof text);
    assert_string_equal(text, "H\t0\torder.resolved\t1795338000000\tSO-1001\t");
    /* not an order event: no record */
    const char *loc = "{\"v\":1,\"id\":\"e3\",\"ts\":\"2026-11-22T09:00:00Z\",\"type\":"
                      "\"tech.location\",\"tech_id\":\"T104\",\"lat\":31.2,\"lon\":121.4}";
    assert_int_equal(ow_event_parse(loc, strlen(loc), &ev, &err), 0);
    assert_int_equal(ow_holding_from_event(&ev, 0, &h), OW_EINVAL);
    /* too small a buffer */
    assert_int_equal(ow_holding_format(&back, text, 10), -1);
}

static void test_longest(void **st)
{
    (void)st;
    ow_holding h = {
        .partition = 1023, .type = OW_EV_ORDER_DISPATCHED, .ts_ms = -(INT64_C(1) << 50)};
    memset(h.order_id, 'o', OW_ID_BUF - 1);
    h.order_id[OW_ID_BUF - 1] = '\0';
    memset(h.tech_id, 't', OW_ID_BUF - 1);
    h.tech_id[OW_ID_BUF - 1] = '\0';
    char text[OW_HOLDING_MAX];
    int n = ow_holding_format(&h, text, sizeof text);
    assert_true(n > 0);
    ow_holding back;
    parse_ok(text, &back);
    assert_int_equal(back.ts_ms, h.ts_ms);
    assert_string_equal(back.tech_id, h.tech_id);
    /* the de-dup mark of the longest event id fits a buffer of OW_ID_BUF + 8 */
    char mark[OW_ID_BUF + 8];
    assert_true(ow_holding_mark(h.order_id, mark, sizeof mark) > 0);
    assert_non_null(strstr(mark, "\thold"));
    assert_int_equal(ow_holding_mark(h.order_id, mark, 10), -1);
}

static void test_refused(void **st)
{
    (void)st;
    REFUSED("", "field 2 (partition): missing");
    REFUSED("{\"v\":1}", "field 2 (partition): missing");
    REFUSED("X\t1\torder.created\t1\tA\t", "field 1 (H): expected H");
    REFUSED("H\t1\torder.created\t1\tA", "field 6 (tech_id): missing");
    REFUSED("H\t1\torder.created\t1\tA\t\t", "more fields than six");
    REFUSED("H\t-1\torder.created\t1\tA\t", "field 2 (partition)");
    REFUSED("H\t1024\torder.created\t1\tA\t", "field 2 (partition)");
    REFUSED("H\t1x\torder.created\t1\tA\t", "field 2 (partition)");
    REFUSED("H\t\torder.created\t1\tA\t", "field 2 (partition)");
    REFUSED("H\t99999999999999999999\torder.created\t1\tA\t", "field 2 (partition)");
    REFUSED("H\t1\ttech.status\t1\tA\t", "field 3 (type): expected an order event type");
    REFUSED("H\t1\torder.createdxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\t1\tA\t", "field 3 (type)");
    REFUSED("H\t1\torder.created\t1125899906842625\tA\t", "field 4 (ts)");
    REFUSED("H\t1\torder.created\t-\tA\t", "field 4 (ts)");
    REFUSED("H\t1\torder.created\t1.5\tA\t", "field 4 (ts)");
    REFUSED("H\t1\torder.created\t1\t\t", "field 5 (order_id)");
    REFUSED("H\t1\torder.created\t1\tA\x01\t", "field 5 (order_id)");
    REFUSED("H\t1\torder.created\t1\tA\tT1", "field 6 (tech_id): expected nothing");
    REFUSED("H\t1\torder.accepted\t1\tA\t", "field 6 (tech_id): expected the technician");
    REFUSED("H\t1\torder.accepted\t1\tA\tT\x7f", "field 6 (tech_id)");
    REFUSED("H\t1\torder.accepted\t1\tA\tT\0x", "field 6 (tech_id)");
    /* an id longer than any event can carry */
    char big[2 * OW_ID_BUF + 64];
    int n = snprintf(big, sizeof big, "H\t1\torder.created\t1\t");
    memset(big + n, 'a', OW_ID_BUF);
    big[n + OW_ID_BUF] = '\t';
    refused(big, (size_t)n + OW_ID_BUF + 1, "field 5 (order_id)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_event),
        cmocka_unit_test(test_longest),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
