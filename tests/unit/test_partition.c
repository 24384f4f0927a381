/*
 * test_partition — Redis Cluster key slots (core/crc16) and region → partition placement and key
 * names (core/partition): known values, hash tags, the table file's strict parsing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc16.h"
#include "keys.h"
#include "partition.h"

static int slot(const char *key)
{
    return ow_crc16_keyslot(key, strlen(key));
}

static void test_crc16_known(void **state)
{
    (void)state;
    /* the check value of CRC-16/XMODEM */
    assert_int_equal(ow_crc16("123456789", 9), 0x31C3);
    assert_int_equal(ow_crc16("", 0), 0);
    /* slots documented in the Redis Cluster tutorial and spec */
    assert_int_equal(slot("foo"), 12182);
    assert_int_equal(slot("bar"), 5061);
    assert_int_equal(slot("hello"), 866);
    /* binary-safe: a NUL byte is hashed like any other */
    assert_int_not_equal(ow_crc16_keyslot("a\0b", 3), ow_crc16_keyslot("a", 1));
}

static void test_hash_tags(void **state)
{
    (void)state;
    /* the tag is hashed alone */
    assert_int_equal(slot("{user1000}.following"), slot("user1000"));
    assert_int_equal(slot("{user1000}.followers"), slot("{user1000}.following"));
    assert_int_equal(slot("ops:{p3}:events"), slot("p3"));
    assert_int_equal(slot("ops:{p3}:events"), slot("ops:{p3}:seen:e-1"));
    /* the first '{' and the first '}' after it */
    assert_int_equal(slot("foo{{bar}}zap"), slot("{bar"));
    assert_int_equal(slot("foo{bar}{zap}"), slot("bar"));
    /* an empty tag or an unclosed one: the whole key */
    assert_int_equal(slot("foo{}{bar}"), ow_crc16("foo{}{bar}", 10) & 16383);
    assert_int_equal(slot("foo{bar"), ow_crc16("foo{bar", 7) & 16383);
    assert_int_equal(slot("}{"), ow_crc16("}{", 2) & 16383);
    /* a tag right at the end */
    assert_int_equal(slot("x{a}"), slot("a"));
}

static void test_partition_hash_frozen(void **state)
{
    (void)state;
    /* FNV-1a 32-bit reference values: changing the hash would move regions */
    assert_int_equal(ow_partition_hash("", 0), 0x811c9dc5u);
    assert_int_equal(ow_partition_hash("a", 1), 0xe40c292cu);
    assert_int_equal(ow_partition_hash("foobar", 6), 0xbf9cf968u);
    ow_partition_table t;
    ow_partition_table_init(&t, 3);
    assert_int_equal(ow_partition_of(&t, "a"), (int)(0xe40c292cu % 3));
    assert_int_equal(ow_partition_of(&t, "foobar"), (int)(0xbf9cf968u % 3));
    /* one partition: everything in 0 */
    ow_partition_table one;
    ow_partition_table_init(&one, 1);
    assert_int_equal(ow_partition_of(&one, "north"), 0);
    assert_int_equal(ow_partition_of(&one, ""), 0);
    /* clamped */
    ow_partition_table_init(&one, 0);
    assert_int_equal(one.n, 1);
    ow_partition_table_init(&one, 1 << 20);
    assert_int_equal(one.n, OW_PARTITIONS_MAX);
    /* every region lands in range, and all partitions get some of 1000 names */
    int seen[3] = {0};
    for (int i = 0; i < 1000; i++) {
        char name[32];
        snprintf(name, sizeof name, "region-%d", i);
        int p = ow_partition_of(&t, name);
        assert_true(p >= 0 && p < 3);
        seen[p]++;
    }
    for (int p = 0; p < 3; p++)
        assert_true(seen[p] > 250);
}

static void test_keys(void **state)
{
    (void)state;
    char k[OW_PARTITION_KEY_MAX];
    assert_int_equal(ow_partition_key(k, sizeof k, 0, "events"), 15);
    assert_string_equal(k, OW_KEY_EVENTS); /* partition 0 is the compile-time spelling */
    ow_partition_key(k, sizeof k, 17, "seen:");
    assert_string_equal(k, "ops:{p17}:seen:");
    assert_int_equal(ow_partition_rekey(k, sizeof k, 3, OW_KEY_ALERT_CHANGES), 22);
    assert_string_equal(k, "ops:{p3}:alert_changes");
    ow_partition_rekey(k, sizeof k, 0, OW_CHAN_LIVE);
    assert_string_equal(k, OW_CHAN_LIVE);
    /* every key of a partition has the partition's slot */
    assert_int_equal(slot(k), ow_partition_slot(0));
    ow_partition_rekey(k, sizeof k, 2, OW_KEY_CHECKPOINT);
    assert_int_equal(slot(k), ow_partition_slot(2));
    /* refused */
    assert_int_equal(ow_partition_rekey(k, sizeof k, 1, "ops:{p1}:events"), OW_EINVAL);
    assert_string_equal(k, "");
    assert_int_equal(ow_partition_rekey(k, sizeof k, 1, "other"), OW_EINVAL);
    assert_int_equal(ow_partition_key(k, sizeof k, -1, "events"), OW_EINVAL);
    assert_int_equal(ow_partition_key(k, sizeof k, OW_PARTITIONS_MAX, "events"), OW_EINVAL);
    assert_int_equal(ow_partition_key(k, 10, 1, "events"), OW_ETOOBIG);
    assert_string_equal(k, "");
    ow_partition_tag(k, 16, 42);
    assert_string_equal(k, "{p42}");
    /* the slots of the first partitions (docs/scaling.md lists them for placement) */
    assert_int_equal(ow_partition_slot(0), 15882);
    assert_int_equal(ow_partition_slot(1), 11819);
    assert_int_equal(ow_partition_slot(2), 7752);
}

static ow_err err;

static int parse(ow_partition_table *t, int n, const char *text)
{
    ow_err_clear(&err);
    return ow_partition_table_parse(t, n, text, strlen(text), "parts.json", &err);
}

static void bad(int n, const char *text, const char *want)
{
    ow_partition_table t;
    ow_partition_table_init(&t, n);
    int rc = parse(&t, n, text);
    if (rc == OW_OK) fail_msg("accepted: %s", text);
    if (!strstr(err.msg, want)) fail_msg("%s: message \"%s\" lacks \"%s\"", text, err.msg, want);
    if (strncmp(err.msg, "parts.json: ", 12) != 0) fail_msg("no source: %s", err.msg);
    assert_int_equal(t.nv, 0); /* left with no explicit entries */
    ow_partition_table_fini(&t);
}

static void test_table(void **state)
{
    (void)state;
    ow_partition_table t;
    ow_partition_table_init(&t, 3);
    assert_int_equal(parse(&t, 3, "{\"north\": 2, \"east\": 0, \"港区\": 1}"), OW_OK);
    assert_int_equal(t.nv, 3);
    assert_int_equal(ow_partition_of(&t, "north"), 2);
    assert_int_equal(ow_partition_of(&t, "east"), 0);
    assert_int_equal(ow_partition_of(&t, "港区"), 1);
    /* not listed: the hash */
    assert_int_equal(ow_partition_of(&t, "foobar"), (int)(0xbf9cf968u % 3));
    /* an empty table is fine */
    assert_int_equal(parse(&t, 3, "{}"), OW_OK);
    assert_int_equal(t.nv, 0);
    ow_partition_table_fini(&t);
}

static void test_table_malformed(void **state)
{
    (void)state;
    bad(3, "", "empty");
    bad(3, "[1,2]", "expected a JSON object of region");
    bad(3, "{\"north\": 3}", "\"north\": expected a partition from 0 to 2, got 3");
    bad(3, "{\"north\": -1}", "got -1");
    bad(3, "{\"north\": 1.5}", "got 1.5");
    bad(3, "{\"north\": \"1\"}", "got \"1\"");
    bad(3, "{\"north\": null}", "got null");
    bad(3, "{\"north\": 1, \"north\": 2}", "duplicate");
    bad(3, "{\"\": 1}", "expected 1 to");
    bad(3, "{\"north\": {\"x\": 1}}", "");
    bad(3, "{\"north\": 1} x", "");
    bad(3, "{\"nor\\u0000th\": 1}", "");
    bad(0, "{}", "0 partitions");
    /* oversized: a name past the buffer, and too many entries */
    char *big = malloc(OW_NAME_BUF + 64);
    snprintf(big, OW_NAME_BUF + 64, "{\"%0*d\": 1}", OW_NAME_BUF, 7);
    bad(3, big, "expected 1 to");
    free(big);
    size_t cap = (size_t)(OW_PARTITION_REGIONS_MAX + 2) * 24;
    char *many = malloc(cap);
    size_t used = (size_t)snprintf(many, cap, "{");
    for (int i = 0; i <= OW_PARTITION_REGIONS_MAX; i++)
        used += (size_t)snprintf(many + used, cap - used, "%s\"r%d\":0", i ? "," : "", i);
    snprintf(many + used, cap - used, "}");
    bad(3, many, "at most 4096");
    free(many);
}

static void test_set_parse(void **state)
{
    (void)state;
    bool want[3];
    ow_err e;
    assert_int_equal(ow_partition_set_parse("", 3, want, &e), OW_OK);
    assert_true(want[0] && want[1] && want[2]);
    assert_int_equal(ow_partition_set_parse("0,2", 3, want, &e), OW_OK);
    assert_true(want[0] && !want[1] && want[2]);
    assert_int_equal(ow_partition_set_parse(" 1 , 1 ", 3, want, &e), OW_OK);
    assert_true(!want[0] && want[1] && !want[2]);
    const char *badv[] = {"3", "-1", "a", "0;1", "0,,", ",", "1 2", "99999999999999999999", "0x1"};
    for (size_t i = 0; i < sizeof badv / sizeof *badv; i++) {
        assert_int_equal(ow_partition_set_parse(badv[i], 3, want, &e), OW_EINVAL);
        assert_non_null(strstr(e.msg, "engine.partitions"));
    }
}

/* The keys a routed append touches share one slot: the partition's, or the shared stream's. */
static void test_routed_keys_slots(void **state)
{
    (void)state;
    assert_int_equal(slot(OW_KEY_SHARED), slot(OW_KEY_SHARED_N));
    assert_int_equal(slot(OW_KEY_SHARED), slot(OW_KEY_SHARED_SEEN "ev-1"));
    char ev[OW_PARTITION_KEY_MAX], seen[OW_PARTITION_KEY_MAX];
    for (int p = 0; p < 5; p++) {
        ow_partition_rekey(ev, sizeof ev, p, OW_KEY_EVENTS);
        ow_partition_rekey(seen, sizeof seen, p, OW_KEY_SEEN_PREFIX);
        strcat(seen, "ev-42");
        assert_int_equal(slot(ev), slot(seen));
        assert_int_equal(slot(ev), ow_partition_slot(p));
        assert_int_not_equal(slot(ev), slot(OW_KEY_SHARED));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_known),
        cmocka_unit_test(test_hash_tags),
        cmocka_unit_test(test_partition_hash_frozen),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_malformed),
        cmocka_unit_test(test_set_parse),
        cmocka_unit_test(test_routed_keys_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
