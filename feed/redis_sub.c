#include "redis_sub.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "redis.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS   10000

static void conn_connect(ow_redis_conn *c);
static void on_timer(uv_timer_t *t);

/* ---- connection state ------------------------------------------------------------------------ */

/* Log a failure: the first of a run as a warning, later ones quietly (the run is already known). */
static void conn_failed(ow_redis_conn *c, const char *what, const char *detail)
{
    ow_redis_sub *s = c->owner;
    if (!c->failing)
        ow_warn("redis %s: %s %s: %s; retrying with backoff up to %d s", c->name, what,
                c == &s->sub ? s->sub_desc : s->desc, detail && detail[0] ? detail : "no detail",
                BACKOFF_MAX_MS / 1000);
    else
        ow_debug("redis %s: %s %s: %s", c->name, what, c == &s->sub ? s->sub_desc : s->desc,
                 detail ? detail : "");
    c->failing = true;
}

static void conn_retry_later(ow_redis_conn *c)
{
    if (c->owner->closing) return;
    if (c == &c->owner->sub && c->owner->cluster) c->owner->sub_turn++; /* try another node */
    int64_t delay = c->backoff_ms;
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
    uv_timer_start(&c->timer, on_timer, (uint64_t)delay, 0);
}

static void maybe_get_snapshot(ow_redis_sub *s);

static void conn_ready(ow_redis_conn *c)
{
    ow_redis_sub *s = c->owner;
    uv_timer_stop(&c->timer);
    c->ready = true;
    c->backoff_ms = BACKOFF_FIRST_MS;
    if (c->connects == 0 || c->failing)
        ow_info("redis %s: %s %s", c->name, c->connects ? "reconnected to" : "connected to",
                c == &s->sub ? s->sub_desc : s->desc);
    c->failing = false;
    c->connects++;
    maybe_get_snapshot(s);
}

/* Give up on a connection from inside a hiredis callback: hiredis finishes it, then calls
 * on_disconnect, which schedules the retry. */
static void conn_abandon_in_callback(ow_redis_conn *c, const char *what, const char *detail)
{
    conn_failed(c, what, detail);
    if (c->ac) redisAsyncDisconnect(c->ac);
}

/* ---- hiredis callbacks: each only dispatches ------------------------------------------------ */

static void on_connect(const redisAsyncContext *ac, int status)
{
    ow_redis_conn *c = ac->data;
    if (status == REDIS_OK || c->ac != ac) return;
    c->ac = NULL; /* hiredis frees it after this call */
    c->ready = false;
    conn_failed(c, "cannot connect to", ac->errstr);
    conn_retry_later(c);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    ow_redis_conn *c = ac->data;
    if (c->ac != ac) return; /* already let go (timeout, close) */
    c->ac = NULL;
    c->ready = false;
    if (c->owner->closing) return;
    if (status != REDIS_OK) conn_failed(c, "lost the connection to", ac->errstr);
    conn_retry_later(c);
}

static bool reply_is_error(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR;
}

static void setup_reply(redisAsyncContext *ac, redisReply *r, const char *what)
{
    ow_redis_conn *c = ac->data;
    if (!r || c->ac != ac) return;
    if (reply_is_error(r)) conn_abandon_in_callback(c, what, r->str);
}

static void on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    setup_reply(ac, reply, "login (AUTH) refused by");
}

static void on_select(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    setup_reply(ac, reply, "SELECT refused by");
}

static void on_ping(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    ow_redis_conn *c = ac->data;
    redisReply *r = reply;
    if (!r || c->ac != ac) return;
    if (reply_is_error(r))
        conn_abandon_in_callback(c, "PING refused by", r->str);
    else if (!c->ready)
        conn_ready(c);
}

static void on_channel(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    ow_redis_conn *c = ac->data;
    ow_redis_sub *s = c->owner;
    redisReply *r = reply;
    if (!r || c->ac != ac) return;
    if (reply_is_error(r)) {
        conn_abandon_in_callback(c, "SUBSCRIBE refused by", r->str);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str;
    if (strcmp(kind, "subscribe") == 0) {
        if (++s->subscribed >= s->nchannels && !c->ready) conn_ready(c);
    } else if (strcmp(kind, "message") == 0 && r->element[2]->type == REDIS_REPLY_STRING &&
               r->element[1]->type == REDIS_REPLY_STRING) {
        int ch = 0;
        while (ch < s->nchannels && strcmp(s->channels[ch], r->element[1]->str) != 0)
            ch++;
        if (ch == s->nchannels) return;
        s->messages++;
        s->last_message_ms = ow_clock_mono_ms();
        s->on_message(s->ud, ch, r->element[2]->str, r->element[2]->len);
    }
}

static void on_get(redisAsyncContext *ac, void *reply, void *privdata)
{
    ow_redis_sub *s = privdata;
    redisReply *r = reply;
    s->get_pending = false;
    if (!r || (!s->cluster && s->cmd.ac != ac)) return;
    if (r->type == REDIS_REPLY_NIL) {
        ow_info("redis: no snapshot in %s yet; waiting for the engine to publish one",
                s->snapshot_key);
    } else if (r->type != REDIS_REPLY_STRING) {
        ow_warn("redis: GET %s: unexpected reply type %d", s->snapshot_key, r->type);
    } else if (s->messages != s->messages_at_get) {
        ow_debug("redis: GET %s overtaken by a published message; dropped", s->snapshot_key);
    } else {
        s->last_message_ms = ow_clock_mono_ms();
        s->on_message(s->ud, 0, r->str, r->len);
    }
}

static void on_cluster_get(const redisReply *r, const ow_err *err, void *privdata)
{
    ow_redis_sub *s = privdata;
    s->get_pending = false;
    if (s->closing) return;
    if (!r) {
        ow_warn("redis: GET %s: %s", s->snapshot_key, err ? err->msg : "no reply");
        return;
    }
    on_get(NULL, (void *)r, s);
}

/* GET the snapshot once both connections are up: messages from now on arrive on the channel. */
static void maybe_get_snapshot(ow_redis_sub *s)
{
    if (s->closing || !s->snapshot_key || !s->sub.ready || s->get_pending) return;
    if (s->cluster) {
        s->get_pending = true;
        s->messages_at_get = s->messages;
        if (ow_cluster_async_command(s->cluster, on_cluster_get, s, s->snapshot_key, "GET %s",
                                     s->snapshot_key) != OW_OK)
            s->get_pending = false;
        return;
    }
    if (!s->cmd.ready) return;
    if (redisAsyncCommand(s->cmd.ac, on_get, s, "GET %s", s->snapshot_key) == REDIS_OK) {
        s->get_pending = true;
        s->messages_at_get = s->messages;
    }
}

/* ---- connecting ------------------------------------------------------------------------------ */

static void on_timer(uv_timer_t *t)
{
    ow_redis_conn *c = t->data;
    if (c->owner->closing) return;
    if (!c->ac) {
        conn_connect(c); /* backoff elapsed */
        return;
    }
    /* still connecting: give up on this attempt */
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    c->ready = false;
    conn_failed(c, "no answer in time from", "connect/setup timed out");
    redisAsyncFree(ac);
    conn_retry_later(c);
}

static void conn_connect(ow_redis_conn *c)
{
    ow_redis_sub *s = c->owner;
    const ow_redis_target *t = &s->target;
    ow_redis_target node;
    const ow_slotmap *map = s->cluster && ow_cluster_async_enabled(s->cluster)
                                ? ow_cluster_async_map(s->cluster)
                                : NULL;
    if (c == &s->sub && map && map->nnodes > 0 && s->sub_turn > 0) {
        /* any node hears a cluster PUBLISH: the next one in the map, with the same login */
        const ow_slotmap_node *n = &map->nodes[(s->sub_turn - 1) % map->nnodes];
        node = *t;
        node.is_unix = false;
        snprintf(node.host, sizeof node.host, "%s", n->host);
        node.port = n->port;
        node.db = 0;
        t = &node;
        snprintf(s->sub_desc, sizeof s->sub_desc, "%s:%d (cluster node)", n->host, n->port);
    } else if (c == &s->sub) {
        snprintf(s->sub_desc, sizeof s->sub_desc, "%s", s->desc);
    }
    redisAsyncContext *ac =
        t->is_unix ? redisAsyncConnectUnix(t->path) : redisAsyncConnect(t->host, t->port);
    if (!ac || ac->err) {
        conn_failed(c, "cannot connect to", ac ? ac->errstr : "out of memory");
        if (ac) redisAsyncFree(ac);
        conn_retry_later(c);
        return;
    }
    ac->data = c;
    ow_redis_reader_cap(ac->c.reader);
    if (ow_cluster_async_attach(ac, s->loop) != REDIS_OK) {
        conn_failed(c, "cannot watch the connection to", "attaching it to the loop failed");
        redisAsyncFree(ac);
        conn_retry_later(c);
        return;
    }
    if (!t->is_unix) redisEnableKeepAlive(&ac->c);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    c->ac = ac;
    c->ready = false;
    /* Commands queue until the socket connects, and run in order. */
    if (t->password[0]) {
        if (t->user[0])
            redisAsyncCommand(ac, on_auth, NULL, "AUTH %s %s", t->user, t->password);
        else
            redisAsyncCommand(ac, on_auth, NULL, "AUTH %s", t->password);
    }
    if (t->db) redisAsyncCommand(ac, on_select, NULL, "SELECT %d", t->db);
    if (c == &s->sub) {
        s->subscribed = 0;
        for (int i = 0; i < s->nchannels; i++)
            redisAsyncCommand(ac, on_channel, NULL, "SUBSCRIBE %s", s->channels[i]);
    } else
        redisAsyncCommand(ac, on_ping, NULL, "PING");
    uv_timer_start(&c->timer, on_timer, (uint64_t)s->timeout_ms, 0);
}

/* ---- public ---------------------------------------------------------------------------------- */

static int conn_init(ow_redis_sub *s, ow_redis_conn *c, const char *name)
{
    memset(c, 0, sizeof *c);
    c->owner = s;
    c->name = name;
    c->backoff_ms = BACKOFF_FIRST_MS;
    int rc = uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    return rc;
}

int ow_redis_sub_init(ow_redis_sub *s, uv_loop_t *loop, const ow_redis_target *target,
                      const char *desc, int64_t timeout_ms, const char *const *channels,
                      int nchannels, const char *snapshot_key, ow_redis_sub_message_fn *on_message,
                      void *ud)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->target = *target;
    snprintf(s->desc, sizeof s->desc, "%s", desc);
    s->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    s->nchannels = nchannels < OW_REDIS_SUB_CHANNELS_MAX ? nchannels : OW_REDIS_SUB_CHANNELS_MAX;
    for (int i = 0; i < s->nchannels; i++)
        s->channels[i] = channels[i];
    s->snapshot_key = snapshot_key;
    s->on_message = on_message;
    s->ud = ud;
    int rc = conn_init(s, &s->sub, "sub");
    if (rc) return rc;
    rc = conn_init(s, &s->cmd, "cmd");
    if (rc) uv_close((uv_handle_t *)&s->sub.timer, NULL);
    return rc;
}

void ow_redis_sub_use_cluster(ow_redis_sub *s, ow_cluster_async *c)
{
    s->cluster = c;
}

void ow_redis_sub_start(ow_redis_sub *s)
{
    conn_connect(&s->sub);
    if (!s->cluster) conn_connect(&s->cmd);
}

void ow_redis_sub_refresh(ow_redis_sub *s)
{
    maybe_get_snapshot(s);
}

/* A command sent through the cluster client: the caller's hiredis-style callback and its data. */
typedef struct routed {
    redisCallbackFn *fn;
    void *privdata;
} routed;

static void on_routed(const redisReply *r, const ow_err *err, void *privdata)
{
    routed *rt = privdata;
    if (!r && err) ow_debug("redis: a command failed: %s", err->msg);
    rt->fn(NULL, (void *)r, rt->privdata); /* the callbacks only read the reply */
    free(rt);
}

void ow_redis_sub_command(ow_redis_sub *s, redisCallbackFn *fn, void *privdata, int argc,
                          const char **argv, const size_t *argvlen)
{
    if (s->cluster) { /* routed by the key: every command the feed sends names it second */
        routed *rt = argc >= 2 && !s->closing ? malloc(sizeof *rt) : NULL;
        if (rt) *rt = (routed){fn, privdata};
        if (!rt || ow_cluster_async_command_argv(s->cluster, on_routed, rt, argv[1], argvlen[1],
                                                 argc, argv, argvlen) != OW_OK) {
            free(rt);
            fn(NULL, NULL, privdata);
        }
        return;
    }
    if (s->closing || !s->cmd.ready || !s->cmd.ac ||
        redisAsyncCommandArgv(s->cmd.ac, fn, privdata, argc, argv, argvlen) != REDIS_OK)
        fn(s->cmd.ac, NULL, privdata);
}

static void conn_close(ow_redis_conn *c)
{
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    c->ready = false;
    if (ac) redisAsyncFree(ac); /* runs pending callbacks with NULL replies; they ignore them */
    uv_close((uv_handle_t *)&c->timer, NULL);
}

void ow_redis_sub_close(ow_redis_sub *s)
{
    if (s->closing) return;
    s->closing = true;
    conn_close(&s->sub);
    conn_close(&s->cmd);
}

bool ow_redis_sub_connected(const ow_redis_sub *s)
{
    return s->sub.ready && (s->cluster || s->cmd.ready);
}
