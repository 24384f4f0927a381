/*
 * test_map — the string-keyed open-addressing map: put/get/take/iterate, growth, tombstones.
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
#include "map.h"

/* Distinct non-NULL values without allocating: addresses inside one array. */
static char values[200001];

static void *val(size_t i)
{
    return &values[i];
}

static void key_of(size_t i, char *out, size_t n)
{
    snprintf(out, n, "order-%zu", i);
}

static void test_put_get_take(void **state)
{
    (void)state;
    ow_map m;
    ow_map_init(&m);
    assert_null(ow_map_get(&m, "a"));
    assert_null(ow_map_take(&m, "a"));
    assert_int_equal(m.len, 0);

    assert_int_equal(ow_map_put(&m, "a", val(1)), OW_OK);
    assert_int_equal(ow_map_put(&m, "b", val(2)), OW_OK);
    assert_int_equal(ow_map_put(&m, "", val(3)), OW_OK); /* the empty key is a key */
    assert_int_equal(m.len, 3);
    assert_ptr_equal(ow_map_get(&m, "a"), val(1));
    assert_ptr_equal(ow_map_get(&m, "b"), val(2));
    assert_ptr_equal(ow_map_get(&m, ""), val(3));
    assert_null(ow_map_get(&m, "c"));
    assert_null(ow_map_get(&m, "A"));

    /* replace keeps one entry */
    assert_int_equal(ow_map_put(&m, "a", val(10)), OW_OK);
    assert_int_equal(m.len, 3);
    assert_ptr_equal(ow_map_get(&m, "a"), val(10));

    /* the key is copied */
    char key[8] = "tmp";
    assert_int_equal(ow_map_put(&m, key, val(4)), OW_OK);
    strcpy(key, "xxx");
    assert_ptr_equal(ow_map_get(&m, "tmp"), val(4));
    assert_null(ow_map_get(&m, "xxx"));

    /* take returns the value and removes the entry */
    assert_ptr_equal(ow_map_take(&m, "a"), val(10));
    assert_null(ow_map_get(&m, "a"));
    assert_null(ow_map_take(&m, "a"));
    assert_int_equal(m.len, 3);
    /* a NULL value is stored like any other */
    assert_int_equal(ow_map_put(&m, "nul", NULL), OW_OK);
    assert_int_equal(m.len, 4);
    assert_null(ow_map_take(&m, "nul"));
    assert_int_equal(m.len, 3);
    ow_map_fini(&m);
    assert_int_equal(m.len, 0);
    assert_int_equal(m.cap, 0);
    assert_null(m.slots);
    ow_map_fini(&m); /* twice is fine */
}

static void test_iterate(void **state)
{
    (void)state;
    ow_map m;
    ow_map_init(&m);
    size_t pos = 0;
    assert_false(ow_map_next(&m, &pos, NULL, NULL));

    enum { N = 1000 };
    char key[32];
    for (size_t i = 0; i < N; i++) {
        key_of(i, key, sizeof key);
        assert_int_equal(ow_map_put(&m, key, val(i)), OW_OK);
    }
    for (size_t i = 0; i < N; i += 3) {
        key_of(i, key, sizeof key);
        assert_ptr_equal(ow_map_take(&m, key), val(i));
    }
    /* every live entry exactly once, none of the taken ones */
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    pos = 0;
    const char *k;
    void *v;
    size_t count = 0;
    while (ow_map_next(&m, &pos, &k, &v)) {
        size_t i = (size_t)((char *)v - values);
        assert_true(i < N);
        key_of(i, key, sizeof key);
        assert_string_equal(k, key);
        assert_int_equal(seen[i], 0);
        seen[i] = 1;
        count++;
    }
    assert_int_equal(count, m.len);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(seen[i], i % 3 != 0);
    /* at the end it stays at the end */
    assert_false(ow_map_next(&m, &pos, &k, &v));
    ow_map_fini(&m);
}

static void test_growth_past_100k(void **state)
{
    (void)state;
    ow_map m;
    ow_map_init(&m);
    enum { N = 150000 };
    char key[32];
    for (size_t i = 0; i < N; i++) {
        key_of(i, key, sizeof key);
        assert_int_equal(ow_map_put(&m, key, val(i)), OW_OK);
    }
    assert_int_equal(m.len, N);
    /* power-of-two capacity, load at most 3/4 */
    assert_int_equal(m.cap & (m.cap - 1), 0);
    assert_true(m.used * 4 <= m.cap * 3);
    assert_true(m.cap >= N);
    for (size_t i = 0; i < N; i++) {
        key_of(i, key, sizeof key);
        if (ow_map_get(&m, key) != val(i)) fail_msg("%s lost after growth", key);
    }
    assert_null(ow_map_get(&m, "order-150000"));
    assert_null(ow_map_get(&m, "order-"));
    /* take half, the rest are still there */
    for (size_t i = 0; i < N; i += 2) {
        key_of(i, key, sizeof key);
        assert_ptr_equal(ow_map_take(&m, key), val(i));
    }
    assert_int_equal(m.len, N / 2);
    for (size_t i = 0; i < N; i++) {
        key_of(i, key, sizeof key);
        void *want = i % 2 ? val(i) : NULL;
        if (ow_map_get(&m, key) != want) fail_msg("%s wrong after takes", key);
    }
    ow_map_fini(&m);
}

static void test_tombstone_reuse(void **state)
{
    (void)state;
    ow_map m;
    ow_map_init(&m);
    assert_int_equal(ow_map_put(&m, "k", val(1)), OW_OK);
    size_t used = m.used, cap = m.cap;
    assert_int_equal(used, 1);
    /* take + put of the same key reuses its slot: no new slot consumed */
    for (int i = 0; i < 1000; i++) {
        assert_ptr_equal(ow_map_take(&m, "k"), val(1));
        assert_int_equal(m.len, 0);
        assert_int_equal(ow_map_put(&m, "k", val(1)), OW_OK);
        assert_int_equal(m.used, used);
    }
    assert_int_equal(m.cap, cap);

    /* churn: 200000 distinct keys in and out, never more than 10 live; the table stays small */
    char key[32];
    for (size_t i = 0; i < 200000; i++) {
        key_of(i, key, sizeof key);
        assert_int_equal(ow_map_put(&m, key, val(i)), OW_OK);
        if (i >= 10) {
            key_of(i - 10, key, sizeof key);
            assert_ptr_equal(ow_map_take(&m, key), val(i - 10));
        }
    }
    assert_int_equal(m.len, 11);
    assert_true(m.cap <= 64);
    assert_true(m.used * 4 <= m.cap * 3);
    for (size_t i = 200000 - 10; i < 200000; i++) {
        key_of(i, key, sizeof key);
        assert_ptr_equal(ow_map_get(&m, key), val(i));
    }
    assert_ptr_equal(ow_map_get(&m, "k"), val(1));
    /* a missing key is found missing even when the table is mostly tombstones */
    assert_null(ow_map_get(&m, "order-0"));
    ow_map_fini(&m);
}

static void test_hash(void **state)
{
    (void)state;
    assert_true(ow_hash("abc", 3) == ow_hash("abcdef", 3));
    assert_true(ow_hash("abc", 3) != ow_hash("abd", 3));
    assert_true(ow_hash("", 0) == ow_hash("x", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_take),
        cmocka_unit_test(test_iterate),
        cmocka_unit_test(test_growth_past_100k),
        cmocka_unit_test(test_tombstone_reuse),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
