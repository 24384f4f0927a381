#include "http.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "msg.h"

#define PATH_MAX_URL 1024        /* longest URL path served */
#define WRITE_CHUNK  (16 * 1024) /* body bytes per writable callback */

/* Per-connection state, allocated (zeroed) by lws. */
typedef struct ow_http_session {
    ow_msg *body; /* response body being written, or NULL */
    size_t off;
    bool close_after; /* the request may carry a body we do not read: close when done */
} ow_http_session;

/* The request being answered: what a route handler needs. */
typedef struct request {
    ow_http *h;
    struct lws *wsi;
    ow_http_session *ss;
    const char *path;
    bool head;
} request;

/* ---- responses ------------------------------------------------------------------------------ */

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* Send headers now and the body (taken) from the writable callback. */
static int respond(request *rq, unsigned status, const char *ctype, ow_msg *body)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    if (lws_add_http_common_headers(rq->wsi, status, ctype, body->len, &p, end) ||
        add_header(rq->wsi, "cache-control:", "no-store", &p, end) ||
        add_header(rq->wsi, "x-content-type-options:", "nosniff", &p, end) ||
        (status == HTTP_STATUS_METHOD_NOT_ALLOWED &&
         add_header(rq->wsi, "allow:", "GET, HEAD", &p, end)) ||
        lws_finalize_write_http_header(rq->wsi, start, &p, end)) {
        ow_msg_unref(body);
        return -1;
    }
    if (rq->head) {
        ow_msg_unref(body);
        return lws_http_transaction_completed(rq->wsi) ? -1 : 0;
    }
    rq->ss->body = body;
    rq->ss->off = 0;
    lws_callback_on_writable(rq->wsi);
    return 0;
}

static int respond_json(request *rq, unsigned status, cJSON *root)
{
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    ow_msg *m = text ? ow_msg_new(text, strlen(text)) : NULL;
    cJSON_free(text);
    if (!m) return -1;
    return respond(rq, status, "application/json", m);
}

/* {"error": message} with the given status. */
static int respond_error(request *rq, unsigned status, const char *message)
{
    cJSON *root = cJSON_CreateObject();
    if (root && !cJSON_AddStringToObject(root, "error", message)) {
        cJSON_Delete(root);
        root = NULL;
    }
    return respond_json(rq, status, root);
}

static int write_body(struct lws *wsi, ow_http_session *ss)
{
    if (!ss->body) return 0;
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
    ow_msg_unref(ss->body);
    ss->body = NULL;
    if (ss->close_after) return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- JSON endpoints -------------------------------------------------------------------------- */

static int serve_snapshot(request *rq)
{
    ow_msg *snap = ow_live_snapshot(rq->h->live);
    if (!snap)
        return respond_error(rq, HTTP_STATUS_SERVICE_UNAVAILABLE,
                             "no snapshot yet: the engine has not published one");
    return respond(rq, HTTP_STATUS_OK, "application/json", ow_msg_ref(snap));
}

static int serve_health(request *rq)
{
    const ow_http *h = rq->h;
    ow_msg *snap = ow_live_snapshot(h->live);
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

static int serve_live_without_upgrade(request *rq)
{
    return respond_error(rq, 426,
                         "this is the websocket endpoint: connect with a WebSocket client");
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
    n = lws_serve_http_file(rq->wsi, real, content_type(real), (const char *)hb, (int)(p - hb));
    if (n < 0) return -1;
    if (n > 0 && lws_http_transaction_completed(rq->wsi)) return -1;
    return 0;
}

/* ---- routing --------------------------------------------------------------------------------- */

static const struct {
    const char *path;
    int (*serve)(request *rq);
} routes[] = {
    {"/api/v1/snapshot", serve_snapshot},
    {"/healthz", serve_health},
    {OW_LIVE_PATH, serve_live_without_upgrade},
};

static int route(request *rq)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(rq->path, routes[i].path) == 0) return routes[i].serve(rq);
    if (strncmp(rq->path, "/api/", 5) == 0)
        return respond_error(rq, HTTP_STATUS_NOT_FOUND, "not found: no such API endpoint");
    return serve_file(rq);
}

static int on_request(ow_http *h, struct lws *wsi, ow_http_session *ss, const char *in, size_t len)
{
    char path[PATH_MAX_URL];
    request rq = {.h = h, .wsi = wsi, .ss = ss, .path = path};
    ss->close_after = false;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0)
        rq.head = true;
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        ss->close_after = true;
        path[0] = '\0';
        return respond_error(&rq, HTTP_STATUS_METHOD_NOT_ALLOWED,
                             "method not allowed: use GET or HEAD");
    }
    if (len >= sizeof path || memchr(in, '\0', len)) {
        path[0] = '\0';
        return respond_error(&rq, HTTP_STATUS_BAD_REQUEST, "bad path");
    }
    memcpy(path, in, len);
    path[len] = '\0';
    return route(&rq);
}

static void session_release(ow_http_session *ss)
{
    if (!ss) return;
    ow_msg_unref(ss->body);
    ss->body = NULL;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    const struct lws_protocols *proto = lws_get_protocol(wsi);
    ow_http *h = proto ? proto->user : NULL;
    ow_http_session *ss = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP: return on_request(h, wsi, ss, in, len);
    case LWS_CALLBACK_HTTP_WRITEABLE: return write_body(wsi, ss);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return 1; /* websockets go to live */
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: return 0; /* bodies are refused (405) and dropped */
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL: session_release(ss); return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

int ow_http_init(ow_http *h, const char *web_root, ow_live *live, const ow_redis_sub *redis,
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
    h->start_mono_ms = start_mono_ms;
    return OW_OK;
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
