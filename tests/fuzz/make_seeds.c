/*
 * make_seeds — writes the seed corpora of fuzz_checkpoint and fuzz_delta from states built out of
 * real events, so the seeds follow the formats as the engine writes them today.
 *
 *   make_seeds DIR     writes DIR/checkpoint/<name> and DIR/delta/<name>
 *                      (run with DIR = tests/fuzz/corpus after a format change)
 *
 * Checkpoints: an empty state; a small day (orders through every stage, a pause, a reopen,
 * complaints, technicians, raised alerts and an acknowledgement); some cuts of the small day;
 * an empty partition 0 of 3 with the holding records of other partitions' orders (the
 * flags' replica, engine/holdings.h).
 * Deltas: "snapshot A\ndelta" pairs from ow_delta_make, and "snapshot A\nsnapshot B" pairs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "crossfacts.h"
#include "partition.h"
#include "xrecord.h"
#include "config.h"
#include "delta.h"
#include "flags.h"
#include "holding.h"
#include "partition.h"
#include "picture.h"
#include "policy.h"
#include "state.h"

static const char *const day[] = {
    "\"type\":\"order.created\",\"ts\":\"2026-11-22T08:00:00Z\",\"order_id\":\"o1\","
    "\"priority\":\"emergency\",\"category\":\"leak\",\"region\":\"north\"",
    "\"type\":\"order.created\",\"ts\":\"2026-11-22T08:01:00Z\",\"order_id\":\"o2\","
    "\"priority\":\"important\",\"category\":\"power\",\"region\":\"south\",\"segment\":\"vip\"",
    "\"type\":\"order.created\",\"ts\":\"2026-11-22T08:02:00Z\",\"order_id\":\"o3\","
    "\"priority\":\"general\",\"category\":\"leak\",\"region\":\"north\",\"segment\":\"elderly\"",
    "\"type\":\"order.dispatched\",\"ts\":\"2026-11-22T08:03:00Z\",\"order_id\":\"o1\","
    "\"tech_id\":\"t1\"",
    "\"type\":\"order.accepted\",\"ts\":\"2026-11-22T08:04:00Z\",\"order_id\":\"o1\","
    "\"tech_id\":\"t1\"",
    "\"type\":\"order.paused\",\"ts\":\"2026-11-22T08:30:00Z\",\"order_id\":\"o1\","
    "\"reason\":\"awaiting_parts\"",
    "\"type\":\"order.resumed\",\"ts\":\"2026-11-22T09:30:00Z\",\"order_id\":\"o1\"",
    "\"type\":\"order.arrived\",\"ts\":\"2026-11-22T09:40:00Z\",\"order_id\":\"o1\","
    "\"tech_id\":\"t1\"",
    "\"type\":\"order.resolved\",\"ts\":\"2026-11-22T10:00:00Z\",\"order_id\":\"o1\","
    "\"tech_id\":\"t1\"",
    "\"type\":\"order.reopened\",\"ts\":\"2026-11-22T10:30:00Z\",\"order_id\":\"o1\"",
    "\"type\":\"order.dispatched\",\"ts\":\"2026-11-22T08:20:00Z\",\"order_id\":\"o2\","
    "\"tech_id\":\"t2\"",
    "\"type\":\"order.cancelled\",\"ts\":\"2026-11-22T09:00:00Z\",\"order_id\":\"o3\"",
    "\"type\":\"order.closed\",\"ts\":\"2026-11-22T09:05:00Z\",\"order_id\":\"x9\"",
    "\"type\":\"complaint.created\",\"ts\":\"2026-11-22T08:10:00Z\",\"complaint_id\":\"c1\","
    "\"severity\":\"urgent\",\"category\":\"late\",\"order_id\":\"o2\"",
    "\"type\":\"complaint.created\",\"ts\":\"2026-11-22T08:11:00Z\",\"complaint_id\":\"c2\","
    "\"severity\":\"normal\",\"category\":\"rude\",\"region\":\"east\"",
    "\"type\":\"complaint.responded\",\"ts\":\"2026-11-22T08:40:00Z\",\"complaint_id\":\"c2\"",
    "\"type\":\"tech.status\",\"ts\":\"2026-11-22T08:00:00Z\",\"tech_id\":\"t1\","
    "\"status\":\"enroute\",\"region\":\"north\"",
    "\"type\":\"tech.location\",\"ts\":\"2026-11-22T08:05:00Z\",\"tech_id\":\"t1\",\"lat\":31.2,"
    "\"lon\":121.5",
    "\"type\":\"tech.status\",\"ts\":\"2026-11-22T08:00:00Z\",\"tech_id\":\"t2\","
    "\"status\":\"idle\"",
    /* what the root-cause flags keep: places, addresses, skills, parts, locations */
    "\"type\":\"tech.status\",\"ts\":\"2026-11-22T08:01:00Z\",\"tech_id\":\"t3\","
    "\"status\":\"idle\",\"region\":\"south\",\"skills\":[\"gas\"]",
    "\"type\":\"tech.location\",\"ts\":\"2026-11-22T08:02:00Z\",\"tech_id\":\"t3\",\"lat\":31.21,"
    "\"lon\":121.5",
    "\"type\":\"order.created\",\"ts\":\"2026-11-22T08:05:00Z\",\"order_id\":\"o4\","
    "\"priority\":\"general\",\"category\":\"leak\",\"region\":\"north\",\"lat\":31.3,"
    "\"lon\":121.5,\"address\":\"1 Main St\",\"skill\":\"gas\"",
    "\"type\":\"order.created\",\"ts\":\"2026-11-22T08:06:00Z\",\"order_id\":\"o5\","
    "\"priority\":\"general\",\"category\":\"leak\",\"region\":\"north\",\"lat\":31.3001,"
    "\"lon\":121.5",
    "\"type\":\"order.dispatched\",\"ts\":\"2026-11-22T08:07:00Z\",\"order_id\":\"o4\","
    "\"tech_id\":\"t1\"",
    "\"type\":\"order.dispatched\",\"ts\":\"2026-11-22T08:08:00Z\",\"order_id\":\"o5\","
    "\"tech_id\":\"t2\"",
    "\"type\":\"order.paused\",\"ts\":\"2026-11-22T08:09:00Z\",\"order_id\":\"o5\","
    "\"reason\":\"awaiting_parts\",\"sku\":\"P-1\"",
    "\"type\":\"parts.stock\",\"ts\":\"2026-11-22T08:10:00Z\",\"depot\":\"D1\",\"sku\":\"P-1\","
    "\"qty\":0",
    "\"type\":\"order.callback\",\"ts\":\"2026-11-22T10:50:00Z\",\"order_id\":\"o1\","
    "\"score\":2",
};
#define NDAY   (int)(sizeof day / sizeof day[0])
#define END_MS INT64_C(1795346400000) /* 2026-11-22T11:20:00Z */

static int write_file(const char *dir, const char *sub, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    if (mkdir(path, 0755) && errno != EEXIST) return -1;
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Apply the first n events of the day, then fire everything due at END_MS. */
static ow_state *build(const ow_policy *pol, int n)
{
    ow_state *s = ow_state_new(pol);
    for (int i = 0; s && i < n; i++) {
        char line[1024];
        snprintf(line, sizeof line, "{\"v\":1,\"id\":\"e%d\",%s}", i, day[i]);
        ow_event ev;
        ow_err err;
        if (ow_event_parse(line, strlen(line), &ev, &err) || ow_state_apply(s, &ev) < 0) {
            fprintf(stderr, "make_seeds: %s: %s\n", line, err.msg);
            exit(1);
        }
    }
    if (s && n) ow_state_advance(s, END_MS);
    ow_state_outbox_clear(s);
    return s;
}

/* Partition 0 of 3 with a replica of the other partitions' orders and complaints (engine/
 * crossfacts.h): a resolved and an open order, at a place and an address, and a complaint of a
 * category whose home is partition 0 (the cluster ring borrows the replica's copy of its id). */
static int partition_checkpoint(const char *dir, const ow_policy *pol)
{
    static ow_partition_table table;
    ow_partition_table_init(&table, 3);
    ow_policy ppol = *pol;
    ppol.home_table = &table;
    ppol.home_partition = 0;
    ow_state *s = ow_state_new(&ppol);
    char cat[16] = "billing";
    for (int i = 0; ow_partition_hash(cat, strlen(cat)) % 3 != 0; i++)
        snprintf(cat, sizeof cat, "billing%d", i);
    char k1[160];
    snprintf(k1, sizeof k1, "[\"c\",1,\"complaint.created\",1795330000000,\"xk1\",\"%s\"]", cat);
    const char *const recs[] = {
        "[\"o\",1,\"order.created\",1795320000000,\"xo1\",\"leak\",\"north\",121.47,31.23,"
        "\"00000000000000ff\"]",
        "[\"o\",1,\"order.dispatched\",1795320060000,\"xo1\",\"T1\"]",
        "[\"o\",1,\"order.resolved\",1795323600000,\"xo1\"]",
        "[\"o\",2,\"order.created\",1795325000000,\"xo2\",\"leak\",\"south\",null,null,"
        "\"00000000000000fe\"]",
        "[\"o\",2,\"order.dispatched\",1795325060000,\"xo2\",\"T2\"]",
        k1,
    };
    int rc = 0;
    for (size_t i = 0; s && i < sizeof recs / sizeof recs[0]; i++) {
        ow_xrec x;
        ow_err err;
        if (ow_xrec_decode(recs[i], strlen(recs[i]), &x, &err) ||
            ow_crossfacts_apply(s, &x, x.ts_ms) < 0) {
            fprintf(stderr, "make_seeds: %s: %s\n", recs[i], err.msg);
            rc = -1;
        }
    }
    char *bytes = NULL;
    size_t len = 0;
    ow_err err;
    rc |= s ? ow_checkpoint_save(s, "1795330000000-1/1795330000000-0/9", &bytes, &len, &err) : -1;
    if (!rc) rc |= write_file(dir, "checkpoint", "ok_partition_replica", bytes, len);
    free(bytes);
    ow_state_free(s);
    ow_partition_table_fini(&table);
    return rc;
}

static int checkpoints(const char *dir, const ow_policy *pol)
{
    int rc = 0;
    ow_err err;
    char *bytes;
    size_t len;
    ow_state *s = build(pol, 0);
    rc |= ow_checkpoint_save(s, "", &bytes, &len, &err);
    rc |= write_file(dir, "checkpoint", "ok_empty", bytes, len);
    free(bytes);
    ow_state_free(s);

    s = build(pol, NDAY);
    ow_ack ack = {.by = "desk-1", .at = END_MS, .note = "on it"};
    if (ow_state_ack(s, "sla:o2:accept:1:50", &ack, &err))
        fprintf(stderr, "make_seeds: no ack: %s\n", err.msg);
    rc |= ow_checkpoint_save(s, "1795341600000-3", &bytes, &len, &err);
    rc |= write_file(dir, "checkpoint", "ok_day", bytes, len);
    /* cuts: inside the header, the names, the orders and the last byte */
    static const size_t cuts[] = {3, 40, 300, 600};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0] && cuts[i] < len; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad_cut_%zu", cuts[i]);
        rc |= write_file(dir, "checkpoint", name, bytes, cuts[i]);
    }
    rc |= write_file(dir, "checkpoint", "bad_cut_last", bytes, len - 1);
    bytes[4] = 99; /* a version this engine does not read */
    rc |= write_file(dir, "checkpoint", "bad_version", bytes, len);
    free(bytes);
    ow_state_free(s);

    s = build(pol, NDAY / 2);
    rc |= ow_checkpoint_save(s, "1795330000000-0", &bytes, &len, &err);
    rc |= write_file(dir, "checkpoint", "ok_half_day", bytes, len);
    free(bytes);
    ow_state_free(s);
    return rc | partition_checkpoint(dir, pol);
}

/* Partition 0 of 3, empty but for holding records of orders in partitions 1 and 2 — one
 * held, one reassigned, one cancelled — so the checkpoint carries the replica. */
static int partitioned(const char *dir, const ow_policy *pol)
{
    ow_partition_table t;
    ow_partition_table_init(&t, 3);
    ow_policy pp = *pol;
    pp.home_table = &t;
    pp.home_partition = 0;
    ow_state *s = build(&pp, 0); /* small: the fuzzer's -max_len (4,096) reaches the replica */
    static const char *const recs[] = {
        "H\t1\torder.created\t1795334400000\tp1-a\t",
        "H\t1\torder.dispatched\t1795334460000\tp1-a\tt1",
        "H\t1\torder.accepted\t1795334520000\tp1-a\tt1",
        "H\t2\torder.created\t1795334400000\tp2-b\t",
        "H\t2\torder.dispatched\t1795334460000\tp2-b\tt2",
        "H\t2\torder.dispatched\t1795334580000\tp2-b\tt3",
        "H\t2\torder.created\t1795334400000\tp2-c\t",
        "H\t2\torder.cancelled\t1795334700000\tp2-c\t",
    };
    int rc = s ? 0 : -1;
    for (size_t i = 0; !rc && i < sizeof recs / sizeof recs[0]; i++) {
        ow_holding h;
        ow_err err;
        rc = ow_holding_parse(recs[i], strlen(recs[i]), &h, &err) ||
             ow_flags_holding(s, &h, h.ts_ms) < 0;
    }
    char *bytes;
    size_t len;
    ow_err err;
    if (!rc) rc = ow_checkpoint_save(s, "1795341600000-3/1795341600000-1/42", &bytes, &len, &err);
    if (!rc) rc = write_file(dir, "checkpoint", "ok_partitioned", bytes, len);
    if (!rc) free(bytes);
    ow_state_free(s);
    ow_partition_table_fini(&t);
    return rc;
}

static int pair(const char *dir, const char *name, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 1);
    if (!p) return -1;
    memcpy(p, a, la);
    p[la] = '\n';
    memcpy(p + la + 1, b, lb);
    int rc = write_file(dir, "delta", name, p, la + 1 + lb);
    free(p);
    return rc;
}

static int deltas(const char *dir, const ow_policy *pol)
{
    int rc = 0;
    ow_err err;
    ow_state *s0 = build(pol, 0), *s1 = build(pol, NDAY / 2), *s2 = build(pol, NDAY);
    char *a = ow_picture_snapshot(s0, 1, END_MS - 60000, OW_MODE_LIVE);
    char *b = ow_picture_snapshot(s1, 2, END_MS - 30000, OW_MODE_LIVE);
    char *c = ow_picture_snapshot(s2, 3, END_MS, OW_MODE_REPLAY);
    char *ab = ow_delta_make(a, strlen(a), b, strlen(b), &err);
    char *bc = ow_delta_make(b, strlen(b), c, strlen(c), &err);
    if (!a || !b || !c || !ab || !bc) return -1;
    rc |= pair(dir, "ok_apply_empty_to_half", a, ab);
    rc |= pair(dir, "ok_apply_half_to_day", b, bc);
    rc |= pair(dir, "ok_make_half_day", b, c);
    rc |= pair(dir, "ok_make_day_empty", c, a);
    rc |= pair(dir, "bad_stale_base", a, bc);
    rc |= pair(dir, "ok_hand_written",
               "{\"type\":\"snapshot\",\"seq\":7,\"x\":1,\"gone\":[1,2],\"open\":{\"total\":1}}",
               "{\"v\":1,\"type\":\"delta\",\"seq\":8,\"base\":7,\"set\":{\"x\":2,\"new\":{}},"
               "\"del\":[\"gone\",\"absent\"]}");
    free(a), free(b), free(c), free(ab), free(bc);
    ow_state_free(s0), ow_state_free(s1), ow_state_free(s2);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    ow_config cfg;
    ow_policy pol;
    ow_config_defaults(&cfg);
    ow_policy_from_config(&pol, &cfg);
    if (checkpoints(argv[1], &pol) || deltas(argv[1], &pol) || partitioned(argv[1], &pol)) {
        fprintf(stderr, "make_seeds: could not write the seeds under %s\n", argv[1]);
        return 1;
    }
    return 0;
}
