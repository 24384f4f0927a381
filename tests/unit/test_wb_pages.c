/*
 * test_wb_pages — the wallboard's layout file (wallboard/pages.h): the shipped layouts parse;
 * every kind of mistake is refused with the JSON path and what was expected; the rotation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "pages.h"

#ifndef OW_SOURCE_DIR
#error "OW_SOURCE_DIR must name the repository"
#endif

static void shipped_layouts(void **state)
{
    (void)state;
    const char *files[] = {OW_SOURCE_DIR "/config/wallboard/default.json",
                           OW_SOURCE_DIR "/config/wallboard/second.json"};
    for (size_t i = 0; i < 2; i++) {
        char *text;
        size_t len;
        ow_err err;
        ow_pages p;
        assert_int_equal(ow_file_read(files[i], 1 << 20, &text, &len, &err), OW_OK);
        if (ow_pages_parse(text, len, files[i], &p, &err)) fail_msg("%s", err.msg);
        assert_int_equal(p.npages, 2); /* two rotating pages each */
        free(text);
    }
}

static void expect_error(const char *text, const char *part)
{
    ow_pages p;
    ow_err err;
    int rc = ow_pages_parse(text, strlen(text), "l.json", &p, &err);
    if (rc == OW_OK) fail_msg("accepted: %s", text);
    if (!strstr(err.msg, part)) fail_msg("%s\n  message \"%s\" lacks \"%s\"", text, err.msg, part);
    assert_int_equal(p.npages, 0);
}

#define PAGE(panels)                                                                               \
    "{\"grid\":{\"cols\":4,\"rows\":4},\"pages\":[{\"name\":\"a\",\"panels\":[" panels "]}]}"

static void mistakes_name_their_path(void **state)
{
    (void)state;
    expect_error(PAGE("{\"panel\":\"mapp\",\"at\":[0,0,1,1]}"),
                 "l.json: pages[0].panels[0].panel: expected one of open|kpi|map");
    expect_error(PAGE("{\"panel\":7,\"at\":[0,0,1,1]}"),
                 "pages[0].panels[0].panel: expected a panel name");
    expect_error(PAGE("{\"panel\":\"map\",\"at\":[0,0,5,1]}"),
                 "pages[0].panels[0].at: [0, 0, 5, 1] reaches outside the 4x4 grid");
    expect_error(PAGE("{\"panel\":\"map\",\"at\":[0,0,0,1]}"),
                 "pages[0].panels[0].at[2]: expected an integer from 1");
    expect_error(PAGE("{\"panel\":\"map\",\"at\":[0,0,1]}"),
                 "pages[0].panels[0].at: expected [col, row, cols, rows]");
    expect_error(PAGE("{\"panel\":\"map\",\"at\":[0,0,2,2]},{\"panel\":\"sla\",\"at\":[1,1,2,2]}"),
                 "pages[0].panels[1].at: overlaps pages[0].panels[0] (map)");
    expect_error(PAGE("{\"panel\":\"map\",\"at\":[0,0,1,1],\"colour\":\"red\"}"),
                 "l.json: pages[0].panels[0].colour: unknown key (a typo?); known keys: panel, at");
    expect_error(PAGE(""), "pages[0].panels: expected an array of 1 to");
    expect_error("{\"grid\":{\"cols\":4,\"rows\":4},\"pages\":[{\"name\":\"a\",\"dwell\":\"1s\","
                 "\"panels\":[{\"panel\":\"map\",\"at\":[0,0,1,1]}]}]}",
                 "pages[0].dwell: expected a duration");
    expect_error(
        "{\"grid\":{\"cols\":4,\"rows\":4},\"pages\":[{\"name\":\"a\",\"panels\":[{\"panel\":"
        "\"map\",\"at\":[0,0,1,1]}]},{\"name\":\"a\",\"panels\":[{\"panel\":\"map\",\"at\":"
        "[0,0,1,1]}]}]}",
        "pages[1].name: \"a\" is also the name of pages[0]");
    expect_error("{\"grid\":{\"cols\":0,\"rows\":4},\"pages\":[]}", "grid: cols and rows");
    expect_error("{\"grid\":{\"cols\":4,\"rows\":4},\"pages\":[]}",
                 "pages: expected an array of 1");
    expect_error("{\"grid\":{\"cols\":4,\"rows\":4},\"pages\":[],\"theme\":1}",
                 "theme: unknown key");
    expect_error("[1]", "expected an object with grid and pages");
    expect_error("{\"grid\":{\"cols\":4,\"rows\":4},\"grid\":{}}", "duplicate");
    expect_error("", "l.json");
}

static void rotation(void **state)
{
    (void)state;
    const char *t =
        "{\"grid\":{\"cols\":1,\"rows\":1},\"pages\":["
        "{\"name\":\"a\",\"dwell\":\"10s\",\"panels\":[{\"panel\":\"map\",\"at\":[0,0,1,1]}]},"
        "{\"name\":\"b\",\"dwell\":\"5s\",\"panels\":[{\"panel\":\"sla\",\"at\":[0,0,1,1]}]}]}";
    ow_pages p;
    ow_err err;
    assert_int_equal(ow_pages_parse(t, strlen(t), "t", &p, &err), OW_OK);
    int64_t next;
    assert_int_equal(ow_pages_at(&p, 0, &next), 0);
    assert_int_equal(next, 10000);
    assert_int_equal(ow_pages_at(&p, 9999, NULL), 0);
    assert_int_equal(ow_pages_at(&p, 10000, &next), 1);
    assert_int_equal(next, 15000);
    assert_int_equal(ow_pages_at(&p, 15000 * 1000 + 12000, &next), 1);
    assert_int_equal(next, 15000 * 1000 + 15000);
    p.npages = 1;
    assert_int_equal(ow_pages_at(&p, 123456, &next), 0);
    assert_true(next == INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shipped_layouts),
        cmocka_unit_test(mistakes_name_their_path),
        cmocka_unit_test(rotation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
