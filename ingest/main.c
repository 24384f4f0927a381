/*
 * opswall-ingest — the front door: events from files, stdin, a TCP listener and HTTP, validated
 * by the event codec, de-duplicated and appended to Redis (ops:events); rejects go to ops:rejects
 * with reasons (docs/ingest.md).
 *
 *   opswall-ingest [--config PATH] [--speed S|max] [--from-line N] [--format F] [--quiet]
 *                  [--tcp PORT] [--http PORT] [FILE|-]...
 *   opswall-ingest [--config PATH] --csv MAPPING FILE [--ndjson | --speed N]   (csv_source.h)
 *
 * With no FILE and no listener it reads stdin. Files are read one after the other; with a
 * listener (--tcp/--http, or ingest.tcp.port/ingest.http.port) it keeps serving until SIGINT or
 * SIGTERM. Everything runs on one libuv loop (STYLE.md practice 7): the sources, the appender's
 * asynchronous Redis connection and the signal handlers.
 *
 * Exit status: 0 when every record read is in Redis, 1 when some were not (Redis stayed away past
 * the grace period on a stop, or a read failed; the log says where to resume), 2 on a usage or
 * configuration error.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "appender.h"
#include "clock.h"
#include "csv_source.h"
#include "event.h"
#include "file_source.h"
#include "files.h"
#include "functions.h"
#include "keys.h"
#include "log.h"
#include "redis.h"
#include "routing.h"
#include "signals.h"
#include "http_source.h"
#include "tcp_source.h"

#define MAX_FILES      256
#define DRAIN_CHECK_MS 20

typedef struct args {
    const char *config, *format;
    const char *files[MAX_FILES];
    int nfiles;
    ow_file_options fopt;
    long tcp_port, http_port; /* -1 = from the config */
} args;

typedef struct ingest {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_timer_t drain;
    const ow_config *cfg;
    args *a;
    ow_appender *app;
    ow_file_source *files[MAX_FILES];
    int nfiles, next_file;
    ow_file_source *cur; /* the file being read, or NULL */
    ow_tcp_source *tcp;
    ow_http_source *http;
    bool stopping, draining, closed, read_failed;
    int64_t drain_deadline_ms;
    ow_append_stats final; /* the appender's figures as it closed */
    bool files_complete;   /* every file read to its end and confirmed */
} ingest;

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: opswall-ingest [--config PATH] [--speed S|max] [--from-line N] [--format F]\n"
        "                      [--quiet] [--tcp PORT] [--http PORT] [FILE|-]...\n"
        "  Reads NDJSON events (DESIGN §3; plain or .gz) and appends them to Redis.\n"
        "  No FILE and no listener reads standard input; '-' is standard input.\n"
        "  --speed S       replay at S x the recorded pace (1 = as recorded); max = as fast\n"
        "                  as Redis takes them (the default)\n"
        "  --from-line N   skip the records before line N of each file (resume after a stop)\n"
        "  --format F      input format (%s); default: by extension, else NDJSON\n"
        "  --quiet         no progress output\n"
        "  --tcp PORT      NDJSON listener, one ack line per event (overrides ingest.tcp.port)\n"
        "  --http PORT     POST /api/v1/events (overrides ingest.http.port)\n",
        ow_file_formats());
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "opswall-ingest: %s: expected a whole number %ld..%ld, got \"%s\"\n", opt,
                lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* 0 to run, 1 to exit successfully (--help), -1 on a usage error (message printed). */
static int parse_args(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->tcp_port = a->http_port = -1;
    a->fopt.from_line = 1;
    a->fopt.progress = true;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(arg, "--quiet") == 0) {
            a->fopt.progress = false;
            continue;
        }
        if (strcmp(arg, "-") == 0 || arg[0] != '-') {
            if (a->nfiles == MAX_FILES) {
                fprintf(stderr, "opswall-ingest: at most %d files at once\n", MAX_FILES);
                return -1;
            }
            a->files[a->nfiles++] = arg;
            continue;
        }
        if (strcmp(arg, "--config") && strcmp(arg, "--speed") && strcmp(arg, "--from-line") &&
            strcmp(arg, "--format") && strcmp(arg, "--tcp") && strcmp(arg, "--http")) {
            fprintf(stderr, "opswall-ingest: unknown option %s\n", arg);
            usage(stderr);
            return -1;
        }
        if (!has_value) {
            fprintf(stderr, "opswall-ingest: %s needs a value\n", arg);
            return -1;
        }
        const char *v = argv[++i];
        long n;
        if (strcmp(arg, "--config") == 0) {
            a->config = v;
        } else if (strcmp(arg, "--format") == 0) {
            a->format = v;
        } else if (strcmp(arg, "--speed") == 0) {
            char *end;
            double s = strcmp(v, "max") == 0 ? 0 : strtod(v, &end);
            if (strcmp(v, "max") != 0 && (*end || end == v || !(s > 0) || s > 1e9)) {
                fprintf(stderr,
                        "opswall-ingest: --speed: expected a factor > 0 (1 = as recorded, "
                        "60 = a minute per second) or max, got \"%s\"\n",
                        v);
                return -1;
            }
            a->fopt.speed = s;
        } else if (strcmp(arg, "--from-line") == 0) {
            if (parse_long(arg, v, 1, INT32_MAX, &n)) return -1;
            a->fopt.from_line = n;
        } else if (strcmp(arg, "--tcp") == 0) {
            if (parse_long(arg, v, 1, 65535, &n)) return -1;
            a->tcp_port = n;
        } else if (strcmp(arg, "--http") == 0) {
            if (parse_long(arg, v, 1, 65535, &n)) return -1;
            a->http_port = n;
        }
    }
    return 0;
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

static bool serving(const ingest *g)
{
    return g->tcp != NULL || g->http != NULL;
}

static bool report_files(ingest *g);

static void close_all(ingest *g)
{
    if (g->closed) return;
    g->closed = true;
    g->final = ow_appender_stats(g->app);
    g->files_complete = report_files(g);
    uv_close((uv_handle_t *)&g->sigint, NULL);
    uv_close((uv_handle_t *)&g->sigterm, NULL);
    uv_close((uv_handle_t *)&g->drain, NULL);
    if (g->tcp) ow_tcp_source_close(g->tcp);
    if (g->http) ow_http_source_close(g->http); /* before the appender: no answer goes out now */
    ow_appender_close(g->app);                  /* what is still queued completes as abandoned */
    for (int i = 0; i < g->nfiles; i++)
        ow_file_source_free(g->files[i]);
}

/* Wait for the appender to empty (a stop: at most the grace period), then close. */
static void on_drain(uv_timer_t *t)
{
    ingest *g = t->data;
    int64_t left = ow_appender_buffered(g->app);
    if (left > 0 && (!g->stopping || ow_clock_mono_ms() < g->drain_deadline_ms)) return;
    if (left > 0)
        ow_warn("stopping with %" PRId64 " records not confirmed by Redis (%s)", left,
                ow_appender_stats(g->app).redis_up ? "no answer in time" : "Redis is away");
    close_all(g);
}

static void start_draining(ingest *g)
{
    if (g->draining) return;
    g->draining = true;
    ow_appender_finish(g->app); /* routed: the final watermark to every partition */
    uv_timer_start(&g->drain, on_drain, 0, DRAIN_CHECK_MS);
}

static void next_file(ingest *g);

static void on_file_done(void *ud, ow_file_source *fs, int status, const char *msg)
{
    ingest *g = ud;
    (void)fs;
    g->cur = NULL;
    if (status != OW_OK) {
        ow_error("%s", msg ? msg : "read failed");
        g->read_failed = true;
    }
    if (g->stopping || status != OW_OK) {
        if (!serving(g) || g->stopping) start_draining(g);
        return;
    }
    next_file(g);
}

static void next_file(ingest *g)
{
    if (g->next_file < g->nfiles && !g->stopping) {
        g->cur = g->files[g->next_file++];
        ow_file_source_start(g->cur);
        return;
    }
    if (!serving(g)) start_draining(g);
}

static void on_space(void *ud)
{
    ingest *g = ud;
    if (g->cur) ow_file_source_resume(g->cur);
    if (g->tcp) ow_tcp_source_resume(g->tcp);
}

static void on_signal(uv_signal_t *h, int signum)
{
    ingest *g = h->data;
    if (g->stopping) {
        ow_warn("second %s: stopping now", signum == SIGINT ? "SIGINT" : "SIGTERM");
        close_all(g);
        return;
    }
    g->stopping = true;
    ow_info("stopping (%s): no new input; waiting up to %" PRId64
            " ms for Redis to confirm what is "
            "held",
            signum == SIGINT ? "SIGINT" : "SIGTERM", g->cfg->redis.timeout_ms);
    g->drain_deadline_ms = ow_clock_mono_ms() + g->cfg->redis.timeout_ms;
    if (g->cur) ow_file_source_stop(g->cur);
    if (g->tcp) ow_tcp_source_stop(g->tcp);
    if (g->http) ow_http_source_stop(g->http);
    start_draining(g);
}

/* Say where each file got to, so an interrupted run can be resumed. */
static bool report_files(ingest *g)
{
    bool all = true;
    for (int i = 0; i < g->nfiles; i++) {
        ow_file_source *fs = g->files[i];
        int64_t pend = ow_file_source_pending(fs);
        bool incomplete =
            i >= g->next_file || pend > 0 || (g->stopping && fs == g->files[g->next_file - 1]);
        if (!incomplete) continue;
        if (i >= g->next_file) {
            ow_warn("%s: not read (stopped before it)", ow_file_source_name(fs));
            all = false;
            continue;
        }
        int64_t acked = ow_file_source_acked(fs);
        if (pend > 0 || g->stopping) {
            ow_warn("%s: stopped; every record up to line %" PRId64
                    " is in Redis: resume with --from-line %" PRId64,
                    ow_file_source_name(fs), acked, acked + 1);
            all = false;
        }
    }
    return all;
}

static void log_open_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    ow_error("handle still open at exit: %s%s", uv_handle_type_name(uv_handle_get_type(h)),
             uv_is_closing(h) ? " (closing)" : "");
}

/* ---- main ------------------------------------------------------------------------------------ */

/* Check Redis answers and has the functions before taking any input: an unreachable Redis at
 * start is a configuration problem, reported at once (later outages are buffered). */
static int check_redis(const ow_redis_env *env, ow_err *err)
{
    redisContext *c = ow_redis_connect(env, err);
    if (!c) return OW_EREDIS;
    int rc = ow_functions_load(c, err);
    redisFree(c);
    return rc;
}

/* The CSV import (csv_source.h): one blocking run over one connection, start to end. */
static int csv_main(int argc, char **argv, const ow_csv_opts *csv)
{
    static ow_config cfg;
    ow_err err;
    if (ow_config_load(&cfg, ow_args_config(argc, argv), &err)) {
        ow_error("%s", err.msg);
        return 2;
    }
    ow_signals_install();
    if (csv->ndjson) { /* no Redis: the events go to stdout */
        int rc = ow_csv_import_run(&cfg, csv, NULL, NULL, &err);
        if (rc) ow_error("%s", err.msg);
        return rc ? 1 : 0;
    }
    ow_redis_env env;
    if (ow_redis_env_open(&cfg, &env, &err)) {
        ow_error("%s", err.msg);
        return 1;
    }
    { /* the CSV import writes one Redis; a partitioned deployment takes the NDJSON it makes */
        ow_cluster *cl = NULL;
        ow_partition_table t;
        int routed = ow_routing_open(&cfg, &env, &cl, &t);
        if (routed == 1) {
            ow_cluster_free(cl);
            ow_partition_table_fini(&t);
            ow_error("--csv writes one Redis; on a partitioned deployment route its events: "
                     "opswall-ingest --csv MAPPING FILE --ndjson | opswall-ingest -");
        }
        if (routed) {
            ow_redis_env_close(&env);
            return routed == 1 ? 2 : routed == -2 ? 2 : 1;
        }
    }
    int status = 1;
    ow_sync_appender *app = NULL;
    redisContext *c = ow_redis_connect(&env, &err);
    if (c) app = ow_sync_appender_new(c, &cfg, &err);
    if (app && ow_csv_import_run(&cfg, csv, c, app, &err) == OW_OK) status = 0;
    if (status) ow_error("%s", err.msg);
    ow_sync_appender_free(app);
    if (c) redisFree(c);
    ow_redis_env_close(&env);
    return status;
}

int main(int argc, char **argv)
{
    ow_log_init("ingest", OW_LOG_INFO);
    ow_csv_opts csv;
    bool csv_bad, use_csv = ow_csv_args(argc, argv, &csv, &csv_bad);
    if (use_csv && csv_bad) {
        usage(stderr);
        return 2;
    }
    if (use_csv) return csv_main(argc, argv, &csv);
    args a;
    int pr = parse_args(argc, argv, &a);
    if (pr) return pr > 0 ? 0 : 2;

    static ow_config cfg;
    ow_err err;
    if (ow_config_load(&cfg, a.config, &err)) {
        ow_error("%s", err.msg);
        return 2;
    }
    if (a.tcp_port > 0) cfg.ingest.tcp.port = a.tcp_port;
    if (a.http_port > 0) cfg.ingest.http.port = a.http_port;
    bool listeners = cfg.ingest.tcp.port > 0 || cfg.ingest.http.port > 0;
    if (a.nfiles == 0 && !listeners) a.files[a.nfiles++] = "-";
    ow_signals_install(); /* SIGPIPE ignored; SIGINT/SIGTERM are taken over by the loop below */

    ow_redis_env env;
    if (ow_redis_env_open(&cfg, &env, &err)) {
        ow_error("%s", err.msg);
        return 1;
    }
    /* a partitioned deployment routes each event to its partition (docs/scaling.md §3): the
     * same sources, the appender backed by the router's thread */
    ow_cluster *cl = NULL;
    ow_partition_table table;
    int routed = ow_routing_open(&cfg, &env, &cl, &table);
    if (routed < 0) {
        ow_redis_env_close(&env);
        return routed == -2 ? 2 : 1;
    }
    /* one Redis: its functions now (routed: the router loads its own on every master; the first
     * seed of a cluster may be a replica since a failover) */
    if (!routed && check_redis(&env, &err)) {
        ow_error("%s", err.msg);
        ow_redis_env_close(&env);
        return 1;
    }

    static ingest g;
    g.cfg = &cfg;
    g.a = &a;
    int status = 1;
    if (uv_loop_init(&g.loop)) {
        ow_error("cannot create the event loop");
        goto out_env;
    }
    g.app = routed ? ow_appender_new_routed(&g.loop, &cfg, cl, &table, &err)
                   : ow_appender_new(&g.loop, &cfg, &env, &err);
    if (!g.app) {
        ow_error("%s", err.msg);
        goto out_loop;
    }
    ow_appender_set_space_cb(g.app, on_space, &g);
    uv_signal_init(&g.loop, &g.sigint);
    uv_signal_init(&g.loop, &g.sigterm);
    uv_timer_init(&g.loop, &g.drain);
    g.sigint.data = g.sigterm.data = g.drain.data = &g;
    uv_signal_start(&g.sigint, on_signal, SIGINT);
    uv_signal_start(&g.sigterm, on_signal, SIGTERM);

    bool setup_ok = true;
    for (int i = 0; i < a.nfiles && setup_ok; i++) {
        g.files[i] = ow_file_source_new(&g.loop, g.app, &cfg, a.files[i], a.format, &a.fopt,
                                        on_file_done, &g, &err);
        if (!g.files[i]) {
            ow_error("%s", err.msg);
            setup_ok = false;
        } else {
            g.nfiles++;
        }
    }
    if (setup_ok && cfg.ingest.tcp.port > 0) {
        g.tcp = ow_tcp_source_new(&g.loop, g.app, &cfg, &err);
        if (!g.tcp) {
            ow_error("%s", err.msg);
            setup_ok = false;
        }
    }
    if (setup_ok && cfg.ingest.http.port > 0) {
        g.http = ow_http_source_new(&g.loop, g.app, &cfg, &err);
        if (!g.http) {
            ow_error("%s", err.msg);
            setup_ok = false;
        }
    }
    ow_appender_start(g.app);
    if (!setup_ok) {
        close_all(&g);
    } else {
        next_file(&g);
    }
    uv_run(&g.loop, UV_RUN_DEFAULT);
    if (g.http) {
        ow_http_source_free(g.http); /* lws's second stage on a foreign loop */
        uv_run(&g.loop, UV_RUN_DEFAULT);
    }

    ow_append_stats st = g.final;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    ow_info("%" PRId64 " accepted, %" PRId64 " duplicates, %" PRId64 " rejected%s; peak %" PRId64
            " records held, peak RSS %ld KiB, %" PRIu64 " Redis reconnects",
            st.accepted, st.duplicates, st.rejected,
            st.rejected ? " (reasons in Redis stream " OW_KEY_REJECTS ")" : "", st.peak_events,
            ru.ru_maxrss, st.redis_connects > 0 ? st.redis_connects - 1 : 0);
    bool complete = setup_ok && g.files_complete && st.buffered_events == 0 && !g.read_failed;
    status = complete ? 0 : 1;
    if (uv_loop_close(&g.loop)) {
        uv_walk(&g.loop, log_open_handle, NULL);
        ow_error("event loop closed with handles still open");
    }
out_env:
    if (routed) {
        ow_cluster_free(cl);
        ow_partition_table_fini(&table);
    }
    ow_redis_env_close(&env);
    return status;
out_loop:
    uv_loop_close(&g.loop);
    goto out_env;
}
