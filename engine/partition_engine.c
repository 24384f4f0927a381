#include "partition_engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "cluster.h"
#include "files.h"
#include "lease.h"
#include "regions.h"
#include "log.h"
#include "shared_feed.h"

typedef struct child_ctx {
    const ow_config *cfg;
    const ow_redis_env *env;
    int partition;
} child_ctx;

/* A fresh connection to the master of the partition's slot: a new cluster client each time (a
 * forked checkpoint writer must not share the parent's sockets), so the map is always current. */
static redisContext *connect_partition(void *ud, ow_err *err)
{
    child_ctx *x = ud;
    ow_cluster *c;
    if (ow_cluster_open_env(x->env, x->cfg, &c, err)) return NULL;
    ow_redis_env e = *x->env;
    e.server_pid = 0;
    e.target = *ow_cluster_seed(c);
    if (ow_cluster_enabled(c)) {
        const ow_slotmap *m = ow_cluster_map(c);
        int slot = ow_partition_slot(x->partition), node = m->owner[slot];
        if (node < 0) {
            ow_cluster_free(c);
            ow_err_set(err, OW_EREDIS,
                       "partition %d (slot %d) has no master in the cluster map yet (failover in "
                       "progress?)",
                       x->partition, slot);
            return NULL;
        }
        e.target.is_unix = false;
        snprintf(e.target.host, sizeof e.target.host, "%s", m->nodes[node].host);
        e.target.port = m->nodes[node].port;
        e.target.db = 0;
        ow_redis_target_describe(&e.target, e.desc, sizeof e.desc);
    }
    ow_cluster_free(c);
    return ow_redis_connect(&e, err);
}

/* The child: the runner on one partition. Never returns. */
static void run_child(const ow_config *cfg0, const ow_redis_env *env, ow_clock_mode clock,
                      volatile sig_atomic_t *stop, const ow_partition_table *t, const ow_lease *l,
                      pid_t parent)
{
    int p = l->partition;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1); /* the supervisor died before prctl */
    static ow_config cfg;
    cfg = *cfg0;
    /* every holder of the partition is the same consumer (and inherits any pending entries an
     * older engine left: the group read is NOACK now, engine/runner.c send_read) */
    snprintf(cfg.engine.consumer, sizeof cfg.engine.consumer, "p%d", p);
    char name[32];
    snprintf(name, sizeof name, "engine p%d", p);
    ow_log_init(name, OW_LOG_INFO);
    ow_err err;
    ow_cluster *c = NULL;
    if (ow_cluster_open_env(env, &cfg, &c, &err)) {
        ow_error("%s", err.msg);
        _exit(1);
    }
    ow_shared_feed *sf = ow_shared_feed_new(c);
    if (!sf) _exit(1);
    child_ctx x = {&cfg, env, p};
    /* fenced: a child that outlives its lease (its supervisor paused) has every write refused */
    ow_runner_part part = {.partition = p,
                           .table = t,
                           .connect = connect_partition,
                           .ud = &x,
                           .shared = sf,
                           .lease_key = l->key,
                           .lease_token = l->token};
    int rc = ow_runner_run_part(&cfg, env, clock, stop, &part);
    ow_shared_feed_free(sf);
    ow_cluster_free(c);
    _exit(rc);
}

typedef struct slot {
    ow_lease lease;
    pid_t child;
    bool want;
    int64_t renewed_ms; /* monotonic: when the lease was last taken or renewed */
} slot;

static void stop_child(slot *s, int sig)
{
    if (s->child <= 0) return;
    kill(s->child, sig);
    if (sig == SIGKILL) {
        waitpid(s->child, NULL, 0);
        s->child = 0;
    }
}

int ow_partition_engine_run(const ow_config *cfg, const ow_redis_env *env, ow_clock_mode clock,
                            volatile sig_atomic_t *stop, bool *handled)
{
    *handled = false;
    ow_err err;
    ow_cluster *c = NULL;
    if (ow_cluster_open_env(env, cfg, &c, &err)) {
        if (cfg->cluster.partitions <= 1) return 0; /* the single-node runner reports it */
        *handled = true;
        ow_error("%s", err.msg);
        return 1;
    }
    if (cfg->cluster.partitions <= 1 && !ow_cluster_enabled(c)) {
        ow_cluster_free(c);
        return 0;
    }
    *handled = true;
    /* a configuration error stops the supervisor here, not each child every lease/3 */
    ow_regions *city = NULL;
    if (ow_city_load(cfg, &city, &err)) {
        ow_cluster_free(c);
        ow_error("%s", err.msg);
        return 2;
    }
    ow_regions_free(city);
    ow_partition_table t;
    if (ow_partition_load(cfg, &t, &err)) {
        ow_cluster_free(c);
        ow_error("%s", err.msg);
        return 2;
    }
    slot *s = calloc((size_t)t.n, sizeof *s);
    bool *want = calloc((size_t)t.n, sizeof *want);
    if (!s || !want || ow_partition_set_parse(cfg->engine.partitions, t.n, want, &err)) {
        if (s && want) ow_error("%s", err.msg);
        free(s);
        free(want);
        ow_partition_table_fini(&t);
        ow_cluster_free(c);
        return 2;
    }
    for (int p = 0; p < t.n; p++) {
        s[p].want = want[p];
        ow_lease_init(&s[p].lease, p, cfg->engine.consumer, cfg->engine.lease_ms);
    }
    free(want);
    ow_info("serving partitions \"%s\" of %d (lease %lld ms) on %s", cfg->engine.partitions, t.n,
            (long long)cfg->engine.lease_ms,
            ow_cluster_enabled(c) ? "a Redis Cluster" : "one Redis");
    pid_t self = getpid();
    int64_t tick = cfg->engine.lease_ms / 3;
    while (!*stop) {
        for (int p = 0; p < t.n && !*stop; p++) {
            slot *x = &s[p];
            if (!x->want) continue;
            if (x->child > 0) {
                int st;
                if (waitpid(x->child, &st, WNOHANG) == x->child) {
                    if (WIFEXITED(st) && WEXITSTATUS(st) == OW_RUNNER_FENCED)
                        ow_warn("partition %d: its engine was fenced (another engine holds the "
                                "lease); taken again when free",
                                p);
                    else
                        ow_warn(
                            "partition %d: its engine exited (status %d); the lease is given up", p,
                            st);
                    x->child = 0;
                    ow_lease_release(c, &x->lease, &err);
                    continue; /* taken again at the next round, or by another engine */
                }
                int rc = ow_lease_renew(c, &x->lease, &err);
                if (rc == OW_OK && x->lease.held) {
                    x->renewed_ms = ow_clock_mono_ms();
                    continue;
                }
                /* an error (a failover under way) is not a loss while the lease has time left:
                 * the next round tries again; past its TTL another engine may hold it */
                if (rc != OW_OK && ow_clock_mono_ms() - x->renewed_ms < x->lease.ttl_ms - tick) {
                    ow_warn("partition %d: lease not renewed (%s); retrying", p, err.msg);
                    continue;
                }
                ow_warn("partition %d: lease lost (%s); stopping its engine", p,
                        rc != OW_OK ? err.msg : "expired or taken");
                stop_child(x, SIGKILL);
                x->lease.held = false;
                continue;
            }
            /* a fresh token per attempt: a renew meant for an older holding cannot succeed */
            ow_lease_init(&x->lease, p, cfg->engine.consumer, cfg->engine.lease_ms);
            if (ow_lease_acquire(c, &x->lease, &err) != OW_OK) {
                ow_warn("partition %d: %s", p, err.msg);
                continue;
            }
            if (!x->lease.held) continue;
            ow_info("partition %d: lease taken (%s); starting its engine", p, x->lease.token);
            pid_t pid = fork();
            if (pid == 0) run_child(cfg, env, clock, stop, &t, &x->lease, self);
            if (pid < 0) {
                ow_error("partition %d: fork: %s", p, strerror(errno));
                ow_lease_release(c, &x->lease, &err);
                continue;
            }
            x->child = pid;
            x->renewed_ms = ow_clock_mono_ms();
        }
        for (int64_t w = 0; w < tick && !*stop; w += 20)
            ow_sleep_ms(20);
    }
    /* a clean stop: the engines checkpoint and exit, then the leases go at once */
    for (int p = 0; p < t.n; p++)
        stop_child(&s[p], SIGTERM);
    for (int p = 0; p < t.n; p++) {
        if (s[p].child > 0) waitpid(s[p].child, NULL, 0);
        if (s[p].lease.held) ow_lease_release(c, &s[p].lease, &err);
    }
    free(s);
    ow_partition_table_fini(&t);
    ow_cluster_free(c);
    return 0;
}
