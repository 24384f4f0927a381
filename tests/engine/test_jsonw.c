/* The small JSON writer: escaping and numbers, checked by parsing its output back with cJSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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
    ow_jsonw_key(&w, "zero");
    ow_jsonw_int(&w, 0);
    ow_jsonw_key(&w, "nested");
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "n");
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_escapes_and_numbers)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
