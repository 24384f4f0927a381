/*
 * test_lineframe — core/lineframe.c and core/jsonarray.c: the framing of TCP streams, file chunks
 * and HTTP bodies. Lines split at every possible place, "\r\n", oversized lines cut and skipped,
 * a last line without a newline; arrays with strings that hold brackets and escapes, malformed
 * and hostile arrays.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonarray.h"
#include "lineframe.h"

/* Cut `text` into pieces of `piece` bytes and collect "len/total:text|" per line. */
static void frame_all(const char *text, size_t piece, size_t cap, char *out, size_t outn)
{
    ow_lineframe f;
    assert_int_equal(ow_lineframe_init(&f, cap), OW_OK);
    size_t n = strlen(text), used = 0;
    out[0] = '\0';
    ow_line l;
    for (size_t off = 0; off < n; off += piece) {
        ow_lineframe_feed(&f, text + off, n - off < piece ? n - off : piece);
        while (ow_lineframe_next(&f, &l))
            used += (size_t)snprintf(out + used, outn - used, "%lld:%zu/%zu:%.*s|",
                                     (long long)l.lineno, l.len, l.total, (int)l.len, l.text);
    }
    if (ow_lineframe_finish(&f, &l))
        used += (size_t)snprintf(out + used, outn - used, "%lld:%zu/%zu:%.*s|", (long long)l.lineno,
                                 l.len, l.total, (int)l.len, l.text);
    ow_lineframe_fini(&f);
}

static void test_lines_in_every_split(void **state)
{
    (void)state;
    const char *text = "ab\ncd\r\n\nlast";
    const char *want = "1:2/2:ab|2:2/2:cd|3:0/0:|4:4/4:last|";
    char got[256];
    for (size_t piece = 1; piece <= strlen(text); piece++) {
        frame_all(text, piece, 100, got, sizeof got);
        assert_string_equal(got, want);
    }
}

static void test_oversized_line_is_cut(void **state)
{
    (void)state;
    /* cap 4: "abcdefgh" keeps "abcd", total 8; the next line is intact */
    const char *want = "1:4/8:abcd|2:2/2:ok|";
    char got[256];
    for (size_t piece = 1; piece <= 12; piece++) {
        frame_all("abcdefgh\nok\n", piece, 4, got, sizeof got);
        assert_string_equal(got, want);
    }
}

static void test_cr_kept_inside_a_line(void **state)
{
    (void)state;
    char got[256];
    frame_all("a\rb\n\r\n", 2, 100, got, sizeof got);
    assert_string_equal(got, "1:3/3:a\rb|2:0/0:|");
}

static void test_nothing_in_nothing_out(void **state)
{
    (void)state;
    char got[64];
    frame_all("", 1, 10, got, sizeof got);
    assert_string_equal(got, "");
}

/* Collect the elements of an array as "text|", and the final return code. */
static int walk(const char *text, char *out, size_t outn)
{
    ow_jsonarray it;
    ow_jsonarray_init(&it, text, strlen(text));
    const char *e;
    size_t n, used = 0;
    int rc;
    ow_err err;
    out[0] = '\0';
    while ((rc = ow_jsonarray_next(&it, &e, &n, &err)) == 1)
        used += (size_t)snprintf(out + used, outn - used, "%.*s|", (int)n, e);
    if (rc < 0) assert_true(strlen(err.msg) > 0);
    return rc;
}

static void test_array_elements(void **state)
{
    (void)state;
    char got[256];
    assert_int_equal(walk(" [ {\"a\":\"]},[\\\"\"} , [1,[2]] ,\"x\", 3 ]\n", got, sizeof got), 0);
    assert_string_equal(got, "{\"a\":\"]},[\\\"\"}|[1,[2]]|\"x\"|3|");
    assert_int_equal(walk("[]", got, sizeof got), 0);
    assert_string_equal(got, "");
    assert_true(ow_jsonarray_detect(" \n[1]", 5));
    assert_false(ow_jsonarray_detect("{\"v\":1}", 7));
}

static void test_array_malformed(void **state)
{
    (void)state;
    char got[256];
    const char *bad[] = {"",     "{}",  "[1,,2]", "[1,2", "[\"abc]", "[1]x",
                         "[1,]", "[}]", "[,1]",   "[1 2", "[\"\\",   "[[[[[[[["};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(walk(bad[i], got, sizeof got), OW_EINVAL);
    /* elements before the damage still come out */
    assert_int_equal(walk("[{\"id\":1},{\"id\":2}]trailing", got, sizeof got), OW_EINVAL);
    assert_string_equal(got, "{\"id\":1}|{\"id\":2}|");
}

static void test_array_depth_is_capped(void **state)
{
    (void)state;
    char text[400], got[64];
    size_t n = 0;
    text[n++] = '[';
    for (int i = 0; i < OW_JSONARRAY_MAX_DEPTH + 5; i++)
        text[n++] = '[';
    text[n] = '\0';
    assert_int_equal(walk(text, got, sizeof got), OW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_in_every_split),  cmocka_unit_test(test_oversized_line_is_cut),
        cmocka_unit_test(test_cr_kept_inside_a_line), cmocka_unit_test(test_nothing_in_nothing_out),
        cmocka_unit_test(test_array_elements),        cmocka_unit_test(test_array_malformed),
        cmocka_unit_test(test_array_depth_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
