/*
 * test_batch — io/batch.c: an ow_ingest call built in place must be exactly the RESP command
 * hiredis would have formatted from the same arguments (checked by parsing it back with hiredis's
 * reader), across buffer reuse, binary and empty raw text, and many items; and the reply checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "config.h"
#include "keys.h"

/* Parse a command (a RESP array of bulk strings) back into a reply tree. */
static redisReply *parse(const char *cmd, size_t len)
{
    redisReader *r = redisReaderCreate();
    assert_int_equal(redisReaderFeed(r, cmd, len), REDIS_OK);
    void *reply = NULL;
    assert_int_equal(redisReaderGetReply(r, &reply), REDIS_OK);
    assert_non_null(reply);
    void *more = NULL;
    assert_int_equal(redisReaderGetReply(r, &more), REDIS_OK);
    assert_null(more); /* exactly one command, nothing after it */
    redisReaderFree(r);
    return reply;
}

static void assert_arg(const redisReply *a, size_t i, const char *s, size_t n)
{
    assert_true(i < a->elements);
    assert_int_equal(a->element[i]->type, REDIS_REPLY_STRING);
    assert_int_equal(a->element[i]->len, n);
    assert_memory_equal(a->element[i]->str, s, n);
}

static void test_command_round_trip(void **state)
{
    (void)state;
    static ow_config cfg;
    ow_config_defaults(&cfg);
    ow_batch b;
    ow_batch_init(&b);
    for (int round = 0; round < 3; round++) { /* the buffer is reused */
        ow_batch_start(&b, &cfg);
        const char bin[] = {'a', '\0', '\r', '\n', 'z'};
        ow_batch_add_event(&b, "e-1", "{\"v\":1}", 7);
        ow_batch_add_reject(&b, "line 2: bad", "stdin", -2, bin, sizeof bin);
        ow_batch_add_event(&b, "e-2", "", 0);
        for (int i = 0; i < 300 * round; i++)
            ow_batch_add_event(&b, "many", "x", 1);
        size_t len;
        const char *cmd = ow_batch_command(&b, &len);
        assert_non_null(cmd);
        redisReply *a = parse(cmd, len);
        assert_int_equal(a->type, REDIS_REPLY_ARRAY);
        assert_int_equal(a->elements, 10 + 2 + 5 + 2 + 300 * round * 2);
        assert_arg(a, 0, "FCALL", 5);
        assert_arg(a, 1, OW_FUNCTION_INGEST, strlen(OW_FUNCTION_INGEST));
        assert_arg(a, 2, "3", 1);
        assert_arg(a, 3, OW_KEY_EVENTS, strlen(OW_KEY_EVENTS));
        assert_arg(a, 5, OW_KEY_REJECTS, strlen(OW_KEY_REJECTS));
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)(cfg.ingest.dedup_window_ms / 4));
        assert_arg(a, 6, num, strlen(num));
        assert_arg(a, 7, "4", 1);
        /* an event: its id's key (SHA-256("e-1")'s first 16 bytes, from Python's hashlib), raw */
        assert_arg(a, 10, "\xb9\x4f\x52\x31\x96\xaa\xac\xd8\xbd\xb9\xef\x0d\x8c\xf2\xe1\xd8", 16);
        assert_arg(a, 11, "{\"v\":1}", 7);
        assert_arg(a, 12, "", 0); /* a reject: "", reason, source, pos, raw */
        assert_arg(a, 13, "line 2: bad", 11);
        assert_arg(a, 15, "-2", 2);
        assert_arg(a, 16, bin, sizeof bin);
        assert_arg(a, 17, "\x76\x1d\x23\x0a\x06\xe6\x78\xef\x0d\x18\xd4\x99\x7d\xad\x6b\x33", 16);
        assert_arg(a, 18, "", 0);
        if (round) /* every "many" has the same key */
            assert_arg(a, 19, "\x11\x37\xb1\x5c\x77\x97\xaa\x84\xec\x24\xe8\xdc\xa5\xcb\x96\x6d",
                       16);
        assert_int_equal(b.items, 3 + 300 * (size_t)round);
        assert_int_equal(b.events, 2 + 300 * (size_t)round);
        freeReplyObject(a);
    }
    ow_batch_fini(&b);
}

static void test_reply_checks(void **state)
{
    (void)state;
    ow_err err;
    redisReply *r = parse("*3\r\n$3\r\n1-0\r\n:0\r\n$3\r\n2-0\r\n", 26);
    /* (a reply is a RESP value like a command; the reader builds the same tree) */
    assert_int_equal(ow_batch_reply_check(r, 3, &err), OW_OK);
    const char *id = NULL;
    assert_true(ow_batch_reply_item(r, 0, &id));
    assert_string_equal(id, "1-0");
    assert_false(ow_batch_reply_item(r, 1, &id));
    assert_int_equal(ow_batch_reply_check(r, 2, &err), OW_EREDIS); /* wrong count */
    freeReplyObject(r);
    assert_int_equal(ow_batch_reply_check(NULL, 1, &err), OW_EREDIS);
    r = parse("-ERR Function not found\r\n", 25);
    assert_int_equal(ow_batch_reply_check(r, 1, &err), OW_EREDIS);
    assert_non_null(strstr(err.msg, "Function not found"));
    freeReplyObject(r);
    r = parse("*1\r\n*0\r\n", 8);
    assert_int_equal(ow_batch_reply_check(r, 1, &err), OW_EREDIS); /* nested: wrong shape */
    freeReplyObject(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_round_trip),
        cmocka_unit_test(test_reply_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
