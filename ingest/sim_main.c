/*
 * opswall-sim — a believable city of field-service events, as NDJSON (event contract v1).
 *
 *   opswall-sim [--seed N] [--scenario normal|rainstorm|shortage|weekend] [--start RFC3339]
 *               [--duration 24h] [--orders-per-hour N] [--techs N] [--count N] [--out FILE]
 *               [--realtime | --speed F] [--late-fraction F] [--dup-fraction F]
 *               [--mistake-rate F] [--zone +08:00] [--threads N] [--stats]
 *
 * The generator (sim.c) is pure; this file is the edge: options, the clock, pacing, files. Every
 * line is checked with the event codec (ow_event_parse) before it is written; a line that fails
 * is a bug in the generator, so the program stops with exit code 70 and shows the line.
 *
 * As fast as possible (the default), lines are validated in batches by a small pool of threads
 * (the codec costs more than generating), while the next batch is generated; batches are written
 * in order, so the output is the same whatever the thread count. Paced (--realtime, --speed),
 * lines are validated one by one and written when due.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "sim.h"
#include "timefmt.h"

#define EXIT_USAGE  2
#define EXIT_BUG    70 /* a generated line failed the codec (sysexits EX_SOFTWARE) */
#define BATCH_LINES 16384
#define CHUNK_LINES 512

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: opswall-sim [options]\n"
        "  Writes simulated field-service events (NDJSON, event contract v1) for the sample city.\n"
        "  --seed N              random seed (default 1); the same seed gives the same bytes\n"
        "  --scenario NAME       normal | rainstorm | shortage | weekend (default normal)\n"
        "  --start TIME          first simulated instant, RFC 3339 with zone\n"
        "                        (default 2026-11-22T08:00:00+08:00; its zone is used in ts)\n"
        "  --duration D          simulated span, e.g. 24h, 7d (default 24h; unbounded with\n"
        "                        --count, --realtime or --speed)\n"
        "  --orders-per-hour N   daily mean of new orders per hour (default 7)\n"
        "  --techs N             technicians (default 40; shortage 18)\n"
        "  --count N             stop after N lines\n"
        "  --out FILE            write here instead of standard output\n"
        "  --realtime            start now and write each line when due (ts = wall clock)\n"
        "  --speed F             write at F times simulated pace (e.g. 60: an hour a minute)\n"
        "  --late-fraction F     share of app events delivered late, out of order (0.02)\n"
        "  --dup-fraction F      share of lines delivered twice with the same id (0.002)\n"
        "  --mistake-rate F      multiplier on dispatch mistakes; 0 = none (1)\n"
        "  --zone +HH:MM         zone of ts with --realtime (default +08:00)\n"
        "  --threads N           validating threads besides the main one (default: cores-1)\n"
        "  --stats               print counters as JSON to standard error at the end\n");
}

/* ---- option parsing ---- */

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

static int parse_real(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !*s || *end || v != v) return -1;
    *out = v;
    return 0;
}

/* "+08:00", "-05:30", "Z" → minutes east of UTC. */
static int parse_zone(const char *s, int *minutes)
{
    size_t n = strlen(s);
    if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) return *minutes = 0, 0;
    if (n != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return -1;
    for (int i = 1; i < 6; i++)
        if (i != 3 && (s[i] < '0' || s[i] > '9')) return -1;
    int h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[4] - '0') * 10 + (s[5] - '0');
    if (h > 23 || m > 59) return -1;
    *minutes = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
    return 0;
}

typedef struct options {
    ow_sim_config cfg;
    bool realtime, stats, have_duration, have_start, have_zone;
    double speed;   /* 0 = as fast as possible */
    uint64_t count; /* 0 = no limit */
    const char *out;
    int threads; /* -1 = auto */
} options;

static int parse_args(int argc, char **argv, options *o)
{
    ow_sim_config_init(&o->cfg);
    o->threads = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--realtime")) {
            o->realtime = true;
            continue;
        }
        if (!strcmp(a, "--stats")) {
            o->stats = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "opswall-sim: %s: expected a value (see --help)\n", a);
            return -1;
        }
        const char *v = argv[++i];
        uint64_t u;
        ow_err err;
        if (!strcmp(a, "--seed")) {
            if (parse_u64(v, &o->cfg.seed)) goto bad;
        } else if (!strcmp(a, "--scenario")) {
            int sc = ow_sim_scenario_lookup(v);
            if (sc < 0) {
                fprintf(stderr,
                        "opswall-sim: --scenario: expected normal|rainstorm|shortage|weekend, "
                        "got \"%s\"\n",
                        v);
                return -1;
            }
            o->cfg.scenario = (ow_sim_scenario)sc;
        } else if (!strcmp(a, "--start")) {
            size_t n = strlen(v);
            if (ow_time_parse(v, n, &o->cfg.start_ms, &err)) {
                fprintf(stderr, "opswall-sim: --start: %s, got \"%s\"\n", err.msg, v);
                return -1;
            }
            const char *zone = v[n - 1] == 'Z' || v[n - 1] == 'z' ? v + n - 1 : v + n - 6;
            if (parse_zone(zone, &o->cfg.utc_offset_min)) goto bad;
            o->have_start = true;
        } else if (!strcmp(a, "--duration")) {
            if (ow_duration_parse(v, &o->cfg.duration_ms, &err)) {
                fprintf(stderr, "opswall-sim: --duration: %s\n", err.msg);
                return -1;
            }
            if (o->cfg.duration_ms == 0) goto bad;
            o->have_duration = true;
        } else if (!strcmp(a, "--orders-per-hour")) {
            if (parse_real(v, &o->cfg.orders_per_hour) || o->cfg.orders_per_hour <= 0) goto bad;
        } else if (!strcmp(a, "--techs")) {
            if (parse_u64(v, &u) || u < 1 || u > 100000) goto bad;
            o->cfg.techs = (int)u;
        } else if (!strcmp(a, "--count")) {
            if (parse_u64(v, &o->count) || o->count == 0) goto bad;
        } else if (!strcmp(a, "--out")) {
            o->out = v;
        } else if (!strcmp(a, "--speed")) {
            if (parse_real(v, &o->speed) || !(o->speed > 0)) goto bad;
        } else if (!strcmp(a, "--late-fraction")) {
            if (parse_real(v, &o->cfg.late_fraction)) goto bad;
        } else if (!strcmp(a, "--dup-fraction")) {
            if (parse_real(v, &o->cfg.dup_fraction)) goto bad;
        } else if (!strcmp(a, "--mistake-rate")) {
            if (parse_real(v, &o->cfg.mistake_rate)) goto bad;
        } else if (!strcmp(a, "--zone")) {
            if (parse_zone(v, &o->cfg.utc_offset_min)) goto bad;
            o->have_zone = true;
        } else if (!strcmp(a, "--threads")) {
            if (parse_u64(v, &u) || u > 64) goto bad;
            o->threads = (int)u;
        } else {
            fprintf(stderr, "opswall-sim: unknown option %s (see --help)\n", a);
            return -1;
        }
        continue;
    bad:
        fprintf(stderr, "opswall-sim: %s: invalid value \"%s\" (see --help)\n", a, v);
        return -1;
    }
    if (o->realtime && (o->speed > 0 || o->have_start)) {
        fprintf(stderr, "opswall-sim: --realtime starts now at 1x: drop --speed/--start\n");
        return -1;
    }
    if (o->have_zone && o->have_start) {
        fprintf(stderr, "opswall-sim: --zone: the zone comes from --start\n");
        return -1;
    }
    /* A file ends after a day; a count or a live feed (paced) runs until stopped. */
    if (!o->have_duration)
        o->cfg.duration_ms = o->count || o->realtime || o->speed > 0 ? 0 : 24 * 3600000LL;
    return 0;
}

/* ---- time ---- */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_until_ns(int64_t target)
{
    for (;;) {
        int64_t left = target - mono_ns();
        if (left <= 0 || stop_requested) return;
        struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
        nanosleep(&ts, NULL);
    }
}

/* ---- checking a line with the codec ---- */

static int check_line(const char *text, size_t len, ow_event_type type, int64_t ts, ow_event *ev,
                      ow_err *err)
{
    if (ow_event_parse(text, len, ev, err)) return -1;
    if (ev->type != type || ev->ts_ms != ts)
        return ow_err_set(err, OW_EINVAL, "decoded as %s at %lld, generated as %s at %lld",
                          ow_event_type_name(ev->type), (long long)ev->ts_ms,
                          ow_event_type_name(type), (long long)ts);
    return 0;
}

static void report_bug(uint64_t lineno, const char *msg, const char *text, size_t len)
{
    fprintf(stderr, "opswall-sim: bug: generated line %llu fails the event codec: %s\n  %.*s\n",
            (unsigned long long)lineno, msg, (int)(len > 2000 ? 2000 : len), text);
}

/* ---- batches and the validating pool ---- */

typedef struct batch {
    char *text; /* lines, each ending in '\n' */
    size_t len, cap;
    size_t *off; /* off[i] = start of line i; off[n] = len */
    ow_event_type *type;
    int64_t *ts;
    size_t n;
    uint64_t first_lineno;
} batch;

static int batch_init(batch *b)
{
    memset(b, 0, sizeof *b);
    b->cap = (size_t)BATCH_LINES * 256;
    b->text = malloc(b->cap);
    b->off = malloc((BATCH_LINES + 1) * sizeof *b->off);
    b->type = malloc(BATCH_LINES * sizeof *b->type);
    b->ts = malloc(BATCH_LINES * sizeof *b->ts);
    return b->text && b->off && b->type && b->ts ? 0 : -1;
}

static void batch_fini(batch *b)
{
    free(b->text);
    free(b->off);
    free(b->type);
    free(b->ts);
}

static int batch_add(batch *b, const ow_sim_line *l)
{
    if (b->len + l->len + 1 > b->cap) {
        size_t cap = b->cap * 2 + l->len + 1;
        char *t = realloc(b->text, cap);
        if (!t) return -1;
        b->text = t, b->cap = cap;
    }
    b->off[b->n] = b->len;
    b->type[b->n] = l->type;
    b->ts[b->n] = l->ts_ms;
    b->n++;
    memcpy(b->text + b->len, l->text, l->len);
    b->len += l->len;
    b->text[b->len++] = '\n';
    b->off[b->n] = b->len;
    return 0;
}

typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    batch *cur;
    size_t next_chunk, nchunks, done_chunks;
    bool quit;
    int nthreads;
    pthread_t *th;
    bool failed; /* first failure in the current batch */
    size_t fail_index;
    char fail_msg[OW_ERR_MSG_MAX];
} pool;

/* Validate chunk k of b; on failure note the earliest failing line. */
static void check_chunk(pool *p, batch *b, size_t k, ow_event *ev)
{
    size_t lo = k * CHUNK_LINES, hi = lo + CHUNK_LINES < b->n ? lo + CHUNK_LINES : b->n;
    for (size_t i = lo; i < hi; i++) {
        ow_err err;
        if (check_line(b->text + b->off[i], b->off[i + 1] - b->off[i] - 1, b->type[i], b->ts[i], ev,
                       &err) == 0)
            continue;
        pthread_mutex_lock(&p->mu);
        if (!p->failed || i < p->fail_index) {
            p->failed = true;
            p->fail_index = i;
            snprintf(p->fail_msg, sizeof p->fail_msg, "%s", err.msg);
        }
        pthread_mutex_unlock(&p->mu);
        return;
    }
}

/* Take and check chunks until none is left. Called with mu held; returns with it held. */
static void drain_chunks(pool *p, ow_event *ev)
{
    while (p->cur && p->next_chunk < p->nchunks) {
        batch *b = p->cur;
        size_t k = p->next_chunk++;
        pthread_mutex_unlock(&p->mu);
        check_chunk(p, b, k, ev);
        pthread_mutex_lock(&p->mu);
        if (++p->done_chunks == p->nchunks) pthread_cond_signal(&p->done);
    }
}

static void *worker(void *arg)
{
    pool *p = arg;
    ow_event *ev = malloc(sizeof *ev);
    if (!ev) return NULL; /* the main thread still checks everything itself */
    pthread_mutex_lock(&p->mu);
    while (!p->quit) {
        drain_chunks(p, ev);
        if (!p->quit) pthread_cond_wait(&p->work, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    free(ev);
    return NULL;
}

static void pool_start(pool *p, int nthreads)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->th = calloc((size_t)(nthreads > 0 ? nthreads : 1), sizeof *p->th);
    for (int i = 0; p->th && i < nthreads; i++)
        if (pthread_create(&p->th[p->nthreads], NULL, worker, p) == 0) p->nthreads++;
}

static void pool_stop(pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->th[i], NULL);
    free(p->th);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
}

static void pool_publish(pool *p, batch *b)
{
    pthread_mutex_lock(&p->mu);
    p->cur = b;
    p->next_chunk = p->done_chunks = 0;
    p->nchunks = (b->n + CHUNK_LINES - 1) / CHUNK_LINES;
    p->failed = false;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
}

/* Help with the published batch, then wait for the workers. Returns 0 or -1 (p->fail_*). */
static int pool_finish(pool *p, ow_event *ev)
{
    pthread_mutex_lock(&p->mu);
    drain_chunks(p, ev);
    while (p->done_chunks < p->nchunks)
        pthread_cond_wait(&p->done, &p->mu);
    p->cur = NULL;
    int rc = p->failed ? -1 : 0;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* ---- the two ways to run ---- */

typedef struct run {
    ow_sim *sim;
    FILE *out;
    uint64_t count, written;
    int threads;
} run;

/* Fill b from the generator; returns 0 (b->n == 0 at the end) or an error code. */
static int fill(run *r, batch *b)
{
    b->n = b->len = 0;
    b->off[0] = 0;
    b->first_lineno = r->written + 1;
    uint64_t room = r->count ? r->count - r->written : UINT64_MAX;
    while (b->n < BATCH_LINES && b->n < room && !stop_requested) {
        ow_sim_line l;
        int rc = ow_sim_next(r->sim, &l);
        if (rc < 0) return rc;
        if (rc == 0) break;
        if (batch_add(b, &l)) return OW_ENOMEM;
    }
    return 0;
}

static int write_all(FILE *out, const char *p, size_t n)
{
    return fwrite(p, 1, n, out) == n ? 0 : -1;
}

static int run_fast(run *r)
{
    batch bufs[2];
    ow_event *ev = malloc(sizeof *ev);
    if (batch_init(&bufs[0]) || batch_init(&bufs[1]) || !ev) {
        fprintf(stderr, "opswall-sim: out of memory\n");
        return 1;
    }
    pool p;
    pool_start(&p, r->threads);
    int status = 0, k = 0, rc = fill(r, &bufs[0]);
    r->written += bufs[0].n;
    if (!rc && bufs[0].n) pool_publish(&p, &bufs[0]);
    while (!rc && bufs[k].n) {
        rc = fill(r, &bufs[1 - k]); /* generate the next batch while this one is checked */
        r->written += bufs[1 - k].n;
        if (pool_finish(&p, ev)) {
            batch *b = &bufs[k];
            size_t i = p.fail_index;
            report_bug(b->first_lineno + i, p.fail_msg, b->text + b->off[i],
                       b->off[i + 1] - b->off[i] - 1);
            status = EXIT_BUG;
            break;
        }
        if (write_all(r->out, bufs[k].text, bufs[k].len)) {
            fprintf(stderr, "opswall-sim: write failed: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (!rc && bufs[1 - k].n) pool_publish(&p, &bufs[1 - k]);
        k = 1 - k;
    }
    if (rc && !status) {
        fprintf(stderr, "opswall-sim: %s\n", rc == OW_ENOMEM ? "out of memory" : "generator error");
        status = 1;
    }
    pool_stop(&p);
    batch_fini(&bufs[0]);
    batch_fini(&bufs[1]);
    free(ev);
    return status;
}

/* Paced: wall time follows simulated delivery time (divided by speed). */
static int run_paced(run *r, double speed, int64_t sim_start_ms)
{
    ow_event *ev = malloc(sizeof *ev);
    if (!ev) return 1;
    int64_t mono0 = mono_ns();
    int status = 0;
    while (!stop_requested && (!r->count || r->written < r->count)) {
        ow_sim_line l;
        int rc = ow_sim_next(r->sim, &l);
        if (rc <= 0) {
            if (rc < 0) fprintf(stderr, "opswall-sim: out of memory\n"), status = 1;
            break;
        }
        ow_err err;
        if (check_line(l.text, l.len, l.type, l.ts_ms, ev, &err)) {
            report_bug(r->written + 1, err.msg, l.text, l.len);
            status = EXIT_BUG;
            break;
        }
        int64_t due = mono0 + (int64_t)((double)(l.deliver_ms - sim_start_ms) * 1e6 / speed);
        if (due > mono_ns()) {
            fflush(r->out);
            sleep_until_ns(due);
            if (stop_requested) break;
        }
        if (write_all(r->out, l.text, l.len) || write_all(r->out, "\n", 1)) {
            fprintf(stderr, "opswall-sim: write failed: %s\n", strerror(errno));
            status = 1;
            break;
        }
        r->written++;
    }
    free(ev);
    return status;
}

static void print_stats(const ow_sim *sim, const ow_sim_config *cfg, double secs)
{
    ow_sim_stats st;
    ow_sim_stats_get(sim, &st);
    fprintf(stderr, "{\"lines\":%lld,\"seconds\":%.3f,\"lines_per_s\":%.0f,\"by_type\":{",
            (long long)st.lines, secs, secs > 0 ? (double)st.lines / secs : 0.0);
    for (int t = 0; t < OW_EV__COUNT; t++)
        fprintf(stderr, "%s\"%s\":%lld", t ? "," : "", ow_event_type_name((ow_event_type)t),
                (long long)st.by_type[t]);
    fprintf(stderr,
            "},\"late_lines\":%lld,\"dup_lines\":%lld,\"orders_created\":%lld,"
            "\"orders_live\":%lld,\"orders_live_peak\":%lld,\"queue_len\":%lld,"
            "\"queue_len_peak\":%lld,\"pending\":%lld,\"sim_hours\":%.2f}\n",
            (long long)st.late_lines, (long long)st.dup_lines, (long long)st.orders_created,
            (long long)st.orders_live, (long long)st.orders_live_peak, (long long)st.queue_len,
            (long long)st.queue_len_peak, (long long)st.pending_len,
            (double)(st.sim_now_ms - cfg->start_ms) / 3600000.0);
}

int main(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    if (parse_args(argc, argv, &o)) return EXIT_USAGE;
    if (o.realtime) {
        o.cfg.start_ms = wall_ms();
        o.speed = 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ow_err err;
    ow_sim *sim = ow_sim_new(&o.cfg, &err);
    if (!sim) {
        fprintf(stderr, "opswall-sim: %s\n", err.msg);
        return err.code == OW_EINVAL ? EXIT_USAGE : 1;
    }
    FILE *out = stdout;
    if (o.out && strcmp(o.out, "-") != 0) {
        out = fopen(o.out, "w");
        if (!out) {
            fprintf(stderr, "opswall-sim: --out %s: %s\n", o.out, strerror(errno));
            ow_sim_free(sim);
            return 1;
        }
    }
    if (o.threads < 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = cores > 1 ? (int)(cores > 8 ? 7 : cores - 1) : 0;
    }

    run r = {sim, out, o.count, 0, o.threads};
    int64_t t0 = mono_ns();
    int status = o.speed > 0 ? run_paced(&r, o.speed, o.cfg.start_ms) : run_fast(&r);
    if (fflush(out) != 0 && !status) {
        fprintf(stderr, "opswall-sim: write failed: %s\n", strerror(errno));
        status = 1;
    }
    if (out != stdout && fclose(out) != 0 && !status) {
        fprintf(stderr, "opswall-sim: --out %s: %s\n", o.out, strerror(errno));
        status = 1;
    }
    if (o.stats) print_stats(sim, &o.cfg, (double)(mono_ns() - t0) / 1e9);
    ow_sim_free(sim);
    return status;
}
