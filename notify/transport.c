#include "transport.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "log.h"

#define RESPONSE_KEEP 4096 /* bytes of an answer kept, for errcode and error messages */

struct ow_attempt {
    ow_transport *t;
    ow_attempt *next;
    ow_rx_type type;
    char host[256], path[OW_URL_BUF], id[128];
    int port;
    bool tls;
    char *body;
    size_t blen;
    ow_transport_done_fn *done;
    void *arg;
    bool finished; /* done was called (or must never be: closing) */
    /* what is still open; the attempt is freed when all are false */
    bool timer_open, gai_open, wsi_open, proc_open, pipe_open;
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    struct lws *wsi;
    int status;
    ow_buf resp;
    /* exec */
    uv_process_t proc;
    uv_pipe_t pipe;
    uv_write_t wreq;
    bool killed;
    /* a failure found while starting is reported from the loop, like every other outcome */
    uv_idle_t idle;
    bool idle_open;
    char pending_error[256];
};

void ow_transport_init(ow_transport *t, uv_loop_t *loop)
{
    memset(t, 0, sizeof *t);
    t->loop = loop;
}

void ow_transport_attach(ow_transport *t, struct lws_context *ctx, struct lws_vhost *vhost)
{
    t->ctx = ctx;
    t->vhost = vhost;
}

static void maybe_free(ow_attempt *a)
{
    if (a->timer_open || a->gai_open || a->wsi_open || a->proc_open || a->pipe_open || a->idle_open)
        return;
    ow_transport *t = a->t;
    for (ow_attempt **p = &t->head; *p; p = &(*p)->next)
        if (*p == a) {
            *p = a->next;
            break;
        }
    ow_buf_fini(&a->resp);
    free(a->body);
    free(a);
}

static void on_timer_closed(uv_handle_t *h)
{
    ow_attempt *a = h->data;
    a->timer_open = false;
    maybe_free(a);
}

static void on_idle_closed(uv_handle_t *h)
{
    ow_attempt *a = h->data;
    a->idle_open = false;
    maybe_free(a);
}

/* Report the outcome once, and let go of what is still running. */
static void finish(ow_attempt *a, bool ok, bool retryable, int status, const char *error)
{
    if (a->finished) return;
    a->finished = true;
    if (a->timer_open && !uv_is_closing((uv_handle_t *)&a->timer))
        uv_close((uv_handle_t *)&a->timer, on_timer_closed);
    if (a->gai_open) uv_cancel((uv_req_t *)&a->gai);
    if (a->wsi) lws_set_timeout(a->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    if (a->proc_open && !a->killed) uv_process_kill(&a->proc, SIGKILL), a->killed = true;
    if (!a->t->closing) a->done(a->arg, ok, retryable, status, error);
}

static void on_timeout(uv_timer_t *h)
{
    ow_attempt *a = h->data;
    char msg[96];
    snprintf(msg, sizeof msg, "no answer within the timeout (%s)",
             a->type == OW_RX_EXEC ? "program killed" : "connection dropped");
    finish(a, false, true, 0, msg);
}

static void on_idle(uv_idle_t *h)
{
    ow_attempt *a = h->data;
    uv_close((uv_handle_t *)h, on_idle_closed);
    finish(a, false, false, 0, a->pending_error);
}

/* Fail from inside ow_transport_start: reported on the next loop turn. */
static int fail_later(ow_attempt *a, const char *what, const char *detail)
{
    snprintf(a->pending_error, sizeof a->pending_error, "%s%s%s", what, detail ? ": " : "",
             detail ? detail : "");
    uv_idle_init(a->t->loop, &a->idle);
    a->idle.data = a;
    a->idle_open = true;
    uv_idle_start(&a->idle, on_idle);
    return -1;
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

static bool parse_url(ow_attempt *a, const char *url)
{
    a->tls = strncmp(url, "https://", 8) == 0;
    const char *h = url + (a->tls ? 8 : 7);
    size_t hl = strcspn(h, "/?#");
    const char *path = h + hl;
    char hostport[300];
    if (hl == 0 || hl >= sizeof hostport) return false;
    memcpy(hostport, h, hl);
    hostport[hl] = '\0';
    a->port = a->tls ? 443 : 80;
    char *colon = hostport[0] == '[' ? strstr(hostport, "]:") : strrchr(hostport, ':');
    if (colon) {
        if (*colon == ']') colon++;
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (*end || p <= 0 || p > 65535) return false;
        a->port = (int)p;
        *colon = '\0';
    }
    const char *host = hostport;
    size_t l = strlen(host);
    if (host[0] == '[' && l > 2 && host[l - 1] == ']') host++, l -= 2; /* IPv6 literal */
    if (l >= sizeof a->host) return false;
    memcpy(a->host, host, l);
    a->host[l] = '\0';
    snprintf(a->path, sizeof a->path, "%s", *path == '/' ? path : "/");
    if (*path == '?') snprintf(a->path, sizeof a->path, "/%s", path);
    return true;
}

static void connect_ip(ow_attempt *a, const char *ip)
{
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = a->t->ctx;
    ci.vhost = a->t->vhost;
    ci.address = ip;
    ci.port = a->port;
    ci.ssl_connection = a->tls ? LCCSCF_USE_SSL : 0;
    ci.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    ci.path = a->path;
    ci.host = a->host; /* Host header and TLS server name: the name, not the address */
    ci.origin = a->host;
    ci.method = "POST";
    ci.local_protocol_name = OW_NOTIFY_CLIENT_PROTOCOL;
    ci.alpn = "http/1.1";
    ci.userdata = a;
    ci.pwsi = &a->wsi;
    a->wsi_open = true;
    if (!lws_client_connect_via_info(&ci)) {
        /* lws may already have reported CONNECTION_ERROR (and cleared wsi_open) */
        a->wsi = NULL;
        a->wsi_open = false;
        finish(a, false, true, 0, "cannot open the connection");
        maybe_free(a);
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    ow_attempt *a = req->data;
    a->gai_open = false;
    char ip[INET6_ADDRSTRLEN] = "";
    if (status == 0 && res) {
        if (res->ai_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)res->ai_addr, ip, sizeof ip);
        else
            uv_ip4_name((struct sockaddr_in *)res->ai_addr, ip, sizeof ip);
    }
    uv_freeaddrinfo(res);
    if (a->finished || a->t->closing) {
        maybe_free(a);
        return;
    }
    if (status || !ip[0]) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot resolve %s: %s", a->host,
                 status ? uv_strerror(status) : "no address");
        finish(a, false, true, 0, msg);
        maybe_free(a);
        return;
    }
    connect_ip(a, ip);
}

/* DingTalk and WeCom answer 200 with {"errcode":N,"errmsg":"..."}: 0 is success. */
static void robot_verdict(ow_attempt *a, bool *ok, bool *retryable, char *msg, size_t n)
{
    *ok = true;
    if (a->type != OW_RX_DINGTALK && a->type != OW_RX_WECOM) return;
    cJSON *root = a->resp.p ? ow_json_parse(a->resp.p, a->resp.n, 8, NULL) : NULL;
    int64_t code = -1;
    const cJSON *em = ow_json_get(root, "errmsg");
    if (!ow_json_int(ow_json_get(root, "errcode"), INT32_MIN, INT32_MAX, &code)) code = -1;
    if (code != 0) {
        *ok = false;
        /* 130101 (DingTalk: too many messages) and 45009 (WeCom: API limit) are worth a retry */
        *retryable = code == 130101 || code == 45009 || code == -1;
        snprintf(msg, n, "robot answered errcode %lld%s%s", (long long)code, em ? ": " : "",
                 cJSON_IsString(em) ? em->valuestring : "");
    }
    cJSON_Delete(root);
}

static void http_completed(ow_attempt *a)
{
    char msg[300] = "";
    bool ok = a->status >= 200 && a->status < 300, retryable = true;
    if (ok) {
        robot_verdict(a, &ok, &retryable, msg, sizeof msg);
    } else {
        retryable = a->status == 408 || a->status == 429 || a->status >= 500;
        snprintf(msg, sizeof msg, "HTTP %d%s%.200s", a->status, a->resp.n ? ": " : "",
                 a->resp.p ? a->resp.p : "");
    }
    finish(a, ok, retryable, a->status, msg);
}

static int client_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    ow_attempt *a = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = in, *end = *p + len;
        char clen[24];
        snprintf(clen, sizeof clen, "%zu", a->blen);
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                         (const unsigned char *)"application/json", 16, p, end) ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                         (const unsigned char *)clen, (int)strlen(clen), p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"x-opswall-notification-id:",
                                        (const unsigned char *)a->id, (int)strlen(a->id), p, end))
            return -1;
        lws_client_http_body_pending(wsi, 1);
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
        unsigned char *buf = malloc(LWS_PRE + a->blen);
        if (!buf) return -1;
        memcpy(buf + LWS_PRE, a->body, a->blen);
        int n = lws_write(wsi, buf + LWS_PRE, a->blen, LWS_WRITE_HTTP_FINAL);
        free(buf);
        if (n < 0) return -1;
        lws_client_http_body_pending(wsi, 0);
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        a->status = (int)lws_http_client_http_response(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buf[LWS_PRE + 4096], *px = buf + LWS_PRE;
        int lenx = (int)sizeof buf - LWS_PRE;
        return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (a && a->resp.n + len <= RESPONSE_KEEP) ow_buf_put(&a->resp, in, len);
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        if (a) http_completed(a);
        return -1; /* one request per connection: close it */
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (a) {
            char msg[300];
            snprintf(msg, sizeof msg, "connection failed: %s", in ? (const char *)in : "no detail");
            finish(a, false, true, 0, msg);
            a->wsi = NULL;
            a->wsi_open = false;
            maybe_free(a);
        }
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (a) {
            if (a->status && !a->finished) http_completed(a);
            finish(a, false, true, a->status, "the connection closed before a complete answer");
            a->wsi = NULL;
            a->wsi_open = false;
            maybe_free(a);
        }
        return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

struct lws_protocols ow_transport_protocol(ow_transport *t)
{
    struct lws_protocols p;
    memset(&p, 0, sizeof p);
    p.name = OW_NOTIFY_CLIENT_PROTOCOL;
    p.callback = client_callback;
    p.per_session_data_size = 0; /* the attempt is the user data */
    p.user = t;
    return p;
}

/* ---- exec ------------------------------------------------------------------------------------ */

static void on_proc_closed(uv_handle_t *h)
{
    ow_attempt *a = h->data;
    a->proc_open = false;
    maybe_free(a);
}

static void on_pipe_closed(uv_handle_t *h)
{
    ow_attempt *a = h->data;
    a->pipe_open = false;
    maybe_free(a);
}

static void on_written(uv_write_t *req, int status)
{
    ow_attempt *a = req->data;
    (void)status; /* a program that does not read its stdin is its own business */
    if (!uv_is_closing((uv_handle_t *)&a->pipe)) uv_close((uv_handle_t *)&a->pipe, on_pipe_closed);
}

static void on_proc_exit(uv_process_t *p, int64_t exit_status, int term_signal)
{
    ow_attempt *a = p->data;
    char msg[96];
    if (term_signal)
        snprintf(msg, sizeof msg, "%s (signal %d)", a->killed ? "killed" : "died", term_signal);
    else
        snprintf(msg, sizeof msg, "exit status %d", (int)exit_status);
    int status = term_signal ? 128 + term_signal : (int)exit_status;
    finish(a, !term_signal && exit_status == 0, true, status, msg);
    uv_close((uv_handle_t *)p, on_proc_closed);
}

static int start_exec(ow_attempt *a, const ow_receiver *rx)
{
    uv_loop_t *loop = a->t->loop;
    uv_pipe_init(loop, &a->pipe, 0);
    a->pipe.data = a;
    a->pipe_open = true;
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&a->pipe;
    stdio[1].flags = UV_IGNORE;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    uv_process_options_t opt;
    memset(&opt, 0, sizeof opt);
    /* a small fixed environment: the program gets the alert on stdin, not opswall's settings
     * (OPSWALL_REDIS_URL may hold a password) */
    static char *const env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", NULL};
    opt.file = rx->argv[0];
    opt.args = (char **)rx->argv;
    opt.env = (char **)env;
    opt.exit_cb = on_proc_exit;
    opt.stdio_count = 3;
    opt.stdio = stdio;
    a->proc.data = a;
    int rc = uv_spawn(loop, &a->proc, &opt);
    a->proc_open = true;
    if (rc) {
        a->killed = true;
        uv_close((uv_handle_t *)&a->proc, on_proc_closed);
        uv_close((uv_handle_t *)&a->pipe, on_pipe_closed);
        return fail_later(a, "cannot start the program", uv_strerror(rc));
    }
    uv_buf_t buf = uv_buf_init(a->body, (unsigned)a->blen);
    a->wreq.data = a;
    if (uv_write(&a->wreq, (uv_stream_t *)&a->pipe, &buf, 1, on_written))
        uv_close((uv_handle_t *)&a->pipe, on_pipe_closed);
    return 0;
}

/* ---- start / close --------------------------------------------------------------------------- */

int ow_transport_start(ow_transport *t, const ow_receiver *rx, const char *id, const char *body,
                       ow_transport_done_fn *done, void *arg)
{
    ow_attempt *a = calloc(1, sizeof *a);
    if (!a) return -1;
    a->t = t;
    a->type = rx->type;
    a->done = done;
    a->arg = arg;
    a->blen = strlen(body);
    a->body = strdup(body);
    snprintf(a->id, sizeof a->id, "%s", id);
    ow_buf_init(&a->resp);
    a->next = t->head;
    t->head = a;
    uv_timer_init(t->loop, &a->timer);
    a->timer.data = a;
    a->timer_open = true;
    uv_timer_start(&a->timer, on_timeout, (uint64_t)rx->timeout_ms, 0);
    if (!a->body) return fail_later(a, "out of memory", NULL);
    if (rx->type == OW_RX_EXEC) return start_exec(a, rx);
    if (!parse_url(a, rx->url)) return fail_later(a, "bad URL", NULL);
    if (!t->ctx) return fail_later(a, "no HTTP client", NULL);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    a->gai.data = a;
    int rc = uv_getaddrinfo(t->loop, &a->gai, on_resolved, a->host, NULL, &hints);
    if (rc) return fail_later(a, "cannot resolve", uv_strerror(rc));
    a->gai_open = true;
    return 0;
}

void ow_transport_close(ow_transport *t)
{
    t->closing = true;
    for (ow_attempt *a = t->head; a; a = a->next) {
        finish(a, false, false, 0, "stopping");
        if (a->idle_open && !uv_is_closing((uv_handle_t *)&a->idle))
            uv_close((uv_handle_t *)&a->idle, on_idle_closed);
    }
}
