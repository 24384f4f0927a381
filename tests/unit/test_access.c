/* access: token hashing, roles and the config section. Hashes computed with sha256sum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "access.h"
#include "config.h"

#define H_SECRET "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
#define H_BOSS   "a5e7c002443743c5836758c7d1cd8ddefd9fcf2061daa0efaac683fb99966057"

static ow_config cfg;
static ow_err err;

static int load(const char *tokens_json)
{
    char text[2048];
    snprintf(text, sizeof text, "{\"access\":{\"tokens\":%s}}", tokens_json);
    ow_config_defaults(&cfg);
    ow_err_clear(&err);
    return ow_config_parse(&cfg, text, strlen(text), "opswall.json", &err);
}

static void test_check_roles(void **state)
{
    (void)state;
    assert_int_equal(load("[{\"name\":\"li.wei\",\"role\":\"supervisor\",\"sha256\":\"" H_SECRET
                          "\"},{\"name\":\"ops\",\"role\":\"admin\",\"sha256\":\"" H_BOSS "\"}]"),
                     OW_OK);
    const char *who = NULL;
    assert_int_equal(ow_access_check(&cfg.access, "secret", 6, &who), OW_ROLE_SUPERVISOR);
    assert_string_equal(who, "li.wei");
    assert_int_equal(ow_access_check(&cfg.access, "boss", 4, &who), OW_ROLE_ADMIN);
    assert_string_equal(who, "ops");
    /* near misses: prefix, extra byte, case, empty */
    assert_int_equal(ow_access_check(&cfg.access, "secre", 5, &who), OW_ROLE_NONE);
    assert_null(who);
    assert_int_equal(ow_access_check(&cfg.access, "secret ", 7, NULL), OW_ROLE_NONE);
    assert_int_equal(ow_access_check(&cfg.access, "Secret", 6, NULL), OW_ROLE_NONE);
    assert_int_equal(ow_access_check(&cfg.access, "", 0, NULL), OW_ROLE_NONE);
    char big[OW_TOKEN_MAX_LEN + 2];
    memset(big, 'a', sizeof big);
    assert_int_equal(ow_access_check(&cfg.access, big, sizeof big, NULL), OW_ROLE_NONE);
    /* the default config has no token: nobody gets in */
    ow_config_defaults(&cfg);
    assert_int_equal(ow_access_check(&cfg.access, "secret", 6, NULL), OW_ROLE_NONE);
}

static void test_role_ladder(void **state)
{
    (void)state;
    assert_true(ow_role_allows(OW_ROLE_ADMIN, OW_ROLE_SUPERVISOR));
    assert_true(ow_role_allows(OW_ROLE_SUPERVISOR, OW_ROLE_VIEWER));
    assert_false(ow_role_allows(OW_ROLE_VIEWER, OW_ROLE_SUPERVISOR));
    assert_false(ow_role_allows(OW_ROLE_NONE, OW_ROLE_VIEWER));
    assert_true(ow_role_allows(OW_ROLE_NONE, OW_ROLE_NONE));
    /* a producer's token posts events and reads nothing */
    assert_true(ow_role_allows(OW_ROLE_INGEST, OW_ROLE_INGEST));
    assert_false(ow_role_allows(OW_ROLE_INGEST, OW_ROLE_VIEWER));
    assert_false(ow_role_allows(OW_ROLE_VIEWER, OW_ROLE_INGEST));
    assert_true(ow_role_allows(OW_ROLE_ADMIN, OW_ROLE_INGEST));
    assert_string_equal(ow_role_name(OW_ROLE_VIEWER), "viewer");
    assert_int_equal(ow_role_parse("admin"), OW_ROLE_ADMIN);
    assert_int_equal(ow_role_parse("none"), -1);
    assert_int_equal(ow_role_parse("Admin"), -1);
}

static void test_bearer(void **state)
{
    (void)state;
    char t[64];
    assert_int_equal(ow_access_bearer("Bearer abc.def", t, sizeof t), 7);
    assert_string_equal(t, "abc.def");
    assert_int_equal(ow_access_bearer("  bearer   xyz\r\n", t, sizeof t), 3);
    assert_string_equal(t, "xyz");
    assert_int_equal(ow_access_bearer("Basic dXNlcjpwYXNz", t, sizeof t), 0);
    assert_string_equal(t, "");
    assert_int_equal(ow_access_bearer("Bearer ", t, sizeof t), 0);
    assert_int_equal(ow_access_bearer(NULL, t, sizeof t), 0);
    char small[4];
    assert_int_equal(ow_access_bearer("Bearer abcdef", small, sizeof small), 0);
}

static void expect(const char *tokens, const char *msg)
{
    assert_int_equal(load(tokens), OW_EINVAL);
    if (!strstr(err.msg, msg)) fail_msg("%s\n  want: %s\n  got:  %s", tokens, msg, err.msg);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect("{}", "opswall.json: access.tokens: expected an array");
    expect("[1]", "opswall.json: access.tokens[0]: expected an object");
    expect("[{\"name\":\"a\",\"role\":\"god\",\"sha256\":\"" H_SECRET "\"}]",
           "access.tokens[0]: role: expected one of viewer|supervisor|admin|ingest");
    expect("[{\"name\":\"a\",\"role\":\"admin\",\"sha256\":\"abc\"}]",
           "access.tokens[0]: sha256: expected 64 hex digits");
    expect("[{\"name\":\"a\",\"role\":\"admin\",\"sha256\":\"" H_SECRET "\",\"token\":\"x\"}]",
           "access.tokens[0]: unknown key \"token\"");
    expect("[{\"name\":\"a\",\"role\":\"admin\",\"sha256\":\"" H_SECRET
           "\"},{\"name\":\"b\",\"role\":\"viewer\",\"sha256\":\"" H_SECRET "\"}]",
           "access.tokens[1]: sha256: the same token is configured twice");
    expect("[{\"name\":\"\",\"role\":\"admin\",\"sha256\":\"" H_SECRET "\"}]",
           "access.tokens[0]: name: expected a string");
    expect("[{\"name\":\"a\",\"role\":\"admin\",\"sha256\":"
           "\"zzb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b\"}]",
           "sha256: expected 64 hex digits (0-9, a-f)");
}

static void test_format_round_trip(void **state)
{
    (void)state;
    assert_int_equal(
        load("[{\"name\":\"li.wei\",\"role\":\"viewer\",\"sha256\":\"" H_SECRET "\"}]"), OW_OK);
    char *text = ow_config_format(&cfg);
    assert_non_null(text);
    assert_non_null(strstr(text, H_SECRET));
    assert_null(strstr(text, "secret\""));
    ow_config back;
    ow_config_defaults(&back);
    assert_int_equal(ow_config_parse(&back, text, strlen(text), "formatted", &err), OW_OK);
    assert_int_equal(back.access.n, 1);
    assert_memory_equal(&back.access, &cfg.access, sizeof cfg.access);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_roles),
        cmocka_unit_test(test_role_ladder),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_format_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
