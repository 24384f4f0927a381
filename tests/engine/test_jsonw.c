/* The small JSON writer: escaping and numbers, checked by parsing its output back with cJSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonw.h"
#include <cjson/cJSON.h>

static void test_escapes_and_numbers(void **st)
{
    (void)st;
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "q\"uote");
    ow_jsonw_str(&w, "a\"b\\c\nd\te\x01"
                     "f 工单");
    ow_jsonw_key(&w, "min");
    ow_jsonw_int(&w, INT64_MIN);
    OW_JSONW_KEY(&w, "zero"); /* the literal form: same commas and quotes */
    ow_jsonw_int(&w, 0);
    ow_jsonw_key(&w, "nested");
    ow_jsonw_open(&w);
    OW_JSONW_KEY(&w, "n");
    ow_jsonw_int(&w, -42);
    ow_jsonw_close(&w);
    ow_jsonw_close(&w);
    char *text = ow_jsonw_take(&w);
    assert_string_equal(text, "{\"q\\\"uote\":\"a\\\"b\\\\c\\nd\\te\\u0001f 工单\",\"min\":"
                              "-9223372036854775808,\"zero\":0,\"nested\":{\"n\":-42}}");
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "q\"uote")->valuestring,
                        "a\"b\\c\nd\te\x01"
                        "f 工单");
    cJSON_Delete(j);
    free(text);
}

/* The escaping rule written out byte by byte, to check the word-at-a-time scanner against. */
static void reference_escape(const char *s, char *out)
{
    static const char hex[] = "0123456789abcdef";
    *out++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *out++ = '\\', *out++ = (char)c;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            *out++ = '\\', *out++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20) {
            memcpy(out, "\\u00", 4), out += 4;
            *out++ = hex[c >> 4], *out++ = hex[c & 15];
        } else {
            *out++ = (char)c;
        }
    }
    *out++ = '"';
    *out = '\0';
}

/* Every byte value at every position of a string longer than two words, and two of them in one
 * word: the writer scans eight bytes at a time, so a special byte must be found wherever it is. */
static void test_every_byte_everywhere(void **st)
{
    (void)st;
    ow_jsonw w;
    ow_jsonw_init(&w);
    char s[24], want[24 * 6 + 3];
    for (int c = 1; c < 256; c++)
        for (int at = 0; at < 20; at++) {
            memset(s, 'x', sizeof s - 1);
            s[sizeof s - 1] = '\0';
            s[at] = (char)c;
            if (at + 3 < 22) s[at + 3] = (char)(c == 1 ? 0x7f : c - 1); /* a neighbour too */
            ow_jsonw_reset(&w);
            ow_jsonw_str(&w, s);
            reference_escape(s, want);
            assert_false(w.out.oom);
            assert_string_equal(w.out.p, want);
        }
    ow_jsonw_fini(&w);
}

/* Decimal numbers: rounded, trailing zeros dropped, null for what is not a number. */
static void test_decimals(void **st)
{
    (void)st;
    static const struct {
        double v;
        int dec;
        const char *want;
    } cases[] = {
        {81.25, 1, "81.3"},
        {81.2, 1, "81.2"},
        {3.0, 2, "3"},
        {0.0, 3, "0"},
        {-0.04, 1, "0"},
        {-0.5, 1, "-0.5"},
        {121.355, 6, "121.355"},
        {-118.243683, 6, "-118.243683"},
        {1e17, 0, "100000000000000000"},
        {2.5e-7, 6, "0"},
        {1.0 / 3, 6, "0.333333"},
        {12.0, -3, "12"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ow_jsonw w;
        ow_jsonw_init(&w);
        ow_jsonw_num(&w, cases[i].v, cases[i].dec);
        char *text = ow_jsonw_take(&w);
        if (strcmp(text, cases[i].want) != 0)
            fail_msg("%g with %d decimals: got %s, want %s", cases[i].v, cases[i].dec, text,
                     cases[i].want);
        free(text);
    }
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_num(&w, NAN, 1);
    ow_jsonw_raw(&w, ",");
    ow_jsonw_num(&w, INFINITY, 1);
    char *text = ow_jsonw_take(&w);
    assert_string_equal(text, "null,null");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_escapes_and_numbers),
                                       cmocka_unit_test(test_every_byte_everywhere),
                                       cmocka_unit_test(test_decimals)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
