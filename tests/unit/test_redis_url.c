/*
 * test_redis_url — "redis://[user:pass@]host:port/db" and "unix:///path[?db=N]".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "redis_url.h"

static ow_redis_target t;
static ow_err err;

static void ok(const char *url)
{
    ow_err_clear(&err);
    int rc = ow_redis_url_parse(url, &t, &err);
    if (rc != OW_OK) fail_msg("%s: %s", url, err.msg);
}

static void bad(const char *url)
{
    ow_err_clear(&err);
    int rc = ow_redis_url_parse(url, &t, &err);
    if (rc != OW_EINVAL) fail_msg("%s: want EINVAL, got %d", url, rc);
    if (strncmp(err.msg, "redis url: ", 11) != 0) fail_msg("%s: message: %s", url, err.msg);
}

static void describe_is(const char *want)
{
    char out[600];
    ow_redis_target_describe(&t, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_tcp(void **state)
{
    (void)state;
    ok("redis://host");
    assert_false(t.is_unix);
    assert_string_equal(t.host, "host");
    assert_int_equal(t.port, 6379);
    assert_int_equal(t.db, 0);
    assert_string_equal(t.user, "");
    assert_string_equal(t.password, "");
    assert_string_equal(t.path, "");
    describe_is("redis://host:6379/0");

    ok("redis://host:6380/2");
    assert_string_equal(t.host, "host");
    assert_int_equal(t.port, 6380);
    assert_int_equal(t.db, 2);
    describe_is("redis://host:6380/2");

    ok("redis://user:p%40ss@host:1/0");
    assert_string_equal(t.user, "user");
    assert_string_equal(t.password, "p@ss");
    assert_string_equal(t.host, "host");
    assert_int_equal(t.port, 1);
    assert_int_equal(t.db, 0);
    describe_is("redis://user@host:1/0");

    ok("redis://:pass@host");
    assert_string_equal(t.user, "");
    assert_string_equal(t.password, "pass");
    assert_string_equal(t.host, "host");
    assert_int_equal(t.port, 6379);
    describe_is("redis://host:6379/0");

    ok("redis://secret@host");
    assert_string_equal(t.user, "");
    assert_string_equal(t.password, "secret");

    ok("redis://[::1]:6379");
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 6379);
    describe_is("redis://[::1]:6379/0");
    ok("redis://[fe80::1]");
    assert_string_equal(t.host, "fe80::1");
    assert_int_equal(t.port, 6379);

    ok("redis://10.0.0.5:65535/15");
    assert_string_equal(t.host, "10.0.0.5");
    assert_int_equal(t.port, 65535);
    assert_int_equal(t.db, 15);

    ok("redis://host/");
    assert_int_equal(t.db, 0);

    /* percent escapes, upper and lower case; the last '@' separates the host */
    ok("redis://a%2Fb:x%3ay%25@h");
    assert_string_equal(t.user, "a/b");
    assert_string_equal(t.password, "x:y%");
    ok("redis://u:p@ss@host:7");
    assert_string_equal(t.password, "p@ss");
    assert_string_equal(t.host, "host");
    assert_int_equal(t.port, 7);
}

static void test_unix(void **state)
{
    (void)state;
    ok("unix:///tmp/r.sock");
    assert_true(t.is_unix);
    assert_string_equal(t.path, "/tmp/r.sock");
    assert_int_equal(t.db, 0);
    assert_string_equal(t.host, "");
    describe_is("unix:///tmp/r.sock");

    ok("unix:///tmp/r.sock?db=3");
    assert_true(t.is_unix);
    assert_string_equal(t.path, "/tmp/r.sock");
    assert_int_equal(t.db, 3);

    ok("unix:///var/run/my%20redis.sock");
    assert_string_equal(t.path, "/var/run/my redis.sock");
}

static void test_errors(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "http://x",
        "",
        "redis:/host",
        "redis://",
        "redis:///0",
        "redis://:pass@",
        "redis://host:0",
        "redis://host:99999",
        "redis://host:65536",
        "redis://host:",
        "redis://host:abc",
        "redis://host:-1",
        "redis://host:6379x",
        "redis://host/abc",
        "redis://host/-1",
        "redis://host/1/2",
        "redis://host:1234567890",
        "redis://[::1",
        "redis://[::1]x",
        "redis://[::1]:",
        "redis://[]:6379",
        "unix://relative",
        "unix://",
        "unix://?db=1",
        "unix:///tmp/r.sock?db=",
        "unix:///tmp/r.sock?db=x",
        "unix:///tmp/r.sock?foo=1",
        "unix:///tmp/r.sock?db=1&x=2",
        /* bad percent escapes */
        "redis://user:p%4@host",
        "redis://user:p%zz@host",
        "redis://user:p%@host",
        "redis://us%G0er:p@host",
        "redis://%@host",
        "redis://:%00@host",
        "unix:///tmp/r%.sock",
        "unix:///tmp/r%00.sock",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
        bad(urls[i]);

    bad("redis://host:0");
    assert_string_equal(err.msg, "redis url: port must be 1-65535");
    bad("unix://relative");
    assert_string_equal(err.msg, "redis url: expected redis://[user:pass@]host:port/db or "
                                 "unix:///path/to/redis.sock (the socket path must be absolute)");
    bad("http://x");
    assert_string_equal(err.msg, "redis url: expected redis://[user:pass@]host:port/db or "
                                 "unix:///path/to/redis.sock");
    bad("redis://user:p%zz@host");
    assert_string_equal(err.msg, "redis url: bad user or password encoding");
}

static void test_lengths(void **state)
{
    (void)state;
    char url[700], host[300];
    memset(host, 'h', 255);
    host[255] = '\0';
    snprintf(url, sizeof url, "redis://%s:1", host);
    ok(url);
    assert_int_equal(strlen(t.host), 255);
    host[255] = 'h', host[256] = '\0';
    snprintf(url, sizeof url, "redis://%s:1", host);
    bad(url);
    /* unix path of 255 bytes fits, 256 does not */
    memset(host, 'p', 254);
    host[254] = '\0';
    snprintf(url, sizeof url, "unix:///%s", host);
    ok(url);
    assert_int_equal(strlen(t.path), 255);
    host[254] = 'p', host[255] = '\0';
    snprintf(url, sizeof url, "unix:///%s", host);
    bad(url);
}

static void test_describe_hides_password(void **state)
{
    (void)state;
    static const char *const urls[] = {"redis://user:hunter2@host:1/0", "redis://:hunter2@host",
                                       "redis://hunter2@host", "redis://admin:hunter2@[::1]:6380/4",
                                       "redis://u:hunter2%40x@host"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        ok(urls[i]);
        assert_non_null(strstr(t.password, "hunter2"));
        char out[600];
        ow_redis_target_describe(&t, out, sizeof out);
        if (strstr(out, "hunter2")) fail_msg("%s: describe shows the password: %s", urls[i], out);
    }
    ok("redis://admin:hunter2@[::1]:6380/4");
    describe_is("redis://admin@[::1]:6380/4");
    /* a short buffer is cut and terminated */
    char small[8];
    ok("redis://averyverylonghostname:6379/0");
    ow_redis_target_describe(&t, small, sizeof small);
    assert_string_equal(small, "redis:/");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_describe_hides_password),
    };
    return cmocka_run_group_tests_name("redis_url", tests, NULL, NULL);
}
