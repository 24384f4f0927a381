#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonw.h"
#include "log.h"
#include "timefmt.h"

#define URL_MAX     1024
#define WRITE_CHUNK (16 * 1024)

typedef enum { M_OTHER, M_GET, M_POST, M_DELETE } method;

typedef struct session {
    method m;
    char path[URL_MAX];
    char who[OW_TOKEN_NAME_BUF];
    ow_role role;
    ow_buf body; /* POST body being received */
    bool too_big;
    char *out; /* answer body being written */
    size_t off, len;
} session;

void ow_api_init(ow_api *api, const ow_access *access, const ow_api_ops *ops, void *app)
{
    api->access = access;
    api->ops = ops;
    api->app = app;
}

/* ---- answers --------------------------------------------------------------------------------- */

static int respond(struct lws *wsi, session *ss, unsigned status, char *json)
{
    if (!json) {
        status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
        json = strdup("{\"error\":\"out of memory\"}");
        if (!json) return -1;
    }
    size_t len = strlen(json);
    unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    if (lws_add_http_common_headers(wsi, status, "application/json", len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end)) {
        free(json);
        return -1;
    }
    free(ss->out);
    ss->out = json;
    ss->off = 0;
    ss->len = len;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_error(struct lws *wsi, session *ss, unsigned status, const char *msg)
{
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "error");
    ow_jsonw_str(&w, msg);
    ow_jsonw_close(&w);
    return respond(wsi, ss, status, ow_jsonw_take(&w));
}

static int write_more(struct lws *wsi, session *ss)
{
    if (!ss->out) return 0;
    size_t left = ss->len - ss->off, n = left < WRITE_CHUNK ? left : WRITE_CHUNK;
    bool last = n == left;
    unsigned char *buf = malloc(LWS_PRE + n + 1);
    if (!buf) return -1;
    memcpy(buf + LWS_PRE, ss->out + ss->off, n);
    int w = lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
    free(buf);
    if (w < 0) return -1;
    ss->off += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(ss->out);
    ss->out = NULL;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- requests -------------------------------------------------------------------------------- */

static void authenticate(const ow_api *api, struct lws *wsi, session *ss)
{
    ss->role = OW_ROLE_NONE;
    ss->who[0] = '\0';
    if (api->access->n == 0) { /* no tokens configured: an open, development set-up */
        ss->role = OW_ROLE_ADMIN;
        snprintf(ss->who, sizeof ss->who, "anonymous");
        return;
    }
    char hdr[OW_TOKEN_MAX_LEN + 64] = "", tok[OW_TOKEN_MAX_LEN + 1] = "";
    size_t tl = 0;
    if (lws_hdr_copy(wsi, hdr, (int)sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION) > 0)
        tl = ow_access_bearer(hdr, tok, sizeof tok);
    if (!tl) {
        char arg[OW_TOKEN_MAX_LEN + 16];
        const char *v = lws_get_urlarg_by_name(wsi, "token=", arg, (int)sizeof arg);
        if (v && strlen(v) <= OW_TOKEN_MAX_LEN) {
            snprintf(tok, sizeof tok, "%s", v);
            tl = strlen(tok);
        }
    }
    const char *name = NULL;
    ss->role = tl ? ow_access_check(api->access, tok, tl, &name) : OW_ROLE_NONE;
    if (name) snprintf(ss->who, sizeof ss->who, "%s", name);
}

/* 0 when allowed; otherwise the 401/403 answer was started. */
static int need(struct lws *wsi, session *ss, ow_role role, int *rc)
{
    if (ow_role_allows(ss->role, role)) return 0;
    if (ss->role == OW_ROLE_NONE)
        *rc = respond_error(wsi, ss, HTTP_STATUS_UNAUTHORIZED,
                            "unauthorised: send Authorization: Bearer <token>");
    else {
        char msg[128];
        snprintf(msg, sizeof msg, "forbidden: this needs the %s role", ow_role_name(role));
        *rc = respond_error(wsi, ss, HTTP_STATUS_FORBIDDEN, msg);
    }
    return -1;
}

static bool parse_since(const char *v, int64_t *out)
{
    char *end;
    long long ms = strtoll(v, &end, 10);
    if (*v && !*end) {
        *out = ms;
        return true;
    }
    return ow_time_parse(v, strlen(v), out, NULL) == OW_OK;
}

static const char silences_path[] = "/api/v1/silences";

static int route(ow_api *api, struct lws *wsi, session *ss)
{
    int rc = 0;
    const char *p = ss->path;
    size_t sl = sizeof silences_path - 1;
    if (strcmp(p, "/healthz") == 0) {
        int status = 200;
        char *h = api->ops->health(api->app, &status);
        return respond(wsi, ss, (unsigned)status, h);
    }
    if (strcmp(p, "/api/v1/notifications") == 0) {
        if (ss->m != M_GET) return respond_error(wsi, ss, 405, "method not allowed: use GET");
        if (need(wsi, ss, OW_ROLE_VIEWER, &rc)) return rc;
        char arg[128];
        int64_t since = INT64_MIN;
        const char *v = lws_get_urlarg_by_name(wsi, "since=", arg, (int)sizeof arg);
        if (v && !parse_since(v, &since))
            return respond_error(wsi, ss, HTTP_STATUS_BAD_REQUEST,
                                 "since: expected epoch milliseconds or an RFC 3339 time");
        return respond(wsi, ss, 200, api->ops->list_notifications(api->app, since));
    }
    if (strcmp(p, silences_path) == 0) {
        if (ss->m == M_GET) {
            if (need(wsi, ss, OW_ROLE_VIEWER, &rc)) return rc;
            return respond(wsi, ss, 200, api->ops->list_silences(api->app));
        }
        if (ss->m != M_POST) return respond_error(wsi, ss, 405, "method not allowed: GET or POST");
        if (need(wsi, ss, OW_ROLE_SUPERVISOR, &rc)) return rc;
        if (ss->too_big) return respond_error(wsi, ss, 413, "body too large: at most 16 KiB");
        char *out = NULL;
        ow_err err;
        int r = api->ops->create_silence(api->app, ss->body.p ? ss->body.p : "", ss->body.n,
                                         ss->who, &out, &err);
        if (r == OW_EINVAL || r == OW_ETOOBIG)
            return respond_error(wsi, ss, HTTP_STATUS_BAD_REQUEST, err.msg);
        if (r) return respond_error(wsi, ss, 503, err.msg);
        ow_info("silence created by %s", ss->who);
        return respond(wsi, ss, 201, out);
    }
    if (strncmp(p, silences_path, sl) == 0 && p[sl] == '/' && p[sl + 1]) {
        if (ss->m != M_DELETE) return respond_error(wsi, ss, 405, "method not allowed: DELETE");
        if (need(wsi, ss, OW_ROLE_SUPERVISOR, &rc)) return rc;
        ow_err err;
        int r = api->ops->delete_silence(api->app, p + sl + 1, ss->who, &err);
        if (r == OW_ENOTFOUND) return respond_error(wsi, ss, HTTP_STATUS_NOT_FOUND, err.msg);
        if (r) return respond_error(wsi, ss, 503, err.msg);
        ow_jsonw w;
        ow_jsonw_init(&w);
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "deleted");
        ow_jsonw_str(&w, p + sl + 1);
        ow_jsonw_close(&w);
        return respond(wsi, ss, 200, ow_jsonw_take(&w));
    }
    return respond_error(wsi, ss, HTTP_STATUS_NOT_FOUND, "not found: no such API endpoint");
}

static int on_http(ow_api *api, struct lws *wsi, session *ss, const char *in, size_t len)
{
    ss->m = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI)      ? M_GET
            : lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)   ? M_POST
            : lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI) ? M_DELETE
                                                              : M_OTHER;
    ow_buf_fini(&ss->body);
    ss->too_big = false;
    if (len >= sizeof ss->path || memchr(in, '\0', len)) {
        ss->path[0] = '\0';
        return respond_error(wsi, ss, HTTP_STATUS_BAD_REQUEST, "bad path");
    }
    memcpy(ss->path, in, len);
    ss->path[len] = '\0';
    authenticate(api, wsi, ss);
    if (ss->m == M_POST) return 0; /* answered once the body is in */
    if (ss->m == M_OTHER) return respond_error(wsi, ss, 405, "method not allowed");
    return route(api, wsi, ss);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    const struct lws_protocols *proto = lws_get_protocol(wsi);
    ow_api *api = proto ? proto->user : NULL;
    session *ss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: return on_http(api, wsi, ss, in, len);
    case LWS_CALLBACK_HTTP_BODY:
        if (ss->body.n + len > OW_API_BODY_MAX)
            ss->too_big = true;
        else
            ow_buf_put(&ss->body, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: return route(api, wsi, ss);
    case LWS_CALLBACK_HTTP_WRITEABLE: return write_more(wsi, ss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (ss) {
            free(ss->out);
            ss->out = NULL;
            ow_buf_fini(&ss->body);
        }
        return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

struct lws_protocols ow_api_protocol(ow_api *api)
{
    struct lws_protocols p;
    memset(&p, 0, sizeof p);
    p.name = OW_NOTIFY_API_PROTOCOL;
    p.callback = callback;
    p.per_session_data_size = sizeof(session);
    p.user = api;
    return p;
}
