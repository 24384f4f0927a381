/*
 * test_json — the strict cJSON layer: hostile documents, the UTF-8 validator, integer edges.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static ow_err err;

static cJSON *parse(const char *s, int depth)
{
    ow_err_clear(&err);
    return ow_json_parse(s, strlen(s), depth, &err);
}

static void expect_ok(const char *s, int depth)
{
    cJSON *v = parse(s, depth);
    if (!v) fail_msg("%s: expected success, got: %s", s, err.msg);
    cJSON_Delete(v);
}

static void expect_bad(const char *s, int depth, const char *prefix)
{
    cJSON *v = parse(s, depth);
    if (v) {
        cJSON_Delete(v);
        fail_msg("%s: expected a failure", s);
    }
    if (err.code != OW_EINVAL) fail_msg("%s: code %d, want EINVAL", s, err.code);
    if (prefix && strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("%s: wrong message\n  want prefix: %s\n  got:         %s", s, prefix, err.msg);
}

static void test_parse_basic(void **state)
{
    (void)state;
    cJSON *v = parse("{\"a\":[1,2,{\"b\":\"c\"}],\"d\":null}", 16);
    assert_non_null(v);
    assert_true(cJSON_IsArray(ow_json_get(v, "a")));
    assert_true(cJSON_IsNull(ow_json_get(v, "d")));
    assert_null(ow_json_get(v, "e"));
    cJSON_Delete(v);
    expect_ok("1", 0);
    expect_ok("\"x\"", 0);
    expect_ok("  {}  \n", 1);
    expect_ok("{}\r\n", 1);
    expect_ok("true", 0);
}

static void test_parse_empty_and_nul(void **state)
{
    (void)state;
    ow_err_clear(&err);
    assert_null(ow_json_parse("", 0, 16, &err));
    assert_string_equal(err.msg, "empty input: expected a JSON value");
    expect_bad("   ", 16, "malformed JSON at byte offset");
    ow_err_clear(&err);
    assert_null(ow_json_parse("{\"a\":\"x\0y\"}", 11, 16, &err));
    assert_string_equal(err.msg, "NUL byte at offset 7: JSON text must not contain NUL");
    ow_err_clear(&err);
    assert_null(ow_json_parse("{}\0", 3, 16, &err));
    assert_string_equal(err.msg, "NUL byte at offset 2: JSON text must not contain NUL");
    /* a NULL ow_err is allowed */
    assert_null(ow_json_parse("[", 1, 16, NULL));
}

static void test_parse_escaped_nul(void **state)
{
    (void)state;
    /* "\u0000" would end the C string inside cJSON and silently shorten values and keys */
    expect_bad("\"a\\u0000b\"", 16, NULL);
    expect_bad("{\"k\\u0000x\":1,\"k\":2}", 16, NULL);
    expect_bad("[\"\\u0000\"]", 16, NULL);
    /* cJSON reads non-hex digits in \u escapes as a NUL too */
    expect_bad("\"a\\uZZZZb\"", 16,
               "bad \\u escape at byte offset 2: expected 4 hex digits, not \\u0000");
    expect_bad("\"\\u00G1\"", 16, "bad \\u escape at byte offset 1");
    expect_bad("{\"\\uzzzz\":1}", 16, "bad \\u escape at byte offset 2");
    expect_bad("\"\\u12\"", 16, NULL);
    expect_bad("\"\\u", 16, NULL);
    cJSON *e = parse("[\"\\u00e9\\u00C9\\uD83D\\uDE00\"]", 16);
    assert_non_null(e);
    assert_string_equal(e->child->valuestring, "\xC3\xA9\xC3\x89\xF0\x9F\x98\x80");
    cJSON_Delete(e);
    /* an escaped backslash followed by the text u0000 is fine */
    cJSON *v = parse("\"\\\\u0000\"", 16);
    assert_non_null(v);
    assert_string_equal(v->valuestring, "\\u0000");
    cJSON_Delete(v);
    /* other escapes of control characters are JSON's business, not ours */
    v = parse("\"\\u0001\"", 16);
    assert_non_null(v);
    assert_string_equal(v->valuestring, "\x01");
    cJSON_Delete(v);
}

static void test_parse_depth(void **state)
{
    (void)state;
    char buf[64];
    for (int depth = 1; depth <= 20; depth++) {
        memset(buf, '[', (size_t)depth);
        memset(buf + depth, ']', (size_t)depth);
        buf[2 * depth] = '\0';
        cJSON *v = parse(buf, OW_JSON_MAX_DEPTH);
        if (depth <= OW_JSON_MAX_DEPTH) {
            if (!v) fail_msg("depth %d rejected: %s", depth, err.msg);
        } else {
            if (v) fail_msg("depth %d accepted", depth);
        }
        cJSON_Delete(v);
    }
    expect_bad("[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]", 16,
               "nesting deeper than 16 at byte offset 16");
    expect_ok("[]", 1);
    expect_bad("[[]]", 1, "nesting deeper than 1 at byte offset 1");
    expect_ok("{\"a\":1}", 1);
    expect_bad("{\"a\":{}}", 1, "nesting deeper than 1");
    expect_bad("[]", 0, "nesting deeper than 0");
    /* brackets in strings, including after an escaped quote, are not nesting */
    expect_ok("[\"[[[[{{{{\"]", 1);
    expect_ok("[\"\\\"[[[[\"]", 1);
    expect_ok("[\"\\\\\",\"x\"]", 1);
    /* hostile: 100000 brackets are refused before cJSON recurses */
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, '[', n);
    big[n] = '\0';
    expect_bad(big, OW_JSON_MAX_DEPTH, "nesting deeper than 16");
    memset(big, '{', n);
    expect_bad(big, OW_JSON_MAX_DEPTH, "nesting deeper than 16");
    free(big);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{",           "[1,2",        "\"abc",      "{\"a\":}", "{\"a\" 1}", "{a:1}",
        "{'a':1}",     "[1,]",        "[1 2]",      "tru",      "nul",       "NaN",
        "Infinity",    "+1",          ".5",         "-",        "\"\\x\"",   "\"\\u12\"",
        "\"\\uD800\"", "\"\\uDC00\"", "{\"a\":1,}", "]",        "}",         "[}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_bad(bad[i], 16, NULL);
    expect_bad("\"abc", 16, "malformed JSON at byte offset");
}

static void test_parse_trailing(void **state)
{
    (void)state;
    expect_bad("{} {}", 16, "unexpected text after the JSON value at byte offset 3");
    expect_bad("{}x", 16, "unexpected text after the JSON value at byte offset 2");
    expect_bad("1 2", 16, "unexpected text after the JSON value at byte offset 2");
    expect_bad("[]]", 16, NULL);
    expect_ok("{} \t\r\n", 16);
    /* only len bytes are read */
    ow_err_clear(&err);
    cJSON *v = ow_json_parse("{}garbage", 2, 16, &err);
    assert_non_null(v);
    cJSON_Delete(v);
    v = ow_json_parse("[1,2]]]]", 5, 16, &err);
    assert_non_null(v);
    assert_int_equal(cJSON_GetArraySize(v), 2);
    cJSON_Delete(v);
    /* a number cut by len */
    v = ow_json_parse("12345", 3, 16, &err);
    assert_non_null(v);
    assert_true(v->valuedouble == 123.0);
    cJSON_Delete(v);
}

static void test_parse_duplicates(void **state)
{
    (void)state;
    expect_bad("{\"a\":1,\"a\":2}", 16, "duplicate key \"a\": each key may appear once");
    expect_bad("{\"a\":{\"b\":1,\"b\":2}}", 16, "duplicate key \"b\"");
    expect_bad("[{\"x\":1},{\"y\":1,\"y\":1}]", 16, "duplicate key \"y\"");
    expect_bad("{\"\":1,\"\":2}", 16, "duplicate key \"\"");
    /* escapes are compared after decoding: "\u0061" is "a" */
    expect_bad("{\"a\":1,\"\\u0061\":2}", 16, "duplicate key \"a\"");
    expect_ok("{\"a\":1,\"A\":2}", 16);
    expect_ok("{\"a\":1,\"b\":{\"a\":2}}", 16);

    /* thousands of keys: unique is fine, one repeat is found */
    size_t n = 20000, cap = n * 16 + 64, o = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    buf[o++] = '{';
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(buf + o, cap - o, "\"k%zu\":%zu,", i, i);
    memcpy(buf + o - 1, "}", 2);
    expect_ok(buf, 16);
    memcpy(buf + o - 1, ",\"k777\":0}", 11);
    expect_bad(buf, 16, "duplicate key \"k777\"");
    free(buf);
}

static void test_get_and_type_names(void **state)
{
    (void)state;
    cJSON *v =
        parse("{\"Key\":1,\"arr\":[],\"s\":\"x\",\"t\":true,\"f\":false,\"n\":null,\"o\":{}}", 16);
    assert_non_null(v);
    assert_null(ow_json_get(v, "key"));
    assert_null(ow_json_get(v, "KEY"));
    assert_non_null(ow_json_get(v, "Key"));
    assert_null(ow_json_get(ow_json_get(v, "arr"), "Key"));
    assert_null(ow_json_get(NULL, "Key"));
    assert_string_equal(ow_json_type_name(ow_json_get(v, "Key")), "number");
    assert_string_equal(ow_json_type_name(ow_json_get(v, "arr")), "array");
    assert_string_equal(ow_json_type_name(ow_json_get(v, "s")), "string");
    assert_string_equal(ow_json_type_name(ow_json_get(v, "t")), "boolean");
    assert_string_equal(ow_json_type_name(ow_json_get(v, "f")), "boolean");
    assert_string_equal(ow_json_type_name(ow_json_get(v, "n")), "null");
    assert_string_equal(ow_json_type_name(ow_json_get(v, "o")), "object");
    assert_string_equal(ow_json_type_name(NULL), "nothing");
    cJSON_Delete(v);
}

/* ---- UTF-8 ---- */

static void test_utf8_table(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;
        bool ok;
        size_t bad_off;
        const char *what;
    } rows[] = {
        {"", 0, true, 0, "empty"},
        {"plain ascii ~\x7F", 14, true, 0, "ASCII incl. DEL"},
        {"a\0b", 3, true, 0, "U+0000 is well-formed UTF-8"},
        {"\xC2\x80", 2, true, 0, "U+0080, smallest 2-byte"},
        {"\xC3\xA9", 2, true, 0, "e acute"},
        {"\xDF\xBF", 2, true, 0, "U+07FF"},
        {"\xE0\xA0\x80", 3, true, 0, "U+0800, smallest 3-byte"},
        {"\xE4\xB8\xAD", 3, true, 0, "CJK"},
        {"\xED\x9F\xBF", 3, true, 0, "U+D7FF, below the surrogates"},
        {"\xEE\x80\x80", 3, true, 0, "U+E000, above the surrogates"},
        {"\xEF\xBF\xBF", 3, true, 0, "U+FFFF"},
        {"\xF0\x90\x80\x80", 4, true, 0, "U+10000, smallest 4-byte"},
        {"\xF0\x9F\x98\x80", 4, true, 0, "emoji"},
        {"\xF4\x8F\xBF\xBF", 4, true, 0, "U+10FFFF, the last code point"},
        {"\xC0\x80", 2, false, 0, "overlong NUL"},
        {"\xC0\xAF", 2, false, 0, "overlong slash"},
        {"\xC1\xBF", 2, false, 0, "overlong U+007F"},
        {"\xE0\x80\x80", 3, false, 0, "overlong 3-byte NUL"},
        {"\xE0\x9F\xBF", 3, false, 0, "overlong U+07FF"},
        {"\xF0\x80\x80\x80", 4, false, 0, "overlong 4-byte NUL"},
        {"\xF0\x8F\xBF\xBF", 4, false, 0, "overlong U+FFFF"},
        {"\xED\xA0\x80", 3, false, 0, "surrogate U+D800"},
        {"\xED\xAF\xBF", 3, false, 0, "surrogate U+DBFF"},
        {"\xED\xB0\x80", 3, false, 0, "surrogate U+DC00"},
        {"\xED\xBF\xBF", 3, false, 0, "surrogate U+DFFF"},
        {"\xED\xA0\xBD\xED\xB8\x80", 6, false, 0, "CESU-8 pair"},
        {"\xF4\x90\x80\x80", 4, false, 0, "U+110000"},
        {"\xF5\x80\x80\x80", 4, false, 0, "lead F5"},
        {"\xF7\xBF\xBF\xBF", 4, false, 0, "lead F7"},
        {"\xF8\x88\x80\x80\x80", 5, false, 0, "5-byte form"},
        {"\xFC\x84\x80\x80\x80\x80", 6, false, 0, "6-byte form"},
        {"\xFE", 1, false, 0, "FE"},
        {"\xFF", 1, false, 0, "FF"},
        {"\x80", 1, false, 0, "lone continuation"},
        {"\xBF", 1, false, 0, "lone continuation BF"},
        {"ab\x80", 3, false, 2, "continuation after ASCII"},
        {"\xC3\xA9\xA9", 3, false, 2, "extra continuation"},
        {"\xC3", 1, false, 0, "truncated 2-byte"},
        {"\xE4\xB8", 2, false, 0, "truncated 3-byte"},
        {"ab\xE4\xB8", 4, false, 2, "truncated 3-byte after ASCII"},
        {"\xF0\x9F\x98", 3, false, 0, "truncated 4-byte"},
        {"\xC3"
         "A",
         2, false, 0, "2-byte lead then ASCII"},
        {"\xE4"
         "AB",
         3, false, 0, "3-byte lead then ASCII"},
        {"\xE4\xB8"
         "A",
         3, false, 0, "3-byte lead, one continuation, ASCII"},
        {"\xE4\xB8\xAD\xE4\xB8\xAD\xFF", 7, false, 6, "bad byte after two CJK"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t off = 12345;
        bool ok = ow_json_utf8_valid(rows[i].s, rows[i].n, &off);
        if (ok != rows[i].ok)
            fail_msg("%s: want %s", rows[i].what, rows[i].ok ? "valid" : "invalid");
        if (!ok && off != rows[i].bad_off)
            fail_msg("%s: bad offset %zu, want %zu", rows[i].what, off, rows[i].bad_off);
        if (ok && off != 12345) fail_msg("%s: offset written on success", rows[i].what);
        assert_int_equal(ow_json_utf8_valid(rows[i].s, rows[i].n, NULL), rows[i].ok);
    }
    /* length bounds reading: a valid sequence cut by n is invalid */
    assert_false(ow_json_utf8_valid("\xE4\xB8\xAD", 2, NULL));
    assert_true(ow_json_utf8_valid("\xE4\xB8\xAD\xFF", 3, NULL));
}

/* UTF-8 encoding of cp, written from RFC 3629 §3; returns the length. */
static size_t encode_utf8(uint32_t cp, unsigned char s[4])
{
    if (cp < 0x80) {
        s[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        s[0] = (unsigned char)(0xC0 | cp >> 6);
        s[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        s[0] = (unsigned char)(0xE0 | cp >> 12);
        s[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        s[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    s[0] = (unsigned char)(0xF0 | cp >> 18);
    s[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    s[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    s[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static void test_utf8_exhaustive(void **state)
{
    (void)state;
    /* every lead/continuation pair: valid exactly for C2..DF followed by 80..BF */
    for (unsigned a = 0x80; a <= 0xFF; a++)
        for (unsigned b = 0; b <= 0xFF; b++) {
            char s[2] = {(char)a, (char)b};
            bool want = a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF;
            if (ow_json_utf8_valid(s, 2, NULL) != want) fail_msg("%02X %02X", a, b);
        }
    /* every code point (past U+20000, a sample) through a hand encoder: only surrogates fail */
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp += (cp < 0x20000 ? 1 : 97)) {
        unsigned char s[4];
        size_t n = encode_utf8(cp, s);
        bool want = !(cp >= 0xD800 && cp <= 0xDFFF);
        if (ow_json_utf8_valid((const char *)s, n, NULL) != want) fail_msg("U+%04X", (unsigned)cp);
    }
}

/* ---- integers ---- */

static bool int_of(const char *text, int64_t lo, int64_t hi, int64_t *out)
{
    cJSON *v = parse(text, 16);
    assert_non_null(v);
    bool ok = ow_json_int(v, lo, hi, out);
    cJSON_Delete(v);
    return ok;
}

static void test_int_edges(void **state)
{
    (void)state;
    int64_t x = 99;
    assert_true(int_of("0", 0, 0, &x));
    assert_true(x == 0);
    assert_true(int_of("-0", 0, 1, &x));
    assert_true(x == 0);
    assert_true(int_of("10", 0, 10, &x));
    assert_true(x == 10);
    assert_false(int_of("11", 0, 10, &x));
    assert_false(int_of("-1", 0, 10, &x));
    assert_true(int_of("-1", -1, 10, &x));
    assert_true(x == -1);
    assert_false(int_of("1.5", 0, 10, &x));
    assert_false(int_of("-0.5", -1, 10, &x));
    assert_true(int_of("3.0", 0, 10, &x));
    assert_true(x == 3);
    assert_true(int_of("1e2", 0, 1000, &x));
    assert_true(x == 100);
    assert_false(int_of("1e-300", -1, 1, &x));
    assert_false(int_of("\"1\"", 0, 10, &x));
    assert_false(int_of("true", 0, 10, &x));
    assert_false(int_of("null", 0, 10, &x));
    assert_false(int_of("[1]", 0, 10, &x));
    assert_false(ow_json_int(NULL, 0, 10, &x));
    /* 2^53, the largest exactly representable run of integers */
    assert_true(int_of("9007199254740992", 0, INT64_C(1) << 53, &x));
    assert_true(x == INT64_C(9007199254740992));
    assert_false(int_of("9007199254740994", 0, INT64_C(1) << 53, &x));
    /* the int64 edges: 2^63 does not fit even when max is INT64_MAX */
    assert_false(int_of("9223372036854775807", INT64_MIN, INT64_MAX, &x)); /* reads as 2^63 */
    assert_false(int_of("9223372036854775808", INT64_MIN, INT64_MAX, &x));
    assert_false(int_of("1e19", INT64_MIN, INT64_MAX, &x));
    assert_false(int_of("-1e19", INT64_MIN, INT64_MAX, &x));
    assert_false(int_of("1e300", INT64_MIN, INT64_MAX, &x));
    assert_false(int_of("1e999", INT64_MIN, INT64_MAX, &x)); /* inf */
    assert_false(int_of("-1e999", INT64_MIN, INT64_MAX, &x));
    assert_true(int_of("9223372036854774784", INT64_MIN, INT64_MAX, &x)); /* 2^63 - 1024 */
    assert_true(x == INT64_C(9223372036854774784));
    assert_true(int_of("-9223372036854775808", INT64_MIN, INT64_MAX, &x)); /* -2^63 fits */
    assert_true(x == INT64_MIN);
    /* x is untouched on failure */
    x = 42;
    assert_false(int_of("7.25", 0, 10, &x));
    assert_true(x == 42);
}

static void test_quote(void **state)
{
    (void)state;
    char out[64];
    cJSON *v = parse("\"abcdefghij\"", 16);
    assert_non_null(v);
    ow_json_quote(v, out, sizeof out);
    assert_string_equal(out, "\"abcdefghij\"");
    ow_json_quote(v, out, 8);
    assert_string_equal(out, "\"abc...");
    cJSON_Delete(v);
    v = parse("{\"a\":[1,true,null]}", 16);
    ow_json_quote(v, out, sizeof out);
    assert_string_equal(out, "{\"a\":[1,true,null]}");
    cJSON_Delete(v);
    /* cut on a character boundary, never inside a UTF-8 sequence */
    v = parse("\"ab\xE4\xB8\xAD\xE4\xB8\xAD\"", 16);
    assert_non_null(v);
    ow_json_quote(v, out, 8); /* room for 4 bytes: '"', 'a', 'b' and half a character */
    assert_string_equal(out, "\"ab...");
    ow_json_quote(v, out, 10); /* room for 6 bytes: '"', 'a', 'b' and the first character */
    assert_string_equal(out, "\"ab\xE4\xB8\xAD...");
    for (size_t n = 8; n <= 12; n++) {
        ow_json_quote(v, out, n);
        assert_true(ow_json_utf8_valid(out, strlen(out), NULL));
        assert_true(strlen(out) < n);
    }
    cJSON_Delete(v);
    ow_json_quote(NULL, out, sizeof out);
    assert_string_equal(out, "nothing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),       cmocka_unit_test(test_parse_empty_and_nul),
        cmocka_unit_test(test_parse_escaped_nul), cmocka_unit_test(test_parse_depth),
        cmocka_unit_test(test_parse_malformed),   cmocka_unit_test(test_parse_trailing),
        cmocka_unit_test(test_parse_duplicates),  cmocka_unit_test(test_get_and_type_names),
        cmocka_unit_test(test_utf8_table),        cmocka_unit_test(test_utf8_exhaustive),
        cmocka_unit_test(test_int_edges),         cmocka_unit_test(test_quote),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
