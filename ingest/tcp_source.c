#include "tcp_source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "clock.h"
#include "event.h"
#include "lineframe.h"
#include "log.h"

#define READ_BUF       (64 * 1024)
#define MAX_UNANSWERED 100000            /* records owed to one producer before it is not read */
#define MAX_OUT_QUEUED (4 * 1024 * 1024) /* answer bytes a producer has not read yet */
#define SWEEP_MS       1000

typedef struct conn {
    uv_tcp_t h;
    struct ow_tcp_source *srv;
    struct conn *prev, *next;
    ow_lineframe frame;
    ow_answers owed;
    ow_jsonw out;  /* answers not yet handed to uv_write */
    size_t queued; /* answer bytes handed to uv_write and not yet written */
    int refs;      /* 1 while the handle is open + 1 per record owed */
    bool closed, reading, eof, dirty;
    int64_t last_active_ms;
    char source[80]; /* "tcp 127.0.0.1:41000", for rejects */
    char rbuf[READ_BUF];
} conn;

typedef struct write_req {
    uv_write_t req;
    conn *c;
    char *text;
    size_t len;
} write_req;

struct ow_tcp_source {
    uv_loop_t *loop;
    ow_appender *app;
    const ow_config *cfg;
    uv_tcp_t listener;
    uv_check_t flush; /* after each poll: write the answers that completed in it */
    uv_timer_t sweep; /* idle connections */
    conn *conns;
    int nconns, open_handles;
    bool stopped, closing, listener_open;
};

static void conn_close(conn *c);
static void conn_update_reading(conn *c);

static void conn_unref(conn *c)
{
    if (--c->refs > 0) return;
    ow_lineframe_fini(&c->frame);
    ow_answers_fini(&c->owed);
    ow_jsonw_fini(&c->out);
    free(c);
}

/* ---- answers --------------------------------------------------------------------------------- */

static void on_item_done(void *ud, int64_t tag, ow_result o, const char *stream_id)
{
    (void)tag;
    conn *c = ud;
    if (!c->closed) {
        ow_answers_pop(&c->owed, &c->out, "line", o, stream_id);
        ow_jsonw_raw(&c->out, "\n");
        c->out.need_comma = false;
        c->dirty = true;
    } else {
        ow_jsonw w;
        ow_jsonw_init(&w);
        ow_answers_pop(&c->owed, &w, "line", o, stream_id); /* nobody to tell */
        ow_jsonw_fini(&w);
    }
    conn_unref(c);
}

static void on_written(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    conn *c = w->c;
    c->queued -= w->len;
    free(w->text);
    free(w);
    if (status < 0 && !c->closed) conn_close(c);
    if (!c->closed) conn_update_reading(c);
    conn_unref(c);
}

static void conn_flush(conn *c)
{
    c->dirty = false;
    if (c->closed || c->out.out.n == 0) return;
    size_t len = c->out.out.n;
    char *text = ow_jsonw_take(&c->out);
    write_req *w = text ? malloc(sizeof *w) : NULL;
    if (!w) {
        free(text);
        ow_error("tcp %s: out of memory writing answers; closing", c->source);
        conn_close(c);
        return;
    }
    w->c = c;
    w->text = text;
    w->len = len;
    uv_buf_t b = uv_buf_init(text, (unsigned)len);
    c->refs++;
    c->queued += len;
    if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, on_written)) {
        c->queued -= len;
        free(text);
        free(w);
        conn_unref(c);
        conn_close(c);
    }
}

static void on_flush(uv_check_t *h)
{
    ow_tcp_source *t = h->data;
    for (conn *c = t->conns; c; c = c->next)
        if (c->dirty) conn_flush(c);
    /* a producer that said it is done (EOF) and got every answer: close */
    for (conn *c = t->conns, *n; c; c = n) {
        n = c->next;
        if (c->eof && c->owed.len == 0 && c->queued == 0 && !c->closed) conn_close(c);
    }
}

/* ---- reading --------------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn *c = h->data;
    *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void submit_line(conn *c, const ow_line *l)
{
    if (l->len == 0 && l->total == 0) return; /* blank lines get no answer */
    ow_submit_info info;
    int rc = ow_appender_submit(c->srv->app, l->text, l->len, l->total, c->source, "line",
                                l->lineno, on_item_done, c, l->lineno, &info);
    if (rc == OW_OK) rc = ow_answers_push(&c->owed, l->lineno, &info);
    if (rc) {
        ow_error("tcp %s: out of memory; closing", c->source);
        conn_close(c);
        return;
    }
    c->refs++;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    conn *c = s->data;
    if (c->closed) return;
    if (n < 0) {
        ow_line l;
        if (n == UV_EOF) {
            /* the producer finished sending: its last line may lack a '\n'; answers still go out */
            if (ow_lineframe_finish(&c->frame, &l)) submit_line(c, &l);
            c->eof = true;
            conn_update_reading(c);
        } else {
            ow_info("tcp %s: %s; closing", c->source, uv_strerror((int)n));
            conn_close(c);
        }
        return;
    }
    c->last_active_ms = ow_clock_mono_ms();
    ow_lineframe_feed(&c->frame, c->rbuf, (size_t)n);
    ow_line l;
    while (!c->closed && ow_lineframe_next(&c->frame, &l))
        submit_line(c, &l);
    if (!c->closed) conn_update_reading(c);
}

/* Read only while the appender, this producer's owed answers and its unread answers allow. */
static void conn_update_reading(conn *c)
{
    ow_tcp_source *t = c->srv;
    bool want = !t->stopped && !c->eof && !ow_appender_full(t->app) &&
                c->owed.len < MAX_UNANSWERED && c->queued < MAX_OUT_QUEUED;
    if (want && !c->reading) uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read);
    if (!want && c->reading) uv_read_stop((uv_stream_t *)&c->h);
    c->reading = want;
}

/* ---- connections ----------------------------------------------------------------------------- */

static void on_conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    ow_tcp_source *t = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        t->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    t->nconns--;
    conn_unref(c);
}

static void conn_close(conn *c)
{
    if (c->closed) return;
    c->closed = true;
    uv_close((uv_handle_t *)&c->h, on_conn_closed);
}

static void peer_name(uv_tcp_t *h, char *out, size_t n)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    char host[64] = "?";
    int port = 0;
    if (uv_tcp_getpeername(h, (struct sockaddr *)&sa, &len) == 0) {
        if (sa.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&sa, host, sizeof host);
            port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
        } else if (sa.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&sa, host, sizeof host);
            port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
        }
    }
    snprintf(out, n, "tcp %s:%d", host, port);
}

static void on_connection(uv_stream_t *server, int status)
{
    ow_tcp_source *t = server->data;
    if (status < 0 || t->stopped) return;
    conn *c = calloc(1, sizeof *c);
    if (!c || ow_lineframe_init(&c->frame, OW_EVENT_MAX_BYTES)) {
        free(c);
        ow_error("tcp: out of memory accepting a connection");
        return;
    }
    uv_tcp_init(t->loop, &c->h);
    c->h.data = c;
    c->srv = t;
    c->refs = 1;
    ow_answers_init(&c->owed);
    ow_jsonw_init(&c->out);
    c->next = t->conns;
    if (t->conns) t->conns->prev = c;
    t->conns = c;
    t->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->h)) {
        conn_close(c);
        return;
    }
    peer_name(&c->h, c->source, sizeof c->source);
    if (t->nconns > t->cfg->ingest.tcp.max_clients) {
        ow_warn("%s: refused: %d connections already (ingest.tcp.max_clients)", c->source,
                t->nconns - 1);
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->h, 1);
    c->last_active_ms = ow_clock_mono_ms();
    conn_update_reading(c);
}

static void on_sweep(uv_timer_t *h)
{
    ow_tcp_source *t = h->data;
    int64_t now = ow_clock_mono_ms();
    for (conn *c = t->conns; c; c = c->next)
        if (!c->closed && c->owed.len == 0 && c->queued == 0 &&
            now - c->last_active_ms > t->cfg->ingest.tcp.idle_ms) {
            ow_info("%s: idle for %" PRId64 " ms (ingest.tcp.idle_timeout); closing", c->source,
                    now - c->last_active_ms);
            conn_close(c);
        }
}

/* ---- public ---------------------------------------------------------------------------------- */

static void free_after_close(uv_handle_t *h)
{
    free(h->data);
}

ow_tcp_source *ow_tcp_source_new(uv_loop_t *loop, ow_appender *app, const ow_config *cfg,
                                 ow_err *err)
{
    ow_tcp_source *t = calloc(1, sizeof *t);
    if (!t) {
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    t->loop = loop;
    t->app = app;
    t->cfg = cfg;
    struct sockaddr_storage sa;
    const char *host = cfg->ingest.tcp.listen;
    int port = (int)cfg->ingest.tcp.port;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&sa) &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa)) {
        free(t);
        return ow_err_set(err, OW_EINVAL,
                          "ingest.tcp.listen: expected an IP address like 127.0.0.1 or ::, got "
                          "\"%s\"",
                          host),
               NULL;
    }
    uv_tcp_init(loop, &t->listener);
    t->listener.data = t;
    int rc = uv_tcp_bind(&t->listener, (struct sockaddr *)&sa, 0);
    if (!rc) rc = uv_listen((uv_stream_t *)&t->listener, 128, on_connection);
    if (rc) {
        ow_err_set(err, OW_EIO,
                   "ingest.tcp: cannot listen on %s:%d: %s; pick another port with "
                   "--tcp PORT or ingest.tcp.port",
                   host, port, uv_strerror(rc));
        uv_close((uv_handle_t *)&t->listener, free_after_close);
        return NULL;
    }
    uv_check_init(loop, &t->flush);
    uv_timer_init(loop, &t->sweep);
    t->flush.data = t->sweep.data = t;
    uv_check_start(&t->flush, on_flush);
    uv_unref((uv_handle_t *)&t->flush);
    uv_timer_start(&t->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
    uv_unref((uv_handle_t *)&t->sweep);
    t->listener_open = true;
    t->open_handles = 3;
    ow_info("tcp: listening on %s:%d (NDJSON, one answer line per event)", host, port);
    return t;
}

void ow_tcp_source_resume(ow_tcp_source *t)
{
    for (conn *c = t->conns; c; c = c->next)
        if (!c->closed) conn_update_reading(c);
}

static void on_source_closed(uv_handle_t *h)
{
    ow_tcp_source *t = h->data;
    if (--t->open_handles == 0) free(t);
}

void ow_tcp_source_stop(ow_tcp_source *t)
{
    if (t->stopped) return;
    t->stopped = true;
    if (t->listener_open) {
        t->listener_open = false;
        uv_close((uv_handle_t *)&t->listener, on_source_closed);
    }
    for (conn *c = t->conns; c; c = c->next)
        if (!c->closed) conn_update_reading(c);
}

void ow_tcp_source_close(ow_tcp_source *t)
{
    if (!t || t->closing) return;
    ow_tcp_source_stop(t);
    t->closing = true;
    for (conn *c = t->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&t->flush, on_source_closed);
    uv_close((uv_handle_t *)&t->sweep, on_source_closed);
}
