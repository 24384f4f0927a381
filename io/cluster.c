/*
 * cluster.c — routing, redirections and retries. ow_cluster_batch_exec is the one loop every
 * command goes through (ow_cluster_cmd is a batch of one); it runs rounds: assign each pending
 * command to a node, write to every node, read every node, sort the replies into done, redirected
 * and retry-later, refresh the map or pause when needed.
 */
#include "cluster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "redis.h"

#define MAX_REDIRECTS 16
#define PAUSE_MIN_MS  50
#define PAUSE_MAX_MS  500

typedef struct conn {
    char host[OW_SLOTMAP_HOST_BUF];
    int port;
    redisContext *ctx; /* NULL until connected, or after it broke */
} conn;

struct ow_cluster {
    ow_redis_target seed; /* the seed that answered first: its login is used on every node */
    ow_redis_target seeds[OW_CLUSTER_SEEDS_MAX];
    int nseeds;
    ow_cluster_opts opts;
    bool enabled;
    ow_slotmap *map, *spare; /* spare: where a refresh decodes before swapping */
    bool stale;              /* refresh before the next round */
    int64_t refreshes;
    conn *conns;
    int nconns, capconns;
    ow_cluster_batch *one; /* reused by ow_cluster_cmd */
};

enum { CMD_PENDING, CMD_DONE, CMD_FAILED };

typedef struct cmd {
    char *buf; /* RESP text of the command (redisFormatCommand*) */
    size_t len;
    char key[64]; /* the routing key, cut, for messages */
    int slot;
    int state;
    int ask; /* ASK: connection index for the next try, or -1 */
    int redirects;
    int sent_on; /* this round: connection index it was written to, or -1 */
    redisReply *reply;
    int acked;
} cmd;

struct ow_cluster_batch {
    cmd *v;
    int n, cap;
    bool idempotent;
    int wait_replicas;
    int64_t wait_ms;
};

/* ---- connections ---- */

static void conn_drop(conn *k)
{
    if (k->ctx) redisFree(k->ctx);
    k->ctx = NULL;
}

static int conn_find(ow_cluster *c, const char *host, int port)
{
    for (int i = 0; i < c->nconns; i++)
        if (c->conns[i].port == port && strcmp(c->conns[i].host, host) == 0) return i;
    if (c->nconns == c->capconns) {
        int cap = c->capconns ? 2 * c->capconns : 8;
        conn *v = realloc(c->conns, (size_t)cap * sizeof *v);
        if (!v) return -1;
        c->conns = v;
        c->capconns = cap;
    }
    conn *k = &c->conns[c->nconns];
    memset(k, 0, sizeof *k);
    snprintf(k->host, sizeof k->host, "%s", host);
    k->port = port;
    return c->nconns++;
}

/* Connected context of connection i, or NULL with err. */
static redisContext *conn_ctx(ow_cluster *c, int i, ow_err *err)
{
    conn *k = &c->conns[i];
    if (k->ctx) return k->ctx;
    ow_redis_env env;
    memset(&env, 0, sizeof env);
    env.target = c->seed;
    if (c->enabled) {
        /* every node is reached over TCP with the seed's login */
        env.target.is_unix = false;
        env.target.path[0] = '\0';
        snprintf(env.target.host, sizeof env.target.host, "%s", k->host);
        env.target.port = k->port;
    }
    env.timeout_ms = c->opts.timeout_ms;
    ow_redis_target_describe(&env.target, env.desc, sizeof env.desc);
    k->ctx = ow_redis_connect(&env, err);
    return k->ctx;
}

static int node_conn(ow_cluster *c, int node)
{
    const ow_slotmap_node *n = &c->map->nodes[node];
    return conn_find(c, n->host, n->port);
}

redisContext *ow_cluster_node_context(ow_cluster *c, int node, ow_err *err)
{
    if (node < 0 || node >= c->map->nnodes) {
        ow_err_set(err, OW_EINVAL, "cluster: no node %d in the map", node);
        return NULL;
    }
    int i = node_conn(c, node);
    if (i < 0) {
        ow_err_set(err, OW_ENOMEM, "cluster: out of memory");
        return NULL;
    }
    return conn_ctx(c, i, err);
}

/* ---- the slot map ---- */

/* Ask connection i for the map; OW_OK with c->map replaced. */
static int load_map_from(ow_cluster *c, int i, ow_err *err)
{
    redisContext *ctx = conn_ctx(c, i, err);
    if (!ctx) return OW_EREDIS;
    redisReply *r = redisCommand(ctx, "CLUSTER SHARDS");
    if (!r) {
        ow_err_set(err, OW_EREDIS, "%s:%d: CLUSTER SHARDS: %s", c->conns[i].host, c->conns[i].port,
                   ctx->errstr[0] ? ctx->errstr : "no reply");
        conn_drop(&c->conns[i]);
        return OW_EREDIS;
    }
    int rc;
    if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "nknown subcommand")) {
        /* Redis < 7: the older form */
        freeReplyObject(r);
        r = redisCommand(ctx, "CLUSTER SLOTS");
        if (!r) {
            ow_err_set(err, OW_EREDIS, "%s:%d: CLUSTER SLOTS: %s", c->conns[i].host,
                       c->conns[i].port, ctx->errstr[0] ? ctx->errstr : "no reply");
            conn_drop(&c->conns[i]);
            return OW_EREDIS;
        }
        rc = r->type == REDIS_REPLY_ERROR ? ow_err_set(err, OW_EREDIS, "%s:%d: CLUSTER SLOTS: %s",
                                                       c->conns[i].host, c->conns[i].port, r->str)
                                          : ow_slotmap_from_slots(c->spare, r, err);
    } else if (r->type == REDIS_REPLY_ERROR) {
        rc = ow_err_set(err, OW_EREDIS, "%s:%d: CLUSTER SHARDS: %s", c->conns[i].host,
                        c->conns[i].port, r->str);
    } else {
        rc = ow_slotmap_from_shards(c->spare, r, err);
    }
    freeReplyObject(r);
    if (rc) return rc;
    ow_slotmap *old = c->map;
    c->map = c->spare;
    c->spare = old;
    c->stale = false;
    c->refreshes++;
    return OW_OK;
}

int ow_cluster_refresh(ow_cluster *c, ow_err *err)
{
    if (!c->enabled) {
        c->stale = false;
        return OW_OK;
    }
    /* the addresses to try, before the map changes under us: masters first */
    int order[OW_SLOTMAP_NODES_MAX + OW_CLUSTER_SEEDS_MAX], n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < c->map->nnodes; i++)
            if (c->map->nodes[i].master == (pass == 0)) {
                int k = node_conn(c, i);
                if (k >= 0) order[n++] = k;
            }
    for (int i = 0; i < c->nseeds; i++) {
        int k = c->seeds[i].is_unix ? -1 : conn_find(c, c->seeds[i].host, c->seeds[i].port);
        if (k >= 0) order[n++] = k;
    }
    ow_err last;
    ow_err_clear(&last);
    ow_err_set(&last, OW_EREDIS, "no node to ask");
    for (int i = 0; i < n; i++) {
        if (load_map_from(c, order[i], &last) == OW_OK) return OW_OK;
    }
    return ow_err_set(err, last.code ? last.code : OW_EREDIS,
                      "cluster: no node gave the slot map (%d tried); last: %s", n, last.msg);
}

int ow_cluster_open(const ow_redis_target *seeds, int nseeds, const ow_cluster_opts *opts,
                    ow_cluster **out, ow_err *err)
{
    *out = NULL;
    if (nseeds < 1 || nseeds > OW_CLUSTER_SEEDS_MAX)
        return ow_err_set(err, OW_EINVAL, "cluster: %d seed addresses: expected 1 to %d", nseeds,
                          OW_CLUSTER_SEEDS_MAX);
    ow_cluster *c = calloc(1, sizeof *c);
    if (c) {
        c->map = malloc(sizeof *c->map);
        c->spare = malloc(sizeof *c->spare);
        c->one = ow_cluster_batch_new();
    }
    if (!c || !c->map || !c->spare || !c->one) {
        ow_cluster_free(c);
        return ow_err_set(err, OW_ENOMEM, "cluster: out of memory");
    }
    c->opts = *opts;
    memcpy(c->seeds, seeds, (size_t)nseeds * sizeof *seeds);
    c->nseeds = nseeds;
    ow_slotmap_init(c->map);
    ow_slotmap_init(c->spare);
    /* the first seed that answers; its login is used for every node */
    redisContext *ctx = NULL;
    const char *host = NULL;
    int port = 0;
    for (int i = 0; i < nseeds && !ctx; i++) {
        c->seed = seeds[i];
        host = c->seed.is_unix ? c->seed.path : c->seed.host;
        port = c->seed.is_unix ? 0 : c->seed.port;
        int k = conn_find(c, host, port);
        ctx = k < 0 ? NULL : conn_ctx(c, k, err);
    }
    if (!ctx) {
        int rc = err ? err->code : OW_EREDIS;
        if (nseeds > 1)
            ow_err_prefix(err, "none of the %d seed addresses answers; the last", nseeds);
        ow_cluster_free(c);
        return rc;
    }
    /* CLUSTER INFO rather than INFO: a least-privileged ACL user may run it (docs/security.md
     * §4); a server with cluster support off says so. Any other answer (LOADING, NOPERM) asks
     * INFO cluster, as before. */
    redisReply *r = redisCommand(ctx, "CLUSTER INFO");
    c->enabled = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:");
    bool off = r && r->type == REDIS_REPLY_ERROR && strstr(r->str, "cluster support disabled");
    if (r) freeReplyObject(r);
    if (!c->enabled && !off) {
        r = redisCommand(ctx, "INFO cluster");
        c->enabled = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_enabled:1");
        if (r) freeReplyObject(r);
    }
    int rc = OW_OK;
    if (!c->enabled) {
        /* one node serves every slot */
        int node = ow_slotmap_add_node(c->map, host, port, true);
        for (int s = 0; s < OW_CLUSTER_SLOTS; s++)
            c->map->owner[s] = (int16_t)node;
    } else if (c->seed.is_unix || c->seed.db != 0) {
        rc = ow_err_set(err, OW_EINVAL,
                        "redis url: the server at %s is a Redis Cluster node: use "
                        "redis://host:port of any node, database 0",
                        host);
    } else {
        rc = ow_cluster_refresh(c, err);
    }
    if (rc) {
        ow_cluster_free(c);
        return rc;
    }
    *out = c;
    return OW_OK;
}

int ow_cluster_parse_urls(const char *urls, ow_redis_target *seeds, ow_err *err)
{
    int n = 0;
    const char *p = urls;
    for (;;) {
        size_t len = strcspn(p, ",");
        char one[1024];
        if (n == OW_CLUSTER_SEEDS_MAX || len >= sizeof one)
            return ow_err_set(err, OW_EINVAL,
                              "redis url: %s: at most %d addresses of up to 1023 bytes, separated "
                              "by commas",
                              n == OW_CLUSTER_SEEDS_MAX ? "too many addresses" : "too long",
                              OW_CLUSTER_SEEDS_MAX);
        memcpy(one, p, len);
        one[len] = '\0';
        int rc = ow_redis_url_parse(one, &seeds[n], err);
        if (rc) return rc;
        n++;
        if (!p[len]) return n;
        p += len + 1;
    }
}

int ow_cluster_open_url(const char *urls, const ow_cluster_opts *opts, ow_cluster **out,
                        ow_err *err)
{
    ow_redis_target seeds[OW_CLUSTER_SEEDS_MAX];
    int n = ow_cluster_parse_urls(urls, seeds, err);
    if (n < 0) return n;
    return ow_cluster_open(seeds, n, opts, out, err);
}

int ow_cluster_open_env(const ow_redis_env *env, const ow_config *cfg, ow_cluster **out,
                        ow_err *err)
{
    ow_cluster_opts opts = {.timeout_ms = cfg->redis.timeout_ms,
                            .retry_for_ms = cfg->cluster.retry_for_ms};
    if (env->server_pid == 0 && strchr(cfg->redis.url, ',')) {
        /* every seed of redis.url, the one env_open found answering first */
        ow_redis_target seeds[OW_CLUSTER_SEEDS_MAX + 1];
        seeds[0] = env->target;
        int n = ow_cluster_parse_urls(cfg->redis.url, seeds + 1, err);
        if (n < 0) return n;
        return ow_cluster_open(seeds, n + 1, &opts, out, err);
    }
    return ow_cluster_open(&env->target, 1, &opts, out, err);
}

const ow_redis_target *ow_cluster_seed(const ow_cluster *c)
{
    return &c->seed;
}

void ow_cluster_free(ow_cluster *c)
{
    if (!c) return;
    for (int i = 0; i < c->nconns; i++)
        conn_drop(&c->conns[i]);
    free(c->conns);
    free(c->map);
    free(c->spare);
    ow_cluster_batch_free(c->one);
    free(c);
}

bool ow_cluster_enabled(const ow_cluster *c)
{
    return c->enabled;
}

const ow_slotmap *ow_cluster_map(const ow_cluster *c)
{
    return c->map;
}

int64_t ow_cluster_refreshes(const ow_cluster *c)
{
    return c->refreshes;
}

/* ---- batches ---- */

ow_cluster_batch *ow_cluster_batch_new(void)
{
    return calloc(1, sizeof(ow_cluster_batch));
}

void ow_cluster_batch_reset(ow_cluster_batch *b)
{
    for (int i = 0; i < b->n; i++) {
        redisFreeCommand(b->v[i].buf);
        if (b->v[i].reply) freeReplyObject(b->v[i].reply);
    }
    b->n = 0;
}

void ow_cluster_batch_free(ow_cluster_batch *b)
{
    if (!b) return;
    ow_cluster_batch_reset(b);
    free(b->v);
    free(b);
}

void ow_cluster_batch_idempotent(ow_cluster_batch *b, bool yes)
{
    b->idempotent = yes;
}

void ow_cluster_batch_wait(ow_cluster_batch *b, int replicas, int64_t timeout_ms)
{
    b->wait_replicas = replicas > 0 ? replicas : 0;
    b->wait_ms = timeout_ms > 0 ? timeout_ms : 0;
}

int ow_cluster_batch_count(const ow_cluster_batch *b)
{
    return b->n;
}

static int push(ow_cluster_batch *b, const char *key, size_t keylen, char *buf, int len)
{
    if (len < 0 || !buf) return OW_ENOMEM;
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 64;
        cmd *v = realloc(b->v, (size_t)cap * sizeof *v);
        if (!v) {
            redisFreeCommand(buf);
            return OW_ENOMEM;
        }
        b->v = v;
        b->cap = cap;
    }
    cmd *m = &b->v[b->n];
    memset(m, 0, sizeof *m);
    m->buf = buf;
    m->len = (size_t)len;
    m->slot = ow_crc16_keyslot(key, keylen);
    size_t kl = keylen < sizeof m->key - 1 ? keylen : sizeof m->key - 1;
    memcpy(m->key, key, kl);
    m->key[kl] = '\0';
    m->ask = -1;
    m->sent_on = -1;
    m->acked = -1;
    return b->n++;
}

int ow_cluster_batch_add(ow_cluster_batch *b, const char *key, size_t keylen, int argc,
                         const char **argv, const size_t *argvlen)
{
    char *buf = NULL;
    int len = redisFormatCommandArgv(&buf, argc, argv, argvlen);
    return push(b, key, keylen, buf, len);
}

static int batch_vaddf(ow_cluster_batch *b, const char *key, const char *fmt, va_list ap)
{
    char *buf = NULL;
    int len = redisvFormatCommand(&buf, fmt, ap);
    return push(b, key, strlen(key), buf, len);
}

int ow_cluster_batch_addf(ow_cluster_batch *b, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = batch_vaddf(b, key, fmt, ap);
    va_end(ap);
    return rc;
}

const redisReply *ow_cluster_batch_reply(const ow_cluster_batch *b, int i)
{
    return i >= 0 && i < b->n ? b->v[i].reply : NULL;
}

int ow_cluster_batch_acked(const ow_cluster_batch *b, int i)
{
    return i >= 0 && i < b->n ? b->v[i].acked : -1;
}

/* ---- exec ---- */

static bool starts(const redisReply *r, const char *word)
{
    size_t n = strlen(word);
    return r->type == REDIS_REPLY_ERROR && r->len > n && strncmp(r->str, word, n) == 0 &&
           r->str[n] == ' ';
}

/* Why the batch could not finish yet, kept for the final message. */
typedef struct why {
    ow_err err;
    bool wait; /* pause before the next round */
} why;

static void fail_cmd(cmd *m, ow_err *first, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_cmd(cmd *m, ow_err *first, int code, const char *fmt, ...)
{
    m->state = CMD_FAILED;
    if (first->code != OW_OK) return;
    va_list ap;
    va_start(ap, fmt);
    char msg[OW_ERR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ow_err_set(first, code, "%s", msg);
}

/* Handle one reply of command m read from connection k. Takes the reply. */
static void sort_reply(ow_cluster *c, ow_cluster_batch *b, cmd *m, int k, redisReply *r, why *w,
                       ow_err *first)
{
    (void)b;
    if (r->type == REDIS_REPLY_ERROR && (starts(r, "MOVED") || starts(r, "ASK"))) {
        bool moved = starts(r, "MOVED");
        const char *sp = strrchr(r->str, ' ');
        char host[OW_SLOTMAP_HOST_BUF];
        int port = 0;
        int rc = sp ? ow_slotmap_parse_addr(sp + 1, host, sizeof host, &port) : OW_EINVAL;
        /* an empty host means "the node you asked" (cluster-preferred-endpoint-type unknown) */
        if (!rc && !host[0]) snprintf(host, sizeof host, "%s", c->conns[k].host);
        if (rc || ++m->redirects > MAX_REDIRECTS) {
            fail_cmd(m, first, OW_EREDIS, "slot %d (key %s): %s from %s:%d%s", m->slot, m->key,
                     r->str, c->conns[k].host, c->conns[k].port,
                     rc ? ": cannot read the address" : ": too many redirections");
        } else if (moved) {
            int node = ow_slotmap_add_node(c->map, host, port, true);
            if (node >= 0) c->map->owner[m->slot] = (int16_t)node;
            c->stale = true; /* a resharding or failover moves more than one slot */
            m->ask = -1;
        } else {
            m->ask = conn_find(c, host, port);
        }
        freeReplyObject(r);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR && (starts(r, "TRYAGAIN") || starts(r, "CLUSTERDOWN") ||
                                         starts(r, "LOADING") || starts(r, "MASTERDOWN"))) {
        /* a migration or a failover is under way: the same command later */
        ow_err_set(&w->err, OW_EAGAIN, "slot %d (key %s): %s (from %s:%d)", m->slot, m->key, r->str,
                   c->conns[k].host, c->conns[k].port);
        w->wait = true;
        if (!starts(r, "TRYAGAIN")) c->stale = true;
        freeReplyObject(r);
        return;
    }
    m->reply = r;
    m->state = CMD_DONE;
}

static void pause_round(int *pause_ms)
{
    ow_sleep_ms(*pause_ms);
    *pause_ms = *pause_ms * 2 > PAUSE_MAX_MS ? PAUSE_MAX_MS : *pause_ms * 2;
}

static const char asking[] = "*1\r\n$6\r\nASKING\r\n";

int ow_cluster_batch_exec(ow_cluster *c, ow_cluster_batch *b, ow_err *err)
{
    /* redirections alone never wait (they are bounded by MAX_REDIRECTS); pauses stop here */
    int64_t deadline = ow_clock_mono_ms() + c->opts.retry_for_ms;
    if (b->n == 0) return OW_OK;
    int pause_ms = PAUSE_MIN_MS;
    ow_err first;
    ow_err_clear(&first);
    for (int i = 0; i < b->n; i++)
        if (b->v[i].state == CMD_FAILED) b->v[i].state = CMD_PENDING;
    char *wait_buf = NULL;
    int wait_len = 0;
    if (b->wait_replicas) {
        wait_len =
            redisFormatCommand(&wait_buf, "WAIT %d %lld", b->wait_replicas, (long long)b->wait_ms);
        if (wait_len < 0) return ow_err_set(err, OW_ENOMEM, "cluster: out of memory");
    }
    int *used = NULL; /* connections written to this round */
    for (;;) {
        why w;
        ow_err_clear(&w.err);
        w.wait = false;
        if (c->stale) {
            ow_err rerr;
            if (ow_cluster_refresh(c, &rerr)) {
                w.err = rerr;
                w.wait = true;
            }
        }
        /* 1. route */
        int pending = 0;
        free(used);
        used = calloc((size_t)c->nconns + (size_t)b->n + 1, sizeof *used);
        if (!used) {
            fail_cmd(&b->v[0], &first, OW_ENOMEM, "cluster: out of memory");
            break;
        }
        int nused = 0;
        for (int i = 0; i < b->n; i++) {
            cmd *m = &b->v[i];
            m->sent_on = -1;
            if (m->state != CMD_PENDING) continue;
            pending++;
            int k = m->ask;
            if (k < 0) {
                int node = c->map->owner[m->slot];
                if (node < 0) {
                    ow_err_set(&w.err, OW_ENOTFOUND,
                               "slot %d (key %s) has no master in the cluster map; the cluster "
                               "lacks coverage (check `redis-cli --cluster check`)",
                               m->slot, m->key);
                    w.wait = true;
                    c->stale = true;
                    continue;
                }
                k = node_conn(c, node);
            }
            if (k < 0) { /* out of memory for the connection table: pause, retry, give up */
                ow_err_set(&w.err, OW_ENOMEM, "slot %d (key %s): out of memory", m->slot, m->key);
                w.wait = true;
                continue;
            }
            ow_err cerr;
            redisContext *ctx = conn_ctx(c, k, &cerr);
            if (!ctx) {
                ow_err_set(&w.err, cerr.code, "slot %d (key %s): master %s:%d unreachable: %s",
                           m->slot, m->key, c->conns[k].host, c->conns[k].port, cerr.msg);
                w.wait = true;
                c->stale = true;
                continue;
            }
            if (m->ask >= 0) redisAppendFormattedCommand(ctx, asking, sizeof asking - 1);
            redisAppendFormattedCommand(ctx, m->buf, m->len);
            m->sent_on = k;
            bool seen = false;
            for (int u = 0; u < nused; u++)
                seen = seen || used[u] == k;
            if (!seen) used[nused++] = k;
        }
        if (!pending) break;
        /* 2. write everything, every node, before reading anything */
        for (int u = 0; u < nused; u++) {
            redisContext *ctx = c->conns[used[u]].ctx;
            if (wait_buf) redisAppendFormattedCommand(ctx, wait_buf, (size_t)wait_len);
            int done = 0;
            while (!done && ctx->err == 0)
                if (redisBufferWrite(ctx, &done) != REDIS_OK) break;
        }
        /* 3. read, node by node, in the order written */
        for (int u = 0; u < nused; u++) {
            int k = used[u];
            redisContext *ctx = c->conns[k].ctx;
            bool broken = ctx->err != 0;
            int first_here = -1;
            for (int i = 0; i < b->n; i++) {
                cmd *m = &b->v[i];
                if (m->sent_on != k) continue;
                if (first_here < 0) first_here = i;
                redisReply *r = NULL;
                if (!broken && m->ask >= 0) {
                    /* the ASKING reply (+OK) comes first */
                    if (redisGetReply(ctx, (void **)&r) != REDIS_OK) broken = true;
                    if (r) freeReplyObject(r);
                    r = NULL;
                    m->ask = -1;
                }
                if (!broken && redisGetReply(ctx, (void **)&r) != REDIS_OK) broken = true;
                if (broken) {
                    if (r) freeReplyObject(r);
                    ow_err_set(&w.err, OW_EREDIS,
                               "slot %d (key %s): connection to %s:%d lost: "
                               "%s",
                               m->slot, m->key, c->conns[k].host, c->conns[k].port,
                               ctx->errstr[0] ? ctx->errstr : "no reply");
                    w.wait = true;
                    c->stale = true;
                    if (!b->idempotent)
                        fail_cmd(m, &first, OW_EREDIS,
                                 "slot %d (key %s): connection to %s:%d lost after the command "
                                 "was sent: it may or may not have run (%s)",
                                 m->slot, m->key, c->conns[k].host, c->conns[k].port,
                                 ctx->errstr[0] ? ctx->errstr : "no reply");
                    continue;
                }
                sort_reply(c, b, m, k, r, &w, &first);
            }
            if (!broken && wait_buf) {
                redisReply *r = NULL;
                if (redisGetReply(ctx, (void **)&r) != REDIS_OK) {
                    broken = true;
                } else {
                    int acked = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : 0;
                    for (int i = first_here; i >= 0 && i < b->n; i++)
                        if (b->v[i].sent_on == k && b->v[i].state == CMD_DONE)
                            b->v[i].acked = acked;
                }
                if (r) freeReplyObject(r);
            }
            if (broken) conn_drop(&c->conns[k]);
        }
        /* 4. anything left? */
        bool left = false;
        for (int i = 0; i < b->n; i++)
            left = left || b->v[i].state == CMD_PENDING;
        if (!left) break;
        if (!w.wait) continue; /* redirected: resend at once */
        if (ow_clock_mono_ms() + pause_ms > deadline) {
            for (int i = 0; i < b->n; i++)
                if (b->v[i].state == CMD_PENDING)
                    fail_cmd(&b->v[i], &first, w.err.code ? w.err.code : OW_ETIMEOUT,
                             "cluster: gave up after retrying for %lld ms (cluster.retry_for): "
                             "%s",
                             (long long)c->opts.retry_for_ms, w.err.msg);
            break;
        }
        pause_round(&pause_ms);
    }
    free(used);
    redisFreeCommand(wait_buf);
    if (first.code != OW_OK) {
        if (err) *err = first;
        return first.code;
    }
    return OW_OK;
}

redisReply *ow_cluster_cmd(ow_cluster *c, ow_err *err, const char *what, const char *key,
                           const char *fmt, ...)
{
    ow_cluster_batch *b = c->one;
    ow_cluster_batch_reset(b);
    va_list ap;
    va_start(ap, fmt);
    int rc = batch_vaddf(b, key, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        ow_err_set(err, OW_ENOMEM, "%s: out of memory", what);
        return NULL;
    }
    ow_err e;
    rc = ow_cluster_batch_exec(c, b, &e);
    if (rc) {
        ow_err_set(err, rc, "%s: %s", what, e.msg);
        return NULL;
    }
    redisReply *r = b->v[0].reply;
    b->v[0].reply = NULL;
    if (r->type == REDIS_REPLY_ERROR) {
        ow_err_set(err, OW_EREDIS, "%s: %s", what, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

int ow_cluster_function_load(ow_cluster *c, const char *library, const char *what, ow_err *err)
{
    int nnodes = ow_cluster_map(c)->nnodes;
    for (int i = 0; i < nnodes; i++) {
        /* a failed master (CLUSTER SHARDS health "fail": killed, its replica promoted) is not
         * asked: it serves nothing, and a start right after a failover must not stop on it */
        const ow_slotmap_node *n = &ow_cluster_map(c)->nodes[i];
        if (!n->master || !n->healthy) continue;
        redisContext *ctx = ow_cluster_node_context(c, i, err);
        if (!ctx) return err->code ? err->code : OW_EREDIS;
        int rc = ow_redis_function_load(ctx, library, what, err);
        if (rc) return rc;
    }
    return OW_OK;
}
