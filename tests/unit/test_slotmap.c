/*
 * test_slotmap — io/slotmap's CLUSTER SHARDS / CLUSTER SLOTS decoders on RESP text turned into
 * reply trees by hiredis' reader (as a node's answer is): real shapes, then malformed,
 * wrong-typed, oversized and hostile replies, each refused with a message naming the place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "slotmap.h"

/* ---- a tiny RESP writer ---- */
typedef struct {
    char *s;
    size_t n, cap;
} resp;

static void put(resp *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(resp *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    while (r->n + (size_t)need + 1 > r->cap) {
        r->cap = r->cap ? 2 * r->cap : 4096;
        r->s = realloc(r->s, r->cap);
    }
    va_start(ap, fmt);
    vsnprintf(r->s + r->n, r->cap - r->n, fmt, ap);
    va_end(ap);
    r->n += (size_t)need;
}
static void arr(resp *r, int n)
{
    put(r, "*%d\r\n", n);
}
static void str(resp *r, const char *s)
{
    put(r, "$%zu\r\n%s\r\n", strlen(s), s);
}
static void num(resp *r, long long v)
{
    put(r, ":%lld\r\n", v);
}
/* a CLUSTER SHARDS node with the usual fields */
static void node(resp *r, const char *ip, long long port, const char *role, const char *health)
{
    arr(r, 14);
    str(r, "id");
    str(r, "0123456789012345678901234567890123456789");
    str(r, "port");
    num(r, port);
    str(r, "ip");
    str(r, ip);
    str(r, "endpoint");
    str(r, ip);
    str(r, "role");
    str(r, role);
    str(r, "replication-offset");
    num(r, 100);
    str(r, "health");
    str(r, health);
}

static redisReply *tree(resp *r)
{
    redisReader *rd = redisReaderCreate();
    ow_redis_reader_cap(rd); /* as every connection of opswall's */
    void *reply = NULL;
    assert_int_equal(redisReaderFeed(rd, r->s, r->n), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
    assert_non_null(reply);
    redisReaderFree(rd);
    free(r->s);
    memset(r, 0, sizeof *r);
    return reply;
}

static ow_slotmap map;
static ow_err err;

/* A reply whose array header declares more than OW_REDIS_MAX_ELEMENTS fails the reader before
 * hiredis allocates it (it was a 3.5 GB calloc: the fuzzer's
 * regressions/slotmap/array_header_444M); the bound itself still reads. */
static void test_reader_cap(void **st)
{
    (void)st;
    redisReader *rd = redisReaderCreate();
    ow_redis_reader_cap(rd);
    void *reply = NULL;
    const char *huge = "*444444440\r\n";
    assert_int_equal(redisReaderFeed(rd, huge, strlen(huge)), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_ERR);
    assert_null(reply);
    redisReaderFree(rd);
    rd = redisReaderCreate();
    ow_redis_reader_cap(rd);
    const char *two = "*2\r\n:1\r\n$2\r\nok\r\n";
    assert_int_equal(redisReaderFeed(rd, two, strlen(two)), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
    assert_non_null(reply);
    assert_int_equal(((redisReply *)reply)->elements, 2);
    freeReplyObject(reply);
    redisReaderFree(rd);
}

static int shards(resp *r)
{
    redisReply *t = tree(r);
    ow_err_clear(&err);
    int rc = ow_slotmap_from_shards(&map, t, &err);
    freeReplyObject(t);
    return rc;
}

static int slots(resp *r)
{
    redisReply *t = tree(r);
    ow_err_clear(&err);
    int rc = ow_slotmap_from_slots(&map, t, &err);
    freeReplyObject(t);
    return rc;
}

static void refused(int rc, const char *want)
{
    if (rc == OW_OK) fail_msg("accepted; wanted an error with \"%s\"", want);
    if (!strstr(err.msg, want)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
    assert_int_equal(map.nnodes, 0);
    assert_int_equal(ow_slotmap_covered(&map, NULL), 0);
}

static void test_shards(void **state)
{
    (void)state;
    resp r = {0};
    arr(&r, 2);
    /* shard 0: slots 0-99 and 200-16383, master on 7004 after a failover of 7001 */
    arr(&r, 6);
    str(&r, "slots");
    arr(&r, 4);
    num(&r, 0), num(&r, 99), num(&r, 200), num(&r, 16383);
    str(&r, "nodes");
    arr(&r, 2);
    node(&r, "127.0.0.1", 7001, "replica", "fail");
    node(&r, "127.0.0.1", 7004, "master", "online");
    str(&r, "future-field"); /* skipped */
    arr(&r, 0);
    /* shard 1: 100-199 on a node whose endpoint is unknown ("?"): its ip is used */
    arr(&r, 4);
    str(&r, "slots");
    arr(&r, 2);
    num(&r, 100), num(&r, 199);
    str(&r, "nodes");
    arr(&r, 1);
    arr(&r, 8);
    str(&r, "port"), num(&r, 7002), str(&r, "endpoint"), str(&r, "?"), str(&r, "ip"),
        str(&r, "10.0.0.2"), str(&r, "role"), str(&r, "master");
    assert_int_equal(shards(&r), OW_OK);
    assert_int_equal(map.nnodes, 3);
    int masters;
    assert_int_equal(ow_slotmap_covered(&map, &masters), OW_CLUSTER_SLOTS);
    assert_int_equal(masters, 2);
    const ow_slotmap_node *m0 = &map.nodes[map.owner[0]];
    assert_int_equal(m0->port, 7004);
    assert_true(m0->master && m0->healthy);
    assert_int_equal(map.nodes[map.owner[16383]].port, 7004);
    const ow_slotmap_node *m1 = &map.nodes[map.owner[150]];
    assert_string_equal(m1->host, "10.0.0.2");
    assert_int_equal(m1->port, 7002);
    assert_false(map.nodes[0].master); /* the failed old master */
    assert_false(map.nodes[0].healthy);
    assert_int_equal(map.nodes[0].replica_of, map.owner[0]); /* now its replica */
    assert_int_equal(map.nodes[map.owner[0]].replica_of, -1);
}

static void test_slots(void **state)
{
    (void)state;
    resp r = {0};
    arr(&r, 2);
    arr(&r, 4);
    num(&r, 0), num(&r, 5000);
    arr(&r, 4), str(&r, "127.0.0.1"), num(&r, 7000), str(&r, "aaaa"), arr(&r, 0);
    arr(&r, 3), str(&r, "127.0.0.1"), num(&r, 7003), str(&r, "bbbb");
    arr(&r, 3);
    num(&r, 9000), num(&r, 9000);
    arr(&r, 2), str(&r, "node-b.example"), num(&r, 6380);
    assert_int_equal(slots(&r), OW_OK);
    assert_int_equal(map.nnodes, 3);
    assert_int_equal(ow_slotmap_covered(&map, NULL), 5002);
    assert_int_equal(map.owner[5001], -1);
    assert_string_equal(map.nodes[map.owner[9000]].host, "node-b.example");
    assert_string_equal(map.nodes[map.owner[0]].id, "aaaa");
    assert_false(map.nodes[1].master);
    assert_int_equal(map.nodes[1].replica_of, map.owner[0]);
    /* an empty cluster (no slots assigned) */
    arr(&r, 0);
    assert_int_equal(slots(&r), OW_OK);
    assert_int_equal(ow_slotmap_covered(&map, NULL), 0);
}

/* one shard with the given slot pair and one master node on `port` */
static void one_shard(resp *r, long long lo, long long hi, long long port)
{
    arr(r, 1);
    arr(r, 4);
    str(r, "slots");
    arr(r, 2);
    num(r, lo), num(r, hi);
    str(r, "nodes");
    arr(r, 1);
    node(r, "127.0.0.1", port, "master", "online");
}

static void test_shards_malformed(void **state)
{
    (void)state;
    resp r = {0};
    str(&r, "not an array");
    refused(shards(&r), "expected an array of shards, got string");
    put(&r, "-ERR This instance has cluster support disabled\r\n");
    refused(shards(&r), "got error");
    arr(&r, 1), num(&r, 3);
    refused(shards(&r), "shard 0: expected an array of field, value pairs, got integer");
    arr(&r, 1), arr(&r, 3), str(&r, "slots"), arr(&r, 0), str(&r, "nodes");
    refused(shards(&r), "shard 0: expected an array of field, value pairs");
    arr(&r, 1), arr(&r, 2), str(&r, "nodes"), arr(&r, 0);
    refused(shards(&r), "\"slots\": expected an array of start, end pairs, got nothing");
    one_shard(&r, 0, 16384, 7000);
    refused(shards(&r), "\"slots\" pair 0: expected start <= end, both integers from 0 to 16383");
    one_shard(&r, -1, 5, 7000);
    refused(shards(&r), "\"slots\" pair 0");
    one_shard(&r, 10, 5, 7000);
    refused(shards(&r), "\"slots\" pair 0");
    one_shard(&r, 0, 5, 0);
    refused(shards(&r), "node 0: \"port\": expected an integer from 1 to 65535, got integer");
    one_shard(&r, 0, 5, 65536);
    refused(shards(&r), "\"port\"");
    /* slots as strings (wrong type) */
    arr(&r, 1), arr(&r, 4), str(&r, "slots"), arr(&r, 2), str(&r, "0"), str(&r, "5"),
        str(&r, "nodes"), arr(&r, 1), node(&r, "127.0.0.1", 7000, "master", "online");
    refused(shards(&r), "\"slots\" pair 0");
    /* role missing, role unknown, no address */
    arr(&r, 1), arr(&r, 4), str(&r, "slots"), arr(&r, 0), str(&r, "nodes"), arr(&r, 1), arr(&r, 2),
        str(&r, "port"), num(&r, 7000);
    refused(shards(&r), "node 0: missing \"role\"");
    arr(&r, 1), arr(&r, 4), str(&r, "slots"), arr(&r, 0), str(&r, "nodes"), arr(&r, 1);
    node(&r, "127.0.0.1", 7000, "boss", "online");
    refused(shards(&r), "\"role\": expected \"master\" or \"replica\"");
    arr(&r, 1), arr(&r, 4), str(&r, "slots"), arr(&r, 0), str(&r, "nodes"), arr(&r, 1), arr(&r, 4),
        str(&r, "port"), num(&r, 7000), str(&r, "role"), str(&r, "master");
    refused(shards(&r), "neither \"endpoint\" nor \"ip\"");
    arr(&r, 1), arr(&r, 4), str(&r, "slots"), arr(&r, 0), str(&r, "nodes"), arr(&r, 1), arr(&r, 2),
        num(&r, 1), num(&r, 2);
    refused(shards(&r), "field name 0: expected a string, got integer");
    /* slots but only a replica */
    arr(&r, 1), arr(&r, 4), str(&r, "slots"), arr(&r, 2), num(&r, 0), num(&r, 1), str(&r, "nodes"),
        arr(&r, 1), node(&r, "127.0.0.1", 7000, "replica", "online");
    refused(shards(&r), "has slots but no master");
    /* two masters in one shard */
    arr(&r, 1), arr(&r, 4), str(&r, "slots"), arr(&r, 0), str(&r, "nodes"), arr(&r, 2);
    node(&r, "127.0.0.1", 7000, "master", "online");
    node(&r, "127.0.0.1", 7001, "master", "online");
    refused(shards(&r), "two masters");
    /* two shards claiming one slot */
    arr(&r, 2);
    for (int i = 0; i < 2; i++) {
        arr(&r, 4), str(&r, "slots"), arr(&r, 2), num(&r, 10 * i), num(&r, 10 + 10 * i);
        str(&r, "nodes"), arr(&r, 1), node(&r, "127.0.0.1", 7000 + i, "master", "online");
    }
    refused(shards(&r), "slot 10 is claimed by two masters (127.0.0.1:7000 and 127.0.0.1:7001)");
}

static void test_hostile(void **state)
{
    (void)state;
    resp r = {0};
    /* a host of 300 bytes */
    char big[301];
    memset(big, 'h', 300);
    big[300] = '\0';
    arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), arr(&r, 2), str(&r, big), num(&r, 7000);
    refused(slots(&r), "range 0: node 0: ip: expected a host of 1 to 255 bytes");
    /* a NUL byte inside a host */
    arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), arr(&r, 2);
    put(&r, "$3\r\na");
    r.s[r.n++] = '\0';
    put(&r, "b\r\n");
    num(&r, 7000);
    refused(slots(&r), "ip: expected a host");
    /* more nodes than the map holds */
    int n = OW_SLOTMAP_NODES_MAX + 1;
    arr(&r, n);
    for (int i = 0; i < n; i++) {
        arr(&r, 3), num(&r, i), num(&r, i), arr(&r, 2);
        char host[32];
        snprintf(host, sizeof host, "10.0.%d.%d", i / 256, i % 256);
        str(&r, host), num(&r, 7000);
    }
    refused(slots(&r), "more than 1024 nodes");
    /* nil where a range should be; a range too short */
    arr(&r, 1), put(&r, "*-1\r\n");
    refused(slots(&r), "range 0: expected [start, end, master, replicas...], got nil");
    arr(&r, 1), arr(&r, 2), num(&r, 0), num(&r, 1);
    refused(slots(&r), "range 0: expected [start, end, master");
    arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), arr(&r, 2), str(&r, "h"), str(&r, "7000");
    refused(slots(&r), "port: expected an integer from 1 to 65535, got string");
    arr(&r, 1), arr(&r, 3), num(&r, 0), num(&r, 1), arr(&r, 2), str(&r, "?"), num(&r, 7000);
    refused(slots(&r), "ip: expected a host");
}

static void test_addr(void **state)
{
    (void)state;
    char host[OW_SLOTMAP_HOST_BUF];
    int port;
    assert_int_equal(ow_slotmap_parse_addr("127.0.0.1:7000", host, sizeof host, &port), OW_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 7000);
    assert_int_equal(ow_slotmap_parse_addr(":7001", host, sizeof host, &port), OW_OK);
    assert_string_equal(host, "");
    assert_int_equal(ow_slotmap_parse_addr("::1:7002", host, sizeof host, &port), OW_OK);
    assert_string_equal(host, "::1");
    const char *bad[] = {"7000", "h:", "h:0", "h:65536", "h:12x", "h:-1", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ow_slotmap_parse_addr(bad[i], host, sizeof host, &port), OW_EINVAL);
    assert_int_equal(ow_slotmap_parse_addr("abcdef:1", host, 4, &port), OW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_shards_malformed),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_addr),
        cmocka_unit_test(test_reader_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
