/*
 * feed_load — many websocket viewers against opswall-feed, on libwebsockets' client API (one lws
 * context and one poll loop per process, thousands of connections each), plus the publisher that
 * drives the feed through Redis. Prints one JSON line.
 *
 *   feed_load publish --redis SOCK [--rate 4] [--pad 1000] [--pad-from FILE] [--seconds S]
 *                     [--deltas FILE]
 *       SETs a snapshot, then PUBLISHes deltas on ops:{p0}:deltas at RATE per second; each
 *       delta's set holds {"bench":{"t_us":<wall clock µs at publish>}} first, then PAD bytes
 *       cut from FILE's text (recorded engine deltas, made string-safe; without it 'x');
 *       with --deltas, the members of the file's real engine deltas instead, one line after the
 *       other (bench/record_deltas.sh records them).
 *
 *   feed_load view --port P --token T [--clients N] [--procs K] [--seconds S] [--warmup W]
 *                  [--stall N] [--garbage N] [--flood N] [--nap-us U] [--deflate 1|0]
 *                  [--hostile-nice N]
 *       N viewers split over K processes (fork). Each waits for its snapshot; once every viewer
 *       holds one, a window of S seconds starts. Latency = receipt − t_us of every bench delta
 *       published in the window; delivered / expected counts them (expected = viewers × deltas
 *       published in the window, from the seq range seen; a delta that arrives after the window
 *       + 2 s counts as not delivered). Hostile connections are extra, in a process of their own:
 *       stall ones stop reading after their first message, garbage ones send 2 KB binary frames
 *       and flood ones resyncs, 100 a second each; they reconnect 200 ms after the feed closes
 *       them. --hostile-nice N runs their process at that nice value: on this machine the
 *       abuser's own CPU (hostile_cpu_cores) comes out of the two cores the feed and the viewers
 *       share, which a real abuser's, on its own machine, does not.
 *       Output: clients, connected, expected, delivered, lost, p1/p50/p90/p99/max ms (p1 is
 *       about the fixed delay before the first sends), snapshots (extra snapshots = collapsed
 *       backlogs), hostile closes. --nap-us: a viewer process that
 *       has caught up sleeps U µs after a poll (on_check), so it reads in batches. --deflate
 *       (default 1): the viewers offer permessage-deflate, as browsers do, and inflate what the
 *       feed compresses. A load process that does not stop at the end is killed and the exit
 *       status is 1 (lws 4.1's client once looped forever inside lws on a plain frame).
 *
 * Both sides read the same wall clock (CLOCK_REALTIME on one machine), so publish → receipt is
 * exact to the clock's resolution.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "latency_hist.h"

#define PROCS_MAX   16
#define DELTAS_N    4096 /* per-delta slowest receipt, by seq modulo this (window: RATE × seconds) */
#define CONNECT_PER 200 /* connection attempts per service turn */

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t sleeps(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- publisher ------------------------------------------------------------------------------- */

/* Real deltas to replay (--deltas FILE: one engine delta per line, e.g. bench/record_deltas.sh):
 * each published delta is the next line's members with this run's seq, base and publish time. */
typedef struct real_deltas {
    char **line;
    size_t n, next;
} real_deltas;

static bool real_load(real_deltas *rd, const char *path)
{
    memset(rd, 0, sizeof *rd);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        /* the members after "set":{ — the line's own seq and base are dropped */
        char *set = strstr(line, "\"set\":{");
        if (!set) continue;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        char **grown = realloc(rd->line, (rd->n + 1) * sizeof *grown);
        char *copy = strdup(set + 7);
        if (!grown || !copy) break;
        rd->line = grown;
        rd->line[rd->n++] = copy;
    }
    free(line);
    fclose(f);
    return rd->n > 0;
}

/* The next real delta as this run's delta seq (on seq - 1) published at t (µs). */
static void real_next(real_deltas *rd, char **msg, size_t *cap, int64_t seq, int64_t t)
{
    const char *rest = rd->line[rd->next++ % rd->n];
    size_t need = strlen(rest) + 256;
    if (need > *cap) {
        *msg = realloc(*msg, need);
        *cap = need;
    }
    snprintf(*msg, *cap,
             "{\"v\":1,\"type\":\"delta\",\"seq\":%" PRId64 ",\"base\":%" PRId64
             ",\"set\":{\"bench\":{\"t_us\":%" PRId64 "}%s%s",
             seq, seq - 1, t, rest[0] == '}' ? "" : ",", rest);
}

/* The padding of the bench's own deltas: text with the shape of the engine's JSON (the recorded
 * deltas of --pad-from, quotes and backslashes turned to ' and /, other bytes outside printable
 * ASCII dropped, so it sits inside a JSON string as it is), PAD bytes from a different offset for
 * every delta. Compression sees what it would see in real deltas — a run of 'x' would deflate to
 * nothing. Without --pad-from: 'x'. */
typedef struct pad_text {
    char *text;
    size_t len, at;
} pad_text;

static bool pad_load(pad_text *pt, const char *path)
{
    memset(pt, 0, sizeof *pt);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t cap = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF) {
        if (ch == '\n' || ch == '\r') continue;
        if (ch == '"') ch = '\'';
        if (ch == '\\') ch = '/';
        if (ch < 0x20 || ch > 0x7e) continue;
        if (pt->len + 1 >= cap) {
            char *grown = realloc(pt->text, cap = cap ? cap * 2 : 65536);
            if (!grown) break;
            pt->text = grown;
        }
        pt->text[pt->len++] = (char)ch;
    }
    fclose(f);
    return pt->len > 0;
}

/* The next PAD bytes of padding into out (pad + 1 bytes). */
static void pad_next(pad_text *pt, char *out, int pad)
{
    if (!pt->len) {
        memset(out, 'x', (size_t)pad);
    } else {
        for (int i = 0; i < pad; i++)
            out[i] = pt->text[(pt->at + (size_t)i) % pt->len];
        pt->at = (pt->at + 7919) % pt->len; /* a prime stride: slices overlap rarely */
    }
    out[pad] = '\0';
}

static int publish_main(const char *sock, double rate, int pad, double seconds, const char *real,
                        const char *pad_from)
{
    pad_text pt = {0};
    if (pad_from && !pad_load(&pt, pad_from)) {
        fprintf(stderr, "feed_load publish: --pad-from %s: nothing read (%s)\n", pad_from,
                strerror(errno));
        return 2;
    }
    real_deltas rd = {0};
    if (real && !real_load(&rd, real)) {
        fprintf(stderr, "feed_load publish: --deltas %s: no delta line read (%s)\n", real,
                strerror(errno));
        return 2;
    }
    redisContext *c = redisConnectUnix(sock);
    if (!c || c->err) {
        fprintf(stderr, "feed_load publish: cannot connect to %s\n", sock);
        return 1;
    }
    char *padding = malloc((size_t)pad + 1);
    pad_next(&pt, padding, pad);
    size_t cap = (size_t)pad + 512;
    char *msg = malloc(cap);
    int64_t seq = 1;
    snprintf(msg, cap,
             "{\"v\":1,\"type\":\"snapshot\",\"seq\":%" PRId64
             ",\"now\":\"2026-11-22T00:00:00.000Z\","
             "\"now_ms\":%" PRId64 ",\"mode\":\"live\",\"open\":{\"emergency\":0,\"important\":0,"
             "\"general\":0,\"total\":0},\"orders_known\":0,\"events_applied\":0,"
             "\"last_event\":\"2026-11-22T00:00:00.000Z\",\"bench\":{\"t_us\":0},\"pad\":\"%s\"}",
             seq, wall_us() / 1000, padding);
    freeReplyObject(redisCommand(c, "SET %s %s", "ops:{p0}:snapshot", msg));
    freeReplyObject(redisCommand(c, "PUBLISH %s %s", "ops:{p0}:live", msg));
    int64_t period = (int64_t)(1e6 / rate), start = wall_us(), next = start + period;
    int64_t end = seconds > 0 ? start + (int64_t)(seconds * 1e6) : INT64_MAX;
    uint64_t sent = 0;
    while (wall_us() < end) {
        int64_t now = wall_us();
        if (now < next) {
            struct timespec ts = {0, (long)((next - now) * 1000)};
            nanosleep(&ts, NULL);
            continue;
        }
        next += period;
        seq++;
        int64_t t = wall_us();
        if (real)
            real_next(&rd, &msg, &cap, seq, t);
        else {
            pad_next(&pt, padding, pad);
            snprintf(msg, cap, FANOUT_DELTA_FMT, seq, seq - 1, t, t / 1000, padding);
        }
        redisReply *r = redisCommand(c, "PUBLISH %s %s", "ops:{p0}:deltas", msg);
        if (!r) {
            fprintf(stderr, "feed_load publish: redis: %s\n", c->errstr);
            return 1;
        }
        freeReplyObject(r);
        sent++;
        /* the key stays a valid snapshot for late joiners (the feed materialises its own) */
    }
    printf("{\"bench\":\"feed_publish\",\"deltas\":%" PRIu64 ",\"rate\":%g,\"pad\":%d}\n", sent,
           rate, pad);
    free(msg);
    free(padding);
    free(pt.text);
    for (size_t i = 0; i < rd.n; i++)
        free(rd.line[i]);
    free(rd.line);
    redisFree(c);
    return 0;
}

/* ---- viewers --------------------------------------------------------------------------------- */

enum kind { K_VIEW, K_STALL, K_GARBAGE, K_FLOOD };

typedef struct client {
    struct lws *wsi;
    enum kind kind;
    bool connected, have_snapshot, stalled;
    int64_t last_seq;
    int64_t retry_at_us;
} client;

typedef struct shared { /* one per process, in a shared mapping the parent reads */
    uint64_t hist[HIST_N];
    uint64_t in_window, snapshots, extra_snapshots, gaps, closes_hostile, connect_fail;
    int64_t min_seq, max_seq;
    uint64_t connected_peak;
    int ready;                     /* every viewer of this process holds a snapshot */
    int64_t cpu_ns[2];             /* this process's CPU time at the window's start and end */
    int64_t sleeps[2];             /* its voluntary context switches (sleeps = wake-ups) then */
    uint32_t slowest_us[DELTAS_N]; /* per delta (seq % DELTAS_N): its slowest receipt here */
} shared;

typedef struct worker {
    struct lws_context *ctx;
    client *cl;
    int n, nview;
    int port;
    const char *token;
    shared *sh;
    volatile int64_t *window; /* [0] start µs (0 = not yet), [1] end µs; set by the parent */
    int ready_count;
    int next_connect;
    int want_retry; /* closed connections waiting to reconnect */
    int connected;
    int64_t deadline_us;
    int nap_us;       /* sleep after a poll that found little: the next returns many at once */
    bool deflate;     /* offer permessage-deflate (the feed then sends every message compressed) */
    uint64_t msgs;    /* messages received (any connection) */
    uint64_t msgs_at; /* ... at the previous check */
} worker;

static worker W;

static void connect_one(worker *w, client *c)
{
    char path[600];
    snprintf(path, sizeof path, "/api/v1/live?token=%s", w->token);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = w->ctx;
    i.address = "127.0.0.1";
    i.port = w->port;
    i.path = path;
    i.host = "127.0.0.1";
    i.protocol = "opswall-live";
    i.local_protocol_name = "load";
    i.userdata = c;
    i.pwsi = &c->wsi;
    c->connected = false;
    if (!lws_client_connect_via_info(&i)) {
        c->wsi = NULL;
        c->retry_at_us = wall_us() + 500000;
        w->want_retry++;
    }
}

/* Find "key": followed by a number inside the first `span` bytes. Digits are read directly (the
 * load process reads two numbers of every message; strtod was a tenth of its own code's time);
 * a number with a fraction or exponent is read as a double: the viewer view of a delta that
 * carries techs_pos is re-printed by the feed (cJSON, 15 significant digits), which writes the
 * 16-digit t_us as 1.7955326589988e+15 — within 100 µs, but not an integer. */
static bool find_int(const char *s, size_t len, const char *key, size_t span, int64_t *out)
{
    size_t kl = strlen(key);
    if (len > span) len = span;
    const char *k = memmem(s, len, key, kl);
    if (!k) return false;
    const char *p = k + kl, *end = s + len;
    int64_t v = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 18) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (digits && p < end && *p != '.' && *p != 'e' && *p != 'E' && (*p < '0' || *p > '9')) {
        *out = v;
        return true;
    }
    if (p >= end) return false; /* the number runs past the span */
    char *stop;
    double d = strtod(k + kl, &stop); /* stops at the JSON delimiter that follows a number */
    if (stop == k + kl || d != d || d > 9e18 || d < -9e18) return false;
    *out = (int64_t)d;
    return true;
}

static void on_message(worker *w, client *c, const char *in, size_t len, bool first)
{
    if (!first) return; /* the fields we read are in the first fragment */
    w->msgs++;
    int64_t now = wall_us();
    bool snap = len > 30 && memmem(in, len < 40 ? len : 40, "\"snapshot\"", 10) != NULL;
    int64_t seq = -1, t = 0;
    find_int(in, len, "\"seq\":", 64, &seq);
    if (snap) {
        w->sh->snapshots++;
        if (c->have_snapshot) w->sh->extra_snapshots++;
        if (!c->have_snapshot && c->kind == K_VIEW) {
            w->ready_count++;
            if (w->ready_count == w->nview) w->sh->ready = 1;
        }
        c->have_snapshot = true;
        c->last_seq = seq;
        return;
    }
    if (c->kind != K_VIEW) return;
    if (c->last_seq >= 0 && seq != c->last_seq + 1 && seq > c->last_seq) w->sh->gaps++;
    if (seq > c->last_seq) c->last_seq = seq;
    if (!find_int(in, len, "\"t_us\":", 160, &t)) return;
    int64_t ws = w->window[0], we = w->window[1];
    if (!ws || t < ws || t > we) return;
    int64_t lat = now - t;
    hist_add(w->sh->hist, lat);
    w->sh->in_window++;
    uint32_t *slow = &w->sh->slowest_us[(uint64_t)seq % DELTAS_N];
    if (lat > (int64_t)*slow) *slow = (uint32_t)(lat > UINT32_MAX ? UINT32_MAX : lat);
    if (w->sh->min_seq < 0 || seq < w->sh->min_seq) w->sh->min_seq = seq;
    if (seq > w->sh->max_seq) w->sh->max_seq = seq;
}

static int load_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    client *c = user;
    worker *w = &W;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->connected = true;
        if ((uint64_t)++w->connected > w->sh->connected_peak)
            w->sh->connected_peak = (uint64_t)w->connected;
        c->last_seq = -1;
        /* inflate a message in one go (lws's default: 1 KB pieces, each a pass through its
         * draining list); 2^12 = a bench delta whole */
        if (w->deflate) lws_set_extension_option(wsi, "permessage-deflate", "rx_buf_size", "12");
        if (c->kind == K_GARBAGE || c->kind == K_FLOOD) lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        on_message(w, c, in, len, lws_is_first_fragment(wsi));
        if (c->kind == K_STALL && !c->stalled) {
            c->stalled = true;
            lws_rx_flow_control(wsi, 0); /* never read again: the feed's sends pile up */
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        /* lws may offer any connection a write; only the hostile ones take it */
        if (c->kind != K_FLOOD && c->kind != K_GARBAGE) break;
        unsigned char buf[LWS_PRE + 2048];
        if (c->kind == K_FLOOD) {
            const char *m = "{\"type\":\"resync\"}";
            size_t n = strlen(m);
            memcpy(buf + LWS_PRE, m, n);
            if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < 0) return -1;
        } else {
            static unsigned char junk[2000];
            if (!junk[0]) /* made once: the load process should spend its CPU on receiving */
                for (size_t i = 0; i < sizeof junk; i++)
                    junk[i] = (unsigned char)(rand() | 1);
            memcpy(buf + LWS_PRE, junk, sizeof junk);
            if (lws_write(wsi, buf + LWS_PRE, 2000, LWS_WRITE_BINARY) < 0) return -1;
        }
        break; /* the next write comes from on_tick: 100 per second per connection */
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR) w->sh->connect_fail++;
        if (c->kind != K_VIEW) w->sh->closes_hostile++;
        if (c->kind == K_VIEW && c->have_snapshot) w->ready_count--;
        if (c->connected) w->connected--;
        w->want_retry++;
        c->wsi = NULL;
        c->connected = false;
        c->have_snapshot = false;
        c->stalled = false;
        c->retry_at_us = wall_us() + 200000; /* reconnect */
        break;
    default: break;
    }
    return 0;
}

/* rx buffer 4 KB: a delta frame (a few hundred bytes compressed) fits whole; a snapshot comes in
 * pieces, of which on_message reads the first. lws allocates it per connection, so 64 KB made
 * 10,000 viewers 640 MB of buffers, and a touched line in every 16th page. */
static const struct lws_protocols load_protocols[] = {{"load", load_callback, 0, 4096, 0, NULL, 0},
                                                      {NULL, NULL, 0, 0, 0, NULL, 0}};

static volatile sig_atomic_t stop_flag;
static void on_stop(int s)
{
    (void)s;
    stop_flag = 1;
}

/* Every 10 ms: start more connections, restart closed ones, stop at the deadline. */
static void on_tick(uv_timer_t *t)
{
    worker *w = &W;
    int64_t now = wall_us();
    if (stop_flag || now >= w->deadline_us) _exit(0); /* the parent has what it needs */
    if (w->window[0] && !w->sh->cpu_ns[0]) w->sh->cpu_ns[0] = cpu_ns(), w->sh->sleeps[0] = sleeps();
    if (w->window[0] && !w->sh->cpu_ns[1] && now >= w->window[1])
        w->sh->cpu_ns[1] = cpu_ns(), w->sh->sleeps[1] = sleeps();
    for (int i = w->nview; i < w->n; i++)
        if (w->cl[i].connected && (w->cl[i].kind == K_GARBAGE || w->cl[i].kind == K_FLOOD))
            lws_callback_on_writable(w->cl[i].wsi);
    for (int k = 0; k < CONNECT_PER && w->next_connect < w->n; k++)
        connect_one(w, &w->cl[w->next_connect++]);
    if (w->next_connect >= w->n && w->want_retry)
        for (int i = 0; i < w->n; i++)
            if (!w->cl[i].wsi && w->cl[i].retry_at_us && now >= w->cl[i].retry_at_us) {
                w->cl[i].retry_at_us = 0;
                w->want_retry--;
                connect_one(w, &w->cl[i]);
            }
    (void)t;
}

/* After each poll (check phase): when the poll found fewer than NAP_BATCH messages (this process
 * has caught up), nap nap_us so the next epoll_wait returns every socket that became readable
 * meanwhile. Without it a load process that keeps up sleeps in epoll_wait and is woken once per
 * message, and on this VM each wake-up (an IPI: a VM exit) costs the feed's send() and the load
 * process microseconds — more than the message itself; remote browsers cost the feed no such
 * wake-up. Like a NIC's interrupt coalescing: a process that is behind never naps. The nap is
 * inside the measured latency: it can only make a receipt later, never earlier. */
#define NAP_BATCH 32
static void on_check(uv_check_t *h)
{
    (void)h;
    worker *w = &W;
    uint64_t got = w->msgs - w->msgs_at;
    w->msgs_at = w->msgs;
    if (w->nap_us <= 0 || got >= NAP_BATCH) return;
    struct timespec ts = {0, (long)w->nap_us * 1000};
    nanosleep(&ts, NULL);
}

/* One libuv loop (epoll) carries every connection of this process: lws on a foreign loop. */
static void worker_run(worker *w, int64_t deadline_us)
{
    static uv_loop_t loop;
    static uv_timer_t tick;
    static uv_check_t nap;
    uv_loop_init(&loop);
    void *foreign[1] = {&loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = load_protocols;
    info.options = LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = foreign;
    /* No fd_limit_per_thread: below the ulimit it makes lws 4.1 find the connection of every
     * poll event by a linear scan of its table (wsi_from_fd), 5 % of this process's CPU at 1,000
     * connections and quadratic in them; at the ulimit the lookup is an index. */
    info.timeout_secs = 30;
    /* Offer permessage-deflate as browsers do (--deflate 0: no offer, plain frames). */
    static const struct lws_extension exts[] = {{"permessage-deflate",
                                                 lws_extension_callback_pm_deflate,
                                                 "permessage-deflate; client_max_window_bits"},
                                                {NULL, NULL, NULL}};
    if (w->deflate) info.extensions = exts;
    lws_set_log_level(LLL_ERR, NULL);
    w->deadline_us = deadline_us;
    w->ctx = lws_create_context(&info);
    if (!w->ctx) {
        fprintf(stderr, "feed_load: lws_create_context failed\n");
        exit(1);
    }
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, on_tick, 1, 10);
    uv_check_init(&loop, &nap);
    uv_check_start(&nap, on_check);
    uv_run(&loop, UV_RUN_DEFAULT);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The load processes, for the parent's SIGTERM: they go with it. */
static pid_t kids[PROCS_MAX + 1];
static int nkids;
static void on_parent_stop(int s)
{
    (void)s;
    for (int p = 0; p < nkids; p++)
        kill(kids[p], SIGKILL);
    _exit(143);
}

/* End the load processes: SIGTERM, and SIGKILL for one still there after 2 s (a process stuck
 * inside lws never runs its tick). Returns how many had to be killed. */
static int stop_kids(void)
{
    int killed = 0;
    for (int p = 0; p < nkids; p++)
        kill(kids[p], SIGTERM);
    int64_t until = wall_us() + 2000000;
    for (int p = 0; p < nkids; p++) {
        while (waitpid(kids[p], NULL, WNOHANG) == 0) {
            if (wall_us() >= until) {
                fprintf(stderr, "feed_load: load process %d did not stop: killed\n", (int)kids[p]);
                kill(kids[p], SIGKILL);
                waitpid(kids[p], NULL, 0);
                killed++;
                break;
            }
            usleep(10000);
        }
    }
    return killed;
}

static int view_main(int port, const char *token, int clients, int procs, double seconds,
                     double warmup, int stall, int garbage, int flood, int nap_us, bool deflate,
                     int hostile_nice)
{
    if (procs < 1) procs = 1;
    if (procs > PROCS_MAX) procs = PROCS_MAX;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    size_t shsize = sizeof(shared) * (size_t)(procs + 1) + 2 * sizeof(int64_t);
    void *map = mmap(NULL, shsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return 1;
    shared *sh = map;
    volatile int64_t *window = (volatile int64_t *)(sh + procs + 1);
    for (int p = 0; p <= procs; p++)
        sh[p].min_seq = -1, sh[p].max_seq = -1;
    int64_t t0 = wall_us();
    int64_t deadline = t0 + (int64_t)((warmup + seconds + 60 + 3) * 1e6);
    int hostile[3] = {stall, garbage, flood};
    /* viewers in procs processes; hostile connections in one more of their own, so their writing
     * does not take CPU from the viewers' receiving in the same loop */
    int nh = stall + garbage + flood;
    int nprocs = procs + (nh > 0);
    signal(SIGTERM, on_parent_stop);
    for (int p = 0; p < nprocs; p++) {
        kids[p] = fork();
        if (kids[p] > 0) nkids = p + 1;
        if (kids[p] == 0) {
            signal(SIGTERM, on_stop);
            /* the deadline, even for a process stuck inside lws (on_tick would never run) */
            alarm((unsigned)((deadline - wall_us()) / 1000000) + 5);
            worker *w = &W;
            memset(w, 0, sizeof *w);
            bool hostile_proc = p == procs;
            if (hostile_proc && hostile_nice) setpriority(PRIO_PROCESS, 0, hostile_nice);
            w->nview = hostile_proc ? 0 : clients / procs + (p < clients % procs);
            w->n = hostile_proc ? nh : w->nview;
            w->cl = calloc((size_t)w->n + 1, sizeof *w->cl);
            int i = w->nview;
            for (int k = 0; hostile_proc && k < 3; k++)
                for (int j = 0; j < hostile[k]; j++)
                    w->cl[i++].kind = (enum kind)(k + 1);
            for (int j = 0; j < w->n; j++)
                w->cl[j].last_seq = -1;
            w->port = port;
            w->token = token;
            w->sh = &sh[p];
            w->window = window;
            w->nap_us = hostile_proc ? 0 : nap_us;
            w->deflate = deflate;
            if (w->nview == 0) w->sh->ready = 1;
            worker_run(w, deadline);
            _exit(0);
        }
    }
    /* parent: wait until every viewer holds a snapshot (at most 60 s), warm up, then measure */
    int64_t ready_by = wall_us() + 60 * 1000000LL;
    bool ready = false;
    while (!ready && wall_us() < ready_by) {
        ready = true;
        for (int p = 0; p < procs; p++)
            ready = ready && sh[p].ready;
        usleep(20000);
    }
    int64_t connect_s_us = wall_us() - t0;
    usleep((useconds_t)(warmup * 1e6));
    window[1] = wall_us() + (int64_t)(seconds * 1e6);
    window[0] = wall_us();
    usleep((useconds_t)((seconds + 2) * 1e6)); /* + grace for the last deltas */
    int stuck = stop_kids();
    static uint64_t hist[HIST_N];
    uint64_t total = 0, snaps = 0, extra = 0, gaps = 0, hclose = 0, cfail = 0, peak = 0;
    int64_t mn = -1, mx = -1;
    double view_cpu_s = 0, view_sleeps = 0, hostile_cpu_s = 0;
    for (int p = 0; p < nprocs; p++) {
        if (p < procs && sh[p].cpu_ns[1]) {
            view_cpu_s += (double)(sh[p].cpu_ns[1] - sh[p].cpu_ns[0]) / 1e9;
            view_sleeps += (double)(sh[p].sleeps[1] - sh[p].sleeps[0]);
        }
        /* the hostile connections' own process: CPU this machine gives them (a real abuser's
         * would be elsewhere), taken from the two cores the feed and the viewers share */
        if (p == procs && sh[p].cpu_ns[1])
            hostile_cpu_s = (double)(sh[p].cpu_ns[1] - sh[p].cpu_ns[0]) / 1e9;
        for (int i = 0; i < HIST_N; i++)
            hist[i] += sh[p].hist[i];
        total += sh[p].in_window;
        snaps += sh[p].snapshots;
        extra += sh[p].extra_snapshots;
        gaps += sh[p].gaps;
        hclose += sh[p].closes_hostile;
        cfail += sh[p].connect_fail;
        peak += sh[p].connected_peak;
        if (sh[p].min_seq >= 0 && (mn < 0 || sh[p].min_seq < mn)) mn = sh[p].min_seq;
        if (sh[p].max_seq > mx) mx = sh[p].max_seq;
    }
    uint64_t per = mn >= 0 ? (uint64_t)(mx - mn + 1) : 0;
    /* Is the tail every delta's last receipts, or a few slow deltas? Each delta's slowest receipt
     * (over all processes), as quantiles over the deltas; and each process's p99 (one process
     * behind the others?). */
    static uint32_t slowest[DELTAS_N];
    size_t nd = 0;
    for (int64_t s = mn; mn >= 0 && s <= mx && nd < DELTAS_N; s++) {
        uint32_t m = 0;
        for (int p = 0; p < procs; p++)
            if (sh[p].slowest_us[(uint64_t)s % DELTAS_N] > m)
                m = sh[p].slowest_us[(uint64_t)s % DELTAS_N];
        slowest[nd++] = m;
    }
    if (getenv("FEED_LOAD_DELTAS")) /* each delta's slowest receipt in order, on stderr */
        for (size_t i = 0; i < nd; i++)
            fprintf(stderr, "%.1f%c", slowest[i] / 1000.0, i + 1 < nd ? ' ' : '\n');
    qsort(slowest, nd, sizeof *slowest, cmp_u32);
#define SLOW_Q(q) (nd ? slowest[(size_t)((double)(nd - 1) * (q))] / 1000.0 : 0.0)
    char procs_p99[16 * PROCS_MAX] = "";
    for (int p = 0, at = 0; p < procs && at < (int)sizeof procs_p99 - 16; p++)
        at += snprintf(procs_p99 + at, sizeof procs_p99 - (size_t)at, "%s%.1f", p ? "," : "",
                       hist_pct(sh[p].hist, sh[p].in_window, 0.99));
    uint64_t expected = per * (uint64_t)clients;
    double maxms = hist_max_ms(hist);
    printf("{\"bench\":\"feed_load\",\"clients\":%d,\"procs\":%d,\"all_ready\":%s,"
           "\"connect_s\":%.2f,\"connected_peak\":%" PRIu64 ",\"window_s\":%g,"
           "\"deltas_in_window\":%" PRIu64 ",\"expected\":%" PRIu64 ",\"delivered\":%" PRIu64
           ",\"lost\":%" PRId64
           ",\"p1_ms\":%.2f,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.1f,"
           "\"snapshots\":%" PRIu64 ",\"extra_snapshots\":%" PRIu64 ",\"gaps\":%" PRIu64
           ",\"stall\":%d,\"garbage\":%d,\"flood\":%d,\"hostile_closes\":%" PRIu64
           ",\"hostile_cpu_cores\":%.3f"
           ",\"connect_errors\":%" PRIu64 ",\"view_cpu_cores\":%.2f,\"view_us_per_msg\":%.1f,"
           "\"view_wakeups_per_msg\":%.3f,\"delta_slowest_ms\":{\"min\":%.1f,\"p50\":%.1f,"
           "\"p90\":%.1f,\"max\":%.1f},\"proc_p99_ms\":[%s]}\n",
           clients, procs, ready ? "true" : "false", (double)connect_s_us / 1e6, peak, seconds, per,
           expected, total, (int64_t)expected - (int64_t)total, hist_pct(hist, total, 0.01),
           hist_pct(hist, total, 0.5), hist_pct(hist, total, 0.9), hist_pct(hist, total, 0.99),
           maxms, snaps, extra, gaps, stall, garbage, flood, hclose, hostile_cpu_s / seconds, cfail,
           view_cpu_s / seconds, total ? view_cpu_s * 1e6 / (double)total : 0.0,
           total ? view_sleeps / (double)total : 0.0, SLOW_Q(0), SLOW_Q(0.5), SLOW_Q(0.9),
           SLOW_Q(1), procs_p99);
#undef SLOW_Q
    munmap(map, shsize);
    return stuck ? 1 : 0; /* a load process that had to be killed: its figures are not a run */
}

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return def;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], "publish") == 0) {
        const char *sock = opt(argc, argv, "--redis", NULL);
        if (!sock) goto usage;
        return publish_main(sock, atof(opt(argc, argv, "--rate", "4")),
                            atoi(opt(argc, argv, "--pad", "1000")),
                            atof(opt(argc, argv, "--seconds", "0")),
                            opt(argc, argv, "--deltas", NULL), opt(argc, argv, "--pad-from", NULL));
    }
    if (argc >= 2 && strcmp(argv[1], "view") == 0) {
        const char *port = opt(argc, argv, "--port", NULL);
        if (!port) goto usage;
        return view_main(
            atoi(port), opt(argc, argv, "--token", ""), atoi(opt(argc, argv, "--clients", "1000")),
            atoi(opt(argc, argv, "--procs", "1")), atof(opt(argc, argv, "--seconds", "10")),
            atof(opt(argc, argv, "--warmup", "2")), atoi(opt(argc, argv, "--stall", "0")),
            atoi(opt(argc, argv, "--garbage", "0")), atoi(opt(argc, argv, "--flood", "0")),
            atoi(opt(argc, argv, "--nap-us", "0")), atoi(opt(argc, argv, "--deflate", "1")) != 0,
            atoi(opt(argc, argv, "--hostile-nice", "0")));
    }
usage:
    fprintf(stderr,
            "usage: feed_load publish --redis SOCK [--rate 4] [--pad 1000] [--pad-from FILE] "
            "[--seconds S] [--deltas FILE]\n"
            "       feed_load view --port P --token T [--clients N] [--procs K] "
            "[--seconds S] [--warmup W] [--stall N] [--garbage N] [--flood N] "
            "[--nap-us U] [--deflate 1|0] [--hostile-nice N]\n");
    return 2;
}
