/*
 * http.c is longer than most files (~800 lines) because the routes share one response path (the
 * deferred writer) and one waiter list; split into api.c/static.c they would share private state.
 */
#include "http.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "clock.h"
#include "files.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "msg.h"
#include "route.h"

#define PATH_MAX_URL   1024        /* longest URL path served */
#define WRITE_CHUNK    (16 * 1024) /* body bytes per writable callback */
#define ID_MAX         128
#define NOTE_MAX       256
#define ALERTS_DEFAULT 100
#define ALERTS_MAX     1000
#define RATE_BURST     4.0
#define CITY_MAX       (64u << 20)

enum waiter_kind { WAIT_ORDER, WAIT_ALERTS, WAIT_ACK, WAIT_OPEN };

struct ow_http_waiter {
    ow_http_waiter *prev, *next;
    struct ow_http_session *ss;
    enum waiter_kind kind;
    uint64_t ticket;
    int64_t deadline_ms;
    bool linked;
    int part;   /* WAIT_ORDER: the order's partition, -1 while the directory is asked */
    cJSON *acc; /* WAIT_OPEN: the open alerts gathered so far; WAIT_ALERTS: one array per
                   partition of its alerts after its `since`; owned */
    bool *got;  /* WAIT_OPEN, WAIT_ALERTS: per partition, its answer is in acc; owned */
    int left;   /* WAIT_OPEN, WAIT_ALERTS: partitions still to hear from */
    int limit;  /* WAIT_ALERTS: the most alerts to answer */
    char (
        *cur)[OW_HTTP_RANGE_MAX]; /* WAIT_ALERTS: each partition's `since` as a stream id; owned */
};

/* Per-connection state, allocated (zeroed) by lws. */
typedef struct ow_http_session {
    struct lws *wsi;
    /* the response being written */
    unsigned status;
    const char *ctype;
    ow_msg *body;
    size_t off;
    bool responding, headers_sent, head;
    bool close_after; /* the request may carry a body we do not read: close when done */
    /* the request */
    ow_pass pass;
    bool post_ack;
    char id[ID_MAX + 1];
    size_t body_len;
    bool body_over;
    char body_in[OW_HTTP_BODY_MAX + 1];
    ow_http_waiter waiter;
} ow_http_session;

/* The request being answered: what a route handler needs. */
typedef struct request {
    ow_http *h;
    struct lws *wsi;
    ow_http_session *ss;
    const char *path;
} request;

/* Privdata of a Redis command: which waiter gets the reply. */
typedef struct ticket {
    ow_http *h;
    uint64_t ticket;
    char order[ID_MAX + 1]; /* for WAIT_ORDER GETs: every waiter of this order gets it */
    int part;               /* the partition the GET asked */
} ticket;

/* ---- responses ------------------------------------------------------------------------------ */

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

static void count_status(ow_http *h, unsigned status)
{
    unsigned cls = status / 100;
    if (cls >= 1 && cls <= 5) h->counts.by_class[cls]++;
    if (status == 401) h->counts.unauthorized++;
    if (status == 403) h->counts.forbidden++;
    if (status == 429) h->counts.rate_limited++;
    if (status == 413) h->counts.too_large++;
    if (status == 504) h->counts.timeouts++;
}

/* Queue a response (body taken); it is written from the writable callback. */
static int respond_ss(ow_http *h, ow_http_session *ss, unsigned status, const char *ctype,
                      ow_msg *body)
{
    if (!body) return -1;
    count_status(h, status);
    ow_msg_unref(ss->body);
    ss->status = status;
    ss->ctype = ctype;
    ss->body = body;
    ss->off = 0;
    ss->responding = true;
    ss->headers_sent = false;
    lws_callback_on_writable(ss->wsi);
    return 0;
}

static ow_msg *json_msg(cJSON *root)
{
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    ow_msg *m = text ? ow_msg_new(text, strlen(text)) : NULL;
    cJSON_free(text);
    return m;
}

static ow_msg *error_msg(const char *message)
{
    cJSON *root = cJSON_CreateObject();
    if (root && !cJSON_AddStringToObject(root, "error", message)) {
        cJSON_Delete(root);
        root = NULL;
    }
    return json_msg(root);
}

static int respond_error_ss(ow_http *h, ow_http_session *ss, unsigned status, const char *message)
{
    return respond_ss(h, ss, status, "application/json", error_msg(message));
}

static int respond(request *rq, unsigned status, const char *ctype, ow_msg *body)
{
    return respond_ss(rq->h, rq->ss, status, ctype, body);
}

static int respond_error(request *rq, unsigned status, const char *message)
{
    return respond_error_ss(rq->h, rq->ss, status, message);
}

static int respond_json(request *rq, unsigned status, cJSON *root)
{
    return respond(rq, status, "application/json", json_msg(root));
}

static int write_headers(struct lws *wsi, ow_http_session *ss)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    if (lws_add_http_common_headers(wsi, ss->status, ss->ctype, ss->body->len, &p, end) ||
        add_header(wsi, "cache-control:", "no-store", &p, end) ||
        add_header(wsi, "x-content-type-options:", "nosniff", &p, end) ||
        (ss->status == HTTP_STATUS_METHOD_NOT_ALLOWED &&
         add_header(wsi, "allow:", "GET, HEAD, POST", &p, end)) ||
        (ss->status == HTTP_STATUS_UNAUTHORIZED &&
         add_header(wsi, "www-authenticate:", "Bearer realm=\"opswall\"", &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    ss->headers_sent = true;
    return 0;
}

static int response_done(struct lws *wsi, ow_http_session *ss)
{
    ow_msg_unref(ss->body);
    ss->body = NULL;
    ss->responding = false;
    if (ss->close_after) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int write_response(struct lws *wsi, ow_http_session *ss)
{
    if (!ss->responding || !ss->body) return 0;
    if (!ss->headers_sent) {
        if (write_headers(wsi, ss)) return -1;
        if (ss->head || ss->body->len == 0) return response_done(wsi, ss);
        lws_callback_on_writable(wsi);
        return 0;
    }
    unsigned char buf[LWS_PRE + WRITE_CHUNK];
    size_t left = ss->body->len - ss->off, n = left < WRITE_CHUNK ? left : WRITE_CHUNK;
    bool last = n == left;
    memcpy(buf + LWS_PRE, ow_msg_data(ss->body) + ss->off, n);
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0)
        return -1;
    ss->off += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    return response_done(wsi, ss);
}

/* A whole small response in one write, for refusals during a websocket upgrade (lws completes
 * the transaction when the callback returns 1). */
static int refuse_now(ow_http *h, struct lws *wsi, unsigned status, const char *message)
{
    count_status(h, status);
    ow_msg *body = error_msg(message);
    if (!body) return -1;
    unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    int rc = -1;
    if (!lws_add_http_common_headers(wsi, status, "application/json", body->len, &p, end) &&
        !add_header(wsi, "cache-control:", "no-store", &p, end) &&
        !lws_finalize_http_header(wsi, &p, end) && (size_t)(end - p) > body->len) {
        memcpy(p, ow_msg_data(body), body->len);
        p += body->len;
        rc = lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) < 0 ? -1 : 1;
    }
    ow_msg_unref(body);
    return rc;
}

/* ---- waiting for Redis ----------------------------------------------------------------------- */

static void waiter_unlink(ow_http *h, ow_http_waiter *w)
{
    if (!w->linked) return;
    if (w->prev)
        w->prev->next = w->next;
    else
        h->waiters = w->next;
    if (w->next) w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->linked = false;
    cJSON_Delete(w->acc);
    free(w->got);
    free(w->cur);
    w->acc = NULL;
    w->got = NULL;
    w->cur = NULL;
}

static ow_http_waiter *waiter_add(ow_http *h, ow_http_session *ss, enum waiter_kind kind)
{
    ow_http_waiter *w = &ss->waiter;
    waiter_unlink(h, w);
    w->ss = ss;
    w->kind = kind;
    w->ticket = ++h->next_ticket;
    w->deadline_ms = ow_clock_mono_ms() + OW_HTTP_DEADLINE_MS;
    w->part = 0;
    w->left = 0;
    w->prev = NULL;
    w->next = h->waiters;
    if (w->next) w->next->prev = w;
    h->waiters = w;
    w->linked = true;
    return w;
}

static ow_http_waiter *waiter_find(ow_http *h, uint64_t t)
{
    for (ow_http_waiter *w = h->waiters; w; w = w->next)
        if (w->ticket == t) return w;
    return NULL;
}

static ticket *ticket_new(ow_http *h, const ow_http_waiter *w, const char *order)
{
    ticket *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->h = h;
    t->ticket = w ? w->ticket : 0;
    if (order) snprintf(t->order, sizeof t->order, "%s", order);
    return t;
}

/* A reply's ticket spent: its feed, the partition it asked (part may be NULL) and its waiter,
 * NULL when the connection went away meanwhile. */
static ow_http_waiter *ticket_redeem(void *privdata, ow_http **h, int *part)
{
    ticket *t = privdata;
    *h = t->h;
    if (part) *part = t->part;
    ow_http_waiter *w = waiter_find(t->h, t->ticket);
    free(t);
    return w;
}

/* Answer a waiter and forget it. */
static void waiter_answer(ow_http *h, ow_http_waiter *w, unsigned status, ow_msg *body)
{
    waiter_unlink(h, w);
    if (!body) body = error_msg("out of memory");
    respond_ss(h, w->ss, status, "application/json", body);
}

static void open_answer(ow_http *h, ow_http_waiter *w);
static void alerts_answer(ow_http *h, ow_http_waiter *w);

static void on_timer(uv_timer_t *t)
{
    ow_http *h = t->data;
    int64_t now = ow_clock_mono_ms();
    for (ow_http_waiter *w = h->waiters, *next; w; w = next) {
        next = w->next;
        if (w->deadline_ms > now) continue;
        bool some = w->got && w->left < (h->partitions > 1 ? h->partitions : 1);
        if (some && w->kind == WAIT_OPEN)
            open_answer(h, w); /* what the partitions that answered list, the others named */
        else if (some && w->kind == WAIT_ALERTS)
            alerts_answer(h, w); /* the missing partitions' cursors stay where they were */
        else
            waiter_answer(h, w, 504,
                          error_msg("the engine did not answer in time: is opswall-engine "
                                    "running?"));
    }
    /* events/s from the engine's counter, over at least a second */
    ow_live_stats st = ow_live_stats_get(h->live);
    if (st.events_applied >= 0 && now - h->rate_prev_ms >= 1000) {
        if (h->rate_prev_ms && st.events_applied >= h->rate_prev_applied)
            h->events_per_s = (double)(st.events_applied - h->rate_prev_applied) * 1000.0 /
                              (double)(now - h->rate_prev_ms);
        h->rate_prev_applied = st.events_applied;
        h->rate_prev_ms = now;
    }
}

/* ---- JSON endpoints -------------------------------------------------------------------------- */

static ow_view view_of(const ow_pass *p)
{
    return p->role == OW_ROLE_SUPERVISOR || p->role == OW_ROLE_ADMIN ? OW_VIEW_FULL
                                                                     : OW_VIEW_COARSE;
}

static int serve_snapshot(request *rq)
{
    ow_msg *snap = ow_live_snapshot(rq->h->live, view_of(&rq->ss->pass));
    if (!snap)
        return respond_error(rq, HTTP_STATUS_SERVICE_UNAVAILABLE,
                             "no snapshot yet: the engine has not published one");
    return respond(rq, HTTP_STATUS_OK, "application/json", ow_msg_ref(snap));
}

static int serve_me(request *rq)
{
    cJSON *root = cJSON_CreateObject();
    if (root && (!cJSON_AddStringToObject(root, "role", ow_role_name(rq->ss->pass.role)) ||
                 !cJSON_AddStringToObject(root, "name", rq->ss->pass.name))) {
        cJSON_Delete(root);
        root = NULL;
    }
    return respond_json(rq, HTTP_STATUS_OK, root);
}

static int serve_city(request *rq)
{
    if (!rq->h->city) return respond_error(rq, HTTP_STATUS_SERVICE_UNAVAILABLE, rq->h->city_error);
    return respond(rq, HTTP_STATUS_OK, "application/geo+json", ow_msg_ref(rq->h->city));
}

static int serve_health(request *rq)
{
    const ow_http *h = rq->h;
    ow_msg *snap = ow_live_snapshot(h->live, OW_VIEW_FULL);
    ow_live_stats st = ow_live_stats_get(h->live);
    bool redis_up = ow_redis_sub_connected(h->redis);
    bool ok = redis_up && snap;
    int64_t wall = ow_clock_wall_ms(), mono = ow_clock_mono_ms();

    cJSON *root = cJSON_CreateObject(), *redis, *sn, *msgs;
    bool good = root && cJSON_AddStringToObject(root, "status", ok ? "ok" : "degraded") &&
                (redis = cJSON_AddObjectToObject(root, "redis")) &&
                cJSON_AddBoolToObject(redis, "connected", redis_up) &&
                cJSON_AddNumberToObject(
                    redis, "reconnects",
                    (double)(h->redis->sub.connects > 0 ? h->redis->sub.connects - 1 : 0)) &&
                (sn = cJSON_AddObjectToObject(root, "snapshot")) &&
                cJSON_AddBoolToObject(sn, "present", snap != NULL);
    if (good && snap) {
        int64_t age = wall - snap->now_ms;
        good = cJSON_AddNumberToObject(sn, "seq", (double)snap->seq) &&
               cJSON_AddNumberToObject(sn, "now_ms", (double)snap->now_ms) &&
               cJSON_AddNumberToObject(sn, "age_ms", (double)(age > 0 ? age : 0)) &&
               cJSON_AddNumberToObject(sn, "received_ago_ms", (double)(mono - snap->recv_mono_ms));
    }
    good = good && cJSON_AddNumberToObject(root, "clients", (double)st.clients) &&
           (msgs = cJSON_AddObjectToObject(root, "messages")) &&
           cJSON_AddNumberToObject(msgs, "published", (double)st.published) &&
           cJSON_AddNumberToObject(msgs, "unchanged", (double)st.unchanged) &&
           cJSON_AddNumberToObject(msgs, "rejected", (double)st.rejected) &&
           cJSON_AddNumberToObject(msgs, "gaps", (double)st.gaps) &&
           cJSON_AddNumberToObject(root, "uptime_ms", (double)(mono - h->start_mono_ms));
    if (!good) {
        cJSON_Delete(root);
        return -1;
    }
    return respond_json(rq, ok ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE, root);
}

void ow_http_metric(ow_buf *b, const char *name, const char *type, const char *help,
                    const char *labels, double v)
{
    char line[512];
    int n;
    if (type) {
        n = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
        ow_buf_put(b, line, (size_t)n);
    }
    n = snprintf(line, sizeof line, "%s%s %.17g\n", name, labels ? labels : "", v);
    ow_buf_put(b, line, (size_t)n);
}

static int serve_metrics(request *rq)
{
    ow_http *h = rq->h;
    ow_live_stats st = ow_live_stats_get(h->live);
    ow_http_counts counts = h->counts;
    static const uint64_t bounds[] = OW_LIVE_BACKLOG_BOUNDS;
    uint64_t backlog[OW_LIVE_BACKLOG_N];
    ow_live_backlog(h->live, bounds, backlog, OW_LIVE_BACKLOG_N);
    bool redis_up = ow_redis_sub_connected(h->redis);
    /* several workers: the whole feed's figures (feed/workers.h) */
    if (h->metrics_totals) h->metrics_totals(h->ack_ud, &st, &counts, backlog, &redis_up);
    ow_msg *snap = ow_live_snapshot(h->live, OW_VIEW_FULL);
    ow_buf b;
    ow_buf_init(&b);
    ow_http_metric(&b, "opswall_feed_clients", "gauge", "Websocket clients connected now.", NULL,
                   (double)st.clients);
    ow_http_metric(&b, "opswall_feed_connections_total", "counter",
                   "Websocket upgrades accepted and refused (token, role, origin, path).",
                   "{result=\"accepted\"}", (double)st.accepted);
    ow_http_metric(&b, "opswall_feed_connections_total", NULL, NULL, "{result=\"refused\"}",
                   (double)st.refused);
    ow_http_metric(&b, "opswall_feed_messages_in_total", "counter",
                   "Messages received from the engine.", "{type=\"snapshot\"}",
                   (double)st.snapshots_in);
    ow_http_metric(&b, "opswall_feed_messages_in_total", NULL, NULL, "{type=\"delta\"}",
                   (double)st.deltas_in);
    ow_http_metric(&b, "opswall_feed_messages_ignored_total", "counter",
                   "Engine messages not forwarded, by reason.", "{reason=\"rejected\"}",
                   (double)st.rejected);
    ow_http_metric(&b, "opswall_feed_messages_ignored_total", NULL, NULL, "{reason=\"gap\"}",
                   (double)st.gaps);
    ow_http_metric(&b, "opswall_feed_messages_ignored_total", NULL, NULL, "{reason=\"stale\"}",
                   (double)st.stale);
    ow_http_metric(&b, "opswall_feed_messages_ignored_total", NULL, NULL, "{reason=\"unchanged\"}",
                   (double)st.unchanged);
    ow_http_metric(&b, "opswall_feed_messages_published_total", "counter",
                   "Messages put in the ring for clients.", NULL, (double)st.published);
    ow_http_metric(&b, "opswall_feed_messages_sent_total", "counter", "Websocket messages written.",
                   NULL, (double)st.sent_msgs);
    ow_http_metric(&b, "opswall_feed_bytes_sent_total", "counter",
                   "Websocket payload bytes written.", NULL, (double)st.sent_bytes);
    ow_http_metric(&b, "opswall_feed_batched_writes_total", "counter",
                   "Writes that carried several queued messages to a client that was behind.", NULL,
                   (double)st.batches);
    ow_http_metric(&b, "opswall_feed_wire_bytes_total", "counter",
                   "Websocket frame bytes written (compressed for permessage-deflate clients).",
                   NULL, (double)st.wire_bytes);
    ow_http_metric(&b, "opswall_feed_compressed_writes_total", "counter",
                   "Messages written compressed (permessage-deflate, deflated once per message).",
                   NULL, (double)st.compressed);
    ow_http_metric(&b, "opswall_feed_chained_writes_total", "counter",
                   "Of those, messages written as the continuation of the message before (the "
                   "viewer's inflate window ends with it).",
                   NULL, (double)st.chained);
    ow_http_metric(&b, "opswall_feed_send_threads", "gauge",
                   "Threads writing each message to the viewers (feed.send_threads; summed over "
                   "workers).",
                   NULL, (double)st.send_threads);
    ow_http_metric(
        &b, "opswall_feed_threaded_writes_total", "counter",
        "Messages written straight to up-to-date plain viewers' sockets by the send threads.", NULL,
        (double)st.threaded);
    ow_http_metric(&b, "opswall_feed_short_writes_total", "counter",
                   "Of those, messages a full socket did not take whole (the rest queued in lws).",
                   NULL, (double)st.short_sends);
    ow_http_metric(&b, "opswall_feed_queue_drops_total", "counter",
                   "Times a slow client's backlog overflowed and became one snapshot.", NULL,
                   (double)st.queue_drops);
    ow_http_metric(&b, "opswall_feed_resyncs_total", "counter", "Resync requests answered.", NULL,
                   (double)st.resyncs);
    ow_http_metric(&b, "opswall_feed_client_errors_total", "counter",
                   "Websocket clients closed for bad input, size or rate.", NULL,
                   (double)st.client_errors);
    ow_http_metric(&b, "opswall_feed_pings_total", "counter",
                   "Keep-alive pings written to websocket clients (feed.ping_interval).", NULL,
                   (double)st.pings);
    ow_http_metric(&b, "opswall_feed_silent_closes_total", "counter",
                   "Websocket clients closed for answering nothing for feed.ping_timeout.", NULL,
                   (double)st.silent_closes);
    for (size_t i = 0; i < OW_LIVE_BACKLOG_N; i++) {
        char lab[64];
        snprintf(lab, sizeof lab, "{le=\"%" PRIu64 "\"}", bounds[i]);
        ow_http_metric(&b, "opswall_feed_client_backlog_bucket", i == 0 ? "histogram" : NULL,
                       "Clients by messages they are behind.", lab, (double)backlog[i]);
    }
    ow_http_metric(&b, "opswall_feed_client_backlog_bucket", NULL, NULL, "{le=\"+Inf\"}",
                   (double)st.clients);
    ow_http_metric(&b, "opswall_feed_client_backlog_count", NULL, NULL, NULL, (double)st.clients);
    double lag = st.last_now_ms ? (double)(st.last_recv_ms - st.last_now_ms) / 1000.0 : 0;
    ow_http_metric(&b, "opswall_feed_engine_lag_seconds", "gauge",
                   "Receive time minus the engine's now of the newest message (large in replay).",
                   NULL, lag);
    ow_http_metric(&b, "opswall_feed_engine_events_per_second", "gauge",
                   "Events the engine applied per second (from events_applied).", NULL,
                   h->events_per_s);
    ow_http_metric(&b, "opswall_feed_snapshot_seq", "gauge", "Sequence number held.", NULL,
                   snap ? (double)snap->seq : -1);
    ow_http_metric(&b, "opswall_feed_redis_connected", "gauge",
                   "1 when both Redis connections are up.", NULL, redis_up ? 1 : 0);
    ow_http_metric(&b, "opswall_feed_http_requests_total", "counter", "HTTP requests.", NULL,
                   (double)counts.requests);
    for (int c = 1; c <= 5; c++) {
        char lab[32];
        snprintf(lab, sizeof lab, "{class=\"%dxx\"}", c);
        ow_http_metric(&b, "opswall_feed_http_responses_total", c == 1 ? "counter" : NULL,
                       "HTTP responses by status class.", lab, (double)counts.by_class[c]);
    }
    ow_http_metric(&b, "opswall_feed_http_refused_total", "counter", "HTTP refusals by reason.",
                   "{reason=\"unauthorized\"}", (double)counts.unauthorized);
    ow_http_metric(&b, "opswall_feed_http_refused_total", NULL, NULL, "{reason=\"forbidden\"}",
                   (double)counts.forbidden);
    ow_http_metric(&b, "opswall_feed_http_refused_total", NULL, NULL, "{reason=\"rate_limited\"}",
                   (double)counts.rate_limited);
    ow_http_metric(&b, "opswall_feed_http_refused_total", NULL, NULL, "{reason=\"too_large\"}",
                   (double)counts.too_large);
    ow_http_metric(&b, "opswall_feed_uptime_seconds", "gauge", "Seconds since start.", NULL,
                   (double)(ow_clock_mono_ms() - h->start_mono_ms) / 1000.0);
    if (h->metrics_extra) h->metrics_extra(h->ack_ud, &b);
    ow_msg *m = b.p && !b.oom ? ow_msg_new(b.p, b.n) : NULL;
    ow_buf_fini(&b);
    return respond(rq, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", m);
}

static int serve_live_without_upgrade(request *rq)
{
    return respond_error(rq, 426,
                         "this is the websocket endpoint: connect with a WebSocket client");
}

/* -- order detail: XADD the request, wait for order_ready, GET the key -- */

static int partitions(const ow_http *h)
{
    return h->partitions > 1 ? h->partitions : 1;
}

/* Send argv (argc words) with fn; argv[1] is partition p's key `key0` (a partition-0 key). */
static void send_part(ow_http *h, redisCallbackFn *fn, void *privdata, int p, const char *key0,
                      int argc, const char **argv)
{
    char key[OW_PARTITION_KEY_MAX];
    size_t lens[16];
    if (ow_partition_rekey(key, sizeof key, p, key0) < 0 || argc > 16) {
        fn(NULL, NULL, privdata);
        return;
    }
    argv[1] = key;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    ow_redis_sub_command(h->redis, fn, privdata, argc, argv, lens);
}

static void on_order_requested(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    ticket *t = privdata;
    redisReply *r = reply;
    ow_http_waiter *w = waiter_find(t->h, t->ticket);
    if (w && (!r || r->type == REDIS_REPLY_ERROR))
        waiter_answer(t->h, w, 503, error_msg("Redis is not reachable: try again shortly"));
    free(t);
}

/* Ask partition p's engine for the order's detail (it answers on its order_ready channel). */
static void request_order(ow_http *h, ow_http_waiter *w)
{
    ticket *t = ticket_new(h, w, NULL);
    if (!t) return; /* the waiter answers 504 at its deadline */
    const char *argv[] = {"XADD", "", "MAXLEN", "~", "10000", "*", "order_id", w->ss->id};
    send_part(h, on_order_requested, t, w->part, OW_KEY_REQUESTS, 8, argv);
}

/* The order directory's answer: the order's partition (docs/scaling.md §3). */
static void on_order_partition(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    ow_http *h;
    redisReply *r = reply;
    ow_http_waiter *w = ticket_redeem(privdata, &h, NULL);
    if (!w) return;
    if (!r || r->type == REDIS_REPLY_ERROR) {
        waiter_answer(h, w, 503, error_msg("Redis is not reachable: try again shortly"));
        return;
    }
    char *end = NULL;
    long p = r->type == REDIS_REPLY_STRING ? strtol(r->str, &end, 10) : -1;
    if (r->type == REDIS_REPLY_NIL || !end || *end || p < 0 || p >= partitions(h)) {
        waiter_answer(h, w, 404,
                      error_msg(r->type == REDIS_REPLY_NIL
                                    ? "no such order: the order directory does not know it"
                                    : "the order directory names no partition of this "
                                      "deployment for this order"));
        return;
    }
    w->part = (int)p;
    request_order(h, w);
}

static int serve_order(request *rq)
{
    ow_http_session *ss = rq->ss;
    if (!ow_http_path_id(rq->path, "/api/v1/orders/", "", ss->id, sizeof ss->id))
        return respond_error(rq, HTTP_STATUS_BAD_REQUEST,
                             "bad order id: 1 to 128 characters of A-Z a-z 0-9 _ . : -");
    ow_http_waiter *w = waiter_add(rq->h, ss, WAIT_ORDER);
    if (partitions(rq->h) == 1) {
        request_order(rq->h, w);
        return 0;
    }
    w->part = -1; /* which partition holds it: ask the directory ingest keeps */
    char key[OW_PARTITION_KEY_MAX];
    ticket *t = ticket_new(rq->h, w, NULL);
    if (!t) return -1;
    if (ow_route_directory_key(key, sizeof key, "order", ss->id) < 0) {
        free(t);
        return respond_error(rq, HTTP_STATUS_BAD_REQUEST, "bad order id: too long");
    }
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, strlen(key)};
    ow_redis_sub_command(rq->h->redis, on_order_partition, t, 2, argv, lens);
    return 0;
}

static void on_order_detail(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    ticket *t = privdata;
    redisReply *r = reply;
    ow_http *h = t->h;
    for (ow_http_waiter *w = h->waiters, *next; w; w = next) {
        next = w->next;
        if (w->kind != WAIT_ORDER || w->part != t->part || strcmp(w->ss->id, t->order) != 0)
            continue;
        if (!r || r->type != REDIS_REPLY_STRING) {
            waiter_answer(h, w, 503, error_msg("the order detail expired before it was read"));
            continue;
        }
        cJSON *doc = ow_json_parse(r->str, r->len, OW_JSON_MAX_DEPTH, NULL);
        if (!doc) {
            waiter_answer(h, w, 502, error_msg("the engine's order detail is not JSON"));
            continue;
        }
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(doc, "error");
        unsigned status = cJSON_IsString(err) ? 404 : 200;
        if (view_of(&w->ss->pass) == OW_VIEW_COARSE)
            ow_coarsen_strip(ow_live_coarsen(h->live), doc);
        waiter_answer(h, w, status, json_msg(doc));
    }
    free(t);
}

/* -- open alerts: every partition's engine lists its own; merged in (at, id) order -- */

static int cmp_open(const void *x, const void *y)
{
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
    const cJSON *ta = ow_json_get(a, "at"), *tb = ow_json_get(b, "at");
    const cJSON *ia = ow_json_get(a, "id"), *ib = ow_json_get(b, "id");
    int c = cJSON_IsString(ta) && cJSON_IsString(tb) ? strcmp(ta->valuestring, tb->valuestring) : 0;
    if (c) return c;
    return cJSON_IsString(ia) && cJSON_IsString(ib) ? strcmp(ia->valuestring, ib->valuestring) : 0;
}

/* Every partition answered (or the deadline came after some did): sort, coarsen for viewers,
 * answer {"alerts":[…],"partitions":n,"missing":[partitions that did not answer in time]}. */
static void open_answer(ow_http *h, ow_http_waiter *w)
{
    cJSON *acc = w->acc;
    w->acc = NULL;
    int n = cJSON_GetArraySize(acc);
    cJSON **v = n ? malloc((size_t)n * sizeof *v) : NULL;
    cJSON *root = cJSON_CreateObject(),
          *list = root ? cJSON_AddArrayToObject(root, "alerts") : NULL;
    if (!list || (n && !v)) {
        cJSON_Delete(root), cJSON_Delete(acc), free(v);
        waiter_answer(h, w, 500, NULL);
        return;
    }
    for (int i = 0; i < n; i++)
        v[i] = cJSON_DetachItemFromArray(acc, 0);
    cJSON_Delete(acc);
    if (n) qsort(v, (size_t)n, sizeof *v, cmp_open);
    bool coarse = view_of(&w->ss->pass) == OW_VIEW_COARSE;
    for (int i = 0; i < n; i++) {
        if (coarse) ow_coarsen_strip(ow_live_coarsen(h->live), v[i]);
        cJSON_AddItemToArray(list, v[i]);
    }
    free(v);
    cJSON_AddNumberToObject(root, "partitions", partitions(h));
    cJSON *missing = cJSON_AddArrayToObject(root, "missing");
    for (int p = 0; missing && p < partitions(h); p++)
        if (!w->got[p]) cJSON_AddItemToArray(missing, cJSON_CreateNumber(p));
    waiter_answer(h, w, 200, json_msg(root));
}

static void on_open_part(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    ticket *t = privdata;
    ow_http *h = t->h;
    redisReply *r = reply;
    cJSON *got = r && r->type == REDIS_REPLY_STRING
                     ? ow_json_parse(r->str, r->len, OW_JSON_MAX_DEPTH, NULL)
                     : NULL;
    for (ow_http_waiter *w = h->waiters, *next; w; w = next) {
        next = w->next;
        if (w->kind != WAIT_OPEN || w->got[t->part]) continue;
        if (!cJSON_IsArray(got)) {
            waiter_answer(h, w, 502,
                          error_msg(r && r->type == REDIS_REPLY_STRING
                                        ? "a partition's open alerts are not a JSON array"
                                        : "a partition's open alerts expired before they were "
                                          "read"));
            continue;
        }
        for (const cJSON *a = got->child; a; a = a->next)
            if (cJSON_IsObject(a)) cJSON_AddItemToArray(w->acc, cJSON_Duplicate(a, true));
        w->got[t->part] = true;
        if (--w->left == 0) open_answer(h, w);
    }
    cJSON_Delete(got);
    free(t);
}

static int serve_open_alerts(request *rq)
{
    ow_http *h = rq->h;
    int n = partitions(h);
    ow_http_waiter *w = waiter_add(h, rq->ss, WAIT_OPEN);
    w->acc = cJSON_CreateArray();
    w->got = calloc((size_t)n, sizeof *w->got);
    w->left = n;
    if (!w->acc || !w->got) {
        waiter_unlink(h, w);
        return respond_error(rq, HTTP_STATUS_SERVICE_UNAVAILABLE, "out of memory");
    }
    for (int p = 0; p < n; p++) {
        ticket *t = ticket_new(h, w, NULL);
        if (!t) break; /* the waiter answers 504 at its deadline */
        const char *argv[] = {"XADD", "", "MAXLEN", "~", "10000", "*", "query", "open_alerts"};
        send_part(h, on_order_requested, t, p, OW_KEY_REQUESTS, 8, argv);
    }
    return 0;
}

void ow_http_on_ready(ow_http *h, int partition, const char *what, size_t len)
{
    if (partition < 0 || partition >= partitions(h)) return;
    bool open = len == 11 && memcmp(what, "open_alerts", 11) == 0;
    if (!open && !ow_http_id_ok(what, len)) return;
    bool wanted = false;
    for (ow_http_waiter *w = h->waiters; w && !wanted; w = w->next)
        wanted = open ? w->kind == WAIT_OPEN && !w->got[partition]
                      : w->kind == WAIT_ORDER && w->part == partition && strlen(w->ss->id) == len &&
                            memcmp(w->ss->id, what, len) == 0;
    if (!wanted) return;
    char id[ID_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int)len, what);
    ticket *t = ticket_new(h, NULL, open ? NULL : id);
    if (!t) return;
    t->part = partition;
    char key[OW_PARTITION_KEY_MAX + ID_MAX];
    if (ow_partition_rekey(key, sizeof key, partition,
                           open ? OW_KEY_ALERTS_OPEN : OW_KEY_ORDER_PREFIX) < 0) {
        free(t);
        return;
    }
    if (!open) snprintf(key + strlen(key), sizeof key - strlen(key), "%s", id);
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, strlen(key)};
    ow_redis_sub_command(h->redis, open ? on_open_part : on_order_detail, t, 2, argv, lens);
}

/* -- alerts since a point: XRANGE -- */

/* One stream entry ["id", ["id", "...", "d", "{json}"]] as the alert object plus "stream_id". */
static cJSON *alert_of_entry(const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    const redisReply *f = e->element[1];
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        if (f->element[i]->type != REDIS_REPLY_STRING || strcmp(f->element[i]->str, "d") != 0 ||
            f->element[i + 1]->type != REDIS_REPLY_STRING)
            continue;
        cJSON *a =
            ow_json_parse(f->element[i + 1]->str, f->element[i + 1]->len, OW_JSON_MAX_DEPTH, NULL);
        if (cJSON_IsObject(a) && cJSON_AddStringToObject(a, "stream_id", e->element[0]->str))
            return a;
        cJSON_Delete(a);
        return NULL;
    }
    return NULL;
}

/* A stream id "<ms>-<seq>" as a pair that orders like Redis does. */
static void stream_id_key(const char *id, unsigned long long *ms, unsigned long long *seq)
{
    char *end;
    *ms = strtoull(id, &end, 10);
    *seq = *end == '-' ? strtoull(end + 1, NULL, 10) : 0;
}

/* Every partition answered (or the deadline came after some did): merge the partitions' lists
 * by stream id (each list is in stream order, so what is taken from a partition is a prefix of
 * it and its cursor is the last one taken), answer at most `limit`. One partition: {"alerts",
 * "next": its last id}; several: each alert names its "partition", "next" is every partition's
 * cursor joined by ',', and "missing" the partitions that did not answer in time. */
static void alerts_answer(ow_http *h, ow_http_waiter *w)
{
    int n = partitions(h);
    cJSON *root = cJSON_CreateObject(),
          *list = root ? cJSON_AddArrayToObject(root, "alerts") : NULL;
    int *at = calloc((size_t)n, sizeof *at);
    if (!list || !at) {
        cJSON_Delete(root), free(at);
        waiter_answer(h, w, 500, NULL);
        return;
    }
    bool coarse = view_of(&w->ss->pass) == OW_VIEW_COARSE;
    for (int taken = 0; taken < w->limit; taken++) {
        int best = -1;
        unsigned long long bms = 0, bseq = 0;
        for (int p = 0; p < n; p++) {
            const cJSON *a =
                w->got[p] ? cJSON_GetArrayItem(cJSON_GetArrayItem(w->acc, p), at[p]) : NULL;
            const cJSON *sid = a ? ow_json_get(a, "stream_id") : NULL;
            if (!cJSON_IsString(sid)) continue;
            unsigned long long ms, seq;
            stream_id_key(sid->valuestring, &ms, &seq);
            if (best < 0 || ms < bms || (ms == bms && seq < bseq)) best = p, bms = ms, bseq = seq;
        }
        if (best < 0) break;
        cJSON *a =
            cJSON_Duplicate(cJSON_GetArrayItem(cJSON_GetArrayItem(w->acc, best), at[best]), true);
        const cJSON *sid = a ? ow_json_get(a, "stream_id") : NULL;
        if (!cJSON_IsString(sid)) {
            cJSON_Delete(a);
            break;
        }
        /* the cursor: "(id" as ow_http_since writes it, so an answer's next reads back */
        snprintf(w->cur[best], OW_HTTP_RANGE_MAX, "(%s", sid->valuestring);
        at[best]++;
        if (coarse) ow_coarsen_strip(ow_live_coarsen(h->live), a);
        if (n > 1) cJSON_AddNumberToObject(a, "partition", best);
        cJSON_AddItemToArray(list, a);
    }
    free(at);
    /* next: each partition's position without the '(' (or 0-0 when it is still at the start) */
    ow_buf next;
    ow_buf_init(&next);
    for (int p = 0; p < n; p++) {
        const char *c = w->cur[p][0] == '(' ? w->cur[p] + 1 : "0-0";
        if (p) ow_buf_put(&next, ",", 1);
        ow_buf_put(&next, c, strlen(c));
    }
    bool ok = !next.oom && next.p && cJSON_AddStringToObject(root, "next", next.p);
    ow_buf_fini(&next);
    if (ok && n > 1) {
        cJSON_AddNumberToObject(root, "partitions", n);
        cJSON *missing = cJSON_AddArrayToObject(root, "missing");
        for (int p = 0; missing && p < n; p++)
            if (!w->got[p]) cJSON_AddItemToArray(missing, cJSON_CreateNumber(p));
    }
    if (!ok) {
        cJSON_Delete(root);
        root = NULL;
    }
    waiter_answer(h, w, 200, json_msg(root));
}

static void on_alerts(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    ow_http *h;
    int p;
    redisReply *r = reply;
    ow_http_waiter *w = ticket_redeem(privdata, &h, &p);
    if (!w || w->kind != WAIT_ALERTS || w->got[p]) return; /* gone, or already answered */
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        waiter_answer(h, w, 503, error_msg("Redis is not reachable: try again shortly"));
        return;
    }
    cJSON *mine = cJSON_GetArrayItem(w->acc, p);
    for (size_t i = 0; i < r->elements; i++) {
        cJSON *a = alert_of_entry(r->element[i]);
        if (a) cJSON_AddItemToArray(mine, a);
    }
    w->got[p] = true;
    if (--w->left == 0) alerts_answer(h, w);
}

static int serve_alerts(request *rq)
{
    ow_http *h = rq->h;
    int n = partitions(h);
    char since[4096] = "", limit_s[16] = "";
    const char *v = lws_get_urlarg_by_name(rq->wsi, "since=", since, (int)sizeof since);
    if (v && v != since) memmove(since, v, strlen(v) + 1);
    if (!v) since[0] = '\0';
    char(*cur)[OW_HTTP_RANGE_MAX] = calloc((size_t)n, sizeof *cur);
    if (!cur) return respond_error(rq, HTTP_STATUS_SERVICE_UNAVAILABLE, "out of memory");
    if (!ow_http_since_parts(since, n, cur)) {
        free(cur);
        return respond_error(rq, HTTP_STATUS_BAD_REQUEST,
                             n > 1 ? "bad since: give the \"next\" of the previous answer (one "
                                     "stream id per partition, joined by ','), epoch "
                                     "milliseconds, or nothing"
                                   : "bad since: give the \"next\" of the previous answer (a "
                                     "stream id like 1795309502120-0), epoch milliseconds, or "
                                     "nothing");
    }
    long limit = ALERTS_DEFAULT;
    v = lws_get_urlarg_by_name(rq->wsi, "limit=", limit_s, (int)sizeof limit_s);
    if (v) {
        char *end;
        errno = 0;
        limit = strtol(v, &end, 10);
        if (errno || *end || end == v || limit < 1 || limit > ALERTS_MAX) {
            free(cur);
            return respond_error(rq, HTTP_STATUS_BAD_REQUEST, "bad limit: 1 to 1000");
        }
    }
    ow_http_waiter *w = waiter_add(h, rq->ss, WAIT_ALERTS);
    w->acc = cJSON_CreateArray();
    w->got = calloc((size_t)n, sizeof *w->got);
    w->cur = cur;
    w->left = n;
    w->limit = (int)limit;
    for (int p = 0; w->acc && p < n; p++)
        if (!cJSON_AddItemToArray(w->acc, cJSON_CreateArray())) break;
    if (cJSON_GetArraySize(w->acc) != n || !w->got) {
        waiter_unlink(h, w);
        return respond_error(rq, HTTP_STATUS_SERVICE_UNAVAILABLE, "out of memory");
    }
    /* each partition's next `limit` alerts: the merge takes at most `limit` of them all */
    char count[16];
    snprintf(count, sizeof count, "%ld", limit);
    for (int p = 0; p < n; p++) {
        ticket *t = ticket_new(h, w, NULL);
        if (!t) break; /* the waiter answers at its deadline */
        t->part = p;
        const char *argv[] = {"XRANGE", "", cur[p], "+", "COUNT", count};
        send_part(h, on_alerts, t, p, OW_KEY_ALERTS, 6, argv);
    }
    return 0;
}

/* -- acknowledgement: XADD to the acks stream the engine reads -- */

static void on_acked(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    ow_http *h;
    redisReply *r = reply;
    ow_http_waiter *w = ticket_redeem(privdata, &h, NULL);
    if (!w) return;
    if (!r || r->type != REDIS_REPLY_STRING) {
        waiter_answer(h, w, 503,
                      error_msg("Redis is not reachable: the acknowledgement was not "
                                "recorded; try again"));
        return;
    }
    cJSON *root = cJSON_CreateObject();
    if (root && (!cJSON_AddStringToObject(root, "status", "accepted") ||
                 !cJSON_AddStringToObject(root, "id", w->ss->id) ||
                 !cJSON_AddStringToObject(root, "by", w->ss->pass.name))) {
        cJSON_Delete(root);
        root = NULL;
    }
    waiter_answer(h, w, 202, json_msg(root));
}

/* the acknowledgement sent to the other partitions: nothing to answer */
static void on_acked_extra(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac, (void)reply, (void)privdata;
}

static int serve_ack(ow_http *h, ow_http_session *ss)
{
    const char *why = NULL;
    char note[NOTE_MAX + 1];
    if (!ow_http_ack_body(ss->body_in, ss->body_len, note, sizeof note, &why))
        return respond_error_ss(h, ss, HTTP_STATUS_BAD_REQUEST, why);
    char at[24];
    snprintf(at, sizeof at, "%" PRId64, ow_clock_wall_ms());
    ow_http_waiter *w = waiter_add(h, ss, WAIT_ACK);
    ticket *t = ticket_new(h, w, NULL);
    if (!t) return -1;
    /* one engine: its acks stream; partitioned: the partition holding the alert, or every one
     * that may (an engine skips an acknowledgement of an alert it does not have) */
    char(*keys)[OW_PARTITION_KEY_MAX] = malloc(OW_PARTITIONS_MAX * sizeof *keys);
    if (!keys) {
        free(t); /* never handed to Redis; the waiter answers 503 at its deadline */
        return -1;
    }
    int nkeys = 1;
    if (h->ack_keys)
        nkeys = h->ack_keys(h->ack_ud, ss->id, keys, OW_PARTITIONS_MAX);
    else
        snprintf(keys[0], sizeof keys[0], "%s", OW_KEY_ACKS);
    ow_info("ack of %s by %s (%s)%s", ss->id, ss->pass.name, ow_role_name(ss->pass.role),
            nkeys > 1 ? " to every partition" : "");
    for (int k = nkeys - 1; k >= 0; k--) {
        const char *argv[] = {"XADD", keys[k], "MAXLEN",      "~",    "100000", "*",  "id",
                              ss->id, "by",    ss->pass.name, "note", note,     "at", at};
        size_t lens[14];
        for (int i = 0; i < 14; i++)
            lens[i] = strlen(argv[i]);
        /* the answer waits for the first key's reply (the others were sent before it) */
        ow_redis_sub_command(h->redis, k ? on_acked_extra : on_acked, k ? NULL : t, 14, argv, lens);
    }
    free(keys);
    return 0;
}

/* ---- pure helpers ---------------------------------------------------------------------------- */

bool ow_http_id_ok(const char *s, size_t len)
{
    if (len == 0 || len > ID_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return !(len <= 2 && s[0] == '.' && (len == 1 || s[1] == '.'));
}

bool ow_http_path_id(const char *path, const char *prefix, const char *suffix, char *out,
                     size_t out_size)
{
    size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(path);
    if (n < pl + sl || strncmp(path, prefix, pl) != 0 || strcmp(path + n - sl, suffix) != 0)
        return false;
    size_t idlen = n - pl - sl;
    if (!ow_http_id_ok(path + pl, idlen) || idlen >= out_size) return false;
    memcpy(out, path + pl, idlen);
    out[idlen] = '\0';
    return true;
}

bool ow_http_since(const char *since, char *out, size_t out_size)
{
    if (!since[0] || strcmp(since, "0") == 0) {
        snprintf(out, out_size, "-");
        return true;
    }
    const char *p = since;
    size_t digits = 0, dashes = 0, tail = 0;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (dashes)
                tail++;
            else
                digits++;
        } else if (*p == '-' && !dashes && digits) {
            dashes++;
        } else {
            return false;
        }
    }
    /* both parts are 64-bit: up to 20 digits (Redis refuses what overflows) */
    if (digits == 0 || digits > 20 || (dashes && (tail == 0 || tail > 20))) return false;
    int n = snprintf(out, out_size, "(%s%s", since, dashes ? "" : "-18446744073709551615");
    return n > 0 && (size_t)n < out_size;
}

bool ow_http_since_parts(const char *since, int n, char (*out)[OW_HTTP_RANGE_MAX])
{
    if (n < 1) return false;
    if (!strchr(since, ',')) {
        if (!ow_http_since(since, out[0], OW_HTTP_RANGE_MAX)) return false;
        for (int p = 1; p < n; p++)
            memcpy(out[p], out[0], OW_HTTP_RANGE_MAX);
        return true;
    }
    const char *s = since;
    for (int p = 0; p < n; p++) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        char one[OW_HTTP_RANGE_MAX];
        /* each item is one partition's position, as a single-partition `since` */
        if (len == 0 || len >= sizeof one || (p + 1 < n) != (end != NULL)) return false;
        memcpy(one, s, len);
        one[len] = '\0';
        if (!ow_http_since(one, out[p], OW_HTTP_RANGE_MAX)) return false;
        s = end ? end + 1 : s + len;
    }
    return true;
}

bool ow_http_ack_body(const char *body, size_t len, char *note, size_t note_size, const char **why)
{
    note[0] = '\0';
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i == len) return true; /* no body: no note */
    ow_err err;
    cJSON *root = ow_json_parse(body, len, 4, &err);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        *why = "bad body: expected a JSON object like {\"note\":\"on my way\"}";
        return false;
    }
    const cJSON *n = ow_json_get(root, "note");
    bool ok = true;
    if (n && !cJSON_IsNull(n)) {
        if (!cJSON_IsString(n)) {
            *why = "bad body: \"note\" must be a string";
            ok = false;
        } else if (strlen(n->valuestring) >= note_size) {
            *why = "bad body: \"note\" is longer than 256 bytes";
            ok = false;
        } else {
            snprintf(note, note_size, "%s", n->valuestring);
        }
    }
    cJSON_Delete(root);
    return ok;
}

/* ---- static files ---------------------------------------------------------------------------- */

static const struct {
    const char *ext, *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".geojson", "application/geo+json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++)
            if (strcmp(dot, content_types[i].ext) == 0) return content_types[i].type;
    return "application/octet-stream";
}

/* A URL path we are willing to map onto the web root. */
static bool path_safe(const char *path)
{
    if (path[0] != '/') return false;
    for (const char *p = path; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f || ch == '\\') return false;
        if (ch == '/' && (p[1] == '/' || p[1] == '.')) return false; /* "//", "/..", "/.hidden" */
    }
    return true;
}

/* Headers for static files: the page may only talk to this server (no CDN, no outside request). */
static const char page_policy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

static int serve_file(request *rq)
{
    const char *path = strcmp(rq->path, "/") == 0 ? "/index.html" : rq->path;
    if (!path_safe(path)) return respond_error(rq, HTTP_STATUS_BAD_REQUEST, "bad path");
    char want[PATH_MAX], real[PATH_MAX];
    struct stat st;
    int n = snprintf(want, sizeof want, "%s%s", rq->h->root, path);
    if (n < 0 || (size_t)n >= sizeof want || !realpath(want, real) ||
        strncmp(real, rq->h->root, rq->h->root_len) != 0 || real[rq->h->root_len] != '/' ||
        stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return respond_error(rq, HTTP_STATUS_NOT_FOUND, "not found");

    unsigned char hb[1024], *p = hb, *end = hb + sizeof hb;
    if (add_header(rq->wsi, "cache-control:", "no-cache", &p, end) ||
        add_header(rq->wsi, "x-content-type-options:", "nosniff", &p, end) ||
        add_header(rq->wsi, "referrer-policy:", "no-referrer", &p, end) ||
        add_header(rq->wsi, "content-security-policy:", page_policy, &p, end))
        return -1;
    count_status(rq->h, 200);
    n = lws_serve_http_file(rq->wsi, real, content_type(real), (const char *)hb, (int)(p - hb));
    if (n < 0) return -1;
    if (n > 0 && lws_http_transaction_completed(rq->wsi)) return -1;
    return 0;
}

/* ---- routing --------------------------------------------------------------------------------- */

static const struct {
    const char *path; /* exact, or a prefix when it ends with '/' */
    ow_role need;
    int (*serve)(request *rq);
} routes[] = {
    {"/healthz", OW_ROLE_NONE, serve_health},
    {"/metrics", OW_ROLE_NONE, serve_metrics},
    {OW_LIVE_PATH, OW_ROLE_NONE, serve_live_without_upgrade},
    {"/api/v1/me", OW_ROLE_VIEWER, serve_me},
    {"/api/v1/snapshot", OW_ROLE_VIEWER, serve_snapshot},
    {"/api/v1/city", OW_ROLE_VIEWER, serve_city},
    {"/api/v1/alerts", OW_ROLE_VIEWER, serve_alerts},
    {"/api/v1/alerts/open", OW_ROLE_VIEWER, serve_open_alerts},
    {"/api/v1/orders/", OW_ROLE_VIEWER, serve_order},
};

/* Check the gate; on refusal answer and return false. */
static bool allowed(request *rq, ow_role need)
{
    rq->ss->pass = ow_gate_check(rq->h->gate, rq->wsi, need);
    if (rq->ss->pass.status == 0) return true;
    respond_error(rq, (unsigned)rq->ss->pass.status, rq->ss->pass.why);
    return false;
}

static int route(request *rq)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *p = routes[i].path;
        size_t n = strlen(p);
        bool match = p[n - 1] == '/' ? strncmp(rq->path, p, n) == 0 : strcmp(rq->path, p) == 0;
        if (!match) continue;
        if (!allowed(rq, routes[i].need)) return 0;
        return routes[i].serve(rq);
    }
    if (strncmp(rq->path, "/api/", 5) == 0)
        return respond_error(rq, HTTP_STATUS_NOT_FOUND, "not found: no such API endpoint");
    return serve_file(rq);
}

/* POST: only /api/v1/alerts/{id}/ack; the body is read first (at most OW_HTTP_BODY_MAX). */
static int on_post(request *rq)
{
    ow_http_session *ss = rq->ss;
    if (!ow_http_path_id(rq->path, "/api/v1/alerts/", "/ack", ss->id, sizeof ss->id)) {
        ss->close_after = true;
        if (strncmp(rq->path, "/api/v1/alerts/", 15) == 0)
            return respond_error(rq, HTTP_STATUS_BAD_REQUEST,
                                 "bad alert id: 1 to 128 characters of A-Z a-z 0-9 _ . : -");
        return respond_error(rq, HTTP_STATUS_METHOD_NOT_ALLOWED,
                             "method not allowed: POST only to /api/v1/alerts/{id}/ack");
    }
    char cl[24];
    if (lws_hdr_copy(rq->wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        strtoull(cl, NULL, 10) > OW_HTTP_BODY_MAX) {
        ss->close_after = true;
        return respond_error(rq, 413, "request body too large: at most 4096 bytes");
    }
    if (!allowed(rq, OW_ROLE_SUPERVISOR)) {
        ss->close_after = true;
        return 0;
    }
    ss->post_ack = true;
    ss->body_len = 0;
    ss->body_over = false;
    if (lws_hdr_total_length(rq->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
        strtoull(cl, NULL, 10) == 0) {
        ss->post_ack = false; /* no body will come */
        return serve_ack(rq->h, ss);
    }
    return 0; /* the body arrives in LWS_CALLBACK_HTTP_BODY */
}

static int on_request(ow_http *h, struct lws *wsi, ow_http_session *ss, const char *in, size_t len)
{
    char path[PATH_MAX_URL];
    request rq = {.h = h, .wsi = wsi, .ss = ss, .path = path};
    ss->wsi = wsi;
    ss->close_after = false;
    ss->head = false;
    ss->post_ack = false;
    h->counts.requests++;
    path[0] = '\0';
    /* The session memory is per request (lws rebinds it after each transaction); the bucket is
     * per connection: the wsi's opaque pointer, freed in LWS_CALLBACK_WSI_DESTROY. */
    ow_rate *rate = lws_get_opaque_user_data(wsi);
    if (!rate && (rate = calloc(1, sizeof *rate)) != NULL) lws_set_opaque_user_data(wsi, rate);
    if (rate && !ow_rate_take(rate, ow_clock_mono_ms(), h->rate, h->rate * RATE_BURST)) {
        ss->close_after = true;
        return respond_error(&rq, 429, "too many requests on this connection: slow down");
    }
    if (len >= sizeof path || memchr(in, '\0', len)) {
        ss->close_after = true;
        return respond_error(&rq, len >= sizeof path ? 414 : HTTP_STATUS_BAD_REQUEST,
                             "bad path: at most 1023 bytes");
    }
    memcpy(path, in, len);
    path[len] = '\0';
    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    ss->head = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) return on_post(&rq);
    if (!get && !ss->head) {
        ss->close_after = true;
        return respond_error(&rq, HTTP_STATUS_METHOD_NOT_ALLOWED,
                             "method not allowed: use GET or HEAD (POST for acknowledgements)");
    }
    return route(&rq);
}

static int on_body(ow_http_session *ss, const char *in, size_t len)
{
    if (!ss->post_ack) return 0;
    if (len > OW_HTTP_BODY_MAX - ss->body_len) {
        ss->body_over = true;
        return 0;
    }
    memcpy(ss->body_in + ss->body_len, in, len);
    ss->body_len += len;
    return 0;
}

static int on_body_done(ow_http *h, ow_http_session *ss)
{
    if (!ss->post_ack) return 0;
    ss->post_ack = false;
    if (ss->body_over) {
        ss->close_after = true;
        return respond_error_ss(h, ss, 413, "request body too large: at most 4096 bytes");
    }
    ss->body_in[ss->body_len] = '\0';
    return serve_ack(h, ss);
}

/* A websocket upgrade: only the live path, with an allowed origin and a token (the live
 * protocol decides the view again in its filter). Refusals get a JSON status here. */
int ow_http_confirm_upgrade(ow_http *h, struct lws *wsi)
{
    char uri[64];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, OW_LIVE_PATH))
        return refuse_now(h, wsi, 404, "not found: the websocket endpoint is /api/v1/live");
    ow_pass p = ow_gate_check(h->gate, wsi, OW_ROLE_VIEWER);
    if (p.status) return refuse_now(h, wsi, (unsigned)p.status, p.why);
    return 0;
}

static void session_release(ow_http *h, ow_http_session *ss)
{
    if (!ss) return;
    waiter_unlink(h, &ss->waiter);
    ow_msg_unref(ss->body);
    ss->body = NULL;
    ss->responding = false;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    const struct lws_protocols *proto = lws_get_protocol(wsi);
    ow_http *h = proto ? proto->user : NULL;
    ow_http_session *ss = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP: return on_request(h, wsi, ss, in, len);
    case LWS_CALLBACK_HTTP_WRITEABLE: return write_response(wsi, ss);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return ow_http_confirm_upgrade(h, wsi);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return 1; /* websockets go to live */
    case LWS_CALLBACK_HTTP_BODY: return on_body(ss, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: return on_body_done(h, ss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL: session_release(h, ss); return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        free(lws_get_opaque_user_data(wsi));
        lws_set_opaque_user_data(wsi, NULL);
        return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* ---- life ------------------------------------------------------------------------------------ */

static void load_city(ow_http *h, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    ow_err err;
    if (!path || !path[0]) {
        snprintf(h->city_error, sizeof h->city_error, "no city map: set city.regions");
        return;
    }
    if (ow_file_read(path, CITY_MAX, &text, &len, &err)) {
        snprintf(h->city_error, sizeof h->city_error, "city map unavailable: %s", err.msg);
        ow_warn("city.regions: %s", err.msg);
        return;
    }
    cJSON *root = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &err);
    const cJSON *type = ow_json_get(root, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "FeatureCollection") != 0) {
        snprintf(h->city_error, sizeof h->city_error,
                 "city map unavailable: %s is not a GeoJSON FeatureCollection", path);
        ow_warn("city.regions: %s: not a GeoJSON FeatureCollection%s%s", path, root ? "" : ": ",
                root ? "" : err.msg);
    } else {
        h->city = json_msg(cJSON_Duplicate(root, true)); /* compact: no indentation on the wire */
    }
    cJSON_Delete(root);
    free(text);
}

int ow_http_init(ow_http *h, uv_loop_t *loop, const char *web_root, const char *city_path,
                 ow_live *live, ow_redis_sub *redis, const ow_gate *gate, double rate,
                 int64_t start_mono_ms, ow_err *err)
{
    memset(h, 0, sizeof *h);
    struct stat st;
    if (!realpath(web_root, h->root) || stat(h->root, &st) != 0)
        return ow_err_set(err, OW_EIO, "feed.web_root %s: %s", web_root, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return ow_err_set(err, OW_EIO, "feed.web_root %s: not a directory", web_root);
    h->root_len = strlen(h->root);
    if (h->root_len == 1) h->root_len = 0; /* "/" as the root: every path is inside */
    h->live = live;
    h->redis = redis;
    h->gate = gate;
    h->rate = rate > 0 ? rate : 10;
    h->start_mono_ms = start_mono_ms;
    load_city(h, city_path);
    if (uv_timer_init(loop, &h->timer)) {
        ow_msg_unref(h->city);
        h->city = NULL;
        return ow_err_set(err, OW_EIO, "cannot create the HTTP timer");
    }
    h->timer.data = h;
    uv_timer_start(&h->timer, on_timer, 250, 250);
    return OW_OK;
}

void ow_http_close(ow_http *h)
{
    if (h->closed) return;
    h->closed = true;
    uv_close((uv_handle_t *)&h->timer, NULL);
    ow_msg_unref(h->city);
    h->city = NULL;
}

struct lws_protocols ow_http_protocol(ow_http *h)
{
    struct lws_protocols p;
    memset(&p, 0, sizeof p);
    p.name = OW_HTTP_PROTOCOL;
    p.callback = http_callback;
    p.per_session_data_size = sizeof(ow_http_session);
    p.user = h;
    return p;
}
