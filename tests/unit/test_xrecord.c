/*
 * test_xrecord — the shared stream's cross-partition records (core/xrecord.c): which events carry
 * one, the round trip from real event lines, and malformed, wrong-typed, oversized and hostile
 * records refused with a message naming the member.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "xrecord.h"

static ow_event ev;
static ow_xrec x;

#define HEAD "{\"v\":1,\"id\":\"e1\",\"ts\":\"2026-11-22T09:00:00+08:00\","

static void parse(const char *line)
{
    ow_err err;
    if (ow_event_parse(line, strlen(line), &ev, &err)) fail_msg("%s: %s", line, err.msg);
}

/* Encode the event as routed to partition p, decode the bytes; returns the text (static). */
static const char *round_trip(int p)
{
    static char text[4096];
    ow_buf b;
    ow_buf_init(&b);
    assert_int_equal(ow_xrec_encode(&ev, p, &b), OW_OK);
    assert_true(b.n < sizeof text);
    memcpy(text, b.p, b.n + 1);
    ow_buf_fini(&b);
    assert_true(ow_xrec_is(text, strlen(text)));
    ow_err err;
    if (ow_xrec_decode(text, strlen(text), &x, &err)) fail_msg("%s: %s", text, err.msg);
    assert_int_equal(x.partition, p);
    assert_int_equal(x.type, ev.type);
    assert_int_equal(x.ts_ms, ev.ts_ms);
    return text;
}

static void test_wanted(void **state)
{
    (void)state;
    parse(HEAD "\"type\":\"order.created\",\"order_id\":\"A\",\"priority\":\"general\","
               "\"category\":\"leak\",\"region\":\"north\"}");
    assert_false(ow_xrec_wanted(&ev)); /* no place, no address: never a pair's member */
    parse(HEAD "\"type\":\"order.accepted\",\"order_id\":\"A\",\"tech_id\":\"T1\"}");
    assert_false(ow_xrec_wanted(&ev));
    parse(HEAD "\"type\":\"tech.status\",\"tech_id\":\"T1\",\"status\":\"idle\"}");
    assert_false(ow_xrec_wanted(&ev));
    parse(HEAD "\"type\":\"complaint.responded\",\"complaint_id\":\"K\"}");
    assert_false(ow_xrec_wanted(&ev));
    parse(HEAD "\"type\":\"order.cancelled\",\"order_id\":\"A\"}");
    assert_true(ow_xrec_wanted(&ev));
}

static void test_round_trip(void **state)
{
    (void)state;
    parse(HEAD "\"type\":\"order.created\",\"order_id\":\"SO-\\\"1\\\"\",\"priority\":\"general\","
               "\"category\":\"leak\",\"region\":\"老城厢\",\"lat\":31.241234567891,"
               "\"lon\":121.485612345678,\"address\":\"文庙路18号\"}");
    assert_true(ow_xrec_wanted(&ev));
    round_trip(2);
    assert_int_equal(x.kind, OW_XREC_ORDER);
    assert_string_equal(x.id, "SO-\"1\"");
    assert_string_equal(x.region, "老城厢");
    assert_true(x.has_geo && x.has_address);
    assert_true(x.lat == ev.lat && x.lon == ev.lon); /* exact: the same doubles */
    assert_true(x.address_key == ev.address_key);
    parse(HEAD "\"type\":\"order.dispatched\",\"order_id\":\"A\",\"tech_id\":\"T 9\"}");
    assert_string_equal(round_trip(0),
                        "[\"o\",0,\"order.dispatched\",1795309200000,\"A\",\"T 9\"]");
    assert_string_equal(x.tech, "T 9");
    parse(HEAD "\"type\":\"complaint.created\",\"complaint_id\":\"K1\",\"severity\":\"normal\","
               "\"category\":\"billing\"}");
    round_trip(1);
    assert_int_equal(x.kind, OW_XREC_COMPLAINT);
    assert_string_equal(x.category, "billing");
}

static void refused(const char *text, const char *needle)
{
    ow_err err;
    int rc = ow_xrec_decode(text, strlen(text), &x, &err);
    if (rc == OW_OK) fail_msg("accepted: %s", text);
    if (!strstr(err.msg, needle)) fail_msg("%s: message %s lacks %s", text, err.msg, needle);
}

static void test_refused(void **state)
{
    (void)state;
    refused("", "");
    refused("{\"o\":1}", "expected '[' first");
    refused(" [\"o\",0,\"order.resolved\",1,\"A\"]", "expected '[' first");
    refused("[1]]", "");
    refused("[\"o\",0,\"order.resolved\",1]", "at least 5");
    refused("[\"x\",0,\"order.resolved\",1,\"A\"]", "member 0");
    refused("[\"o\",-1,\"order.resolved\",1,\"A\"]", "member 1");
    refused("[\"o\",4096,\"order.resolved\",1,\"A\"]", "member 1");
    refused("[\"o\",\"0\",\"order.resolved\",1,\"A\"]", "member 1");
    refused("[\"o\",0,\"order.nope\",1,\"A\"]", "unknown event type");
    refused("[\"o\",0,\"order.accepted\",1,\"A\"]", "not a type");
    refused("[\"c\",0,\"order.resolved\",1,\"A\"]", "not a type");
    refused("[\"o\",0,\"complaint.created\",1,\"A\",\"b\"]", "not a type");
    refused("[\"o\",0,\"order.resolved\",1.5,\"A\"]", "member 3");
    refused("[\"o\",0,\"order.resolved\",1,\"\"]", "member 4: empty");
    refused("[\"o\",0,\"order.resolved\",1,\"A\\u0001\"]", "control character");
    refused("[\"o\",0,\"order.resolved\",1,\"A\",\"extra\"]", "6 members, 5 expected");
    refused("[\"o\",0,\"order.dispatched\",1,\"A\",7]", "member 5");
    refused("[\"o\",0,\"order.created\",1,\"A\",\"c\",\"r\",181,10,null]", "member 7");
    refused("[\"o\",0,\"order.created\",1,\"A\",\"c\",\"r\",1,91,null]", "member 8");
    refused("[\"o\",0,\"order.created\",1,\"A\",\"c\",\"r\",1,null,null]", "go together");
    refused("[\"o\",0,\"order.created\",1,\"A\",\"c\",\"r\",null,null,null]", "a place");
    refused("[\"o\",0,\"order.created\",1,\"A\",\"c\",\"r\",null,null,\"0123\"]", "16 lower-case");
    refused("[\"o\",0,\"order.resolved\",1,\"A\"] x", ""); /* trailing bytes */
    refused("[\"o\",0,\"order.resolved\",1,[\"A\"]]", "member 4");
    /* an id longer than any event's */
    char *big = malloc(OW_ID_BUF + 64);
    assert_non_null(big);
    int n = snprintf(big, 64, "[\"o\",0,\"order.resolved\",1,\"");
    memset(big + n, 'a', OW_ID_BUF);
    strcpy(big + n + OW_ID_BUF, "\"]");
    refused(big, "too long");
    free(big);
    /* oversized */
    size_t huge = OW_XREC_MAX_BYTES + 10;
    char *h = malloc(huge + 1);
    assert_non_null(h);
    memset(h, ' ', huge);
    h[0] = '[';
    h[huge - 1] = ']';
    h[huge] = '\0';
    ow_err err;
    assert_int_equal(ow_xrec_decode(h, huge, &x, &err), OW_ETOOBIG);
    free(h);
    assert_int_equal(ow_xrec_decode("[", 1, &x, NULL), OW_EINVAL); /* NULL err */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wanted),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
