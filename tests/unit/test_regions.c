/* regions: GeoJSON loading, point-in-polygon with holes, distance and projection.
 * Expected places come from outside the program: LA City Hall is in council district 14, and
 * Marina del Rey (unincorporated county land) is a hole in district 11. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "regions.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static ow_regions *load_file(const char *rel, const char *prop)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", OPSWALL_SOURCE_DIR, rel);
    size_t len;
    char *text = slurp(path, &len);
    ow_regions *rs = NULL;
    ow_err err;
    int rc = ow_regions_parse(text, len, rel, prop, &rs, &err);
    free(text);
    if (rc) fail_msg("%s", err.msg);
    return rs;
}

static void test_la_districts(void **state)
{
    (void)state;
    ow_regions *rs = load_file("assets/cities/la311/la-city-council-districts-2012.json", "name");
    assert_int_equal(rs->n, 15);
    for (int d = 1; d <= 15; d++) {
        char id[8];
        snprintf(id, sizeof id, "%d", d);
        int i = ow_regions_find(rs, id);
        assert_true(i >= 0);
        /* every label point lies in its own district */
        assert_int_equal(ow_regions_locate(rs, rs->v[i].center.lon, rs->v[i].center.lat), i);
        assert_true(rs->v[i].area_m2 > 1e6);
    }
    int city_hall = ow_regions_locate(rs, -118.2427, 34.0537);
    assert_true(city_hall >= 0);
    assert_string_equal(rs->v[city_hall].id, "14");
    assert_int_equal(ow_regions_locate(rs, -118.4513, 33.9776), -1); /* Marina del Rey */
    assert_int_equal(ow_regions_locate(rs, -118.4085, 33.9416),
                     ow_regions_find(rs, "11"));               /* LAX */
    assert_int_equal(ow_regions_locate(rs, -117.0, 34.0), -1); /* far east of the city */
    /* the city spans about 0.5 degrees each way around -118.4, 34.0 */
    assert_true(rs->bbox[0] > -118.7 && rs->bbox[0] < -118.6);
    assert_true(rs->bbox[2] > -118.2 && rs->bbox[2] < -118.1);
    assert_true(rs->bbox[1] > 33.6 && rs->bbox[1] < 33.8);
    assert_true(rs->bbox[3] > 34.3 && rs->bbox[3] < 34.4);
    ow_regions_free(rs);
}

static void test_sample_city(void **state)
{
    (void)state;
    ow_regions *rs = load_file("assets/cities/sample/regions.geojson", "id");
    assert_true(rs->n >= 4);
    int north = ow_regions_find(rs, "north");
    assert_true(north >= 0);
    assert_string_equal(rs->v[north].name_zh, "北苑区");
    assert_string_equal(rs->v[north].name_en, "Beiyuan (North)");
    assert_int_equal(ow_regions_locate(rs, 121.35, 31.35), north);
    ow_regions_free(rs);
}

/* A square with a square hole, as a Polygon, and a MultiPolygon of two islands. */
#define SQUARE_WITH_HOLE                                                                           \
    "[[[0,0],[0.1,0],[0.1,0.1],[0,0.1],[0,0]],[[0.04,0.04],[0.06,0.04],[0.06,0.06],[0.04,0.06],"   \
    "[0.04,0.04]]]"
#define TWO_ISLANDS "[[[[1,1],[1.1,1],[1.1,1.1],[1,1]]],[[[2,2],[2.1,2],[2.1,2.1],[2,2]]]]"

static ow_regions *parse(const char *features, const char *prop, ow_err *err)
{
    char text[4096];
    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s]}", features);
    ow_regions *rs = NULL;
    ow_err_clear(err);
    ow_regions_parse(text, strlen(text), "city.geojson", prop, &rs, err);
    return rs;
}

static void test_holes_and_multipolygons(void **state)
{
    (void)state;
    ow_err err;
    ow_regions *rs = parse("{\"type\":\"Feature\",\"properties\":{\"id\":\"ring\"},\"geometry\":{"
                           "\"type\":\"Polygon\",\"coordinates\":" SQUARE_WITH_HOLE "}},"
                           "{\"type\":\"Feature\",\"properties\":{\"id\":7},\"geometry\":{"
                           "\"type\":\"MultiPolygon\",\"coordinates\":" TWO_ISLANDS "}}",
                           "id", &err);
    if (!rs) fail_msg("%s", err.msg);
    assert_int_equal(rs->n, 2);
    assert_string_equal(rs->v[1].id, "7"); /* integer names become text */
    assert_string_equal(rs->v[0].name_en, "ring");
    assert_int_equal(ow_regions_locate(rs, 0.02, 0.02), 0);
    assert_int_equal(ow_regions_locate(rs, 0.05, 0.05), -1); /* in the hole */
    assert_int_equal(ow_regions_locate(rs, 1.08, 1.02), 1);
    assert_int_equal(ow_regions_locate(rs, 2.08, 2.02), 1);
    assert_int_equal(ow_regions_locate(rs, 1.5, 1.5), -1);
    /* the label point avoids the hole */
    assert_int_equal(ow_regions_locate(rs, rs->v[0].center.lon, rs->v[0].center.lat), 0);
    assert_true(rs->bbox[0] == 0 && rs->bbox[3] == 2.1);
    ow_regions_free(rs);
}

static void expect(const char *features, const char *msg)
{
    ow_err err;
    ow_regions *rs = parse(features, "id", &err);
    assert_null(rs);
    if (!strstr(err.msg, msg)) fail_msg("want: %s\n got: %s", msg, err.msg);
}

#define F(props, geom) "{\"type\":\"Feature\",\"properties\":" props ",\"geometry\":" geom "}"
#define POLY(c)        "{\"type\":\"Polygon\",\"coordinates\":" c "}"
#define OK_RING        "[[[0,0],[1,0],[1,1],[0,0]]]"

static void test_errors(void **state)
{
    (void)state;
    expect(F("{\"id\":\"a\"}", POLY("[[[0,0],[1,0],[1,1],[0,1]]]")),
           "city.geojson: features[0] (\"a\"): geometry.coordinates[0]: ring is not closed: "
           "first position [0, 0], last [0, 1]; repeat the first position at the end");
    expect(F("{\"name\":\"a\"}", POLY(OK_RING)),
           "city.geojson: features[0]: properties.id: missing; every feature needs the property "
           "that names its region (config city.name_property)");
    expect(F("{\"id\":\"a\"}", POLY(OK_RING)) "," F("{\"id\":\"a\"}", POLY(OK_RING)),
           "features[1] (\"a\"): properties.id: region \"a\" appears twice (also features[0])");
    expect(F("{\"id\":\"a\"}", POLY("[[[0,0],[1,0],[0,0]]]")), "at least 4 positions");
    expect(F("{\"id\":\"a\"}", POLY("[[[0,0],[200,0],[1,1],[0,0]]]")),
           "geometry.coordinates[0][1]: [200, 0] is not a WGS84 [lon, lat] position");
    expect(F("{\"id\":\"a\"}", POLY("[[[0,0],[\"1\",0],[1,1],[0,0]]]")),
           "geometry.coordinates[0][1]: expected a position [lon, lat] of numbers");
    expect(F("{\"id\":\"a\"}", "{\"type\":\"Point\",\"coordinates\":[0,0]}"),
           "geometry.type: expected \"Polygon\" or \"MultiPolygon\", got \"Point\"");
    expect(F("{\"id\":\"a\"}", "null"), "geometry: expected an object, got null");
    expect(F("{\"id\":true}", POLY(OK_RING)), "properties.id: expected a string or an integer");
    expect(F("{\"id\":\"a\",\"name_en\":5}", POLY(OK_RING)),
           "features[0] (\"a\"): properties.name_en: expected a string, got number");
    expect("", "features: expected 1 to 4096 regions, got 0");
    expect("5", "features[0]: expected a Feature object");

    ow_err err;
    ow_regions *rs = NULL;
    const char *not_fc = "{\"type\":\"Feature\"}";
    assert_int_equal(ow_regions_parse(not_fc, strlen(not_fc), "x.json", "id", &rs, &err),
                     OW_EINVAL);
    assert_string_equal(err.msg, "x.json: type: expected \"FeatureCollection\"");
    const char *broken = "{\"type\":";
    assert_int_equal(ow_regions_parse(broken, strlen(broken), "x.json", "id", &rs, &err),
                     OW_EINVAL);
    assert_memory_equal(err.msg, "x.json: ", 8);
    assert_null(rs);
}

static void test_distance_and_projection(void **state)
{
    (void)state;
    /* one degree of latitude is 111.195 km on the mean sphere */
    double d = ow_distance_m(0, 0, 0, 1);
    assert_true(d > 111190 && d < 111200);
    /* 50 m apart, as duplicate_dispatch compares */
    double e = ow_distance_m(121.4, 31.2, 121.4 + 50 / (111195.0 * 0.85536), 31.2);
    assert_true(e > 49.5 && e < 50.5);
    assert_true(ow_distance_m(10, 10, 10, 10) == 0);

    ow_projection p;
    const double bbox[4] = {-118.7, 33.7, -118.1, 34.3};
    ow_projection_fit(&p, bbox, 100, 50, 800, 600);
    double x, y;
    ow_project(&p, -118.7, 34.3, &x, &y); /* north-west corner */
    double x2, y2;
    ow_project(&p, -118.1, 33.7, &x2, &y2); /* south-east corner */
    assert_true(x >= 100 - 1e-9 && x2 <= 900 + 1e-9 && y >= 50 - 1e-9 && y2 <= 650 + 1e-9);
    /* aspect: at 34 degrees a degree of longitude is cos(34°) = 0.829 of a degree of latitude */
    double ratio = (x2 - x) / (y2 - y);
    assert_true(ratio > 0.82 && ratio < 0.84);
    /* fitted to the limiting side and centred on the other */
    assert_true(y - 50 < 1e-6 && 650 - y2 < 1e-6);
    assert_true(((x - 100) - (900 - x2)) < 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_la_districts),
        cmocka_unit_test(test_sample_city),
        cmocka_unit_test(test_holes_and_multipolygons),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_distance_and_projection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
