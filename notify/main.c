/*
 * opswall-notify — escalation delivery (DESIGN §7): the engine's alerts to the people and systems
 * who must act, grouped, paced, retried, recorded.
 *
 *   opswall-notify [--config PATH] [--port N] [--check]
 *
 * One libuv loop carries everything (STYLE.md practice 7): a tick every notify.poll reads the
 * alert streams through a consumer group (store.c), hands alerts and their resolves/acks to the
 * groups (groups.c, pure), saves what changed and the new sends in one Redis transaction together
 * with the XACKs, then starts the sends the outbox (outbox.c, pure) allows — each receiver paced,
 * one attempt in flight per receiver — through transport.c (lws client, exec). The HTTP API
 * (api.c: silences, notification records) is an lws server vhost on the same loop.
 *
 * The write-ahead rule, which makes a restart (even kill -9) safe: a send's record is in Redis as
 * QUEUED together with the group state that decided it, and as SENDING before its request leaves;
 * the entries of the alert streams are acknowledged in the same transaction as their effect.
 * docs/delivery.md states the resulting guarantee.
 *
 * --check loads and validates both configuration files and exits (0 = valid). --port overrides
 * notify.port (0 = any free port); the first line on stdout is "api: http://HOST:PORT/".
 * A lost Redis connection stops the program (status 1): opswall-run restarts it and the consumer
 * group and saved state resume where it stopped. SIGINT/SIGTERM first let the attempts in flight
 * finish (at most DRAIN_MS) so their outcome is recorded; a second signal stops at once.
 */
#include <errno.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "api.h"
#include "clock.h"
#include "config.h"
#include "files.h"
#include "groups.h"
#include "jsonw.h"
#include "keys.h"
#include "log.h"
#include "nconfig.h"
#include "outbox.h"
#include "redis.h"
#include "silence.h"
#include "store.h"
#include "transport.h"

#define READ_COUNT      500  /* stream entries per XREADGROUP */
#define READ_ROUNDS_MAX 40   /* alert batches per tick before changes are applied anyway */
#define DRAIN_MS        5000 /* on SIGTERM, how long attempts in flight may finish */

typedef struct app {
    ow_config cfg;
    ow_nconfig *ncfg;
    ow_redis_env env;
    bool env_open;
    ow_store store;
    ow_groups *groups;
    ow_outbox *outbox;
    ow_silence **sil;
    int nsil;
    uint64_t silence_seq;
    uv_loop_t loop;
    uv_timer_t tick, drain;
    uv_signal_t sigint, sigterm;
    struct lws_context *ctx;
    ow_transport tr;
    ow_api api;
    struct lws_protocols protocols[3]; /* lws points at this list until the context is gone */
    bool stopping, draining;
    int exit_code;
    int64_t start_mono;
    uint64_t entries, bad_entries;
    /* XACKs of the tick being processed */
    char (*acks)[2][64];
    int nacks, capacks;
} app;

typedef struct args {
    const char *config;
    long port;
    bool check;
} args;

static void app_stop(app *a, const char *why, int code);

/* ---- reading the streams --------------------------------------------------------------------- */

static void ack_later(app *a, const char *stream, const char *id)
{
    if (a->nacks == a->capacks) {
        int cap = a->capacks ? a->capacks * 2 : 256;
        void *v = realloc(a->acks, (size_t)cap * sizeof *a->acks);
        if (!v) return; /* left pending: delivered again after a restart, and ignored then */
        a->acks = v;
        a->capacks = cap;
    }
    snprintf(a->acks[a->nacks][0], 64, "%s", stream);
    snprintf(a->acks[a->nacks][1], 64, "%s", id);
    a->nacks++;
}

static void on_alert_entry(const char *entry, const char *d, size_t len, void *arg)
{
    app *a = arg;
    ow_nalert *al = NULL;
    ow_err err;
    a->entries++;
    ack_later(a, OW_KEY_ALERTS, entry);
    if (!d || ow_nalert_parse(d, len, &al, &err)) {
        a->bad_entries++;
        ow_warn("%s entry %s skipped: %s", OW_KEY_ALERTS, entry, d ? err.msg : "no field d");
        return;
    }
    if (ow_groups_add(a->groups, al, ow_clock_wall_ms())) app_stop(a, "out of memory", 1);
}

typedef struct changes {
    app *a;
    ow_nchange *v;
    int n, cap;
} changes;

static void on_change_entry(const char *entry, const char *d, size_t len, void *arg)
{
    changes *c = arg;
    ow_err err;
    c->a->entries++;
    ack_later(c->a, OW_KEY_ALERT_CHANGES, entry);
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 64;
        ow_nchange *v = realloc(c->v, (size_t)cap * sizeof *v);
        if (!v) return;
        c->v = v;
        c->cap = cap;
    }
    if (!d || ow_nchange_parse(d, len, &c->v[c->n], &err)) {
        c->a->bad_entries++;
        ow_warn("%s entry %s skipped: %s", OW_KEY_ALERT_CHANGES, entry, d ? err.msg : "no d");
        return;
    }
    c->n++;
}

/* Changes are read first and applied after the alerts read since: the engine writes an alert
 * before its resolve, so every change read here names an alert that is in by then. */
static int read_streams(app *a, const char *from, ow_err *err)
{
    changes ch = {.a = a};
    int got = 0, rc = ow_store_read(&a->store, OW_KEY_ALERT_CHANGES, from, READ_COUNT,
                                    on_change_entry, &ch, &got, err);
    for (int round = 0; !rc && round < READ_ROUNDS_MAX; round++) {
        rc =
            ow_store_read(&a->store, OW_KEY_ALERTS, from, READ_COUNT, on_alert_entry, a, &got, err);
        /* "0" (pending entries) returns the same first ones until they are acknowledged at the
         * end of the pass: one batch per pass there */
        if (got < READ_COUNT || from[0] != '>') break;
    }
    int64_t now = ow_clock_wall_ms();
    for (int i = 0; !rc && i < ch.n; i++)
        if (ow_groups_change(a->groups, &ch.v[i], now)) rc = ow_err_set(err, OW_ENOMEM, "oom");
    free(ch.v);
    return rc;
}

/* ---- sending --------------------------------------------------------------------------------- */

static void save(app *a, const ow_send *s)
{
    ow_err err;
    if (ow_store_save_send(&a->store, a->outbox, s, &err)) {
        ow_error("%s", err.msg);
        app_stop(a, "Redis failed", 1);
    }
}

static void log_outcome(const app *a, const ow_send *s)
{
    const char *rx = a->ncfg->receivers[s->n.receiver].name;
    if (s->state == OW_SEND_DELIVERED)
        ow_info("notification %s to %s delivered (attempt %d, %d alerts)", s->n.id, rx, s->attempts,
                s->n.count);
    else if (s->state == OW_SEND_RETRY)
        ow_warn("notification %s to %s: attempt %d failed (%s); retrying", s->n.id, rx, s->attempts,
                s->last_error);
    else
        ow_error("notification %s to %s: dead letter after %d attempts: %s", s->n.id, rx,
                 s->attempts, s->last_error);
}

typedef struct inflight {
    app *a;
    ow_send *s;
} inflight;

static void start_sends(app *a);

static void on_done(void *arg, bool ok, bool retryable, int status, const char *error)
{
    inflight *f = arg;
    app *a = f->a;
    ow_send *s = f->s;
    free(f);
    ow_outbox_done(a->outbox, s, ok, retryable, status, error, ow_clock_wall_ms());
    log_outcome(a, s);
    if (!a->stopping) save(a, s);
    if (!a->stopping && !a->draining) start_sends(a);
    if (a->draining && !a->stopping && ow_outbox_stats_get(a->outbox).in_flight == 0)
        app_stop(a, "every attempt in flight has its outcome", 0);
}

static void start_sends(app *a)
{
    ow_send *s;
    while (!a->stopping && (s = ow_outbox_start(a->outbox, ow_clock_wall_ms()))) {
        const ow_receiver *rx = &a->ncfg->receivers[s->n.receiver];
        save(a, s); /* SENDING is stored before anything leaves */
        if (a->stopping) return;
        if (rx->type == OW_RX_STREAM) {
            ow_err err;
            int rc = ow_store_notify_stream(&a->store, s, &err);
            ow_outbox_done(a->outbox, s, rc == 0, true, 0, rc ? err.msg : NULL, ow_clock_wall_ms());
            log_outcome(a, s);
            save(a, s);
            continue;
        }
        inflight *f = malloc(sizeof *f);
        if (!f) {
            app_stop(a, "out of memory", 1);
            return;
        }
        *f = (inflight){a, s};
        ow_transport_start(&a->tr, rx, s->n.id, s->n.body, on_done, f);
    }
}

/* ---- the tick -------------------------------------------------------------------------------- */

static void prune_silences(app *a, int64_t now)
{
    int k = 0;
    for (int i = 0; i < a->nsil; i++) {
        if (a->sil[i]->ends_ms > now) {
            a->sil[k++] = a->sil[i];
            continue;
        }
        ow_info("silence %s (%s) ended", a->sil[i]->id, a->sil[i]->comment);
        ow_store_silence_del(&a->store, a->sil[i]->id, NULL);
        ow_silence_free(a->sil[i]);
    }
    a->nsil = k;
}

/* One pass: read, decide, save (one transaction), send. */
static int step(app *a, const char *from, int *read_out, ow_err *err)
{
    a->nacks = 0;
    uint64_t before = a->entries;
    int rc = read_streams(a, from, err);
    if (read_out) *read_out = (int)(a->entries - before);
    if (rc) return rc;
    int64_t now = ow_clock_wall_ms();
    prune_silences(a, now);
    ow_notice *nv = NULL;
    int nn = 0;
    rc = ow_groups_flush(a->groups, now, a->sil, a->nsil, &nv, &nn);
    ow_store_begin(&a->store);
    if (!rc) rc = ow_groups_take_dirty(a->groups, ow_store_dirty, &a->store);
    for (int i = 0; i < nn; i++) {
        ow_send *s = rc ? NULL : ow_outbox_add(a->outbox, &nv[i], now);
        if (s)
            ow_store_put_send(&a->store, a->outbox, s);
        else
            rc = OW_ENOMEM;
        ow_notice_fini(&nv[i]);
    }
    free(nv);
    ow_outbox_trim(a->outbox, ow_store_drop_send, &a->store);
    for (int i = 0; i < a->nacks; i++)
        ow_store_ack(&a->store, a->acks[i][0], a->acks[i][1]);
    int crc = ow_store_commit(&a->store, err);
    if (rc) return ow_err_set(err, rc, "out of memory");
    return crc;
}

static void on_tick(uv_timer_t *t)
{
    app *a = t->data;
    ow_err err;
    if (a->stopping) return;
    if (step(a, ">", NULL, &err)) {
        ow_error("%s", err.msg);
        app_stop(a, "Redis failed", 1);
        return;
    }
    start_sends(a);
}

/* After a restart: this consumer's pending entries (read, not acknowledged) first. */
static int recover(app *a, ow_err *err)
{
    int got = 1, rc = OW_OK;
    for (int round = 0; got > 0 && !rc && round < 10000; round++)
        rc = step(a, "0", &got, err);
    return rc;
}

/* ---- the API's operations -------------------------------------------------------------------- */

static char *api_list_silences(void *arg)
{
    app *a = arg;
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_raw(&w, "[");
    for (int i = 0; i < a->nsil; i++) {
        char *s = ow_silence_format(a->sil[i]);
        if (!s) {
            ow_jsonw_fini(&w);
            return NULL;
        }
        if (i) ow_jsonw_raw(&w, ",");
        ow_jsonw_raw(&w, s);
        free(s);
    }
    ow_jsonw_raw(&w, "]");
    return ow_jsonw_take(&w);
}

static int api_create_silence(void *arg, const char *body, size_t len, const char *by, char **out,
                              ow_err *err)
{
    app *a = arg;
    *out = NULL;
    if (a->nsil >= OW_SILENCES_MAX)
        return ow_err_set(err, OW_EINVAL, "too many silences (at most %d)", OW_SILENCES_MAX);
    char id[OW_SILENCE_ID_BUF];
    int64_t now = ow_clock_wall_ms();
    snprintf(id, sizeof id, "s-%lld-%llu", (long long)now, (unsigned long long)++a->silence_seq);
    ow_silence *s = NULL;
    int rc = ow_silence_parse(body, len, id, by, now, &s, err);
    if (rc) return rc;
    ow_silence **v = realloc(a->sil, (size_t)(a->nsil + 1) * sizeof *v);
    char *json = ow_silence_format(s);
    if (!v || !json) {
        if (v) a->sil = v;
        free(json);
        ow_silence_free(s);
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    }
    a->sil = v;
    if ((rc = ow_store_silence_put(&a->store, id, json, err))) {
        free(json);
        ow_silence_free(s);
        return rc;
    }
    a->sil[a->nsil++] = s;
    *out = json;
    return OW_OK;
}

static int api_delete_silence(void *arg, const char *id, const char *by, ow_err *err)
{
    app *a = arg;
    for (int i = 0; i < a->nsil; i++) {
        if (strcmp(a->sil[i]->id, id)) continue;
        int rc = ow_store_silence_del(&a->store, id, err);
        if (rc) return rc;
        ow_info("silence %s removed by %s", id, by);
        ow_silence_free(a->sil[i]);
        memmove(&a->sil[i], &a->sil[i + 1], (size_t)(a->nsil - i - 1) * sizeof *a->sil);
        a->nsil--;
        return OW_OK;
    }
    return ow_err_set(err, OW_ENOTFOUND, "no silence %.60s", id);
}

typedef struct list_ctx {
    const app *a;
    ow_jsonw *w;
    int n;
    bool oom;
} list_ctx;

static bool add_record(const ow_send *s, void *arg)
{
    list_ctx *l = arg;
    char *rec = ow_send_format(l->a->outbox, s);
    if (!rec) {
        l->oom = true;
        return false;
    }
    if (l->n++) ow_jsonw_raw(l->w, ",");
    ow_jsonw_raw(l->w, rec);
    free(rec);
    return true;
}

static char *api_list_notifications(void *arg, int64_t since_ms)
{
    app *a = arg;
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_raw(&w, "[");
    list_ctx l = {a, &w, 0, false};
    ow_outbox_each(a->outbox, since_ms, add_record, &l);
    ow_jsonw_raw(&w, "]");
    if (l.oom) {
        ow_jsonw_fini(&w);
        return NULL;
    }
    return ow_jsonw_take(&w);
}

static char *api_health(void *arg, int *status)
{
    app *a = arg;
    ow_groups_stats gs = ow_groups_stats_get(a->groups);
    ow_outbox_stats os = ow_outbox_stats_get(a->outbox);
    *status = 200;
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "status");
    ow_jsonw_str(&w, "ok");
    ow_jsonw_key(&w, "entries");
    ow_jsonw_int(&w, (int64_t)a->entries);
    ow_jsonw_key(&w, "bad_entries");
    ow_jsonw_int(&w, (int64_t)a->bad_entries);
    ow_jsonw_key(&w, "alerts");
    ow_jsonw_int(&w, gs.alerts);
    ow_jsonw_key(&w, "groups");
    ow_jsonw_int(&w, gs.groups);
    ow_jsonw_key(&w, "silences");
    ow_jsonw_int(&w, a->nsil);
    ow_jsonw_key(&w, "waiting");
    ow_jsonw_int(&w, os.waiting);
    ow_jsonw_key(&w, "in_flight");
    ow_jsonw_int(&w, os.in_flight);
    ow_jsonw_key(&w, "delivered");
    ow_jsonw_int(&w, (int64_t)os.delivered);
    ow_jsonw_key(&w, "retries");
    ow_jsonw_int(&w, (int64_t)os.retries);
    ow_jsonw_key(&w, "dead");
    ow_jsonw_int(&w, (int64_t)(os.dead + os.unknown));
    ow_jsonw_key(&w, "uptime_ms");
    ow_jsonw_int(&w, ow_clock_mono_ms() - a->start_mono);
    ow_jsonw_close(&w);
    return ow_jsonw_take(&w);
}

static const ow_api_ops api_ops = {api_list_silences, api_create_silence, api_delete_silence,
                                   api_list_notifications, api_health};

/* ---- set-up and tear-down -------------------------------------------------------------------- */

static void on_silence_loaded(const char *json, size_t len, void *arg)
{
    app *a = arg;
    ow_silence *s = NULL;
    ow_err err;
    ow_silence **v = realloc(a->sil, (size_t)(a->nsil + 1) * sizeof *v);
    if (!v) return;
    a->sil = v;
    if (ow_silence_load(json, len, &s, &err)) {
        ow_warn("a stored silence could not be read: %s", err.msg);
        return;
    }
    a->sil[a->nsil++] = s;
}

static void app_stop(app *a, const char *why, int code)
{
    if (a->stopping) return;
    a->stopping = true;
    if (code) a->exit_code = code;
    ow_info("stopping (%s)", why);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->tick, NULL);
    uv_close((uv_handle_t *)&a->drain, NULL);
    ow_transport_close(&a->tr);
    if (a->ctx) lws_context_destroy(a->ctx); /* stage 1 on a foreign loop */
}

static void on_drain_timeout(uv_timer_t *t)
{
    app_stop(t->data, "attempts still in flight after the drain time: their outcome is unknown", 0);
}

/* A stop request first lets the attempts in flight finish (at most DRAIN_MS), so their outcome is
 * recorded rather than left "sending" (which a restart would have to call unknown); nothing new
 * is read or started meanwhile. A second request stops at once. */
static void on_signal(uv_signal_t *h, int signum)
{
    app *a = h->data;
    const char *why = signum == SIGINT ? "SIGINT" : "SIGTERM";
    int in_flight = ow_outbox_stats_get(a->outbox).in_flight;
    if (a->draining || in_flight == 0) {
        app_stop(a, why, 0);
        return;
    }
    a->draining = true;
    uv_timer_stop(&a->tick);
    uv_timer_start(&a->drain, on_drain_timeout, DRAIN_MS, 0);
    ow_info("%s: waiting up to %d ms for %d attempts in flight", why, DRAIN_MS, in_flight);
}

static void lws_log_line(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    ow_log(level & LLL_ERR ? OW_LOG_ERROR : OW_LOG_WARN, "lws: %.*s", (int)n, line);
}

static int server_start(app *a, int port)
{
    a->protocols[0] = ow_api_protocol(&a->api);
    a->protocols[1] = ow_transport_protocol(&a->tr);
    memset(&a->protocols[2], 0, sizeof a->protocols[2]);
    void *foreign_loops[1] = {&a->loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = foreign_loops;
    info.pcontext = &a->ctx;
    info.port = CONTEXT_PORT_NO_LISTEN;
    a->ctx = lws_create_context(&info);
    if (!a->ctx) {
        ow_error("cannot create the HTTP server/client (libwebsockets); is the package "
                 "libwebsockets-evlib-uv installed?");
        return -1;
    }
    /* https receivers: the system's CA certificates (OpenSSL's default paths), or notify.ca_file
     * instead (an internal CA). The vhost's client TLS context is made with the vhost. */
    char ca[PATH_MAX] = "";
    if (a->cfg.notify.ca_file[0]) ow_config_path(&a->cfg, a->cfg.notify.ca_file, ca, sizeof ca);
    struct lws_context_creation_info vinfo;
    memset(&vinfo, 0, sizeof vinfo);
    vinfo.client_ssl_ca_filepath = ca[0] ? ca : NULL;
    vinfo.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    vinfo.port = port;
    vinfo.iface = strcmp(a->cfg.notify.listen, "0.0.0.0") ? a->cfg.notify.listen : NULL;
    vinfo.protocols = a->protocols;
    vinfo.vhost_name = "opswall-notify";
    struct lws_vhost *vh = lws_create_vhost(a->ctx, &vinfo);
    if (!vh) {
        ow_error("cannot listen on %s:%d: the port is in use or not allowed; pick another with "
                 "--port N (0 = any free port) or notify.port",
                 a->cfg.notify.listen, port);
        return -1;
    }
    ow_transport_attach(&a->tr, a->ctx, vh);
    printf("api: http://%s:%d/\n", vinfo.iface ? vinfo.iface : "127.0.0.1",
           lws_get_vhost_listen_port(vh));
    fflush(stdout);
    return 0;
}

static int load_nconfig(app *a, ow_err *err)
{
    char path[PATH_MAX];
    ow_config_path(&a->cfg, a->cfg.notify.config, path, sizeof path);
    char *text = NULL;
    size_t len = 0;
    int rc = ow_file_read(path, OW_NCONFIG_MAX_BYTES, &text, &len, err);
    if (rc) {
        ow_err_prefix(err, "notify.config");
        return rc;
    }
    rc = ow_nconfig_parse(text, len, path, &a->ncfg, err);
    free(text);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: opswall-notify [--config PATH] [--port N] [--check]\n"
                 "  --config PATH  configuration file (default: config/opswall.json)\n"
                 "  --port N       API port, overrides notify.port; 0 picks a free port\n"
                 "  --check        validate the configuration (and notify.config) and exit\n");
}

static int parse_args(int argc, char **argv, args *a)
{
    a->config = NULL;
    a->port = -1;
    a->check = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(arg, "--check")) {
            a->check = true;
            continue;
        }
        if ((!strcmp(arg, "--config") || !strcmp(arg, "--port")) && i + 1 >= argc) {
            fprintf(stderr, "opswall-notify: %s needs a value\n", arg);
            return -1;
        }
        if (!strcmp(arg, "--config")) {
            a->config = argv[++i];
        } else if (!strcmp(arg, "--port")) {
            char *end;
            errno = 0;
            a->port = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || a->port < 0 || a->port > 65535) {
                fprintf(stderr, "opswall-notify: --port: expected 0..65535, got \"%s\"\n", argv[i]);
                return -1;
            }
        } else {
            fprintf(stderr, "opswall-notify: unknown argument \"%s\"\n", arg);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

static void log_open_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    ow_error("handle still open at exit: %s", uv_handle_type_name(uv_handle_get_type(h)));
}

static void app_fini(app *a)
{
    ow_groups_free(a->groups);
    ow_outbox_free(a->outbox);
    for (int i = 0; i < a->nsil; i++)
        ow_silence_free(a->sil[i]);
    free(a->sil);
    free(a->acks);
    ow_store_close(&a->store);
    ow_nconfig_free(a->ncfg);
    if (a->env_open) ow_redis_env_close(&a->env);
}

int main(int argc, char **argv)
{
    args ar;
    int rc = parse_args(argc, argv, &ar);
    if (rc) return rc > 0 ? 0 : 2;
    ow_log_init("notify", OW_LOG_INFO);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
    signal(SIGPIPE, SIG_IGN);

    static app a; /* large (config tables); zeroed */
    ow_err err;
    if (ow_config_load(&a.cfg, ar.config, &err) || load_nconfig(&a, &err)) {
        ow_error("%s", err.msg);
        app_fini(&a);
        return 1;
    }
    if (ar.check) {
        printf("configuration valid: %d receivers, %d routes, %d inhibit rules\n",
               a.ncfg->nreceivers, a.ncfg->nroutes, a.ncfg->ninhibits);
        app_fini(&a);
        return 0;
    }
    a.start_mono = ow_clock_mono_ms();
    a.groups = ow_groups_new(a.ncfg);
    a.outbox = ow_outbox_new(a.ncfg, (uint64_t)ow_clock_mono_us() ^ (uint64_t)getpid() << 32,
                             (int)a.cfg.notify.log_keep);
    if (!a.groups || !a.outbox) {
        ow_error("out of memory");
        app_fini(&a);
        return 1;
    }
    if (ow_redis_env_open(&a.cfg, &a.env, &err)) {
        ow_error("%s", err.msg);
        app_fini(&a);
        return 1;
    }
    a.env_open = true;
    if (ow_store_open(&a.store, &a.env, a.cfg.notify.group, a.cfg.notify.consumer,
                      a.cfg.notify.stream_maxlen, &err) ||
        ow_store_load(&a.store, a.groups, a.outbox, on_silence_loaded, &a, &err) ||
        recover(&a, &err)) {
        ow_error("%s", err.msg);
        app_fini(&a);
        return 1;
    }
    ow_groups_stats gs = ow_groups_stats_get(a.groups);
    ow_info("resumed: %d open alerts in %d groups, %d silences; %d receivers, %d routes", gs.alerts,
            gs.groups, a.nsil, a.ncfg->nreceivers, a.ncfg->nroutes);
    if (a.cfg.access.n == 0)
        ow_warn("access.tokens is empty: the API at port %lld is open to anyone who can reach it",
                (long long)(ar.port >= 0 ? ar.port : a.cfg.notify.port));

    uv_loop_init(&a.loop);
    ow_transport_init(&a.tr, &a.loop);
    ow_api_init(&a.api, &a.cfg.access, &api_ops, &a);
    uv_signal_init(&a.loop, &a.sigint);
    uv_signal_init(&a.loop, &a.sigterm);
    a.sigint.data = a.sigterm.data = &a;
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_timer_init(&a.loop, &a.tick);
    uv_timer_init(&a.loop, &a.drain);
    a.tick.data = a.drain.data = &a;
    if (server_start(&a, ar.port >= 0 ? (int)ar.port : (int)a.cfg.notify.port))
        app_stop(&a, "start-up failed", 1);
    else
        uv_timer_start(&a.tick, on_tick, 0, (uint64_t)a.cfg.notify.poll_ms);
    uv_run(&a.loop, UV_RUN_DEFAULT);
    if (a.ctx) lws_context_destroy(a.ctx); /* stage 2 */
    uv_run(&a.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&a.loop) != 0) {
        uv_walk(&a.loop, log_open_handle, NULL);
        ow_error("the event loop did not close cleanly");
        if (!a.exit_code) a.exit_code = 1;
    }
    app_fini(&a);
    return a.exit_code;
}
