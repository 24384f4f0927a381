#include "redis_async.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "redis.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS   10000

struct ow_redis_async {
    uv_loop_t *loop;
    ow_redis_target target;
    char desc[300];
    int64_t timeout_ms;
    ow_redis_async_state_fn *on_state;
    void *ud;
    redisAsyncContext *ac;
    bool ready, failing, closing, was_up;
    uv_timer_t timer; /* connect timeout while connecting, backoff while waiting */
    int64_t backoff_ms;
    uint64_t gen, connects;
};

static void on_timer(uv_timer_t *t);

/* ---- hiredis on libuv ------------------------------------------------------------------------
 * hiredis 0.14's adapters/libuv.h ignores a poll error: after the server is killed with requests
 * unread (the socket is reset), libuv reports UV_EBADF, the adapter returns, and the connection
 * hangs without a disconnect. This adapter reads on an error too, so hiredis sees the reset and
 * disconnects at once. */

typedef struct watch {
    redisAsyncContext *ac; /* NULL once hiredis let go of it */
    uv_poll_t poll;
    int events;
} watch;

static void on_io(uv_poll_t *h, int status, int events)
{
    watch *w = h->data;
    if (status < 0 || (events & (UV_READABLE | UV_DISCONNECT)))
        if (w->ac) redisAsyncHandleRead(w->ac);
    if (status >= 0 && (events & UV_WRITABLE) && w->ac) redisAsyncHandleWrite(w->ac);
}

static void watch_set(watch *w, int add, int del)
{
    int ev = (w->events | add) & ~del;
    if (ev == w->events) return;
    w->events = ev;
    if (ev)
        uv_poll_start(&w->poll, ev, on_io);
    else
        uv_poll_stop(&w->poll);
}

static void watch_add_read(void *p)
{
    watch_set(p, UV_READABLE, 0);
}
static void watch_del_read(void *p)
{
    watch_set(p, 0, UV_READABLE);
}
static void watch_add_write(void *p)
{
    watch_set(p, UV_WRITABLE, 0);
}
static void watch_del_write(void *p)
{
    watch_set(p, 0, UV_WRITABLE);
}

static void watch_closed(uv_handle_t *h)
{
    free(h->data);
}

static void watch_cleanup(void *p)
{
    watch *w = p;
    w->ac = NULL;
    uv_close((uv_handle_t *)&w->poll, watch_closed);
}

static int watch_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    if (ac->ev.data) return REDIS_ERR;
    watch *w = calloc(1, sizeof *w);
    if (!w) return REDIS_ERR;
    if (uv_poll_init(loop, &w->poll, ac->c.fd)) {
        free(w);
        return REDIS_ERR;
    }
    w->ac = ac;
    w->poll.data = w;
    ac->ev.addRead = watch_add_read;
    ac->ev.delRead = watch_del_read;
    ac->ev.addWrite = watch_add_write;
    ac->ev.delWrite = watch_del_write;
    ac->ev.cleanup = watch_cleanup;
    ac->ev.data = w;
    return REDIS_OK;
}

static void failed(ow_redis_async *ra, const char *what, const char *detail)
{
    if (!ra->failing)
        ow_warn("redis: %s %s: %s; retrying with backoff up to %d s", what, ra->desc,
                detail && detail[0] ? detail : "no detail", BACKOFF_MAX_MS / 1000);
    ra->failing = true;
}

static void went_down(ow_redis_async *ra)
{
    ra->ready = false;
    if (ra->was_up && !ra->closing) {
        ra->was_up = false;
        ra->on_state(ra->ud, false);
    }
}

static void retry_later(ow_redis_async *ra)
{
    if (ra->closing) return;
    int64_t delay = ra->backoff_ms;
    ra->backoff_ms = ra->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ra->backoff_ms * 2;
    uv_timer_start(&ra->timer, on_timer, (uint64_t)delay, 0);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    ow_redis_async *ra = ac->data;
    if (status == REDIS_OK || ra->ac != ac) return;
    ra->ac = NULL; /* hiredis frees it after this call */
    failed(ra, "cannot connect to", ac->errstr);
    went_down(ra);
    retry_later(ra);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    ow_redis_async *ra = ac->data;
    if (ra->ac != ac) return; /* already let go */
    ra->ac = NULL;
    if (ra->closing) return;
    if (status != REDIS_OK) failed(ra, "lost the connection to", ac->errstr);
    went_down(ra);
    retry_later(ra);
}

static void on_setup(redisAsyncContext *ac, void *reply, void *privdata)
{
    ow_redis_async *ra = ac->data;
    redisReply *r = reply;
    if (!r || ra->ac != ac) return;
    if (r->type == REDIS_REPLY_ERROR) {
        failed(ra, privdata, r->str);
        ra->ac = NULL;
        redisAsyncDisconnect(ac); /* on_disconnect will see ra->ac != ac */
        went_down(ra);
        retry_later(ra);
        return;
    }
    if (strcmp(privdata, "PING refused by") != 0 || ra->ready) return;
    uv_timer_stop(&ra->timer);
    ra->ready = true;
    ra->was_up = true;
    ra->backoff_ms = BACKOFF_FIRST_MS;
    if (ra->connects == 0 || ra->failing)
        ow_info("redis: %s %s", ra->connects ? "reconnected to" : "connected to", ra->desc);
    ra->failing = false;
    ra->connects++;
    ra->on_state(ra->ud, true);
}

static void connect_now(ow_redis_async *ra)
{
    const ow_redis_target *t = &ra->target;
    ra->gen++;
    redisAsyncContext *ac =
        t->is_unix ? redisAsyncConnectUnix(t->path) : redisAsyncConnect(t->host, t->port);
    if (!ac || ac->err) {
        failed(ra, "cannot connect to", ac ? ac->errstr : "out of memory");
        if (ac) redisAsyncFree(ac);
        retry_later(ra);
        return;
    }
    ac->data = ra;
    ow_redis_reader_cap(ac->c.reader);
    if (watch_attach(ac, ra->loop) != REDIS_OK) {
        failed(ra, "cannot watch the connection to", "out of memory");
        redisAsyncFree(ac);
        retry_later(ra);
        return;
    }
    if (!t->is_unix) redisEnableKeepAlive(&ac->c);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    ra->ac = ac;
    ra->ready = false;
    /* commands queue until the socket connects, and run in order */
    static char auth_what[] = "login (AUTH) refused by", select_what[] = "SELECT refused by",
                ping_what[] = "PING refused by";
    if (t->password[0]) {
        if (t->user[0])
            redisAsyncCommand(ac, on_setup, auth_what, "AUTH %s %s", t->user, t->password);
        else
            redisAsyncCommand(ac, on_setup, auth_what, "AUTH %s", t->password);
    }
    if (t->db) redisAsyncCommand(ac, on_setup, select_what, "SELECT %d", t->db);
    redisAsyncCommand(ac, on_setup, ping_what, "PING");
    uv_timer_start(&ra->timer, on_timer, (uint64_t)ra->timeout_ms, 0);
}

static void on_timer(uv_timer_t *t)
{
    ow_redis_async *ra = t->data;
    if (ra->closing) return;
    if (!ra->ac) {
        connect_now(ra); /* backoff elapsed */
        return;
    }
    /* still connecting: give up on this attempt */
    redisAsyncContext *ac = ra->ac;
    ra->ac = NULL;
    failed(ra, "no answer in time from", "connect/setup timed out");
    redisAsyncFree(ac);
    went_down(ra);
    retry_later(ra);
}

ow_redis_async *ow_redis_async_new(uv_loop_t *loop, const ow_redis_target *target, const char *desc,
                                   int64_t timeout_ms, ow_redis_async_state_fn *on_state, void *ud)
{
    ow_redis_async *ra = calloc(1, sizeof *ra);
    if (!ra) return NULL;
    ra->loop = loop;
    ra->target = *target;
    snprintf(ra->desc, sizeof ra->desc, "%s", desc);
    ra->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    ra->on_state = on_state;
    ra->ud = ud;
    ra->backoff_ms = BACKOFF_FIRST_MS;
    if (uv_timer_init(loop, &ra->timer)) {
        free(ra);
        return NULL;
    }
    ra->timer.data = ra;
    return ra;
}

void ow_redis_async_start(ow_redis_async *ra)
{
    connect_now(ra);
}

redisAsyncContext *ow_redis_async_ctx(const ow_redis_async *ra)
{
    return ra->ready ? ra->ac : NULL;
}

uint64_t ow_redis_async_gen(const ow_redis_async *ra)
{
    return ra->gen;
}

uint64_t ow_redis_async_connects(const ow_redis_async *ra)
{
    return ra->connects;
}

void ow_redis_async_reset(ow_redis_async *ra, const char *why)
{
    if (ra->closing || !ra->ac) return;
    redisAsyncContext *ac = ra->ac;
    ra->ac = NULL;
    failed(ra, why, "reconnecting");
    ra->gen++; /* replies still owed by the old connection are ignored by their callbacks */
    /* free, not disconnect: a disconnect waits for the owed replies, which a hung server never
     * sends (inside a callback hiredis defers the free until the callback returns) */
    redisAsyncFree(ac);
    went_down(ra);
    uv_timer_stop(&ra->timer);
    retry_later(ra);
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void ow_redis_async_close(ow_redis_async *ra)
{
    if (!ra || ra->closing) return;
    ra->closing = true;
    redisAsyncContext *ac = ra->ac;
    ra->ac = NULL;
    ra->ready = false;
    if (ac) redisAsyncFree(ac);
    uv_close((uv_handle_t *)&ra->timer, on_closed);
}
