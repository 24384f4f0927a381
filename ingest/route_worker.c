#include "route_worker.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "event.h"
#include "keys.h"
#include "log.h"
#include "router.h"

#define IDLE_MS    1000 /* quiet input: the router still polls its parked events this often */
#define RETRY_MS   500  /* a failed flush is sent again after this */
#define WARN_EVERY 10000

typedef enum { W_EVENT, W_REJECT, W_FINISH } wkind;

typedef struct witem {
    wkind kind;
    ow_appender_done_fn *done;
    void *ud;
    int64_t tag;
    char *raw, *reason, *source;
    size_t len;
    int64_t pos;
    ow_route_outcome out;
} witem;

typedef struct wvec {
    witem *v;
    size_t n, cap;
} wvec;

struct ow_route_worker {
    uv_loop_t *loop;
    const ow_config *cfg;
    ow_router *r;
    int nparts;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    wvec pending;  /* loop → worker, not handed yet */
    wvec work;     /* the worker's (read by close after the join) */
    wvec finished; /* worker → loop */
    bool handed, stop;
    /* loop thread only */
    wvec queued; /* added since the last hand-over */
    uv_async_t async;
    uv_prepare_t prepare;
    int open_handles;
    ow_appender_space_fn *on_space;
    void *space_ud;
    bool full, closing;
    ow_append_stats st;
    atomic_bool up;
    atomic_llong resends;
};

static int wvec_push(wvec *v, const witem *it)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        witem *x = realloc(v->v, cap * sizeof *x);
        if (!x) return OW_ENOMEM;
        v->v = x, v->cap = cap;
    }
    v->v[v->n++] = *it;
    return OW_OK;
}

/* Move every item of from to the end of to (from is left empty). */
static int wvec_move(wvec *to, wvec *from)
{
    if (!to->n) {
        wvec t = *to;
        *to = *from;
        *from = t;
        from->n = 0;
        return OW_OK;
    }
    for (size_t i = 0; i < from->n; i++)
        if (wvec_push(to, &from->v[i])) return OW_ENOMEM;
    from->n = 0;
    return OW_OK;
}

/* ---- the worker thread ----------------------------------------------------------------------- */

static int route(ow_route_worker *w, witem *it, ow_event *ev, ow_err *err)
{
    if (it->kind == W_FINISH) return ow_router_finish(w->r, err);
    if (it->kind == W_REJECT)
        return ow_router_reject_out(w->r, it->reason, it->source, it->pos, it->raw, it->len,
                                    &it->out, err);
    ow_err perr;
    if (ow_event_parse(it->raw, it->len, ev, &perr) != OW_OK) /* validated on the loop */
        return ow_router_reject_out(w->r, perr.msg, "ingest", 0, it->raw, it->len, &it->out, err);
    return ow_router_add_out(w->r, ev, it->raw, it->len, &it->out, err);
}

static bool stopping(ow_route_worker *w)
{
    pthread_mutex_lock(&w->mu);
    bool s = w->stop;
    pthread_mutex_unlock(&w->mu);
    return s;
}

/* Flush until it succeeds or the worker is stopped. */
static int settle(ow_route_worker *w, int rc, ow_err *err)
{
    int64_t warned = 0;
    while (rc && !stopping(w)) {
        atomic_store(&w->up, false);
        int64_t now = ow_clock_mono_ms();
        if (now - warned >= WARN_EVERY) {
            ow_warn("routed ingest: %s; holding %zu items and sending them again", err->msg,
                    w->work.n);
            warned = now;
        }
        atomic_fetch_add(&w->resends, 1);
        ow_sleep_ms(RETRY_MS);
        rc = ow_router_flush(w->r, err);
    }
    if (!rc) atomic_store(&w->up, true);
    return rc;
}

static void process(ow_route_worker *w, ow_event *ev)
{
    ow_err err;
    for (size_t i = 0; i < w->work.n; i++) {
        int rc = route(w, &w->work.v[i], ev, &err);
        if (rc == OW_ENOMEM) ow_error("routed ingest: %s", err.msg); /* that item is abandoned */
        if (rc && rc != OW_ENOMEM && settle(w, rc, &err)) return;
    }
    settle(w, ow_router_flush(w->r, &err), &err);
}

static void *worker_main(void *arg)
{
    ow_route_worker *w = arg;
    ow_event *ev = malloc(sizeof *ev);
    pthread_mutex_lock(&w->mu);
    while (!w->stop && ev) {
        if (!w->pending.n) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += IDLE_MS / 1000;
            int tr = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
            if (tr && !w->pending.n && !w->stop) { /* quiet: parked events may have a route now */
                pthread_mutex_unlock(&w->mu);
                ow_err err;
                settle(w, ow_router_flush(w->r, &err), &err);
                pthread_mutex_lock(&w->mu);
            }
            continue;
        }
        wvec_move(&w->work, &w->pending);
        w->handed = true;
        pthread_mutex_unlock(&w->mu);
        process(w, ev);
        pthread_mutex_lock(&w->mu);
        if (w->stop) break; /* close completes work as it finds it */
        if (wvec_move(&w->finished, &w->work) == OW_OK) uv_async_send(&w->async);
        w->handed = false;
    }
    pthread_mutex_unlock(&w->mu);
    free(ev);
    return NULL;
}

/* ---- the loop thread ------------------------------------------------------------------------- */

static void note_space(ow_route_worker *w)
{
    if (!w->full) return;
    if (w->st.buffered_events * 2 > w->cfg->ingest.buffer_events ||
        w->st.buffered_bytes * 2 > w->cfg->ingest.buffer_bytes)
        return;
    w->full = false;
    if (w->on_space) w->on_space(w->space_ud);
}

static void complete(ow_route_worker *w, witem *it)
{
    ow_result o = OW_RESULT_ABANDONED;
    switch (it->out.result) {
    case OW_ROUTED_ACCEPTED: o = OW_RESULT_ACCEPTED, w->st.accepted++; break;
    case OW_ROUTED_DUPLICATE: o = OW_RESULT_DUPLICATE, w->st.duplicates++; break;
    case OW_ROUTED_REJECTED: o = OW_RESULT_REJECTED, w->st.rejected++; break;
    case OW_ROUTED_PENDING: break;
    }
    if (it->done) it->done(it->ud, it->tag, o, it->out.stream_id[0] ? it->out.stream_id : NULL);
    w->st.buffered_events--;
    w->st.buffered_bytes -= (int64_t)it->len;
    free(it->raw);
    free(it->reason);
    free(it->source);
}

static void complete_all(ow_route_worker *w, wvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        complete(w, &v->v[i]);
    v->n = 0;
}

static void on_async(uv_async_t *h)
{
    ow_route_worker *w = h->data;
    wvec done = {0};
    pthread_mutex_lock(&w->mu);
    done = w->finished;
    w->finished = (wvec){0};
    pthread_mutex_unlock(&w->mu);
    complete_all(w, &done);
    free(done.v);
    note_space(w);
}

/* End of a loop iteration: what was added in it goes to the worker together. */
static void on_prepare(uv_prepare_t *h)
{
    ow_route_worker *w = h->data;
    if (!w->queued.n) return;
    pthread_mutex_lock(&w->mu);
    int rc = wvec_move(&w->pending, &w->queued);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (rc) ow_error("routed ingest: out of memory handing items over; they wait");
}

static int add(ow_route_worker *w, witem *it)
{
    if (wvec_push(&w->queued, it)) {
        free(it->raw);
        free(it->reason);
        free(it->source);
        return OW_ENOMEM;
    }
    w->st.buffered_events++;
    w->st.buffered_bytes += (int64_t)it->len;
    if (w->st.buffered_events > w->st.peak_events) w->st.peak_events = w->st.buffered_events;
    if (w->st.buffered_events >= w->cfg->ingest.buffer_events ||
        w->st.buffered_bytes >= w->cfg->ingest.buffer_bytes)
        w->full = true;
    return OW_OK;
}

static char *copy(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p) {
        if (len) memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

int ow_route_worker_add_event(ow_route_worker *w, const char *raw, size_t len,
                              ow_appender_done_fn *done, void *ud, int64_t tag)
{
    witem it = {.kind = W_EVENT, .done = done, .ud = ud, .tag = tag, .len = len};
    if (!(it.raw = copy(raw, len))) return OW_ENOMEM;
    return add(w, &it);
}

int ow_route_worker_add_reject(ow_route_worker *w, const char *reason, const char *source,
                               int64_t pos, const char *raw, size_t len, ow_appender_done_fn *done,
                               void *ud, int64_t tag)
{
    witem it = {.kind = W_REJECT, .done = done, .ud = ud, .tag = tag, .len = len, .pos = pos};
    it.raw = copy(raw, len);
    it.reason = copy(reason, strlen(reason));
    it.source = copy(source, strlen(source));
    if (!it.raw || !it.reason || !it.source) {
        free(it.raw), free(it.reason), free(it.source);
        return OW_ENOMEM;
    }
    return add(w, &it);
}

void ow_route_worker_finish(ow_route_worker *w)
{
    witem it = {.kind = W_FINISH};
    if (add(w, &it)) ow_error("routed ingest: out of memory queueing the end of input");
}

bool ow_route_worker_full(const ow_route_worker *w)
{
    return w->full;
}

int64_t ow_route_worker_buffered(const ow_route_worker *w)
{
    return w->st.buffered_events;
}

ow_append_stats ow_route_worker_stats(const ow_route_worker *w)
{
    ow_append_stats st = w->st;
    st.redis_up = atomic_load(&w->up);
    st.retries = atomic_load(&w->resends);
    st.redis_connects = 1;
    return st;
}

void ow_route_worker_set_space_cb(ow_route_worker *w, ow_appender_space_fn *fn, void *ud)
{
    w->on_space = fn;
    w->space_ud = ud;
}

ow_route_worker *ow_route_worker_new(uv_loop_t *loop, const ow_config *cfg, ow_cluster *c,
                                     const ow_partition_table *t, ow_err *err)
{
    ow_route_worker *w = calloc(1, sizeof *w);
    if (!w) {
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    w->loop = loop;
    w->cfg = cfg;
    w->nparts = t->n;
    w->r = ow_router_new(c, cfg, t, err);
    if (!w->r) {
        free(w);
        return NULL;
    }
    atomic_init(&w->up, true);
    atomic_init(&w->resends, 0);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    uv_async_init(loop, &w->async, on_async);
    uv_prepare_init(loop, &w->prepare);
    w->async.data = w->prepare.data = w;
    w->open_handles = 2;
    uv_prepare_start(&w->prepare, on_prepare);
    uv_unref((uv_handle_t *)&w->prepare);
    uv_unref((uv_handle_t *)&w->async);
    if (pthread_create(&w->thread, NULL, worker_main, w)) {
        ow_err_set(err, OW_ENOMEM, "cannot start the routing thread");
        ow_route_worker_close(w);
        return NULL;
    }
    w->thread_started = true;
    return w;
}

static void on_closed(uv_handle_t *h)
{
    ow_route_worker *w = h->data;
    if (--w->open_handles > 0) return;
    free(w);
}

void ow_route_worker_close(ow_route_worker *w)
{
    if (!w || w->closing) return;
    w->closing = true;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->thread_started) pthread_join(w->thread, NULL);
    /* in order: what the loop was told about last, then the worker's, then the waiting ones */
    complete_all(w, &w->finished);
    complete_all(w, &w->work);
    complete_all(w, &w->pending);
    complete_all(w, &w->queued);
    free(w->finished.v), free(w->work.v), free(w->pending.v), free(w->queued.v);
    const ow_router_stats *rs = ow_router_stats_get(w->r);
    char parts[256] = "";
    size_t n = 0;
    for (int p = 0; p < w->nparts && p < 64 && n < sizeof parts - 24; p++)
        n += (size_t)snprintf(parts + n, sizeof parts - n, "%s%" PRId64, p ? "/" : "",
                              rs->per_partition[p]);
    ow_info("routed: %" PRId64 " accepted (%" PRId64 " shared, by partition %s; %" PRId64
            " cross-partition records, %" PRId64 " holding records), %" PRId64
            " duplicates, %" PRId64 " rejected, %" PRId64 " parked for their order (%" PRId64
            " still waiting in " OW_KEY_UNROUTED "), %" PRId64 " parked events sent on, %" PRId64
            " read from " OW_KEY_UNROUTED ", %" PRId64 " rounds resent for replica acks, %lld "
            "flushes retried",
            rs->accepted, rs->shared, parts, rs->records, rs->holdings, rs->duplicates,
            rs->rejected, rs->parked_total, rs->parked_now, rs->drained, rs->loaded, rs->resends,
            (long long)atomic_load(&w->resends));
    ow_router_free(w->r);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    uv_close((uv_handle_t *)&w->async, on_closed);
    uv_close((uv_handle_t *)&w->prepare, on_closed);
}
