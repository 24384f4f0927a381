#include "http_source.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "answer.h"
#include "clock.h"
#include "event.h"
#include "jsonarray.h"
#include "lineframe.h"
#include "log.h"
#include "map.h"

#define WRITE_CHUNK      (16 * 1024)
#define RATE_KEYS_MAX    10000 /* producers tracked by the rate limiter before it starts afresh */
#define RETRY_AFTER_FULL "1"   /* seconds, when the buffer is full */

/* One request, from its headers to the last byte of its answer. Heap-allocated apart from lws's
 * per-session data because its records outlive a connection that closes early. */
typedef struct req {
    struct ow_http_source *srv;
    struct lws *wsi; /* NULL once the connection closed */
    int refs;        /* 1 for the connection + 1 per record owed */
    ow_buf body;
    int64_t expect; /* Content-Length */
    bool refused;   /* answered before the body: ignore the body, close after the answer */
    bool jsonarray;
    ow_answers owed;
    ow_jsonw results;  /* the answers so far, as JSON array members */
    int64_t counts[4]; /* by ow_result */
    size_t pending;
    char source[128]; /* "http li.wei@127.0.0.1" for rejects */
    char rate_key[96];
    /* the response */
    bool have_resp, headers_sent;
    unsigned status;
    char *resp;
    size_t resp_len, resp_off;
    const char *retry_after;
    char retry_buf[24];
} req;

typedef struct pss {
    req *r;
} pss;

typedef struct bucket {
    double tokens;
    int64_t at_ms;
} bucket;

struct ow_http_source {
    uv_loop_t *loop;
    ow_appender *app;
    const ow_config *cfg;
    struct lws_context *context; /* NULLed by lws when freed (info.pcontext) */
    struct lws_protocols protocols[2];
    ow_map rate; /* rate_key → bucket */
    bool stopped, closing;
};

/* ---- requests -------------------------------------------------------------------------------- */

static void req_unref(req *r)
{
    if (--r->refs > 0) return;
    ow_buf_fini(&r->body);
    ow_answers_fini(&r->owed);
    ow_jsonw_fini(&r->results);
    free(r->resp);
    free(r);
}

/* Answer with status and a body (taken); the WRITEABLE callback sends it. */
static void respond(req *r, unsigned status, char *body, const char *retry_after)
{
    r->have_resp = true;
    r->status = status;
    r->resp = body;
    r->resp_len = body ? strlen(body) : 0;
    r->resp_off = 0;
    r->retry_after = retry_after;
    if (r->wsi && !r->srv->closing) lws_callback_on_writable(r->wsi);
}

static void respond_error(req *r, unsigned status, const char *message, const char *retry_after)
{
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "error");
    ow_jsonw_str(&w, message);
    ow_jsonw_close(&w);
    ow_jsonw_raw(&w, "\n");
    respond(r, status, ow_jsonw_take(&w), retry_after);
}

/* Every record answered: the summary and the per-record results. */
static void respond_results(req *r)
{
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "accepted");
    ow_jsonw_int(&w, r->counts[OW_RESULT_ACCEPTED]);
    ow_jsonw_key(&w, "duplicates");
    ow_jsonw_int(&w, r->counts[OW_RESULT_DUPLICATE]);
    ow_jsonw_key(&w, "rejected");
    ow_jsonw_int(&w, r->counts[OW_RESULT_REJECTED]);
    if (r->counts[OW_RESULT_ABANDONED]) {
        ow_jsonw_key(&w, "abandoned");
        ow_jsonw_int(&w, r->counts[OW_RESULT_ABANDONED]);
    }
    ow_jsonw_key(&w, "results");
    ow_jsonw_raw(&w, "[");
    if (r->results.out.n) ow_buf_put(&w.out, r->results.out.p, r->results.out.n);
    ow_jsonw_raw(&w, "]");
    ow_jsonw_close(&w);
    ow_jsonw_raw(&w, "\n");
    /* abandoned records are not in Redis: the producer must send them again */
    respond(r, r->counts[OW_RESULT_ABANDONED] ? 503 : 200, ow_jsonw_take(&w),
            r->counts[OW_RESULT_ABANDONED] ? RETRY_AFTER_FULL : NULL);
}

static void on_item_done(void *ud, int64_t tag, ow_result o, const char *stream_id)
{
    (void)tag;
    req *r = ud;
    if (r->results.out.n) ow_jsonw_raw(&r->results, ",");
    r->results.need_comma = false;
    ow_answers_pop(&r->owed, &r->results, r->jsonarray ? "element" : "line", o, stream_id);
    r->counts[o]++;
    if (--r->pending == 0) respond_results(r);
    req_unref(r);
}

static void submit(req *r, const char *text, size_t len, size_t total, int64_t pos)
{
    ow_submit_info info;
    const char *unit = r->jsonarray ? "element" : "line";
    if (ow_appender_submit(r->srv->app, text, len, total, r->source, unit, pos, on_item_done, r,
                           pos, &info) ||
        ow_answers_push(&r->owed, pos, &info)) {
        ow_error("http %s: out of memory", r->source);
        return;
    }
    r->pending++;
    r->refs++;
}

/* The whole body is here: every line or element becomes a record. */
static void process_body(req *r)
{
    const char *body = r->body.p ? r->body.p : "";
    size_t n = r->body.n;
    r->jsonarray = ow_jsonarray_detect(body, n);
    r->pending++; /* held until every record is submitted, so an early answer cannot finish it */
    if (r->jsonarray) {
        ow_jsonarray it;
        ow_jsonarray_init(&it, body, n);
        const char *elem;
        size_t len;
        ow_err err;
        int rc;
        while ((rc = ow_jsonarray_next(&it, &elem, &len, &err)) == 1)
            submit(r, elem, len > OW_EVENT_MAX_BYTES ? OW_EVENT_MAX_BYTES : len, len, it.index);
        if (rc < 0) /* the rest of the body is not an array: keep it as one reject */
            submit(r, body, n > OW_EVENT_MAX_BYTES ? OW_EVENT_MAX_BYTES : n, n + 1, it.index + 1);
    } else {
        ow_lineframe f;
        if (ow_lineframe_init(&f, OW_EVENT_MAX_BYTES) == OW_OK) {
            ow_line l;
            ow_lineframe_feed(&f, body, n);
            while (ow_lineframe_next(&f, &l) || ow_lineframe_finish(&f, &l))
                if (l.len || l.total) submit(r, l.text, l.len, l.total, l.lineno);
            ow_lineframe_fini(&f);
        }
    }
    if (--r->pending == 0) respond_results(r);
}

/* ---- limits ---------------------------------------------------------------------------------- */

/* Token bucket per producer: ingest.http.rate events per second, bursts up to one second's worth.
 * A request is taken while the bucket is not empty and then pays for all its events; the bucket
 * may go below zero, so a large request makes the next ones wait. Returns 0 to go on, or the
 * seconds to wait. */
static int rate_wait(ow_http_source *h, const char *key)
{
    int64_t rate = h->cfg->ingest.http.rate;
    if (rate <= 0) return 0;
    int64_t now = ow_clock_mono_ms();
    bucket *b = ow_map_get(&h->rate, key);
    if (!b) {
        if (h->rate.len >= RATE_KEYS_MAX) /* start afresh rather than grow without bound */
            ow_map_fini_free(&h->rate);
        b = malloc(sizeof *b);
        if (!b || ow_map_put(&h->rate, key, b)) {
            free(b);
            return 0;
        }
        b->tokens = (double)rate;
        b->at_ms = now;
    }
    b->tokens += (double)(now - b->at_ms) * (double)rate / 1000.0;
    if (b->tokens > (double)rate) b->tokens = (double)rate;
    b->at_ms = now;
    if (b->tokens > 0) return 0;
    return (int)ceil(-b->tokens / (double)rate) + 1;
}

static void rate_pay(ow_http_source *h, const char *key, size_t events)
{
    bucket *b = ow_map_get(&h->rate, key);
    if (b) b->tokens -= (double)events;
}

/* ---- authorisation --------------------------------------------------------------------------- */

/* Who is asking: 0 = allowed (*who names them for logs and rejects), else the HTTP status.
 * With no token configured the source is open (only allowed on a loopback address). */
static unsigned authorise(ow_http_source *h, struct lws *wsi, char *who, size_t n)
{
    const ow_access *acc = &h->cfg->access;
    if (acc->n == 0) {
        snprintf(who, n, "anonymous");
        return 0;
    }
    char header[OW_TOKEN_MAX_LEN + 64], token[OW_TOKEN_MAX_LEN + 1];
    size_t len = 0;
    if (lws_hdr_copy(wsi, header, sizeof header, WSI_TOKEN_HTTP_AUTHORIZATION) > 0)
        len = ow_access_bearer(header, token, sizeof token);
    const char *name = NULL;
    ow_role role = len ? ow_access_check(acc, token, len, &name) : OW_ROLE_NONE;
    memset(token, 0, sizeof token); /* the token text goes no further */
    if (role == OW_ROLE_NONE) return HTTP_STATUS_UNAUTHORIZED;
    snprintf(who, n, "%s", name ? name : "?");
    return ow_role_allows(role, OW_ROLE_INGEST) ? 0 : HTTP_STATUS_FORBIDDEN;
}

/* ---- lws callbacks --------------------------------------------------------------------------- */

static int write_response(struct lws *wsi, req *r)
{
    if (!r->have_resp) return 0;
    if (!r->headers_sent) {
        unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
                                           *end = buf + sizeof buf;
        if (lws_add_http_common_headers(wsi, r->status, "application/json", r->resp_len, &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                        (const unsigned char *)"no-store", 8, &p, end) ||
            (r->retry_after &&
             lws_add_http_header_by_name(
                 wsi, (const unsigned char *)"retry-after:", (const unsigned char *)r->retry_after,
                 (int)strlen(r->retry_after), &p, end)) ||
            (r->status == HTTP_STATUS_METHOD_NOT_ALLOWED &&
             lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
                                         (const unsigned char *)"POST", 4, &p, end)) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        r->headers_sent = true;
        lws_callback_on_writable(wsi);
        return 0;
    }
    unsigned char buf[LWS_PRE + WRITE_CHUNK];
    size_t left = r->resp_len - r->resp_off, n = left < WRITE_CHUNK ? left : WRITE_CHUNK;
    bool last = n == left;
    memcpy(buf + LWS_PRE, r->resp + r->resp_off, n);
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0)
        return -1;
    r->resp_off += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    return 1; /* done */
}

static void release(pss *s)
{
    if (!s->r) return;
    s->r->wsi = NULL;
    req_unref(s->r);
    s->r = NULL;
}

static void peer_ip(struct lws *wsi, char *out, size_t n)
{
    out[0] = '\0';
    lws_get_peer_simple(wsi, out, n);
    if (!out[0]) snprintf(out, n, "?");
}

static int on_http(ow_http_source *h, struct lws *wsi, pss *s, const char *path, size_t plen)
{
    release(s);
    req *r = calloc(1, sizeof *r);
    if (!r) return -1;
    r->srv = h;
    r->wsi = wsi;
    r->refs = 1;
    ow_buf_init(&r->body);
    ow_answers_init(&r->owed);
    ow_jsonw_init(&r->results);
    s->r = r;
    char ip[64], who[OW_TOKEN_NAME_BUF];
    peer_ip(wsi, ip, sizeof ip);
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    r->refused = true; /* until the request passes every check below */
    if (plen != strlen(OW_INGEST_EVENTS_PATH) || memcmp(path, OW_INGEST_EVENTS_PATH, plen) != 0) {
        respond_error(r, HTTP_STATUS_NOT_FOUND,
                      "not found: events go to POST " OW_INGEST_EVENTS_PATH, NULL);
        return 0;
    }
    if (!post) {
        respond_error(r, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed: use POST", NULL);
        return 0;
    }
    unsigned denied = authorise(h, wsi, who, sizeof who);
    if (denied) {
        respond_error(r, denied,
                      denied == HTTP_STATUS_UNAUTHORIZED
                          ? "unauthorized: send Authorization: Bearer <token> with a token from "
                            "access.tokens"
                          : "forbidden: this token's role may not post events (needs ingest or "
                            "admin)",
                      NULL);
        return 0;
    }
    snprintf(r->source, sizeof r->source, "http %s@%s", who, ip);
    snprintf(r->rate_key, sizeof r->rate_key, "%s", strcmp(who, "anonymous") ? who : ip);
    if (h->stopped || ow_appender_full(h->app)) {
        respond_error(r, HTTP_STATUS_SERVICE_UNAVAILABLE,
                      h->stopped
                          ? "ingest is stopping: send again later"
                          : "busy: ingest's buffer is full (Redis is away or slower than the "
                            "producers); send again after Retry-After",
                      RETRY_AFTER_FULL);
        return 0;
    }
    int wait = rate_wait(h, r->rate_key);
    if (wait) {
        snprintf(r->retry_buf, sizeof r->retry_buf, "%d", wait);
        respond_error(r, 429, "too many events: over ingest.http.rate for this producer",
                      r->retry_buf);
        return 0;
    }
    char cl[32];
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        respond_error(r, HTTP_STATUS_LENGTH_REQUIRED, "length required: send Content-Length", NULL);
        return 0;
    }
    char *end;
    errno = 0;
    long long len = strtoll(cl, &end, 10);
    if (errno || *end || len < 0) {
        respond_error(r, HTTP_STATUS_BAD_REQUEST, "bad Content-Length", NULL);
        return 0;
    }
    if (len > h->cfg->ingest.http.max_body) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "payload too large: %lld bytes; the limit is %" PRId64
                 " (ingest.http.max_body): send smaller batches",
                 len, h->cfg->ingest.http.max_body);
        respond_error(r, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, msg, NULL);
        return 0;
    }
    r->refused = false;
    r->expect = len;
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT,
                    (int)(h->cfg->ingest.http.timeout_ms / 1000 + 1));
    if (len == 0) process_body(r);
    return 0;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    const struct lws_protocols *proto = lws_get_protocol(wsi);
    ow_http_source *h = proto ? proto->user : NULL;
    pss *s = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: return on_http(h, wsi, s, in, len);
    case LWS_CALLBACK_HTTP_BODY:
        if (!s->r || s->r->refused || s->r->have_resp) return 0;
        if ((int64_t)(s->r->body.n + len) > s->r->expect) {
            s->r->refused = true;
            respond_error(s->r, HTTP_STATUS_BAD_REQUEST, "body longer than its Content-Length",
                          NULL);
            return 0;
        }
        ow_buf_put(&s->r->body, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!s->r || s->r->refused || s->r->have_resp) return 0;
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        if (s->r->body.oom) {
            respond_error(s->r, HTTP_STATUS_SERVICE_UNAVAILABLE, "out of memory", RETRY_AFTER_FULL);
            return 0;
        }
        process_body(s->r);
        rate_pay(h, s->r->rate_key, s->r->owed.len);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!s->r) return 0;
        int rc = write_response(wsi, s->r);
        if (rc <= 0) return rc;
        bool close = s->r->refused;
        release(s);
        if (close) return -1; /* the body we did not read would be taken as the next request */
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL: release(s); return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* ---- public ---------------------------------------------------------------------------------- */

static void lws_log_line(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    ow_log(level & LLL_ERR ? OW_LOG_ERROR : OW_LOG_WARN, "lws: %.*s", (int)n, line);
}

ow_http_source *ow_http_source_new(uv_loop_t *loop, ow_appender *app, const ow_config *cfg,
                                   ow_err *err)
{
    ow_http_source *h = calloc(1, sizeof *h);
    if (!h) {
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    h->loop = loop;
    h->app = app;
    h->cfg = cfg;
    ow_map_init(&h->rate);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
    const char *iface = cfg->ingest.http.listen;
    if (cfg->access.n == 0) {
        bool loopback = strncmp(iface, "127.", 4) == 0 || strcmp(iface, "::1") == 0 ||
                        strcmp(iface, "localhost") == 0;
        if (!loopback) {
            free(h);
            ow_err_set(err, OW_EAUTH,
                       "access.tokens is empty, so POST %s on %s would take events from anyone "
                       "on the network: add tokens with the ingest role (docs/configuration.md) "
                       "or set ingest.http.listen to 127.0.0.1",
                       OW_INGEST_EVENTS_PATH, iface);
            return NULL;
        }
        ow_warn("access.tokens is empty: POST %s is open to everyone on this machine; add tokens "
                "(role ingest) before listening on a network address",
                OW_INGEST_EVENTS_PATH);
    }
    struct in_addr a4;
    bool ipv4 = inet_pton(AF_INET, iface, &a4) == 1;
    void *foreign_loops[1] = {loop};
    uint64_t options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (ipv4) options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = options;
    info.foreign_loops = foreign_loops;
    info.pcontext = &h->context;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.timeout_secs = (unsigned)(cfg->ingest.http.timeout_ms / 1000 + 1);
    h->context = lws_create_context(&info);
    if (!h->context) {
        free(h);
        ow_err_set(err, OW_EIO,
                   "cannot create the HTTP server (libwebsockets); is the package "
                   "libwebsockets-evlib-uv installed?");
        return NULL;
    }
    h->protocols[0].name = "opswall-ingest-http";
    h->protocols[0].callback = http_callback;
    h->protocols[0].per_session_data_size = sizeof(pss);
    h->protocols[0].user = h;
    struct lws_context_creation_info vinfo;
    memset(&vinfo, 0, sizeof vinfo);
    vinfo.options = options;
    vinfo.port = (int)cfg->ingest.http.port;
    vinfo.iface = strcmp(iface, "0.0.0.0") == 0 ? NULL : iface;
    vinfo.protocols = h->protocols;
    vinfo.vhost_name = "opswall-ingest";
    vinfo.timeout_secs = info.timeout_secs;
    if (!lws_create_vhost(h->context, &vinfo)) {
        ow_err_set(err, OW_EIO,
                   "ingest.http: cannot listen on %s:%" PRId64
                   ": the port is in use or not allowed; pick another with --http PORT or "
                   "ingest.http.port",
                   iface, cfg->ingest.http.port);
        lws_context_destroy(h->context);
        /* lws frees the context on the loop: the caller runs it and calls ow_http_source_free */
        h->stopped = true;
        ow_map_fini(&h->rate);
        free(h);
        return NULL;
    }
    ow_info("http: listening on %s:%" PRId64 " (POST %s)", iface, cfg->ingest.http.port,
            OW_INGEST_EVENTS_PATH);
    return h;
}

void ow_http_source_stop(ow_http_source *h)
{
    h->stopped = true;
}

void ow_http_source_close(ow_http_source *h)
{
    h->stopped = h->closing = true;
    if (h->context) lws_context_destroy(h->context); /* stage 1 on a foreign loop */
}

void ow_http_source_free(ow_http_source *h)
{
    if (!h) return;
    if (h->context) lws_context_destroy(h->context); /* stage 2 */
    ow_map_fini_free(&h->rate);
    free(h);
}
