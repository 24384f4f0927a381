/*
 * test_route — where each event type goes on 3 partitions and on one (core/route.c), from real
 * event lines through the codec.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "event.h"
#include "route.h"

static ow_event ev;
static ow_route r;
static ow_partition_table three, one;

static void route(const ow_partition_table *t, const char *line)
{
    ow_err err;
    if (ow_event_parse(line, strlen(line), &ev, &err)) fail_msg("%s: %s", line, err.msg);
    ow_route_event(t, &ev, &r);
}

#define HEAD "{\"v\":1,\"id\":\"e1\",\"ts\":\"2026-11-22T09:00:00+08:00\","

static void setup_tables(void)
{
    ow_partition_table_init(&one, 1);
    ow_partition_table_init(&three, 3);
    const char *tbl = "{\"north\": 2, \"east\": 0}";
    assert_int_equal(ow_partition_table_parse(&three, 3, tbl, strlen(tbl), "t", NULL), OW_OK);
}

static void test_orders(void **state)
{
    (void)state;
    setup_tables();
    route(&three, HEAD "\"type\":\"order.created\",\"order_id\":\"o-1\",\"priority\":\"general\","
                       "\"category\":\"drain\",\"region\":\"north\"}");
    assert_int_equal(r.kind, OW_ROUTE_PARTITION);
    assert_int_equal(r.partition, 2);
    assert_string_equal(r.record_kind, "order");
    assert_string_equal(r.record_id, "o-1");
    route(&three, HEAD "\"type\":\"order.accepted\",\"order_id\":\"o-1\",\"tech_id\":\"T1\"}");
    assert_int_equal(r.kind, OW_ROUTE_LOOKUP);
    assert_string_equal(r.lookup_kind, "order");
    assert_string_equal(r.lookup_id, "o-1");
    assert_int_equal(r.fallback, -1); /* park until created */
    assert_null(r.record_kind);
    route(&three, HEAD "\"type\":\"order.closed\",\"order_id\":\"o-9\"}");
    assert_int_equal(r.kind, OW_ROUTE_LOOKUP);
    /* one partition: straight to 0, nothing recorded */
    route(&one, HEAD "\"type\":\"order.closed\",\"order_id\":\"o-9\"}");
    assert_int_equal(r.kind, OW_ROUTE_PARTITION);
    assert_int_equal(r.partition, 0);
    route(&one, HEAD "\"type\":\"order.created\",\"order_id\":\"o-1\",\"priority\":\"general\","
                     "\"category\":\"drain\",\"region\":\"north\"}");
    assert_int_equal(r.partition, 0);
    assert_null(r.record_kind);
    ow_partition_table_fini(&three);
}

static void test_complaints_and_shared(void **state)
{
    (void)state;
    setup_tables();
    route(&three, HEAD "\"type\":\"complaint.created\",\"complaint_id\":\"c-1\","
                       "\"severity\":\"urgent\",\"category\":\"wait\",\"region\":\"east\"}");
    assert_int_equal(r.kind, OW_ROUTE_PARTITION);
    assert_int_equal(r.partition, 0);
    assert_string_equal(r.record_kind, "complaint");
    route(&three, HEAD "\"type\":\"complaint.created\",\"complaint_id\":\"c-2\","
                       "\"severity\":\"urgent\",\"category\":\"wait\",\"order_id\":\"o-1\"}");
    assert_int_equal(r.kind, OW_ROUTE_LOOKUP);
    assert_string_equal(r.lookup_kind, "order");
    assert_int_equal(r.fallback, (int)(ow_partition_hash("c-2", 3) % 3));
    route(&three, HEAD "\"type\":\"complaint.created\",\"complaint_id\":\"c-3\","
                       "\"severity\":\"normal\",\"category\":\"wait\"}");
    assert_int_equal(r.kind, OW_ROUTE_PARTITION);
    assert_int_equal(r.partition, (int)(ow_partition_hash("c-3", 3) % 3));
    route(&three, HEAD "\"type\":\"complaint.responded\",\"complaint_id\":\"c-3\"}");
    assert_int_equal(r.kind, OW_ROUTE_LOOKUP);
    assert_string_equal(r.lookup_kind, "complaint");
    assert_int_equal(r.fallback, -1);
    route(&three, HEAD "\"type\":\"tech.location\",\"tech_id\":\"T1\",\"lat\":31.2,\"lon\":121.5}");
    assert_int_equal(r.kind, OW_ROUTE_SHARED);
    route(&three, HEAD "\"type\":\"tech.status\",\"tech_id\":\"T1\",\"status\":\"idle\","
                       "\"region\":\"north\"}");
    assert_int_equal(r.kind, OW_ROUTE_SHARED);
    route(&one, HEAD "\"type\":\"parts.stock\",\"depot\":\"d1\",\"sku\":\"s1\",\"qty\":0}");
    assert_int_equal(r.kind, OW_ROUTE_SHARED);
    ow_partition_table_fini(&three);
}

static void test_directory_key(void **state)
{
    (void)state;
    char k[64];
    assert_int_equal(ow_route_directory_key(k, sizeof k, "order", "o-1"), 19);
    assert_string_equal(k, "ops:dir:{order:o-1}");
    assert_int_equal(ow_route_directory_key(k, 10, "order", "o-1"), OW_ETOOBIG);
    assert_string_equal(k, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orders),
        cmocka_unit_test(test_complaints_and_shared),
        cmocka_unit_test(test_directory_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
