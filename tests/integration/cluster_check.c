/*
 * cluster_check — io/cluster.c against a real Redis Cluster (started by cluster_test.sh with
 * scripts/cluster.sh: 3 masters, 3 replicas on loopback). Steps, in order:
 *
 *   keyslot     core/crc16 gives the slot CLUSTER KEYSLOT gives, for tags, partitions, odd bytes
 *   routing     a pipelined batch over every master; each key sits on its slot's master
 *   moved       a slot moved behind the client's back (SETSLOT IMPORTING/MIGRATING, MIGRATE,
 *               SETSLOT NODE): the client follows MOVED and its map learns the new owner
 *   ask         mid-migration: a migrated key is reached through ASK + ASKING, a key still on the
 *               source is served there, the map is not changed by ASK; a two-key command across
 *               the split gets TRYAGAIN until the retry window ends
 *   place       io/reshard moves partition slots (keys included) so 3 partitions use 3 masters
 *   streams     3 partitions' streams written in one batch keep each partition's order
 *   lease       one owner per partition, taken over when the holder stops renewing
 *   wait        WAIT 1 after each node's commands: each command reports one replica
 *   no_master   a slot removed from every node: a clear error naming the slot
 *   failover    kill -9 the master of a partition mid-writes (batches with WAIT 1): writes resume
 *               on the promoted replica within the stated time, no acknowledged write is lost
 *
 * Usage: cluster_check CLUSTER_DIR HOST:PORT   (prints "ok - ..."/"FAIL - ...", exits 1 on a fail)
 *        cluster_check --single SOCKET          the same client on a plain Redis (one node)
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cluster.h"
#include "crc16.h"
#include "keys.h"
#include "lease.h"
#include "partition.h"
#include "reshard.h"

static int fails, passes;
static const char *cluster_dir;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (ok)
        passes++;
    else
        fails++;
}

static void die(const char *what, const ow_err *err)
{
    printf("FAIL - %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

/* A command on one node of the map (admin commands: CLUSTER, MIGRATE, CONFIG). */
static redisReply *node_cmd(ow_cluster *c, int node, const char *fmt, ...)
{
    ow_err err;
    redisContext *ctx = ow_cluster_node_context(c, node, &err);
    if (!ctx) die("node connection", &err);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(ctx, fmt, ap);
    va_end(ap);
    if (!r) {
        printf("FAIL - node %d: %s\n", node, ctx->errstr);
        exit(1);
    }
    return r;
}

static int masters_of(const ow_slotmap *m, int *out)
{
    int n = 0;
    for (int i = 0; i < m->nnodes; i++) {
        bool serves = false;
        for (int s = 0; s < OW_CLUSTER_SLOTS && !serves; s++)
            serves = m->owner[s] == i;
        if (serves) out[n++] = i;
    }
    return n;
}

/* A key whose slot is on node `node`, distinct per `i`. */
static void key_on(const ow_slotmap *m, int node, const char *prefix, char *out, size_t n)
{
    for (int i = 0;; i++) {
        snprintf(out, n, "%s{t%d}", prefix, i);
        if (m->owner[ow_crc16_keyslot(out, strlen(out))] == node) return;
    }
}

/* ---- steps ---- */

static void step_keyslot(ow_cluster *c)
{
    const char *keys[] = {"foo",
                          "bar",
                          "{user1000}.following",
                          "foo{}{bar}",
                          "foo{{bar}}zap",
                          "foo{bar}{zap}",
                          "{",
                          "}",
                          "{}",
                          "a{b",
                          "ops:{p0}:events",
                          "ops:{p1}:seen:e-1",
                          "ops:{p2}:alerts",
                          "区域:{北区}:x",
                          ""};
    int bad = 0, n = 0;
    char key[64];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] + 200; i++) {
        const char *k = keys[0];
        size_t len;
        if (i < sizeof keys / sizeof keys[0]) {
            k = keys[i];
            len = strlen(k);
        } else {
            /* binary keys with braces in varied places */
            len = (i * 7) % 40 + 1;
            for (size_t j = 0; j < len; j++)
                key[j] = (char)((i * 31 + j * 17) % 256);
            if (len > 4) key[(i % (len - 2))] = '{', key[len - 1 - i % 2] = '}';
            k = key;
        }
        redisReply *r = node_cmd(c, 0, "CLUSTER KEYSLOT %b", k, len);
        if (r->type != REDIS_REPLY_INTEGER || r->integer != ow_crc16_keyslot(k, len)) bad++;
        freeReplyObject(r);
        n++;
    }
    check(bad == 0, "keyslot: %d keys, CLUSTER KEYSLOT agrees with ow_crc16_keyslot (%d differ)", n,
          bad);
    for (int p = 0; p < 3; p++) {
        redisReply *r = node_cmd(c, 0, "CLUSTER KEYSLOT %s", OW_KEY_EVENTS);
        freeReplyObject(r);
        char k[64];
        ow_partition_rekey(k, sizeof k, p, OW_KEY_EVENTS);
        r = node_cmd(c, 0, "CLUSTER KEYSLOT %s", k);
        check(r->integer == ow_partition_slot(p), "keyslot: partition %d's slot is %d", p,
              ow_partition_slot(p));
        freeReplyObject(r);
    }
}

static void step_routing(ow_cluster *c)
{
    const ow_slotmap *m = ow_cluster_map(c);
    int ms[8], nm = masters_of(m, ms);
    int covered = ow_slotmap_covered(m, NULL);
    check(ow_cluster_enabled(c) && nm == 3 && covered == OW_CLUSTER_SLOTS,
          "routing: map has %d masters covering %d slots", nm, covered);
    ow_cluster_batch *b = ow_cluster_batch_new();
    char key[64], val[64];
    for (int i = 0; i < 600; i++) {
        snprintf(key, sizeof key, "route:%d", i);
        snprintf(val, sizeof val, "v%d", i);
        ow_cluster_batch_addf(b, key, "SET %s %s", key, val);
    }
    ow_err err;
    int rc = ow_cluster_batch_exec(c, b, &err);
    int okr = 0;
    for (int i = 0; i < 600; i++) {
        const redisReply *r = ow_cluster_batch_reply(b, i);
        okr += r && r->type == REDIS_REPLY_STATUS;
    }
    check(rc == OW_OK && okr == 600, "routing: 600 SETs in one batch, %d OK (%s)", okr,
          rc ? err.msg : "");
    /* each key is on its master: a direct GET there answers without MOVED */
    int right = 0;
    for (int i = 0; i < 600; i += 7) {
        snprintf(key, sizeof key, "route:%d", i);
        snprintf(val, sizeof val, "v%d", i);
        redisReply *r = node_cmd(c, m->owner[ow_crc16_keyslot(key, strlen(key))], "GET %s", key);
        right += r->type == REDIS_REPLY_STRING && strcmp(r->str, val) == 0;
        freeReplyObject(r);
    }
    check(right == 86, "routing: %d of 86 keys read straight from their slot's master", right);
    ow_cluster_batch_free(b);
}

static void migrate_begin(ow_cluster *c, int slot, int to)
{
    ow_err err;
    if (ow_reshard_begin(c, slot, to, &err)) die("reshard begin", &err);
}

/* One chosen key (the ASK step needs a half-moved slot with a known split). */
static void migrate_key(ow_cluster *c, int from, int to, const char *key)
{
    const ow_slotmap *m = ow_cluster_map(c);
    redisReply *r =
        node_cmd(c, from, "MIGRATE %s %d %s 0 5000", m->nodes[to].host, m->nodes[to].port, key);
    if (r->type == REDIS_REPLY_ERROR) printf("FAIL - MIGRATE %s: %s\n", key, r->str), exit(1);
    freeReplyObject(r);
}

static void migrate_end(ow_cluster *c, int slot, int to)
{
    ow_err err;
    if (ow_reshard_finish(c, slot, to, &err)) die("reshard finish", &err);
}

static void step_moved(ow_cluster *c, ow_cluster *admin)
{
    const ow_slotmap *m = ow_cluster_map(c);
    int ms[8];
    masters_of(m, ms);
    char key[64];
    key_on(m, ms[0], "moved:", key, sizeof key);
    int slot = ow_crc16_keyslot(key, strlen(key));
    ow_err err;
    redisReply *r = ow_cluster_cmd(c, &err, "SET", key, "SET %s %s", key, "before");
    if (!r) die("SET", &err);
    freeReplyObject(r);
    /* move it with the admin client; `c` keeps its old map */
    const ow_slotmap *am = ow_cluster_map(admin);
    int from = am->owner[slot], to = -1;
    int ams[8], an = masters_of(am, ams);
    for (int i = 0; i < an; i++)
        if (ams[i] != from) to = ams[i];
    int to_port = am->nodes[to].port; /* node indices change with the map */
    ow_err rerr;
    check(ow_reshard_slot(admin, slot, to, &rerr) == OW_OK, "moved: slot %d resharded with its key",
          slot);
    int64_t before = ow_cluster_refreshes(c);
    r = ow_cluster_cmd(c, &err, "GET", key, "GET %s", key);
    check(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "before") == 0,
          "moved: GET of a key whose slot %d moved follows MOVED (%s)", slot, r ? "" : err.msg);
    if (r) freeReplyObject(r);
    m = ow_cluster_map(c);
    int owner = m->owner[slot];
    check(owner >= 0 && m->nodes[owner].port == to_port,
          "moved: the client's map now gives slot %d to %s:%d", slot,
          owner >= 0 ? m->nodes[owner].host : "none", owner >= 0 ? m->nodes[owner].port : 0);
    check(ow_cluster_refreshes(c) > before, "moved: the map was reloaded after MOVED");
}

static void step_ask(ow_cluster *c, ow_cluster *admin)
{
    ow_cluster_refresh(admin, NULL);
    const ow_slotmap *am = ow_cluster_map(admin);
    int ms[8], nm = masters_of(am, ms);
    /* two keys of one slot, by hash tag */
    const char *k1 = "ask:{slot-a}:one", *k2 = "ask:{slot-a}:two", *k3 = "ask:{slot-a}:new";
    int slot = ow_crc16_keyslot(k1, strlen(k1));
    int from = am->owner[slot], to = ms[0] == from ? ms[1] : ms[0];
    (void)nm;
    ow_err err;
    redisReply *r;
    const char *ks[] = {k1, k2};
    for (int i = 0; i < 2; i++) {
        r = ow_cluster_cmd(c, &err, "SET", ks[i], "SET %s %s", ks[i], ks[i]);
        if (!r) die("SET", &err);
        freeReplyObject(r);
    }
    migrate_begin(admin, slot, to);
    migrate_key(admin, from, to, k1); /* k1 moved, k2 still on the source */
    int from_port = am->nodes[from].port;
    r = ow_cluster_cmd(c, &err, "GET", k1, "GET %s", k1);
    check(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, k1) == 0,
          "ask: a key already migrated is read through ASK + ASKING (%s)", r ? "" : err.msg);
    if (r) freeReplyObject(r);
    r = ow_cluster_cmd(c, &err, "GET", k2, "GET %s", k2);
    check(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, k2) == 0,
          "ask: a key not yet migrated is read from the source (%s)", r ? "" : err.msg);
    if (r) freeReplyObject(r);
    r = ow_cluster_cmd(c, &err, "SET", k3, "SET %s %s", k3, "fresh");
    check(r != NULL, "ask: a new key during the migration is created via ASK (%s)",
          r ? "" : err.msg);
    if (r) freeReplyObject(r);
    const ow_slotmap *m = ow_cluster_map(c);
    check(m->owner[slot] >= 0 && m->nodes[m->owner[slot]].port == from_port,
          "ask: ASK does not change the map (slot %d still on the source)", slot);
    /* two keys split across the nodes: TRYAGAIN until the window ends, then a clear error */
    ow_redis_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.host, sizeof t.host, "%s", am->nodes[from].host);
    t.port = from_port;
    ow_cluster *quick;
    ow_cluster_opts qo = {.timeout_ms = 2000, .retry_for_ms = 300};
    if (ow_cluster_open(&t, 1, &qo, &quick, &err)) die("open", &err);
    r = ow_cluster_cmd(quick, &err, "MGET", k1, "MGET %s %s", k1, k2);
    check(!r && strstr(err.msg, "TRYAGAIN") && strstr(err.msg, "slot"),
          "ask: MGET across a migrating slot gives up with: %s", r ? "(a reply)" : err.msg);
    if (r) freeReplyObject(r);
    ow_cluster_free(quick);
    /* the rest of the slot (k2 and whatever other tests left in it) */
    int moved;
    do
        if (ow_reshard_keys(admin, slot, to, 100, &moved, &err)) die("reshard keys", &err);
    while (moved > 0);
    migrate_end(admin, slot, to);
    r = ow_cluster_cmd(c, &err, "MGET", k1, "MGET %s %s", k1, k2);
    check(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
              r->element[1]->type == REDIS_REPLY_STRING,
          "ask: after the migration both keys answer from the new owner (%s)", r ? "" : err.msg);
    if (r) freeReplyObject(r);
}

static void step_place(ow_cluster *c, ow_cluster *admin)
{
    ow_err err;
    /* something in partition 1 first: placing moves it with its keys */
    char k1[64];
    ow_partition_rekey(k1, sizeof k1, 1, OW_KEY_SNAPSHOT);
    redisReply *r = ow_cluster_cmd(c, &err, "SET", k1, "SET %s %s", k1, "p1-snapshot");
    if (!r) die("SET", &err);
    freeReplyObject(r);
    ow_cluster_refresh(admin, NULL);
    int moves = 0;
    int rc = ow_reshard_place(admin, 3, &moves, &err);
    const ow_slotmap *m = ow_cluster_map(admin);
    int o0 = m->owner[ow_partition_slot(0)], o1 = m->owner[ow_partition_slot(1)],
        o2 = m->owner[ow_partition_slot(2)];
    check(rc == OW_OK && o0 != o1 && o1 != o2 && o0 != o2,
          "place: partitions 0, 1, 2 on three masters after %d slot moves (%s)", moves,
          rc ? err.msg : "ok");
    r = ow_cluster_cmd(c, &err, "GET", k1, "GET %s", k1);
    check(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "p1-snapshot") == 0,
          "place: partition 1's key moved with its slot (%s)", r ? "" : err.msg);
    if (r) freeReplyObject(r);
    rc = ow_reshard_place(admin, 3, &moves, &err);
    check(rc == OW_OK && moves == 0, "place: placing again moves nothing (%d moves)", moves);
}

static void step_streams(ow_cluster *c)
{
    ow_cluster_batch *b = ow_cluster_batch_new();
    char keys[3][64];
    for (int p = 0; p < 3; p++)
        ow_partition_rekey(keys[p], sizeof keys[p], p, OW_KEY_EVENTS);
    for (int i = 0; i < 3000; i++) {
        int p = (i * 7) % 3;
        char seq[16];
        snprintf(seq, sizeof seq, "%d", i);
        ow_cluster_batch_addf(b, keys[p], "XADD %s * seq %s", keys[p], seq);
    }
    ow_err err;
    int rc = ow_cluster_batch_exec(c, b, &err);
    check(rc == OW_OK, "streams: 3000 XADDs over 3 partitions in one batch (%s)",
          rc ? err.msg : "ok");
    for (int p = 0; p < 3; p++) {
        redisReply *r = ow_cluster_cmd(c, &err, "XRANGE", keys[p], "XRANGE %s - +", keys[p]);
        int last = -1, n = 0;
        bool ordered = r != NULL;
        for (size_t i = 0; r && i < r->elements; i++) {
            int seq = atoi(r->element[i]->element[1]->element[1]->str);
            ordered = ordered && seq > last && (seq * 7) % 3 == p;
            last = seq;
            n++;
        }
        check(ordered && n == 1000, "streams: partition %d holds its 1000 entries in batch order",
              p);
        if (r) freeReplyObject(r);
    }
    ow_cluster_batch_free(b);
}

static void step_wait(ow_cluster *c)
{
    ow_cluster_batch *b = ow_cluster_batch_new();
    ow_cluster_batch_wait(b, 1, 2000);
    for (int i = 0; i < 30; i++) {
        char k[32];
        snprintf(k, sizeof k, "wait:%d", i);
        ow_cluster_batch_addf(b, k, "SET %s x", k);
    }
    ow_err err;
    int rc = ow_cluster_batch_exec(c, b, &err);
    int one = 0;
    for (int i = 0; i < 30; i++)
        one += ow_cluster_batch_acked(b, i) == 1;
    check(rc == OW_OK && one == 30, "wait: %d of 30 writes acknowledged by 1 replica", one);
    ow_cluster_batch_free(b);
}

/* One owner per partition: a second process cannot take a held lease, takes it once it expires,
 * and the old holder can then neither renew nor release it. */
static void step_lease(ow_cluster *c)
{
    ow_lease a, b;
    ow_err err;
    ow_lease_init(&a, 2, "engine-a", 400);
    ow_lease_init(&b, 2, "engine-b", 400);
    int rc = ow_lease_acquire(c, &a, &err);
    rc = rc ? rc : ow_lease_acquire(c, &b, &err);
    check(!rc && a.held && !b.held, "lease: the first acquirer holds partition 2, the second not");
    char holder[256] = "";
    ow_lease_holder(c, 2, holder, sizeof holder, &err);
    check(strcmp(holder, a.token) == 0, "lease: the holder is %s", holder);
    rc = ow_lease_renew(c, &a, &err);
    check(!rc && a.held, "lease: the holder renews");
    /* a stops renewing (it "died"): b gets it after the TTL */
    int64_t end = ow_clock_mono_ms() + 3000;
    while (!b.held && ow_clock_mono_ms() < end) {
        ow_sleep_ms(50);
        ow_lease_acquire(c, &b, &err);
    }
    check(b.held, "lease: taken over after the holder stopped renewing");
    rc = ow_lease_renew(c, &a, &err);
    check(!rc && !a.held, "lease: the old holder's renewal fails");
    ow_lease_release(c, &a, &err);
    ow_lease_holder(c, 2, holder, sizeof holder, &err);
    check(strcmp(holder, b.token) == 0, "lease: the old holder cannot release the new one's");
    ow_lease_release(c, &b, &err);
    ow_lease_holder(c, 2, holder, sizeof holder, &err);
    check(holder[0] == '\0', "lease: released at a clean stop");
}

/* No replica to wait for: WAIT answers 0 and every command says so. */
static void step_wait_none(ow_cluster *c)
{
    ow_cluster_batch *b = ow_cluster_batch_new();
    ow_cluster_batch_wait(b, 1, 50);
    ow_cluster_batch_addf(b, "w", "SET w 1");
    ow_err err;
    int rc = ow_cluster_batch_exec(c, b, &err);
    check(rc == OW_OK && ow_cluster_batch_acked(b, 0) == 0,
          "wait: with no replica the write reports 0 acknowledgements");
    ow_cluster_batch_free(b);
}

static void set_all(ow_cluster *admin, const char *fmt, int slot)
{
    const ow_slotmap *m = ow_cluster_map(admin);
    for (int i = 0; i < m->nnodes; i++) {
        redisReply *r = node_cmd(admin, i, fmt, slot);
        freeReplyObject(r);
    }
}

static void step_no_master(ow_cluster *admin, const ow_redis_target *seed)
{
    ow_cluster_refresh(admin, NULL);
    const ow_slotmap *am = ow_cluster_map(admin);
    const char *key = "nomaster:{gone}";
    int slot = ow_crc16_keyslot(key, strlen(key));
    int owner = am->owner[slot];
    const ow_slotmap *m = am;
    for (int i = 0; i < m->nnodes; i++) {
        redisReply *r = node_cmd(admin, i, "CONFIG SET cluster-require-full-coverage no");
        freeReplyObject(r);
    }
    set_all(admin, "CLUSTER DELSLOTS %d", slot);
    ow_cluster *quick;
    ow_cluster_opts qo = {.timeout_ms = 2000, .retry_for_ms = 400};
    ow_err err;
    if (ow_cluster_open(seed, 1, &qo, &quick, &err)) die("open", &err);
    redisReply *r = ow_cluster_cmd(quick, &err, "GET", key, "GET %s", key);
    char want[64];
    snprintf(want, sizeof want, "slot %d (key %s) has no master", slot, key);
    check(!r && strstr(err.msg, want), "no_master: %s", r ? "(a reply)" : err.msg);
    if (r) freeReplyObject(r);
    r = ow_cluster_cmd(quick, &err, "GET", "other-key", "GET %s", "other-key");
    check(r != NULL, "no_master: other slots still answer (%s)", r ? "" : err.msg);
    if (r) freeReplyObject(r);
    /* give it back */
    redisReply *a = node_cmd(admin, owner, "CLUSTER ADDSLOTS %d", slot);
    freeReplyObject(a);
    int64_t end = ow_clock_mono_ms() + 10000;
    bool back = false;
    while (!back && ow_clock_mono_ms() < end) {
        r = ow_cluster_cmd(quick, &err, "SET", key, "SET %s back", key);
        back = r != NULL;
        if (r) freeReplyObject(r);
    }
    check(back, "no_master: the slot answers again once a master owns it");
    /* and every node, replicas included, knows it again (else a failover could lose it) */
    static ow_slotmap view;
    bool all = false;
    while (!all && ow_clock_mono_ms() < end + 10000) {
        all = true;
        const ow_slotmap *am2 = ow_cluster_map(admin);
        for (int i = 0; i < am2->nnodes && all; i++) {
            if (!am2->nodes[i].healthy) continue;
            redisReply *v = node_cmd(admin, i, "CLUSTER SHARDS");
            all = ow_slotmap_from_shards(&view, v, NULL) == OW_OK &&
                  ow_slotmap_covered(&view, NULL) == OW_CLUSTER_SLOTS;
            freeReplyObject(v);
        }
        if (!all) ow_sleep_ms(100);
    }
    check(all, "no_master: every node's map covers all slots again");
    ow_cluster_free(quick);
}

static pid_t pid_of(int port)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%d/pid", cluster_dir, port);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

static void step_failover(ow_cluster *c)
{
    ow_cluster_refresh(c, NULL);
    const ow_slotmap *m = ow_cluster_map(c);
    /* a partition whose master still has a replica (an earlier test may have used one up) */
    int part = -1;
    for (int p = 0; p < 3 && part < 0; p++)
        if (ow_slotmap_replicas(m, m->owner[ow_partition_slot(p)]) > 0) part = p;
    if (part < 0) die("failover: no partition whose master has a replica", NULL);
    int slot = ow_partition_slot(part);
    int victim = m->owner[slot];
    int victim_port = m->nodes[victim].port;
    pid_t pid = pid_of(victim_port);
    if (pid <= 0) die("failover: no pid file for the master", NULL);
    ow_cluster_batch *b = ow_cluster_batch_new();
    ow_cluster_batch_idempotent(b, true); /* SET k v may run twice */
    ow_cluster_batch_wait(b, 1, 500);
    int acked_max = -1, written = 0, lost_unacked = 0;
    int64_t killed_at = 0, resumed_at = 0;
    char k[96];
    for (int round = 0; round < 400 && !resumed_at; round++) {
        ow_cluster_batch_reset(b);
        for (int j = 0; j < 10; j++) {
            snprintf(k, sizeof k, "ops:{p%d}:fo:%d", part, round * 10 + j);
            ow_cluster_batch_addf(b, k, "SET %s %d", k, round * 10 + j);
        }
        ow_err err;
        int rc = ow_cluster_batch_exec(c, b, &err);
        if (rc) {
            printf("# round %d: %s\n", round, err.msg);
            continue;
        }
        written = round * 10 + 10;
        for (int j = 0; j < 10; j++) {
            if (ow_cluster_batch_acked(b, j) >= 1)
                acked_max = round * 10 + j;
            else
                lost_unacked++;
        }
        if (round == 20) {
            kill(pid, SIGKILL);
            killed_at = ow_clock_mono_ms();
        } else if (killed_at && ow_cluster_map(c)->owner[slot] >= 0 &&
                   ow_cluster_map(c)->nodes[ow_cluster_map(c)->owner[slot]].port != victim_port) {
            resumed_at = ow_clock_mono_ms();
        }
    }
    double secs = resumed_at ? (double)(resumed_at - killed_at) / 1000.0 : -1;
    check(resumed_at && secs < 10.0,
          "failover: master %d killed, writes to partition %d resumed on the promoted replica "
          "after %.1f s (limit 10 s; cluster-node-timeout 1 s)",
          victim_port, part, secs);
    /* every write acknowledged by a replica is there */
    int missing = 0;
    for (int i = 0; i <= acked_max; i++) {
        snprintf(k, sizeof k, "ops:{p%d}:fo:%d", part, i);
        ow_err err;
        redisReply *r = ow_cluster_cmd(c, &err, "GET", k, "GET %s", k);
        if (!r || r->type != REDIS_REPLY_STRING || atoi(r->str) != i) missing++;
        if (r) freeReplyObject(r);
    }
    check(acked_max >= 200 && missing == 0,
          "failover: all %d writes acknowledged by WAIT 1 survive (%d missing; %d written, %d "
          "not acknowledged)",
          acked_max + 1, missing, written, lost_unacked);
    ow_cluster_batch_free(b);
}

/* A plain Redis (cluster support off, unix socket): the same client, one node, every slot. */
static int single(const char *sock)
{
    ow_redis_target t;
    memset(&t, 0, sizeof t);
    t.is_unix = true;
    snprintf(t.path, sizeof t.path, "%s", sock);
    /* the way a program opens it: its redis env and its config */
    ow_redis_env env;
    memset(&env, 0, sizeof env);
    env.target = t;
    ow_config cfg;
    ow_config_defaults(&cfg);
    cfg.cluster.retry_for_ms = 1000;
    ow_cluster *c;
    ow_err err;
    if (ow_cluster_open_env(&env, &cfg, &c, &err)) die("open single", &err);
    int masters = 0;
    check(!ow_cluster_enabled(c) &&
              ow_slotmap_covered(ow_cluster_map(c), &masters) == OW_CLUSTER_SLOTS && masters == 1,
          "single: a plain Redis is one node holding all %d slots", OW_CLUSTER_SLOTS);
    step_streams(c);
    step_wait_none(c);
    step_lease(c);
    ow_cluster_free(c);
    printf("%d passed, %d failed\n", passes, fails);
    return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--single") == 0) return single(argv[2]);
    if (argc != 3) {
        fprintf(stderr, "usage: cluster_check CLUSTER_DIR HOST:PORT\n");
        return 2;
    }
    cluster_dir = argv[1];
    ow_redis_target seed;
    memset(&seed, 0, sizeof seed);
    if (ow_slotmap_parse_addr(argv[2], seed.host, sizeof seed.host, &seed.port)) {
        fprintf(stderr, "cluster_check: bad address %s\n", argv[2]);
        return 2;
    }
    ow_cluster_opts opts = {.timeout_ms = 2000, .retry_for_ms = 15000};
    ow_cluster *c, *admin;
    ow_err err;
    if (ow_cluster_open(&seed, 1, &opts, &c, &err)) die("open", &err);
    if (ow_cluster_open(&seed, 1, &opts, &admin, &err)) die("open admin", &err);
    step_keyslot(c);
    step_routing(c);
    step_moved(c, admin);
    step_ask(c, admin);
    step_place(c, admin);
    step_streams(c);
    step_wait(c);
    step_lease(c);
    step_no_master(admin, &seed);
    step_failover(c);
    ow_cluster_free(admin);
    ow_cluster_free(c);
    printf("%d passed, %d failed\n", passes, fails);
    return fails ? 1 : 0;
}
