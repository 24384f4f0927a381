#include "appender.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "clock.h"
#include "functions.h"
#include "log.h"
#include "redis_async.h"
#include "route_worker.h"

#define REJECT_KEEP    (64 * 1024) /* raw text kept per reject */
#define FREE_SLOTS_MAX 16          /* finished batches kept for reuse */
#define WATCHDOG_MS    1000

/* One item's bookkeeping: who to tell when its batch is answered. */
typedef struct item {
    ow_appender_done_fn *done;
    void *ud;
    int64_t tag;
    bool reject;
} item;

/* One ow_ingest call: its command text and its items. */
typedef struct slot {
    ow_batch batch;
    item *items; /* cap = ingest.batch */
    int64_t sent_ms;
    bool sent_before; /* sent once already: a resend counts as a retry */
    struct slot *next_free;
} slot;

struct ow_appender {
    uv_loop_t *loop;
    const ow_config *cfg;
    ow_redis_async *ra;
    size_t batch_cap, inflight_max;
    /* FIFO of batches; the first `inflight` have been sent on connection generation `gen` */
    slot **q;
    size_t qcap, qhead, qlen, inflight;
    uint64_t gen;
    slot *free_slots;
    size_t nfree;
    uv_prepare_t prepare; /* end of each loop iteration: send the partial batch */
    uv_timer_t watchdog;  /* a call unanswered for redis.timeout resets the connection */
    int open_handles;
    bool up, closing, full;
    ow_appender_space_fn *on_space;
    void *space_ud;
    ow_event ev; /* scratch for validation */
    ow_append_stats st;
    ow_route_worker *rw; /* partitioned: items go to the router's thread instead (route_worker.h) */
};

const char *ow_result_name(ow_result o)
{
    static const char *const names[] = {"accepted", "duplicate", "rejected", "abandoned"};
    return o >= 0 && o <= OW_RESULT_ABANDONED ? names[o] : "?";
}

/* ---- the batch queue --------------------------------------------------------------------------
 */

static slot *slot_get(ow_appender *a)
{
    slot *s = a->free_slots;
    if (s) {
        a->free_slots = s->next_free;
        a->nfree--;
    } else {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        s->items = calloc(a->batch_cap, sizeof *s->items);
        if (!s->items) {
            free(s);
            return NULL;
        }
        ow_batch_init(&s->batch);
    }
    ow_batch_start(&s->batch, a->cfg);
    s->sent_before = false;
    return s;
}

static void slot_free(slot *s)
{
    if (!s) return;
    ow_batch_fini(&s->batch);
    free(s->items);
    free(s);
}

static void slot_put(ow_appender *a, slot *s)
{
    if (a->nfree >= FREE_SLOTS_MAX) {
        slot_free(s);
        return;
    }
    s->next_free = a->free_slots;
    a->free_slots = s;
    a->nfree++;
}

static slot *q_at(const ow_appender *a, size_t i)
{
    return a->q[(a->qhead + i) % a->qcap];
}

static int q_push(ow_appender *a, slot *s)
{
    if (a->qlen == a->qcap) {
        size_t cap = a->qcap ? a->qcap * 2 : 16;
        slot **q = malloc(cap * sizeof *q);
        if (!q) return OW_ENOMEM;
        for (size_t i = 0; i < a->qlen; i++)
            q[i] = q_at(a, i);
        free(a->q);
        a->q = q;
        a->qcap = cap;
        a->qhead = 0;
    }
    a->q[(a->qhead + a->qlen) % a->qcap] = s;
    a->qlen++;
    return OW_OK;
}

static slot *q_pop(ow_appender *a)
{
    slot *s = a->q[a->qhead];
    a->qhead = (a->qhead + 1) % a->qcap;
    a->qlen--;
    return s;
}

/* The batch new items go into: the last one, unless it is sent or full. */
static slot *open_slot(ow_appender *a)
{
    if (a->qlen > a->inflight) {
        slot *s = q_at(a, a->qlen - 1);
        if (s->batch.items < a->batch_cap) return s;
    }
    slot *s = slot_get(a);
    if (!s) return NULL;
    if (q_push(a, s)) {
        slot_put(a, s);
        return NULL;
    }
    return s;
}

/* ---- sending ----------------------------------------------------------------------------------
 */

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* Send queued batches while the pipeline has room; the last, still filling batch only when
 * `partial_too` (at the end of a loop iteration: everything submitted in it goes out together). */
static void pump(ow_appender *a, bool partial_too)
{
    redisAsyncContext *ac = a->up ? ow_redis_async_ctx(a->ra) : NULL;
    if (!ac) return;
    while (a->inflight < a->inflight_max && a->inflight < a->qlen) {
        slot *s = q_at(a, a->inflight);
        bool last = a->inflight + 1 == a->qlen;
        if (last && !partial_too && s->batch.items < a->batch_cap) break;
        size_t len;
        const char *cmd = ow_batch_command(&s->batch, &len);
        if (!cmd) {
            ow_error("out of memory building a batch of %zu items", s->batch.items);
            return;
        }
        if (redisAsyncFormattedCommand(ac, on_reply, a, cmd, len) != REDIS_OK) {
            ow_redis_async_reset(a->ra, "cannot send to");
            return;
        }
        if (s->sent_before) a->st.retries++;
        s->sent_before = true;
        s->sent_ms = ow_clock_mono_ms();
        a->inflight++;
    }
}

static void on_prepare(uv_prepare_t *h)
{
    pump(h->data, true);
}

static void note_space(ow_appender *a)
{
    if (!a->full) return;
    /* resume below half the bound, so sources do not flap on every batch */
    if (a->st.buffered_events * 2 > a->cfg->ingest.buffer_events ||
        a->st.buffered_bytes * 2 > a->cfg->ingest.buffer_bytes)
        return;
    a->full = false;
    if (a->on_space) a->on_space(a->space_ud);
}

/* Tell every item of a finished batch what became of it. r == NULL: abandoned. */
static void complete(ow_appender *a, slot *s, const redisReply *r)
{
    for (size_t i = 0; i < s->batch.items; i++) {
        item *it = &s->items[i];
        const char *id = NULL;
        ow_result o;
        if (!r)
            o = OW_RESULT_ABANDONED;
        else if (ow_batch_reply_item(r, i, &id))
            o = it->reject ? OW_RESULT_REJECTED : OW_RESULT_ACCEPTED;
        else
            o = OW_RESULT_DUPLICATE;
        if (o == OW_RESULT_ACCEPTED) a->st.accepted++;
        if (o == OW_RESULT_DUPLICATE) a->st.duplicates++;
        if (o == OW_RESULT_REJECTED) a->st.rejected++;
        if (it->done) it->done(it->ud, it->tag, o, id);
    }
    a->st.buffered_events -= (int64_t)s->batch.items;
    a->st.buffered_bytes -= (int64_t)ow_batch_bytes(&s->batch);
}

/* Everything sent on the lost connection goes back to waiting, in order. */
static void requeue(ow_appender *a)
{
    a->inflight = 0;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    ow_appender *a = privdata;
    if (a->closing || !a->up || a->gen != ow_redis_async_gen(a->ra) || a->inflight == 0)
        return; /* a reply owed by a connection given up: its batches are queued again */
    redisReply *r = reply;
    if (!r) {
        /* the connection is going away (hiredis calls the disconnect callback next) */
        requeue(a);
        a->up = false;
        return;
    }
    slot *s = q_at(a, 0);
    ow_err err;
    if (ow_batch_reply_check(r, s->batch.items, &err)) {
        ow_warn("appending %zu items: %s; sending them again", s->batch.items, err.msg);
        requeue(a);
        a->up = false;
        ow_redis_async_reset(a->ra, "giving up the connection to");
        return;
    }
    q_pop(a);
    a->inflight--;
    complete(a, s, r);
    slot_put(a, s);
    note_space(a);
    pump(a, false);
}

static void on_function_loaded(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    (void)privdata;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR)
        ow_error("loading opswall's Redis Functions: %s (Redis 7 or newer is needed)", r->str);
}

static void on_redis_state(void *ud, bool up)
{
    ow_appender *a = ud;
    if (!up) {
        a->up = false;
        if (a->inflight)
            ow_warn("redis: %zu batches in flight are queued again (%" PRId64 " items held)",
                    a->inflight, a->st.buffered_events);
        requeue(a);
        return;
    }
    a->up = true;
    a->gen = ow_redis_async_gen(a->ra);
    /* a Redis restarted from nothing has forgotten the functions: load them before any batch
     * (commands on one connection run in order, so no need to wait for the answer) */
    redisAsyncCommand(ow_redis_async_ctx(a->ra), on_function_loaded, a, "FUNCTION LOAD REPLACE %s",
                      ow_functions_library());
    pump(a, true);
}

static void on_watchdog(uv_timer_t *t)
{
    ow_appender *a = t->data;
    if (!a->up || a->inflight == 0) return;
    int64_t waited = ow_clock_mono_ms() - q_at(a, 0)->sent_ms;
    if (waited < a->cfg->redis.timeout_ms) return;
    ow_warn("redis: no answer for %" PRId64 " ms (redis.timeout); reconnecting", waited);
    requeue(a);
    a->up = false;
    ow_redis_async_reset(a->ra, "no answer from");
}

/* ---- public -----------------------------------------------------------------------------------
 */

/* What both kinds of appender start from; NULL (err set) when out of memory. */
static ow_appender *appender_alloc(uv_loop_t *loop, const ow_config *cfg, ow_err *err)
{
    ow_appender *a = calloc(1, sizeof *a);
    if (!a) {
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    a->loop = loop;
    a->cfg = cfg;
    return a;
}

ow_appender *ow_appender_new(uv_loop_t *loop, const ow_config *cfg, const ow_redis_env *env,
                             ow_err *err)
{
    ow_appender *a = appender_alloc(loop, cfg, err);
    if (!a) return NULL;
    a->batch_cap = (size_t)cfg->ingest.batch;
    a->inflight_max = (size_t)cfg->ingest.inflight;
    a->ra = ow_redis_async_new(loop, &env->target, env->desc, env->timeout_ms, on_redis_state, a);
    if (!a->ra || uv_prepare_init(loop, &a->prepare) || uv_timer_init(loop, &a->watchdog)) {
        /* the handles are initialised in order; only a missing ra leaves none open */
        ow_redis_async_close(a->ra);
        free(a);
        ow_err_set(err, OW_ENOMEM, "cannot set up the Redis connection (out of memory)");
        return NULL;
    }
    a->prepare.data = a;
    a->watchdog.data = a;
    a->open_handles = 2;
    return a;
}

ow_appender *ow_appender_new_routed(uv_loop_t *loop, const ow_config *cfg, ow_cluster *c,
                                    const ow_partition_table *t, ow_err *err)
{
    ow_appender *a = appender_alloc(loop, cfg, err);
    if (!a) return NULL;
    a->rw = ow_route_worker_new(loop, cfg, c, t, err);
    if (!a->rw) {
        free(a);
        return NULL;
    }
    return a;
}

void ow_appender_finish(ow_appender *a)
{
    if (a->rw) ow_route_worker_finish(a->rw);
}

void ow_appender_set_space_cb(ow_appender *a, ow_appender_space_fn *fn, void *ud)
{
    a->on_space = fn;
    a->space_ud = ud;
    if (a->rw) ow_route_worker_set_space_cb(a->rw, fn, ud);
}

void ow_appender_start(ow_appender *a)
{
    if (a->rw) return; /* the worker runs from its creation */
    uv_prepare_start(&a->prepare, on_prepare);
    uv_unref((uv_handle_t *)&a->prepare);
    uv_timer_start(&a->watchdog, on_watchdog, WATCHDOG_MS, WATCHDOG_MS);
    uv_unref((uv_handle_t *)&a->watchdog);
    ow_redis_async_start(a->ra);
}

static void account(ow_appender *a, slot *s, size_t bytes_before, item it)
{
    s->items[s->batch.items - 1] = it;
    a->st.buffered_events++;
    a->st.buffered_bytes += (int64_t)(ow_batch_bytes(&s->batch) - bytes_before);
    if (a->st.buffered_events > a->st.peak_events) a->st.peak_events = a->st.buffered_events;
    if (a->st.buffered_events >= a->cfg->ingest.buffer_events ||
        a->st.buffered_bytes >= a->cfg->ingest.buffer_bytes)
        a->full = true;
    if (s->batch.items == a->batch_cap) pump(a, false);
}

int ow_appender_add_event(ow_appender *a, const ow_event *ev, const char *raw, size_t len,
                          ow_appender_done_fn *done, void *ud, int64_t tag)
{
    if (a->rw) return ow_route_worker_add_event(a->rw, raw, len, done, ud, tag);
    slot *s = open_slot(a);
    if (!s) return OW_ENOMEM;
    size_t before = ow_batch_bytes(&s->batch);
    ow_batch_add_event(&s->batch, ev->id, raw, len);
    account(a, s, before, (item){done, ud, tag, false});
    return OW_OK;
}

int ow_appender_add_reject(ow_appender *a, const char *reason, const char *source, int64_t pos,
                           const char *raw, size_t len, ow_appender_done_fn *done, void *ud,
                           int64_t tag)
{
    if (a->rw)
        return ow_route_worker_add_reject(a->rw, reason, source, pos, raw,
                                          len < REJECT_KEEP ? len : REJECT_KEEP, done, ud, tag);
    slot *s = open_slot(a);
    if (!s) return OW_ENOMEM;
    size_t before = ow_batch_bytes(&s->batch);
    ow_batch_add_reject(&s->batch, reason, source, pos, raw, len < REJECT_KEEP ? len : REJECT_KEEP);
    account(a, s, before, (item){done, ud, tag, true});
    return OW_OK;
}

int ow_appender_submit(ow_appender *a, const char *text, size_t len, size_t total,
                       const char *source, const char *unit, int64_t pos, ow_appender_done_fn *done,
                       void *ud, int64_t tag, ow_submit_info *info)
{
    ow_submit_info scratch;
    if (!info) info = &scratch;
    info->rejected = true;
    info->id[0] = '\0';
    ow_err perr;
    if (total > len) {
        snprintf(info->reason, sizeof info->reason,
                 "%s %" PRId64 ": event is %zu bytes: the limit is %d bytes (64 KiB)", unit, pos,
                 total, OW_EVENT_MAX_BYTES);
    } else if (ow_event_parse(text, len, &a->ev, &perr) == OW_OK) {
        info->rejected = false;
        info->reason[0] = '\0';
        memcpy(info->id, a->ev.id, sizeof info->id);
        info->ts_ms = a->ev.ts_ms;
        return ow_appender_add_event(a, &a->ev, text, len, done, ud, tag);
    } else {
        snprintf(info->reason, sizeof info->reason, "%s %" PRId64 ": %s", unit, pos, perr.msg);
    }
    return ow_appender_add_reject(a, info->reason, source, pos, text, len, done, ud, tag);
}

bool ow_appender_full(const ow_appender *a)
{
    return a->rw ? ow_route_worker_full(a->rw) : a->full;
}

int64_t ow_appender_buffered(const ow_appender *a)
{
    return a->rw ? ow_route_worker_buffered(a->rw) : a->st.buffered_events;
}

ow_append_stats ow_appender_stats(const ow_appender *a)
{
    if (a->rw) return ow_route_worker_stats(a->rw);
    ow_append_stats st = a->st;
    st.redis_up = a->up;
    st.redis_connects = ow_redis_async_connects(a->ra);
    return st;
}

static void on_handle_closed(uv_handle_t *h)
{
    ow_appender *a = h->data;
    if (--a->open_handles > 0) return;
    while (a->free_slots) {
        slot *s = a->free_slots;
        a->free_slots = s->next_free;
        slot_free(s);
    }
    free(a->q);
    free(a);
}

void ow_appender_close(ow_appender *a)
{
    if (!a || a->closing) return;
    a->closing = true;
    if (a->rw) {
        ow_route_worker_close(a->rw); /* completes what it holds; frees itself on the loop */
        free(a);
        return;
    }
    a->up = false;
    ow_redis_async_close(a->ra); /* pending replies arrive as NULL and are ignored (closing) */
    while (a->qlen) {
        slot *s = q_pop(a);
        complete(a, s, NULL);
        slot_free(s);
    }
    uv_close((uv_handle_t *)&a->prepare, on_handle_closed);
    uv_close((uv_handle_t *)&a->watchdog, on_handle_closed);
}
