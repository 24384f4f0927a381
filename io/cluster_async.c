/*
 * cluster_async.c — one command's life: dispatch (route, connect if needed, send), on_reply (done,
 * redirected, or onto the wait list), the timer (reload the map if stale, then resend the wait
 * list). Map reloads ask one node at a time, rotating through masters, other nodes and seeds.
 */
#include "cluster_async.h"

#include <hiredis/async.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "redis.h"

#define MAX_REDIRECTS 16
#define PAUSE_MIN_MS  50
#define PAUSE_MAX_MS  500

typedef struct anode {
    ow_cluster_async *owner;
    char host[OW_SLOTMAP_HOST_BUF];
    int port;
    redisAsyncContext *ac; /* NULL when not connected (hiredis owns and frees it) */
} anode;

typedef struct acmd {
    struct acmd *next; /* wait list */
    ow_cluster_async *owner;
    char *buf; /* RESP text */
    size_t len;
    int slot;
    char key[64];
    int redirects;
    anode *ask; /* ASK target for the next send, or NULL */
    int64_t deadline;
    ow_err why; /* last reason for waiting */
    ow_cluster_async_cb *cb;
    void *priv;
} acmd;

struct ow_cluster_async {
    uv_loop_t *loop;
    ow_redis_target seed; /* login for every node */
    ow_redis_target seeds[OW_CLUSTER_SEEDS_MAX];
    int nseeds;
    ow_cluster_opts opts;
    bool enabled;
    ow_slotmap *map, *spare;
    anode **nodes;
    int nnodes, capnodes;
    acmd *wait_head, *wait_tail;
    uv_timer_t timer;
    int pause_ms;
    bool stale, refreshing;
    int refresh_next;
    int64_t refreshes;
    bool closing;
    int open; /* the timer + connections still to close, once closing */
};

static void dispatch(acmd *m);
static void refresh_start(ow_cluster_async *c);

/* ---- freeing ---- */

static void maybe_free(ow_cluster_async *c)
{
    if (!c->closing || c->open > 0) return;
    for (int i = 0; i < c->nnodes; i++)
        free(c->nodes[i]);
    free(c->nodes);
    free(c->map);
    free(c->spare);
    free(c);
}

static void cmd_finish(acmd *m, const redisReply *r, const ow_err *err)
{
    if (m->cb) m->cb(r, err, m->priv);
    redisFreeCommand(m->buf);
    free(m);
}

static void cmd_fail(acmd *m, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cmd_fail(acmd *m, int code, const char *fmt, ...)
{
    ow_err err;
    va_list ap;
    va_start(ap, fmt);
    char msg[OW_ERR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ow_err_set(&err, code, "%s", msg);
    cmd_finish(m, NULL, &err);
}

/* ---- the wait list and its timer ---- */

static void on_timer(uv_timer_t *t);

static void arm_timer(ow_cluster_async *c)
{
    if (c->closing || uv_is_active((uv_handle_t *)&c->timer)) return;
    uv_timer_start(&c->timer, on_timer, (uint64_t)c->pause_ms, 0);
    c->pause_ms = c->pause_ms * 2 > PAUSE_MAX_MS ? PAUSE_MAX_MS : c->pause_ms * 2;
}

/* Put m on the wait list (or fail it when its time is up). */
static void wait_later(acmd *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void wait_later(acmd *m, int code, const char *fmt, ...)
{
    ow_cluster_async *c = m->owner;
    va_list ap;
    va_start(ap, fmt);
    char msg[OW_ERR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ow_err_set(&m->why, code, "%s", msg);
    if (c->closing) {
        cmd_fail(m, OW_EAGAIN, "cluster: closed while waiting: %s", msg);
        return;
    }
    if (ow_clock_mono_ms() >= m->deadline) {
        cmd_fail(m, code, "cluster: gave up after retrying for %lld ms (cluster.retry_for): %s",
                 (long long)c->opts.retry_for_ms, msg);
        return;
    }
    m->next = NULL;
    if (c->wait_tail)
        c->wait_tail->next = m;
    else
        c->wait_head = m;
    c->wait_tail = m;
    arm_timer(c);
}

/* Resend everything waiting, in the order it came. */
static void flush_waiting(ow_cluster_async *c)
{
    acmd *m = c->wait_head;
    c->wait_head = c->wait_tail = NULL;
    while (m) {
        acmd *next = m->next;
        dispatch(m);
        m = next;
    }
}

static void on_timer(uv_timer_t *t)
{
    ow_cluster_async *c = t->data;
    if (c->stale && !c->refreshing) refresh_start(c);
    if (c->refreshing) {
        arm_timer(c); /* the reload's answer flushes the list; look again later if it never comes */
        return;
    }
    flush_waiting(c);
}

/* ---- hiredis on the loop ----
 *
 * opswall's own attachment instead of hiredis' adapters/libuv.h: when a peer resets the
 * connection (a master killed while we write to it) libuv stops the poll and reports UV_EBADF,
 * and the 0.14 adapter ignores that status, leaving the context waiting forever. Here an error
 * status makes hiredis read, find the error and disconnect, so the commands on it fail and the
 * client moves to the promoted replica. */

typedef struct loop_io {
    uv_poll_t poll;
    redisAsyncContext *ac; /* NULL once hiredis has cleaned up */
    int events;            /* UV_READABLE | UV_WRITABLE wanted */
} loop_io;

static void io_cb(uv_poll_t *h, int status, int events)
{
    loop_io *io = h->data;
    if (!io->ac) return;
    if (status < 0) {
        redisAsyncHandleRead(io->ac); /* reads the error and disconnects */
        return;
    }
    if (events & UV_WRITABLE) redisAsyncHandleWrite(io->ac);
    if (io->ac && (events & UV_READABLE)) redisAsyncHandleRead(io->ac);
}

static void io_update(loop_io *io, int add, int del)
{
    int ev = (io->events | add) & ~del;
    if (ev == io->events) return;
    io->events = ev;
    if (ev)
        uv_poll_start(&io->poll, ev, io_cb);
    else
        uv_poll_stop(&io->poll);
}

static void io_add_read(void *p)
{
    io_update(p, UV_READABLE, 0);
}
static void io_del_read(void *p)
{
    io_update(p, 0, UV_READABLE);
}
static void io_add_write(void *p)
{
    io_update(p, UV_WRITABLE, 0);
}
static void io_del_write(void *p)
{
    io_update(p, 0, UV_WRITABLE);
}

static void io_closed(uv_handle_t *h)
{
    free(h->data);
}

static void io_cleanup(void *p)
{
    loop_io *io = p;
    io->ac = NULL;
    uv_poll_stop(&io->poll);
    uv_close((uv_handle_t *)&io->poll, io_closed);
}

int ow_cluster_async_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    loop_io *io = calloc(1, sizeof *io);
    if (!io) return REDIS_ERR;
    if (uv_poll_init_socket(loop, &io->poll, ac->c.fd) != 0) {
        free(io);
        return REDIS_ERR;
    }
    io->poll.data = io;
    io->ac = ac;
    ac->ev.data = io;
    ac->ev.addRead = io_add_read;
    ac->ev.delRead = io_del_read;
    ac->ev.addWrite = io_add_write;
    ac->ev.delWrite = io_del_write;
    ac->ev.cleanup = io_cleanup;
    return REDIS_OK;
}

/* ---- connections ---- */

static void on_connect(const redisAsyncContext *ac, int status)
{
    anode *n = ac->data;
    if (status == REDIS_OK || n->ac != ac) return;
    n->ac = NULL; /* hiredis frees it after this call */
    n->owner->stale = true;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    anode *n = ac->data;
    ow_cluster_async *c = n->owner;
    if (n->ac == ac) n->ac = NULL;
    if (c->closing) {
        c->open--;
        maybe_free(c);
        return;
    }
    c->stale = true;
}

static void on_setup(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    redisReply *r = reply;
    /* a refused login is a configuration error: drop the connection, its commands fail */
    if (r && r->type == REDIS_REPLY_ERROR) redisAsyncDisconnect(ac);
}

static anode *node_find(ow_cluster_async *c, const char *host, int port)
{
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i]->port == port && strcmp(c->nodes[i]->host, host) == 0) return c->nodes[i];
    if (c->nnodes == c->capnodes) {
        int cap = c->capnodes ? 2 * c->capnodes : 8;
        anode **v = realloc(c->nodes, (size_t)cap * sizeof *v);
        if (!v) return NULL;
        c->nodes = v;
        c->capnodes = cap;
    }
    anode *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->owner = c;
    snprintf(n->host, sizeof n->host, "%s", host);
    n->port = port;
    c->nodes[c->nnodes++] = n;
    return n;
}

/* The node's context, connecting (asynchronously: commands queue until it is up) when needed. */
static redisAsyncContext *node_ac(anode *n)
{
    if (n->ac) return n->ac;
    ow_cluster_async *c = n->owner;
    const ow_redis_target *t = &c->seed;
    redisAsyncContext *ac = (!c->enabled && t->is_unix) ? redisAsyncConnectUnix(t->path)
                                                        : redisAsyncConnect(n->host, n->port);
    if (!ac) return NULL;
    if (ac->err) {
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = n;
    ow_redis_reader_cap(ac->c.reader);
    if (ow_cluster_async_attach(ac, c->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        return NULL;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    n->ac = ac;
    if (t->password[0]) {
        if (t->user[0])
            redisAsyncCommand(ac, on_setup, NULL, "AUTH %s %s", t->user, t->password);
        else
            redisAsyncCommand(ac, on_setup, NULL, "AUTH %s", t->password);
    }
    if (!c->enabled && t->db) redisAsyncCommand(ac, on_setup, NULL, "SELECT %d", t->db);
    return ac;
}

/* ---- the slot map ---- */

static void on_map(redisAsyncContext *ac, void *reply, void *privdata);

static void send_map_request(ow_cluster_async *c, redisAsyncContext *ac, const char *which)
{
    if (redisAsyncCommand(ac, on_map, (void *)which, "CLUSTER %s", which) != REDIS_OK) {
        c->refreshing = false;
        c->refresh_next++;
        arm_timer(c);
    }
}

static void on_map(redisAsyncContext *ac, void *reply, void *privdata)
{
    anode *n = ac->data;
    ow_cluster_async *c = n->owner;
    const char *which = privdata;
    redisReply *r = reply;
    if (c->closing) {
        c->refreshing = false;
        return;
    }
    if (r && r->type == REDIS_REPLY_ERROR && strcmp(which, "SHARDS") == 0 &&
        strstr(r->str, "nknown subcommand")) {
        send_map_request(c, ac, "SLOTS"); /* Redis < 7 */
        return;
    }
    c->refreshing = false;
    int rc = !r || r->type == REDIS_REPLY_ERROR ? OW_EREDIS
             : strcmp(which, "SHARDS") == 0     ? ow_slotmap_from_shards(c->spare, r, NULL)
                                                : ow_slotmap_from_slots(c->spare, r, NULL);
    if (rc) {
        c->refresh_next++; /* ask another node next time */
        arm_timer(c);
        return;
    }
    ow_slotmap *old = c->map;
    c->map = c->spare;
    c->spare = old;
    c->stale = false;
    c->refreshes++;
    c->refresh_next = 0;
    flush_waiting(c);
}

/* Ask the next candidate for the map: the masters first (a replica learns a moved slot later,
 * by gossip, and its older map would undo what MOVED taught), then the other nodes, then the
 * seeds, rotating past ones that failed. */
static void refresh_start(ow_cluster_async *c)
{
    if (!c->enabled) c->stale = false; /* a single node: nothing to reload */
    if (!c->enabled || c->refreshing || c->closing) return;
    const ow_slotmap *m = c->map;
    int cand[OW_SLOTMAP_NODES_MAX + OW_CLUSTER_SEEDS_MAX], ncand = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < m->nnodes; i++)
            if (m->nodes[i].master == (pass == 0)) cand[ncand++] = i;
    for (int i = 0; i < c->nseeds; i++)
        if (!c->seeds[i].is_unix) cand[ncand++] = m->nnodes + i;
    for (int tries = 0; tries < ncand; tries++) {
        int k = cand[(c->refresh_next + tries) % ncand];
        anode *n = k < m->nnodes
                       ? node_find(c, m->nodes[k].host, m->nodes[k].port)
                       : node_find(c, c->seeds[k - m->nnodes].host, c->seeds[k - m->nnodes].port);
        redisAsyncContext *ac = n ? node_ac(n) : NULL;
        if (!ac) continue;
        c->refresh_next = (c->refresh_next + tries) % ncand;
        c->refreshing = true;
        send_map_request(c, ac, "SHARDS");
        return;
    }
    c->refresh_next++;
    arm_timer(c);
}

/* ---- commands ---- */

static bool starts(const redisReply *r, const char *word)
{
    size_t n = strlen(word);
    return r->type == REDIS_REPLY_ERROR && r->len > n && strncmp(r->str, word, n) == 0 &&
           r->str[n] == ' ';
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    acmd *m = privdata;
    anode *n = ac->data;
    ow_cluster_async *c = m->owner;
    redisReply *r = reply;
    if (!r) {
        if (c->closing)
            cmd_fail(m, OW_EAGAIN, "cluster: closed before slot %d (key %s) was answered", m->slot,
                     m->key);
        else if (!(ac->c.flags & REDIS_CONNECTED)) /* never reached the node: safe to resend */
            c->stale = true,
            wait_later(m, OW_EREDIS, "slot %d (key %s): master %s:%d unreachable: %s", m->slot,
                       m->key, n->host, n->port, ac->errstr[0] ? ac->errstr : "no connection");
        else {
            c->stale = true;
            cmd_fail(m, OW_EREDIS,
                     "slot %d (key %s): connection to %s:%d lost after the command was sent: it "
                     "may or may not have run (%s)",
                     m->slot, m->key, n->host, n->port, ac->errstr[0] ? ac->errstr : "no reply");
        }
        return;
    }
    if (starts(r, "MOVED") || starts(r, "ASK")) {
        bool moved = starts(r, "MOVED");
        const char *sp = strrchr(r->str, ' ');
        char host[OW_SLOTMAP_HOST_BUF];
        int port = 0;
        int rc = sp ? ow_slotmap_parse_addr(sp + 1, host, sizeof host, &port) : OW_EINVAL;
        if (!rc && !host[0]) snprintf(host, sizeof host, "%s", n->host);
        if (rc || ++m->redirects > MAX_REDIRECTS) {
            cmd_fail(m, OW_EREDIS, "slot %d (key %s): %s from %s:%d%s", m->slot, m->key, r->str,
                     n->host, n->port,
                     rc ? ": cannot read the address" : ": too many redirections");
            return;
        }
        if (moved) {
            int node = ow_slotmap_add_node(c->map, host, port, true);
            if (node >= 0) c->map->owner[m->slot] = (int16_t)node;
            c->stale = true;
            refresh_start(c);
            m->ask = NULL;
        } else {
            m->ask = node_find(c, host, port);
        }
        dispatch(m);
        return;
    }
    if (starts(r, "TRYAGAIN") || starts(r, "CLUSTERDOWN") || starts(r, "LOADING") ||
        starts(r, "MASTERDOWN")) {
        if (!starts(r, "TRYAGAIN")) c->stale = true;
        wait_later(m, OW_EAGAIN, "slot %d (key %s): %s (from %s:%d)", m->slot, m->key, r->str,
                   n->host, n->port);
        return;
    }
    c->pause_ms = PAUSE_MIN_MS;
    cmd_finish(m, r, NULL);
}

static const char asking[] = "*1\r\n$6\r\nASKING\r\n";

static void dispatch(acmd *m)
{
    ow_cluster_async *c = m->owner;
    if (c->closing) {
        cmd_fail(m, OW_EAGAIN, "cluster: closed");
        return;
    }
    anode *n = m->ask;
    if (!n) {
        int node = c->map->owner[m->slot];
        if (node < 0) {
            c->stale = true;
            wait_later(m, OW_ENOTFOUND,
                       "slot %d (key %s) has no master in the cluster map; the cluster lacks "
                       "coverage (check `redis-cli --cluster check`)",
                       m->slot, m->key);
            return;
        }
        n = node_find(c, c->map->nodes[node].host, c->map->nodes[node].port);
    }
    redisAsyncContext *ac = n ? node_ac(n) : NULL;
    if (!ac) {
        c->stale = true;
        wait_later(m, OW_EREDIS, "slot %d (key %s): cannot connect to %s:%d", m->slot, m->key,
                   n ? n->host : "?", n ? n->port : 0);
        return;
    }
    if (m->ask) {
        m->ask = NULL;
        redisAsyncFormattedCommand(ac, NULL, NULL, asking, sizeof asking - 1);
    }
    if (redisAsyncFormattedCommand(ac, on_reply, m, m->buf, m->len) != REDIS_OK)
        wait_later(m, OW_EREDIS, "slot %d (key %s): %s:%d is disconnecting", m->slot, m->key,
                   n->host, n->port);
}

/* Route and send a command already in RESP form (buf: hiredis-allocated, taken). */
static int send_formatted(ow_cluster_async *c, ow_cluster_async_cb *cb, void *privdata,
                          const char *key, size_t kl, char *buf, int len)
{
    if (len < 0) return OW_ENOMEM;
    acmd *m = calloc(1, sizeof *m);
    if (!m) {
        redisFreeCommand(buf);
        return OW_ENOMEM;
    }
    m->buf = buf;
    m->len = (size_t)len;
    m->owner = c;
    m->cb = cb;
    m->priv = privdata;
    m->slot = ow_crc16_keyslot(key, kl);
    snprintf(m->key, sizeof m->key, "%.*s", (int)(kl < sizeof m->key ? kl : sizeof m->key - 1),
             key);
    m->deadline = ow_clock_mono_ms() + c->opts.retry_for_ms;
    dispatch(m);
    return OW_OK;
}

int ow_cluster_async_command(ow_cluster_async *c, ow_cluster_async_cb *cb, void *privdata,
                             const char *key, const char *fmt, ...)
{
    if (c->closing) return OW_EINVAL;
    char *buf = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&buf, fmt, ap);
    va_end(ap);
    return send_formatted(c, cb, privdata, key, strlen(key), buf, len);
}

int ow_cluster_async_command_argv(ow_cluster_async *c, ow_cluster_async_cb *cb, void *privdata,
                                  const char *key, size_t keylen, int argc, const char **argv,
                                  const size_t *argvlen)
{
    if (c->closing) return OW_EINVAL;
    char *buf = NULL;
    int len = redisFormatCommandArgv(&buf, argc, argv, argvlen);
    return send_formatted(c, cb, privdata, key, keylen, buf, len);
}

/* ---- open and close ---- */

/* Take over the first map of the blocking client `sync` (freed here) for a client on loop. */
static int adopt(uv_loop_t *loop, ow_cluster *sync, const ow_redis_target *seeds, int nseeds,
                 const ow_cluster_opts *opts, ow_cluster_async **out, ow_err *err)
{
    ow_cluster_async *c = calloc(1, sizeof *c);
    if (c) {
        c->map = malloc(sizeof *c->map);
        c->spare = malloc(sizeof *c->spare);
    }
    if (!c || !c->map || !c->spare) {
        if (c) free(c->map), free(c->spare);
        free(c);
        ow_cluster_free(sync);
        return ow_err_set(err, OW_ENOMEM, "cluster: out of memory");
    }
    c->loop = loop;
    c->opts = *opts;
    c->seed = *ow_cluster_seed(sync);
    c->nseeds = nseeds < 0 ? 0 : nseeds > OW_CLUSTER_SEEDS_MAX ? OW_CLUSTER_SEEDS_MAX : nseeds;
    for (int i = 0; i < c->nseeds; i++)
        c->seeds[i] = seeds[i];
    c->enabled = ow_cluster_enabled(sync);
    memcpy(c->map, ow_cluster_map(sync), sizeof *c->map);
    ow_slotmap_init(c->spare);
    ow_cluster_free(sync);
    c->pause_ms = PAUSE_MIN_MS;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    *out = c;
    return OW_OK;
}

int ow_cluster_async_open(uv_loop_t *loop, const char *urls, const ow_cluster_opts *opts,
                          ow_cluster_async **out, ow_err *err)
{
    *out = NULL;
    ow_cluster *sync;
    int rc = ow_cluster_open_url(urls, opts, &sync, err);
    if (rc) return rc;
    ow_redis_target seeds[OW_CLUSTER_SEEDS_MAX];
    int n = ow_cluster_parse_urls(urls, seeds, NULL);
    return adopt(loop, sync, seeds, n, opts, out, err);
}

int ow_cluster_async_open_env(uv_loop_t *loop, const ow_redis_env *env, const ow_config *cfg,
                              ow_cluster_async **out, ow_err *err)
{
    *out = NULL;
    ow_cluster *sync;
    int rc = ow_cluster_open_env(env, cfg, &sync, err);
    if (rc) return rc;
    ow_cluster_opts opts = {.timeout_ms = cfg->redis.timeout_ms,
                            .retry_for_ms = cfg->cluster.retry_for_ms};
    ow_redis_target seeds[OW_CLUSTER_SEEDS_MAX];
    seeds[0] = env->target;
    int n = 1;
    if (env->server_pid == 0 && strchr(cfg->redis.url, ',')) {
        ow_redis_target more[OW_CLUSTER_SEEDS_MAX];
        int m = ow_cluster_parse_urls(cfg->redis.url, more, NULL);
        for (int i = 0; i < m && n < OW_CLUSTER_SEEDS_MAX; i++)
            seeds[n++] = more[i];
    }
    return adopt(loop, sync, seeds, n, &opts, out, err);
}

static void on_timer_closed(uv_handle_t *h)
{
    ow_cluster_async *c = h->data;
    c->open--;
    maybe_free(c);
}

void ow_cluster_async_close(ow_cluster_async *c)
{
    if (!c || c->closing) return;
    c->closing = true;
    acmd *m = c->wait_head;
    c->wait_head = c->wait_tail = NULL;
    while (m) {
        acmd *next = m->next;
        cmd_fail(m, OW_EAGAIN, "cluster: closed while waiting: %s", m->why.msg);
        m = next;
    }
    c->open = 1; /* the timer */
    for (int i = 0; i < c->nnodes; i++) {
        redisAsyncContext *ac = c->nodes[i]->ac;
        if (!ac) continue;
        if (ac->c.flags & REDIS_CONNECTED) {
            c->open++; /* on_disconnect counts it down once its sent commands are answered */
            redisAsyncDisconnect(ac);
        } else {
            c->nodes[i]->ac = NULL; /* still connecting: its queued commands fail now */
            redisAsyncFree(ac);
        }
    }
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

bool ow_cluster_async_enabled(const ow_cluster_async *c)
{
    return c->enabled;
}

const ow_slotmap *ow_cluster_async_map(const ow_cluster_async *c)
{
    return c->map;
}

int64_t ow_cluster_async_refreshes(const ow_cluster_async *c)
{
    return c->refreshes;
}
