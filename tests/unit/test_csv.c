/*
 * test_csv — the streaming CSV reader: RFC 4180 quoting, line breaks of every kind, the byte-order
 * mark, bad records that do not stop the reader, the limits, and the same records whatever the
 * chunk size (every input is fed whole, byte by byte and in chunks of 3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

/* Records collected as text: fields joined by '|', bad records as "!<error>". */
typedef struct got {
    char text[64][256];
    int64_t line[64];
    char raw[64][256];
    int n;
} got;

static int collect(const ow_csv_record *r, void *arg)
{
    got *g = arg;
    if (g->n == 64) return OW_EINVAL;
    char *o = g->text[g->n];
    o[0] = '\0';
    if (r->error) {
        snprintf(o, 256, "!%s", r->error);
    } else {
        for (size_t i = 0; i < r->nfields; i++) {
            assert_int_equal(strlen(r->fields[i]), r->lens[i]);
            snprintf(o + strlen(o), 256 - strlen(o), "%s%s", i ? "|" : "", r->fields[i]);
        }
    }
    assert_int_equal(r->number, g->n + 1);
    g->line[g->n] = r->line;
    snprintf(g->raw[g->n], 256, "%.*s", (int)r->raw_len, r->raw);
    g->n++;
    return OW_OK;
}

static void run_chunked(const char *in, size_t len, size_t chunk, ow_csv_limits lim, got *g)
{
    memset(g, 0, sizeof *g);
    ow_csv *p = ow_csv_new(lim);
    assert_non_null(p);
    for (size_t i = 0; i < len; i += chunk)
        assert_int_equal(ow_csv_feed(p, in + i, len - i < chunk ? len - i : chunk, collect, g),
                         OW_OK);
    assert_int_equal(ow_csv_finish(p, collect, g), OW_OK);
    ow_csv_free(p);
}

/* Feed whole, byte by byte and by 3: all three must agree; returns the whole-feed result. */
static void run(const char *in, size_t len, ow_csv_limits lim, got *g)
{
    static got a, b;
    run_chunked(in, len, len ? len : 1, lim, g);
    run_chunked(in, len, 1, lim, &a);
    run_chunked(in, len, 3, lim, &b);
    assert_int_equal(g->n, a.n);
    assert_int_equal(g->n, b.n);
    for (int i = 0; i < g->n; i++) {
        assert_string_equal(g->text[i], a.text[i]);
        assert_string_equal(g->text[i], b.text[i]);
        assert_int_equal(g->line[i], a.line[i]);
    }
}

#define RUN(lit, g) run(lit, sizeof(lit) - 1, OW_CSV_LIMITS_DEFAULT, g)

static void test_plain_and_quoted(void **state)
{
    (void)state;
    got g;
    RUN("a,b,c\n1,\"two, three\",\"say \"\"hi\"\"\"\n,,\n", &g);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.text[0], "a|b|c");
    assert_string_equal(g.text[1], "1|two, three|say \"hi\"");
    assert_string_equal(g.text[2], "||");
    assert_string_equal(g.raw[1], "1,\"two, three\",\"say \"\"hi\"\"\"");
}

static void test_line_breaks(void **state)
{
    (void)state;
    got g;
    /* CRLF, a lone CR, LF, a quoted CRLF and LF kept inside the field, no final break */
    RUN("h1,h2\r\nx,\"line1\r\nline2\nline3\"\ry,z\nlast,row", &g);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.text[0], "h1|h2");
    assert_string_equal(g.text[1], "x|line1\r\nline2\nline3");
    assert_string_equal(g.text[2], "y|z");
    assert_string_equal(g.text[3], "last|row");
    assert_int_equal(g.line[0], 1);
    assert_int_equal(g.line[1], 2);
    assert_int_equal(g.line[2], 5); /* the quoted field spanned lines 2-4 */
    assert_int_equal(g.line[3], 6);
}

static void test_bom_and_blank(void **state)
{
    (void)state;
    got g;
    RUN("\xEF\xBB\xBFid,name\n\n7,\xE5\x8C\x97\n", &g);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.text[0], "id|name"); /* the BOM is gone */
    assert_string_equal(g.text[1], "");        /* a blank line is one empty field */
    assert_string_equal(g.text[2], "7|\xE5\x8C\x97");
    /* a BOM-like start that is not one stays data */
    RUN("\xEF\xBB,x\n", &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text[0], "\xEF\xBB|x");
    RUN("\xEF", &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text[0], "\xEF");
    RUN("", &g);
    assert_int_equal(g.n, 0);
}

static void test_bad_records_go_on(void **state)
{
    (void)state;
    got g;
    RUN("a,b\n1,x\"y\n2,\"q\"z\n3,ok\n4,\"open\n", &g);
    assert_int_equal(g.n, 5);
    assert_string_equal(g.text[0], "a|b");
    assert_non_null(strstr(g.text[1], "!field 2: a quote inside an unquoted field"));
    assert_non_null(strstr(g.text[2], "!field 2: text after the closing quote"));
    assert_string_equal(g.text[3], "3|ok");
    assert_non_null(strstr(g.text[4], "never closed"));
    /* NUL bytes are refused */
    run("a\0b,c\n", 6, OW_CSV_LIMITS_DEFAULT, &g);
    assert_int_equal(g.n, 1);
    assert_non_null(strstr(g.text[0], "NUL"));
}

static void test_limits(void **state)
{
    (void)state;
    got g;
    ow_csv_limits lim = {8, 20, 3};
    run("12345678,x\n123456789,x\nok,1\n", 28, lim, &g);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.text[0], "12345678|x");
    assert_non_null(strstr(g.text[1], "longer than 8 bytes"));
    assert_string_equal(g.text[2], "ok|1");
    run("a,b,c,d\n1,2,3\n", 14, lim, &g);
    assert_non_null(strstr(g.text[0], "more than 3 fields"));
    assert_string_equal(g.text[1], "1|2|3");
    /* a record far over the size limit keeps only its start, and the next one is fine */
    char big[4096];
    memset(big, 'x', sizeof big);
    for (size_t i = 5; i < sizeof big - 20; i += 6)
        big[i] = ',';
    memcpy(big + sizeof big - 6, "\nz,1\n", 5);
    run(big, sizeof big - 1, (ow_csv_limits){64, 100, 2000}, &g);
    assert_int_equal(g.n, 2);
    assert_non_null(strstr(g.text[0], "longer than 100 bytes"));
    assert_int_equal(strlen(g.raw[0]), 100);
    assert_string_equal(g.text[1], "z|1");
}

static int stop_at_two(const ow_csv_record *r, void *arg)
{
    (void)arg;
    return r->number == 2 ? OW_EIO : OW_OK;
}

static void test_callback_stops(void **state)
{
    (void)state;
    ow_csv *p = ow_csv_new(OW_CSV_LIMITS_DEFAULT);
    assert_int_equal(ow_csv_feed(p, "a\nb\nc\n", 6, stop_at_two, NULL), OW_EIO);
    ow_csv_free(p);
    ow_csv_free(NULL);
    assert_null(ow_csv_new((ow_csv_limits){0, 1, 1}));
}

static void test_find(void **state)
{
    (void)state;
    const char *f[] = {"Unique Key", "Created Date", "Status"};
    size_t l[] = {10, 12, 6};
    ow_csv_record r = {.nfields = 3, .fields = f, .lens = l};
    assert_int_equal(ow_csv_find(&r, "Created Date"), 1);
    assert_int_equal(ow_csv_find(&r, "created date"), -1);
    assert_int_equal(ow_csv_find(&r, "Status "), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_quoted),
        cmocka_unit_test(test_line_breaks),
        cmocka_unit_test(test_bom_and_blank),
        cmocka_unit_test(test_bad_records_go_on),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
