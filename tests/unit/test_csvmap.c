/*
 * test_csvmap — mapping files and rows → events: the mapping's strict validation (messages name
 * the JSON path), the header check, each row rule (times in the export's zone, status outcomes,
 * channel and priority maps, region by column or by polygon, closed before created), and that
 * every event produced passes the event contract.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvmap.h"
#include "event.h"
#include "regions.h"
#include "tz.h"

/* Two square districts side by side: "1" west of lon 0.5, "2" east of it. */
static const char geo[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"name\":\"1\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[0,0],[0.5,0],[0.5,1],[0,1],[0,0]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"name\":\"2\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[0.5,0],[1,0],[1,1],[0.5,1],[0.5,0]]]}}]}";

static const char mapping[] =
    "{\"name\":\"test\",\"id_prefix\":\"t\",\"time_zone\":\"America/Los_Angeles\","
    "\"time_format\":\"%m/%d/%Y %I:%M:%S %p\","
    "\"columns\":{\"order_id\":\"Key\",\"created\":\"Created\",\"closed\":\"Closed\","
    "\"status\":\"Status\",\"category\":\"Type\",\"channel\":\"Source\",\"region\":\"CD\","
    "\"lat\":\"Lat\",\"lon\":\"Lon\",\"resolved_by\":\"Owner\"},"
    "\"status_values\":{\"Closed\":\"closed\",\"Cancelled\":\"cancelled\",\"Open\":\"open\"},"
    "\"channel_values\":{\"Call\":\"phone\",\"*\":\"other\"},"
    "\"priority\":{\"default\":\"general\",\"by_category\":{\"Dead Animal\":\"important\"}}}";

static const char *header[] = {"Key",    "Created", "Closed", "Status", "Type",
                               "Source", "CD",      "Lat",    "Lon",    "Owner"};

typedef struct fixture {
    ow_csvmap *map;
    ow_tz *tz;
    ow_regions *regions;
    ow_csvmap_row row;
} fixture;

static size_t lens_of(const char **f, size_t n, size_t *lens)
{
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(f[i]);
    return n;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    ow_err err;
    assert_int_equal(ow_csvmap_parse(mapping, strlen(mapping), "m.json", &fx->map, &err), OW_OK);
    assert_int_equal(ow_regions_parse(geo, strlen(geo), "g.json", "name", &fx->regions, &err),
                     OW_OK);
    FILE *f = fopen("/usr/share/zoneinfo/America/Los_Angeles", "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(ow_tz_parse(buf, n, "LA", &fx->tz, &err), OW_OK);
    size_t lens[10];
    ow_csv_record h = {.number = 1,
                       .line = 1,
                       .nfields = lens_of(header, 10, lens),
                       .fields = header,
                       .lens = lens};
    assert_int_equal(ow_csvmap_bind(fx->map, &h, "x.csv", &err), OW_OK);
    ow_csvmap_row_init(&fx->row);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    ow_csvmap_row_fini(&fx->row);
    ow_csvmap_free(fx->map);
    ow_tz_free(fx->tz);
    ow_regions_free(fx->regions);
    free(fx);
    return 0;
}

/* Make a row from 10 fields; returns the rc, err in *err. */
static int make(fixture *fx, const char *a, const char *b, const char *c, const char *d,
                const char *e, const char *f, const char *g, const char *h, const char *i,
                const char *j, ow_err *err)
{
    const char *fields[10] = {a, b, c, d, e, f, g, h, i, j};
    size_t lens[10];
    ow_csv_record r = {.number = 2,
                       .line = 2,
                       .nfields = lens_of(fields, 10, lens),
                       .fields = fields,
                       .lens = lens,
                       .raw = "",
                       .raw_len = 0};
    return ow_csvmap_row_make(fx->map, &r, fx->tz, fx->regions, &fx->row, err);
}

static void parse_event(const ow_buf *b, ow_event *ev)
{
    ow_err err;
    if (ow_event_parse(b->p, b->n, ev, &err)) fail_msg("%s: %.*s", err.msg, (int)b->n, b->p);
}

static void test_closed_row(void **state)
{
    fixture *fx = *state;
    ow_err err;
    assert_int_equal(make(fx, "1-1", "12/27/2017 01:36:22 PM", "07/02/2018 09:00:00 AM", "Closed",
                          "Dead Animal", "Call", "2", "0.5", "0.75", "BOS", &err),
                     OW_OK);
    assert_int_equal(fx->row.nevents, 3);
    ow_event ev;
    parse_event(&fx->row.events[0], &ev);
    assert_int_equal(ev.type, OW_EV_ORDER_CREATED);
    assert_int_equal(ev.ts_ms, INT64_C(1514410582000)); /* PST: 21:36:22Z */
    assert_string_equal(ev.id, "t:1-1:created");
    assert_string_equal(ev.order_id, "1-1");
    assert_string_equal(ev.category, "Dead Animal");
    assert_int_equal(ev.priority, OW_PRIO_IMPORTANT);
    assert_int_equal(ev.channel, OW_CH_PHONE);
    assert_string_equal(ev.region, "2");
    assert_true(ev.has_geo);
    parse_event(&fx->row.events[1], &ev);
    assert_int_equal(ev.type, OW_EV_ORDER_RESOLVED);
    assert_int_equal(ev.ts_ms, INT64_C(1530547200000)); /* PDT: 16:00Z */
    assert_string_equal(ev.tech_id, "BOS");
    parse_event(&fx->row.events[2], &ev);
    assert_int_equal(ev.type, OW_EV_ORDER_CLOSED);
    assert_false(fx->row.located);
}

/* A resolver the event contract would refuse (longer than an id, control characters, bad UTF-8)
 * gives way to the default instead of making an event ingest would reject (found by
 * fuzz_csvmap). */
static void test_unusable_resolver(void **state)
{
    fixture *fx = *state;
    ow_err err;
    char long_id[OW_ID_MAX_CHARS + 2];
    memset(long_id, 'H', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const char *bad[] = {long_id, "B\tOS", "B\xff", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(make(fx, "1-2", "12/27/2017 01:36:22 PM", "07/02/2018 09:00:00 AM",
                              "Closed", "Dead Animal", "Call", "2", "0.5", "0.75", bad[i], &err),
                         OW_OK);
        assert_int_equal(fx->row.nevents, 3);
        ow_event ev;
        parse_event(&fx->row.events[1], &ev);
        assert_string_equal(ev.tech_id, "t"); /* the default: the id prefix */
    }
    long_id[OW_ID_MAX_CHARS] = '\0'; /* exactly an id's length: kept */
    assert_int_equal(make(fx, "1-3", "12/27/2017 01:36:22 PM", "07/02/2018 09:00:00 AM", "Closed",
                          "Dead Animal", "Call", "2", "0.5", "0.75", long_id, &err),
                     OW_OK);
    ow_event ev;
    parse_event(&fx->row.events[1], &ev);
    assert_string_equal(ev.tech_id, long_id);
}

static void test_outcomes_and_maps(void **state)
{
    fixture *fx = *state;
    ow_err err;
    ow_event ev;
    /* cancelled, unknown channel → "*", region by polygon (CD empty), priority default */
    assert_int_equal(make(fx, "1-2", "12/27/2017 10:00:00 AM", "12/28/2017 10:00:00 AM",
                          "Cancelled", "Bulky", "Fax", "", "0.5", "0.25", "", &err),
                     OW_OK);
    assert_int_equal(fx->row.nevents, 2);
    assert_true(fx->row.located);
    parse_event(&fx->row.events[0], &ev);
    assert_string_equal(ev.region, "1");
    assert_int_equal(ev.channel, OW_CH_OTHER);
    assert_int_equal(ev.priority, OW_PRIO_GENERAL);
    parse_event(&fx->row.events[1], &ev);
    assert_int_equal(ev.type, OW_EV_ORDER_CANCELLED);
    /* open, no coordinates: counts in its district */
    assert_int_equal(make(fx, "1-3", "12/27/2017 10:00:00 AM", "", "Open", "Bulky", "Call", "1", "",
                          "", "", &err),
                     OW_OK);
    assert_int_equal(fx->row.nevents, 1);
    assert_false(fx->row.has_geo);
    assert_string_equal(fx->row.region, "1");
    /* coordinates outside the named district are kept, and counted */
    assert_int_equal(make(fx, "1-4", "12/27/2017 10:00:00 AM", "", "Open", "Bulky", "Call", "1",
                          "0.5", "0.9", "", &err),
                     OW_OK);
    assert_true(fx->row.outside_region);
}

static void expect_row_error(fixture *fx, int rc, const ow_err *err, const char *needle)
{
    (void)fx;
    assert_int_equal(rc, OW_EINVAL);
    if (!strstr(err->msg, needle)) fail_msg("message \"%s\" lacks \"%s\"", err->msg, needle);
}

static void test_bad_rows(void **state)
{
    fixture *fx = *state;
    ow_err err;
    int rc =
        make(fx, "1-5", "2017-12-27 10:00:00", "", "Open", "Bulky", "Call", "1", "", "", "", &err);
    expect_row_error(fx, rc, &err,
                     "Created: expected a time like \"%m/%d/%Y %I:%M:%S %p\", got "
                     "\"2017-12-27 10:00:00\"");
    rc = make(fx, "1-5", "12/27/2017 10:00:00 AM", "", "Open", "Bulky", "Call", "16", "", "", "",
              &err);
    expect_row_error(fx, rc, &err, "CD: no region of the city's GeoJSON has this name: \"16\"");
    rc = make(fx, "1-5", "12/27/2017 10:00:00 AM", "", "Open", "Bulky", "Call", "", "", "", "",
              &err);
    expect_row_error(fx, rc, &err, "CD: empty, and the row has no coordinates");
    rc = make(fx, "1-5", "12/27/2017 10:00:00 AM", "", "Open", "Bulky", "Call", "", "5", "5", "",
              &err);
    expect_row_error(fx, rc, &err, "lies in no region");
    rc = make(fx, "1-5", "12/27/2017 10:00:00 AM", "12/27/2017 12:00:00 AM", "Closed", "Bulky",
              "Call", "1", "", "", "", &err);
    expect_row_error(fx, rc, &err, "Closed: 12/27/2017 12:00:00 AM is before Created");
    rc = make(fx, "1-5", "12/27/2017 10:00:00 AM", "", "Closed", "Bulky", "Call", "1", "", "", "",
              &err);
    expect_row_error(fx, rc, &err, "Closed: empty, but Status says closed");
    rc = make(fx, "1-5", "12/27/2017 10:00:00 AM", "", "Pending", "Bulky", "Call", "1", "", "", "",
              &err);
    expect_row_error(fx, rc, &err, "Status: value not in the mapping's status_values");
    rc = make(fx, "1-5", "12/27/2017 10:00:00 AM", "", "Open", "", "Call", "1", "", "", "", &err);
    expect_row_error(fx, rc, &err, "Type: expected a category");
    rc = make(fx, "1-5", "12/27/2017 10:00:00 AM", "", "Open", "B", "Call", "1", "91", "0", "",
              &err);
    expect_row_error(fx, rc, &err, "Lat: expected a latitude");
    rc = make(fx, "", "12/27/2017 10:00:00 AM", "", "Open", "B", "Call", "1", "", "", "", &err);
    expect_row_error(fx, rc, &err, "Key: expected an id");
    rc = make(fx, "1-5", "02/30/2017 10:00:00 AM", "", "Open", "B", "Call", "1", "", "", "", &err);
    expect_row_error(fx, rc, &err, "Created: expected a time");
    rc = make(fx, "1-5", "12/27/2017 13:00:00 PM", "", "Open", "B", "Call", "1", "", "", "", &err);
    expect_row_error(fx, rc, &err, "Created: expected a time");
}

static void test_header(void **state)
{
    fixture *fx = *state;
    ow_err err;
    const char *h[] = {"Key", "Created", "Status", "Type", "Source", "CD", "Lat", "Lon", "Owner"};
    size_t lens[9];
    ow_csv_record r = {
        .number = 1, .line = 1, .nfields = lens_of(h, 9, lens), .fields = h, .lens = lens};
    assert_int_equal(ow_csvmap_bind(fx->map, &r, "x.csv", &err), OW_EINVAL);
    assert_non_null(strstr(err.msg, "x.csv: header: no column \"Closed\" (named by m.json: "
                                    "columns.closed); the header has: Key, Created, Status"));
    const char *d[] = {"Key", "Created", "Closed", "Status", "Type", "Source",
                       "CD",  "Lat",     "Lon",    "Owner",  "CD"};
    size_t dl[11];
    ow_csv_record r2 = {
        .number = 1, .line = 1, .nfields = lens_of(d, 11, dl), .fields = d, .lens = dl};
    assert_int_equal(ow_csvmap_bind(fx->map, &r2, "x.csv", &err), OW_EINVAL);
    assert_non_null(strstr(err.msg, "column \"CD\" (columns.region in m.json) appears twice"));
}

static void expect_map_error(const char *text, const char *needle)
{
    ow_csvmap *m = (ow_csvmap *)1;
    ow_err err;
    assert_int_equal(ow_csvmap_parse(text, strlen(text), "m.json", &m, &err), OW_EINVAL);
    assert_null(m);
    if (!strstr(err.msg, needle)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

#define HEAD                                                                                       \
    "{\"name\":\"n\",\"id_prefix\":\"p\",\"time_zone\":\"UTC\",\"time_format\":\"%Y-%m-%d\","

static void test_mapping_errors(void **state)
{
    (void)state;
    expect_map_error("[]", "m.json: (top level): expected an object");
    expect_map_error("{", "m.json: ");
    expect_map_error(HEAD "\"columns\":{\"order_id\":\"a\",\"created\":\"b\"}}",
                     "m.json: columns.category: expected the name of a column of the export, got "
                     "nothing");
    expect_map_error(HEAD "\"columns\":{\"order_id\":\"a\",\"created\":\"b\",\"category\":\"c\","
                          "\"closd\":\"d\"}}",
                     "m.json: columns.closd: unknown key (a typo?)");
    expect_map_error(HEAD "\"columns\":{\"order_id\":\"a\",\"created\":\"b\",\"category\":\"c\","
                          "\"status\":\"s\"},\"status_values\":{\"Done\":\"finished\"}}",
                     "m.json: status_values.Done: expected one of open|resolved|closed|cancelled");
    expect_map_error(HEAD "\"columns\":{\"order_id\":\"a\",\"created\":\"b\",\"category\":\"c\","
                          "\"channel\":\"s\"},\"channel_values\":{\"Call\":\"telephone\"}}",
                     "m.json: channel_values.Call: expected one of phone|app");
    expect_map_error(HEAD "\"columns\":{\"order_id\":\"a\",\"created\":\"b\",\"category\":\"c\"},"
                          "\"priority\":{\"by_category\":{\"x\":\"urgent\"}}}",
                     "m.json: priority.by_category.x: expected one of emergency");
    expect_map_error(HEAD "\"columns\":{\"order_id\":\"a\",\"created\":\"b\",\"category\":\"c\","
                          "\"lat\":\"y\"}}",
                     "lat and lon go together");
    expect_map_error("{\"name\":\"n\",\"id_prefix\":\"p\",\"time_zone\":\"../../etc/passwd\","
                     "\"time_format\":\"%Y-%m-%d\",\"columns\":{}}",
                     "m.json: time_zone: expected a zone name");
    expect_map_error("{\"name\":\"n\",\"id_prefix\":\"p\",\"time_zone\":\"UTC\","
                     "\"time_format\":\"%Y-%m-%d %I:%M\",\"columns\":{}}",
                     "m.json: time_format: expected a format");
    expect_map_error("{\"name\":\"n\",\"id_prefix\":\"p q\",\"time_zone\":\"UTC\","
                     "\"time_format\":\"%Y-%m-%d\",\"columns\":{}}",
                     "m.json: id_prefix: expected letters, digits");
    expect_map_error("{\"id_prefix\":\"p\"}", "m.json: name: expected a non-empty string");
    char over[400];
    snprintf(over, sizeof over,
             "{\"name\":\"n\",\"id_prefix\":\"p\",\"time_zone\":\"UTC\","
             "\"time_format\":\"%%Y-%%m-%%d\",\"resolved_by_default\":\"%0*d\",\"columns\":{}}",
             OW_ID_MAX_CHARS + 1, 0);
    expect_map_error(over, "m.json: resolved_by_default: expected a technician id of 1-128 "
                           "characters without control characters");
}

static void test_time_formats(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(ow_csvmap_time_parse("%Y-%m-%dT%H:%M:%S.%f", "2017-12-27T13:36:22.5", 21, &t),
                     OW_OK);
    assert_int_equal(t, INT64_C(1514381782500));
    assert_int_equal(ow_csvmap_time_parse("%m/%d/%Y %I:%M:%S %p", "12/27/2017 12:00:00 AM", 22, &t),
                     OW_OK);
    assert_int_equal(t, INT64_C(1514332800000)); /* midnight */
    assert_int_equal(ow_csvmap_time_parse("%m/%d/%Y %I:%M:%S %p", "12/27/2017 12:00:00 pm", 22, &t),
                     OW_OK);
    assert_int_equal(t, INT64_C(1514376000000)); /* noon */
    assert_int_equal(ow_csvmap_time_parse("%Y-%m-%d", "2017-12-27 ", 11, &t), OW_EINVAL);
    assert_int_equal(ow_csvmap_time_parse("%Y-%m-%d", "2017-12-", 8, &t), OW_EINVAL);
    assert_int_equal(ow_csvmap_time_parse("%Y-%m-%d", "2016-02-29", 10, &t), OW_OK);
    assert_int_equal(ow_csvmap_time_parse("%Y-%m-%d", "2017-02-29", 10, &t), OW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_closed_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_resolver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcomes_and_maps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header, setup, teardown),
        cmocka_unit_test(test_mapping_errors),
        cmocka_unit_test(test_time_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
