/* Deltas: old + delta(old, new) = new; a gap is detected; bad input is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "delta.h"
#include "json.h"

static const char *A =
    "{\"v\":1,\"type\":\"snapshot\",\"seq\":41,\"open\":{\"emergency\":1,\"total\":3},"
    "\"urgent\":[{\"order_id\":\"o1\"}],\"gone\":true,\"same\":\"x\"}";
static const char *B =
    "{\"v\":1,\"type\":\"snapshot\",\"seq\":42,\"open\":{\"emergency\":2,\"total\":4},"
    "\"urgent\":[{\"order_id\":\"o1\"}],\"same\":\"x\",\"new\":[1,2]}";

static void test_make_and_apply(void **st)
{
    (void)st;
    ow_err err;
    char *d = ow_delta_make(A, strlen(A), B, strlen(B), &err);
    assert_non_null(d);
    cJSON *dj = cJSON_Parse(d);
    /* only what changed: open and new are set, gone is deleted, urgent and same are not sent */
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(dj, "set");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(set, "open"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(set, "new"));
    assert_null(cJSON_GetObjectItemCaseSensitive(set, "urgent"));
    assert_null(cJSON_GetObjectItemCaseSensitive(set, "same"));
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(dj, "del"), 0)->valuestring, "gone");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(dj, "base")->valueint, 41);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(dj, "seq")->valueint, 42);
    char *b2 = ow_delta_apply(A, strlen(A), d, strlen(d), &err);
    assert_non_null(b2);
    cJSON *x = cJSON_Parse(b2), *y = cJSON_Parse(B);
    assert_true(cJSON_Compare(x, y, true));
    cJSON_Delete(x), cJSON_Delete(y), cJSON_Delete(dj);
    /* applying to the wrong base is a gap: resync */
    assert_null(ow_delta_apply(B, strlen(B), d, strlen(d), &err));
    assert_int_equal(err.code, OW_EAGAIN);
    free(d), free(b2);
}

static void test_bad_input(void **st)
{
    (void)st;
    ow_err err;
    assert_null(ow_delta_make("{", 1, B, strlen(B), &err));
    assert_int_equal(err.code, OW_EINVAL);
    assert_null(ow_delta_make("[]", 2, B, strlen(B), &err));
    const char *not_delta = "{\"type\":\"snapshot\",\"seq\":1}";
    assert_null(ow_delta_apply(A, strlen(A), not_delta, strlen(not_delta), &err));
    assert_int_equal(err.code, OW_EINVAL);
    const char *no_set = "{\"type\":\"delta\",\"seq\":42,\"base\":41}";
    assert_null(ow_delta_apply(A, strlen(A), no_set, strlen(no_set), &err));
    assert_int_equal(err.code, OW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_and_apply),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
