/*
 * cluster_async_check — io/cluster_async.c on a libuv loop against a real Redis Cluster (started
 * by cluster_test.sh), or a plain Redis with --single. Steps:
 *
 *   routing   600 SETs then 600 GETs in flight at once, each answered from its slot's master
 *   moved     a slot resharded behind the client's back: a GET follows MOVED, the map reloads
 *   ask       a half-moved slot: a migrated key is read through ASK + ASKING
 *   failover  a writer sends a SET every 10 ms; kill -9 of a master that has a replica; the
 *             writes resume on the promoted replica within 10 s (writes in flight at the kill
 *             fail as "may or may not have run", none hangs)
 *   close     every handle closed: uv_loop_close returns 0 (and ASan/LSan see no leak)
 *
 * Usage: cluster_async_check CLUSTER_DIR HOST:PORT | --single SOCKET
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cluster_async.h"
#include "crc16.h"
#include "partition.h"
#include "reshard.h"

static int fails, passes;
static uv_loop_t loop;
static uv_timer_t beat; /* keeps UV_RUN_ONCE from blocking forever; drives the writer */

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s - async: ", ok ? "ok  " : "FAIL");
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
    printf("FAIL - async: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static void (*on_beat)(void);
static void beat_cb(uv_timer_t *t)
{
    (void)t;
    if (on_beat) on_beat();
}

/* Run the loop until *done or ms pass. */
static bool run_until(const bool *done, int64_t ms)
{
    int64_t end = ow_clock_mono_ms() + ms;
    while (!*done && ow_clock_mono_ms() < end)
        uv_run(&loop, UV_RUN_ONCE);
    return *done;
}

/* ---- routing ---- */

static int answered, good, expected;
static bool all_in;

static void on_set(const redisReply *r, const ow_err *err, void *priv)
{
    (void)err, (void)priv;
    good += r && r->type == REDIS_REPLY_STATUS;
    all_in = ++answered == expected;
}

static void on_get(const redisReply *r, const ow_err *err, void *priv)
{
    (void)err;
    char want[32];
    snprintf(want, sizeof want, "v%d", (int)(intptr_t)priv);
    good += r && r->type == REDIS_REPLY_STRING && strcmp(r->str, want) == 0;
    all_in = ++answered == expected;
}

static void step_routing(ow_cluster_async *c, int n)
{
    char key[64];
    answered = good = 0, expected = n, all_in = false;
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "async:%d", i);
        ow_cluster_async_command(c, on_set, NULL, key, "SET %s v%d", key, i);
    }
    run_until(&all_in, 10000);
    check(good == n, "routing: %d SETs in flight at once, %d OK", n, good);
    answered = good = 0, all_in = false;
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "async:%d", i);
        ow_cluster_async_command(c, on_get, (void *)(intptr_t)i, key, "GET %s", key);
    }
    run_until(&all_in, 10000);
    check(good == n, "routing: %d GETs read back their values (%d right)", n, good);
}

/* ---- one GET, waited for ---- */

static char got[128];
static bool got_in;
static void on_one(const redisReply *r, const ow_err *err, void *priv)
{
    (void)priv;
    snprintf(got, sizeof got, "%s",
             r && r->type == REDIS_REPLY_STRING ? r->str
             : err                              ? err->msg
                                                : "(other reply)");
    got_in = true;
}

static const char *get(ow_cluster_async *c, const char *key)
{
    got_in = false;
    ow_cluster_async_command(c, on_one, NULL, key, "GET %s", key);
    run_until(&got_in, 20000);
    return got;
}

static int other_master(ow_cluster *admin, int from)
{
    int ms[16], n = ow_reshard_masters(admin, ms, 16);
    for (int i = 0; i < n; i++)
        if (ms[i] != from) return ms[i];
    return -1;
}

static void step_moved(ow_cluster_async *c, ow_cluster *admin)
{
    const char *key = "async-moved:{am}";
    int slot = ow_crc16_keyslot(key, strlen(key));
    ow_err err;
    redisReply *r = ow_cluster_cmd(admin, &err, "SET", key, "SET %s here", key);
    if (!r) die("SET", &err);
    freeReplyObject(r);
    check(strcmp(get(c, key), "here") == 0, "moved: read before the move");
    int to = other_master(admin, ow_cluster_map(admin)->owner[slot]);
    int to_port = ow_cluster_map(admin)->nodes[to].port; /* indices change with the map */
    if (ow_reshard_slot(admin, slot, to, &err)) die("reshard", &err);
    int64_t before = ow_cluster_async_refreshes(c);
    check(strcmp(get(c, key), "here") == 0, "moved: GET after slot %d moved follows MOVED (%s)",
          slot, got);
    /* the reload runs on the loop: give it a moment */
    int64_t end = ow_clock_mono_ms() + 5000;
    while (ow_cluster_async_refreshes(c) == before && ow_clock_mono_ms() < end)
        uv_run(&loop, UV_RUN_ONCE);
    const ow_slotmap *m = ow_cluster_async_map(c);
    int o = m->owner[slot];
    check(ow_cluster_async_refreshes(c) > before && o >= 0 && m->nodes[o].port == to_port,
          "moved: the map reloaded and gives slot %d to the new master", slot);
}

static void step_ask(ow_cluster_async *c, ow_cluster *admin)
{
    const char *k1 = "async-ask:{aa}:1", *k2 = "async-ask:{aa}:2";
    int slot = ow_crc16_keyslot(k1, strlen(k1));
    ow_err err;
    for (int i = 0; i < 2; i++) {
        const char *k = i ? k2 : k1;
        redisReply *r = ow_cluster_cmd(admin, &err, "SET", k, "SET %s %s", k, k);
        if (!r) die("SET", &err);
        freeReplyObject(r);
    }
    const ow_slotmap *am = ow_cluster_map(admin);
    int from = am->owner[slot], to = other_master(admin, from);
    if (ow_reshard_begin(admin, slot, to, &err)) die("reshard begin", &err);
    ow_err e2;
    redisContext *src = ow_cluster_node_context(admin, from, &e2);
    if (!src) die("node", &e2);
    redisReply *r =
        redisCommand(src, "MIGRATE %s %d %s 0 5000", am->nodes[to].host, am->nodes[to].port, k1);
    if (r) freeReplyObject(r);
    check(strcmp(get(c, k1), k1) == 0, "ask: a migrated key is read through ASK (%s)", got);
    check(strcmp(get(c, k2), k2) == 0, "ask: a key still on the source is read there (%s)", got);
    int moved;
    do
        ow_reshard_keys(admin, slot, to, 100, &moved, &err);
    while (moved > 0);
    if (ow_reshard_finish(admin, slot, to, &err)) die("reshard finish", &err);
}

/* ---- failover ---- */

static ow_cluster_async *writer_c;
static int w_sent, w_ok, w_lost, w_victim_port, w_partition;
static int64_t w_killed_at, w_resumed_at;
static pid_t w_pid;
static bool w_done;

static void on_write(const redisReply *r, const ow_err *err, void *priv)
{
    (void)priv;
    if (!r || r->type != REDIS_REPLY_STATUS) {
        w_lost++;
        if (w_lost < 4) printf("# write failed: %s\n", err ? err->msg : r ? r->str : "?");
        return;
    }
    w_ok++;
    if (w_ok == 30 && !w_killed_at) {
        kill(w_pid, SIGKILL);
        w_killed_at = ow_clock_mono_ms();
    } else if (w_killed_at && !w_resumed_at) {
        const ow_slotmap *m = ow_cluster_async_map(writer_c);
        int o = m->owner[ow_partition_slot(w_partition)];
        if (o >= 0 && m->nodes[o].port != w_victim_port) {
            w_resumed_at = ow_clock_mono_ms();
            w_done = true;
        }
    }
}

static void writer_beat(void)
{
    char key[64];
    snprintf(key, sizeof key, "ops:{p%d}:afo:%d", w_partition, w_sent);
    if (ow_cluster_async_command(writer_c, on_write, NULL, key, "SET %s 1", key) == OW_OK) w_sent++;
}

static pid_t pid_of(const char *dir, int port)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%d/pid", dir, port);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

static void step_failover(ow_cluster_async *c, ow_cluster *admin, const char *dir)
{
    ow_cluster_refresh(admin, NULL);
    const ow_slotmap *am = ow_cluster_map(admin);
    w_partition = -1;
    for (int p = 0; p < 3 && w_partition < 0; p++)
        if (ow_slotmap_replicas(am, am->owner[ow_partition_slot(p)]) > 0) w_partition = p;
    if (w_partition < 0) die("failover: no partition whose master has a replica", NULL);
    w_victim_port = am->nodes[am->owner[ow_partition_slot(w_partition)]].port;
    w_pid = pid_of(dir, w_victim_port);
    if (w_pid <= 0) die("failover: no pid file", NULL);
    writer_c = c;
    on_beat = writer_beat;
    run_until(&w_done, 20000);
    on_beat = NULL;
    double secs = w_resumed_at ? (double)(w_resumed_at - w_killed_at) / 1000.0 : -1;
    check(w_resumed_at && secs < 10.0,
          "failover: master %d (partition %d) killed; writes resumed on the promoted replica "
          "after %.1f s (limit 10 s); %d writes sent, %d OK, %d failed around the kill",
          w_victim_port, w_partition, secs, w_sent, w_ok, w_lost);
}

static void close_all(ow_cluster_async *c)
{
    ow_cluster_async_close(c);
    uv_close((uv_handle_t *)&beat, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    check(uv_loop_close(&loop) == 0, "close: every handle closed, uv_loop_close returns 0");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cluster_async_check CLUSTER_DIR HOST:PORT | --single SOCKET\n");
        return 2;
    }
    bool single = strcmp(argv[1], "--single") == 0;
    char url[600];
    snprintf(url, sizeof url, single ? "unix://%s" : "redis://%s", argv[2]);
    uv_loop_init(&loop);
    uv_timer_init(&loop, &beat);
    uv_timer_start(&beat, beat_cb, 10, 10);
    ow_cluster_opts opts = {.timeout_ms = 2000, .retry_for_ms = 15000};
    ow_cluster_async *c;
    ow_err err;
    if (ow_cluster_async_open(&loop, url, &opts, &c, &err)) die("open", &err);
    int masters = 0;
    ow_slotmap_covered(ow_cluster_async_map(c), &masters);
    check(ow_cluster_async_enabled(c) == !single, "open: %s with %d master(s)",
          single ? "a plain Redis" : "a cluster", masters);
    step_routing(c, single ? 200 : 600);
    if (!single) {
        ow_cluster *admin;
        if (ow_cluster_open_url(url, &opts, &admin, &err)) die("open admin", &err);
        step_moved(c, admin);
        step_ask(c, admin);
        step_failover(c, admin, argv[1]);
        ow_cluster_free(admin);
    }
    close_all(c);
    printf("%d passed, %d failed\n", passes, fails);
    return fails ? 1 : 0;
}
