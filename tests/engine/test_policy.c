/* SLA policy from configuration: overrides, pause rules, business hours — and their errors,
 * which name the JSON path. Expected values are worked out by hand from the config text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "policy.h"
#include "sla.h"

#define MIN  (60 * INT64_C(1000))
#define HOUR (60 * MIN)

static int load(ow_config *cfg, const char *text, ow_err *err)
{
    ow_config_defaults(cfg);
    return ow_config_parse(cfg, text, strlen(text), "test.json", err);
}

static void test_defaults(void **st)
{
    (void)st;
    ow_config cfg;
    ow_policy p;
    ow_config_defaults(&cfg);
    ow_policy_from_config(&p, &cfg);
    assert_int_equal(p.noverrides, 3);
    assert_int_equal(ow_policy_priority(&p, OW_PRIO_GENERAL, OW_SEG_ELDERLY, "drain", "n"),
                     OW_PRIO_IMPORTANT);
    assert_int_equal(ow_policy_priority(&p, OW_PRIO_EMERGENCY, OW_SEG_PUBLIC, "drain", "n"),
                     OW_PRIO_EMERGENCY);
    assert_int_equal(
        ow_policy_target(&p, OW_PRIO_IMPORTANT, OW_SEG_VIP, "drain", "n", OW_STAGE_ARRIVAL),
        2 * HOUR);
    assert_int_equal(p.pause_stops[OW_PAUSE_AWAITING_PARTS],
                     (1u << OW_STAGE_ARRIVAL) | (1u << OW_STAGE_RESOLUTION));
    assert_null(ow_policy_calendar(&p, OW_STAGE_CALLBACK, "n"));
}

static void test_configured(void **st)
{
    (void)st;
    ow_config cfg;
    ow_policy p;
    ow_err err;
    const char *text =
        "{\"sla\":{\"overrides\":["
        "{\"match\":{\"category\":\"burst_main\"},\"priority\":\"emergency\"},"
        "{\"match\":{\"region\":\"far\",\"segment\":\"standard\"},\"targets\":{\"arrival\":\"6h\"}}"
        ","
        "{\"match\":{\"segment\":\"vip\"},\"scale_pct\":50}],"
        "\"pause\":{\"customer_unavailable\":[\"resolution\"]},"
        "\"business_hours\":{\"stages\":[\"callback\"],\"calendars\":{"
        "\"default\":{\"utc_offset\":\"+08:00\",\"days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"],"
        "\"open\":\"09:00\",\"close\":\"18:00\"},"
        "\"north\":{\"utc_offset\":\"+08:00\",\"days\":[\"sat\",\"sun\"],\"open\":\"10:00\","
        "\"close\":\"24:00\"}}}}}";
    assert_int_equal(load(&cfg, text, &err), 0);
    ow_policy_from_config(&p, &cfg);
    assert_int_equal(ow_policy_priority(&p, OW_PRIO_GENERAL, OW_SEG_STANDARD, "burst_main", "x"),
                     OW_PRIO_EMERGENCY);
    /* elderly no longer raises: the configured list replaces the defaults */
    assert_int_equal(ow_policy_priority(&p, OW_PRIO_GENERAL, OW_SEG_ELDERLY, "drain", "x"),
                     OW_PRIO_GENERAL);
    assert_int_equal(
        ow_policy_target(&p, OW_PRIO_GENERAL, OW_SEG_STANDARD, "drain", "far", OW_STAGE_ARRIVAL),
        6 * HOUR);
    assert_int_equal(
        ow_policy_target(&p, OW_PRIO_GENERAL, OW_SEG_STANDARD, "drain", "near", OW_STAGE_ARRIVAL),
        48 * HOUR);
    assert_int_equal(p.pause_stops[OW_PAUSE_CUSTOMER_UNAVAILABLE], 1u << OW_STAGE_RESOLUTION);
    const ow_calendar *c = ow_policy_calendar(&p, OW_STAGE_CALLBACK, "north");
    assert_non_null(c);
    assert_int_equal(c->weekdays, 0x60);
    assert_int_equal(c->close_min, 1440);
    c = ow_policy_calendar(&p, OW_STAGE_CALLBACK, "south");
    assert_non_null(c);
    assert_int_equal(c->open_min, 540);
    assert_int_equal(c->utc_offset_min, 480);
    assert_null(ow_policy_calendar(&p, OW_STAGE_RESOLUTION, "south"));
    /* the formatted config reads back the same */
    char *out = ow_config_format(&cfg);
    ow_config again;
    assert_int_equal(load(&again, out, &err), 0);
    assert_int_equal(again.sla.noverrides, 3);
    assert_int_equal(again.sla.ncalendars, 2);
    assert_memory_equal(&again.sla, &cfg.sla, sizeof cfg.sla);
    free(out);
}

static void expect_error(const char *text, const char *want)
{
    ow_config cfg;
    ow_err err;
    assert_int_equal(load(&cfg, text, &err), OW_EINVAL);
    if (!strstr(err.msg, want)) fail_msg("want \"%s\" in \"%s\"", want, err.msg);
}

/* An order class with no dispatch (a city's 311 requests): only the listed stages run. */
static void test_stages_per_class(void **st)
{
    (void)st;
    ow_config cfg;
    ow_policy p;
    ow_err err;
    const char *text = "{\"sla\":{\"overrides\":["
                       "{\"match\":{\"category\":\"Graffiti\"},\"stages\":[\"resolution\"],"
                       "\"targets\":{\"resolution\":\"3d\"}},"
                       "{\"match\":{\"category\":\"Graffiti\"},\"stages\":[\"dispatch\"]},"
                       "{\"match\":{},\"stages\":[\"resolution\",\"callback\"]}]}}";
    assert_int_equal(load(&cfg, text, &err), OW_OK);
    ow_policy_from_config(&p, &cfg);
    for (int s = 0; s < OW_STAGE__ORDER_COUNT; s++) {
        int64_t t =
            ow_policy_target(&p, OW_PRIO_GENERAL, OW_SEG_STANDARD, "Graffiti", "1", (ow_stage)s);
        /* the first matching list decides: the second Graffiti override does not add dispatch */
        assert_int_equal(t, s == OW_STAGE_RESOLUTION ? 72 * HOUR : 0);
    }
    /* another category: the catch-all list, with the priority's own targets */
    assert_int_equal(
        ow_policy_target(&p, OW_PRIO_GENERAL, OW_SEG_STANDARD, "Bulky", "1", OW_STAGE_DISPATCH), 0);
    assert_int_equal(
        ow_policy_target(&p, OW_PRIO_GENERAL, OW_SEG_STANDARD, "Bulky", "1", OW_STAGE_CALLBACK),
        24 * HOUR);
    /* the list survives formatting and parsing back */
    char *again = ow_config_format(&cfg);
    ow_config cfg2;
    assert_int_equal(load(&cfg2, again, &err), OW_OK);
    free(again);
    assert_memory_equal(&cfg.sla.overrides, &cfg2.sla.overrides, sizeof cfg.sla.overrides);
    /* and a bad stage name is refused with its path */
    assert_int_equal(load(&cfg, "{\"sla\":{\"overrides\":[{\"stages\":[\"arival\"]}]}}", &err),
                     OW_EINVAL);
    assert_non_null(strstr(err.msg, "sla.overrides[0].stages[0]: expected one of dispatch"));
}

static void test_errors_name_the_path(void **st)
{
    (void)st;
    expect_error("{\"sla\":{\"overrides\":[{\"match\":{\"segment\":\"vvip\"}}]}}",
                 "sla.overrides[0].match.segment: expected one of "
                 "standard|vip|elderly|enterprise|public, got \"vvip\"");
    expect_error("{\"sla\":{\"overrides\":[{},{\"priority\":\"urgent\"}]}}",
                 "sla.overrides[1].priority: expected one of emergency|important|general");
    expect_error("{\"sla\":{\"overrides\":[{\"targets\":{\"arival\":\"1h\"}}]}}",
                 "sla.overrides[0].targets.arival: unknown stage");
    expect_error("{\"sla\":{\"overrides\":[{\"targets\":{\"arrival\":\"soon\"}}]}}",
                 "sla.overrides[0].targets.arrival: expected a duration");
    expect_error("{\"sla\":{\"overrides\":[{\"mtach\":{}}]}}",
                 "sla.overrides[0].mtach: unknown key");
    expect_error("{\"sla\":{\"overrides\":{}}}", "sla.overrides: expected an array of overrides");
    expect_error(
        "{\"sla\":{\"pause\":{\"other\":[\"arrival\",\"lunch\"]}}}",
        "sla.pause.other[1]: expected one of dispatch|accept|response|arrival|resolution|callback");
    expect_error(
        "{\"sla\":{\"business_hours\":{\"calendars\":{\"north\":{\"utc_offset\":\"8\","
        "\"days\":[\"mon\"],\"open\":\"09:00\",\"close\":\"18:00\"}}}}}",
        "sla.business_hours.calendars.north.utc_offset: expected a UTC offset like \"+08:00\"");
    expect_error(
        "{\"sla\":{\"business_hours\":{\"calendars\":{\"north\":{\"utc_offset\":\"+08:00\","
        "\"days\":[\"mon\"],\"open\":\"18:00\",\"close\":\"09:00\"}}}}}",
        "sla.business_hours.calendars.north.close: expected a time like \"18:00\", after open");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_configured),
        cmocka_unit_test(test_errors_name_the_path),
        cmocka_unit_test(test_stages_per_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
