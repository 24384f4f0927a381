/*
 * opswall-feed — serves the live picture to browsers: the viewer page, a JSON API and the
 * websocket /api/v1/live (DESIGN §7). One libuv loop carries everything: the lws server (foreign
 * loop), both hiredis connections and the signal handlers (STYLE.md practice 7).
 *
 *   opswall-feed [--config PATH] [--port N]
 *
 * --port overrides feed.port; 0 picks a free port. The first line on stdout is the viewer URL,
 * e.g. "viewer: http://127.0.0.1:7681/". SIGINT/SIGTERM stop it cleanly (lws's two-stage destroy on
 * a foreign loop; the loop must close with no handle left).
 *
 * Modules: live.c (held snapshot, ring, client tails), coarsen.c (what viewers may see), http.c
 * (routes, static files, deferred Redis answers), gate.c (tokens, roles, origins, rate buckets),
 * redis_sub.c (Redis connections), msg.c (shared encoded messages), parts.c (the partitions'
 * pictures merged, when cluster.partitions > 1). Partitioned or on a Redis Cluster, commands go
 * through io/cluster_async.h to the master of their key's slot.
 *
 * TLS: with feed.tls.cert and feed.tls.key set (both, readable PEM files, checked at start) the
 * same port serves https:// and wss:// only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "access.h"
#include "clock.h"
#include "config.h"
#include "files.h"
#include "http.h"
#include "keys.h"
#include "listener.h"
#include "live.h"
#include "pmd.h"
#include "log.h"
#include "partition.h"
#include "parts.h"
#include "redis.h"
#include "redis_sub.h"
#include "workers.h"

typedef struct feed {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    struct lws_context *context; /* NULLed by lws when fully freed (info.pcontext) */
    uv_timer_t settle;           /* sends a held-back snapshot whose delta did not follow */
    uv_timer_t beat;             /* websocket keep-alive: pings, silent clients closed */
    ow_live *live;
    ow_http http;
    ow_gate gate;
    ow_redis_sub redis;
    /* partitioned (cluster.partitions > 1): the partitions' pictures, merged (feed/parts.h) */
    ow_parts parts;
    ow_partition_table table;
    /* commands and snapshot GETs routed by key (partitioned, or on a Redis Cluster); NULL on one
     * Redis with one partition. Frees itself on the loop after ow_cluster_async_close. */
    ow_cluster_async *cluster;
    bool partitioned, parts_ok, table_ok;
    bool loop_ok, redis_ok, signals_ok, http_ok, settle_ok, beat_ok; /* for feed_fini */
    bool stopping; /* feed_stop ran: everything on the loop is closing */
    /* a worker of several (feed.workers > 1, feed/workers.h); board == NULL otherwise */
    ow_worker_board *board;
    int worker;    /* its index */
    int listen_fd; /* its own SO_REUSEPORT socket until the listener owns it; -1 = lws listens */
    int ready_fd;  /* one byte to the parent once listening; -1 = none */
    ow_listener listener;
    uv_timer_t board_timer; /* writes this worker's counters to the board every second */
    bool board_timer_ok;
} feed;

typedef struct args {
    const char *config;
    long port; /* -1 = from the config */
} args;

static void usage(FILE *out)
{
    fprintf(out, "usage: opswall-feed [--config PATH] [--port N]\n"
                 "  --config PATH  configuration file (default: config/opswall.json)\n"
                 "  --port N       listen port, overrides feed.port; 0 picks a free port\n");
}

/* 0 to run, 1 to exit successfully (--help), -1 on a usage error (message printed). */
static int parse_args(int argc, char **argv, args *a)
{
    a->config = NULL;
    a->port = -1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if ((strcmp(arg, "--config") == 0 || strcmp(arg, "--port") == 0) && i + 1 >= argc) {
            fprintf(stderr, "opswall-feed: %s needs a value\n", arg);
            usage(stderr);
            return -1;
        }
        if (strcmp(arg, "--config") == 0) {
            a->config = argv[++i];
        } else if (strcmp(arg, "--port") == 0) {
            char *end;
            errno = 0;
            a->port = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || a->port < 0 || a->port > 65535) {
                fprintf(stderr, "opswall-feed: --port: expected 0..65535, got \"%s\"\n", argv[i]);
                return -1;
            }
        } else {
            fprintf(stderr, "opswall-feed: unknown argument \"%s\"\n", arg);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

/* lws logs through ours, one line each. */
static void lws_log_line(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    ow_log(level & LLL_ERR ? OW_LOG_ERROR : OW_LOG_WARN, "lws: %.*s", (int)n, line);
}

/* The channels the feed subscribes to, in ow_redis_sub's channel numbering. */
enum { CH_LIVE, CH_DELTAS, CH_READY };
static const char *const channels[] = {OW_CHAN_LIVE, OW_CHAN_DELTAS, OW_CHAN_ORDER_READY};

/* How long a snapshot that continues the sequence waits for its own delta (published right
 * after it in the same pipeline) before it is sent whole. */
#define SETTLE_MS 50

static void on_settle(uv_timer_t *t)
{
    feed *f = t->data;
    ow_live_settle(f->live);
}

/* The keep-alive beat's period: each run pings the clients whose turn came since the last, so
 * at 10,000 viewers and 30 s about 80 pings go out per run instead of thousands at once. */
#define BEAT_MS 250

static void on_beat(uv_timer_t *t)
{
    feed *f = t->data;
    ow_live_heartbeat(f->live, ow_clock_mono_ms());
}

/* Partitioned: the main connections carry only order_ready (and commands). */
static const char *const part_channels[] = {OW_CHAN_ORDER_READY};

static void live_publish(feed *f, int channel, const char *text, size_t len);

static void on_redis_message(void *ud, int channel, const char *text, size_t len)
{
    feed *f = ud;
    if (f->partitioned) return; /* partition 0's order_ready arrives through parts too */
    if (channel == CH_READY) {
        ow_http_on_ready(&f->http, 0, text, len);
        return;
    }
    live_publish(f, channel, text, len);
}

/* Partitioned: a partition's engine answered a request (an order's detail, the open alerts). */
static void on_part_ready(void *ud, int partition, const char *text, size_t len)
{
    feed *f = ud;
    ow_http_on_ready(&f->http, partition, text, len);
}

/* A merged picture of the partitions (a snapshot, then its delta). */
static void on_merged(void *ud, const char *text, size_t len)
{
    live_publish(ud, -1, text, len);
}

/* Partitioned: an acknowledgement goes to the partition whose picture lists the alert, else to
 * every partition (the engines that do not hold it skip it). */
static int ack_keys(void *ud, const char *alert_id, char (*keys)[OW_PARTITION_KEY_MAX], int max)
{
    feed *f = ud;
    int p = ow_parts_alert_partition(&f->parts, alert_id), n = 0;
    for (int q = 0; q < f->parts.n && n < max; q++)
        if (p < 0 || q == p) ow_partition_rekey(keys[n++], OW_PARTITION_KEY_MAX, q, OW_KEY_ACKS);
    return n;
}

/* The lines /metrics adds to the usual ones: the partitions' ages, the workers. */
static void metrics_extra(void *ud, ow_buf *b)
{
    feed *f = ud;
    if (f->parts_ok) ow_parts_metrics(&f->parts, b);
    if (f->board) ow_worker_metrics(f->board, b);
}

/* This worker's figures as the board holds them. */
static void board_publish(feed *f, const ow_live_stats *st, const ow_http_counts *counts,
                          const uint64_t *backlog, bool redis_up)
{
    ow_worker_stats w;
    memset(&w, 0, sizeof w);
    w.live = *st;
    w.http = *counts;
    memcpy(w.backlog, backlog, sizeof w.backlog);
    w.redis_connected = redis_up;
    ow_worker_publish(f->board, f->worker, &w);
}

static void on_board_timer(uv_timer_t *t)
{
    feed *f = t->data;
    static const uint64_t bounds[] = OW_LIVE_BACKLOG_BOUNDS;
    uint64_t backlog[OW_LIVE_BACKLOG_N];
    ow_live_backlog(f->live, bounds, backlog, OW_LIVE_BACKLOG_N);
    ow_live_stats st = ow_live_stats_get(f->live);
    board_publish(f, &st, &f->http.counts, backlog, ow_redis_sub_connected(&f->redis));
}

/* /metrics in a worker: its own figures, fresh, then the sum over every worker. */
static void metrics_totals(void *ud, ow_live_stats *st, ow_http_counts *counts, uint64_t *backlog,
                           bool *redis_up)
{
    feed *f = ud;
    board_publish(f, st, counts, backlog, *redis_up);
    ow_worker_stats sum;
    ow_worker_totals(f->board, &sum);
    *st = sum.live;
    *counts = sum.http;
    memcpy(backlog, sum.backlog, sizeof sum.backlog);
    *redis_up = sum.redis_connected != 0;
}

static void live_publish(feed *f, int channel, const char *text, size_t len)
{
    ow_err err;
    bool owes = false;
    int rc =
        ow_live_publish(f->live, text, len, ow_clock_wall_ms(), ow_clock_mono_ms(), &owes, &err);
    if (owes) uv_timer_start(&f->settle, on_settle, SETTLE_MS, 0);
    if (rc == OW_OK) return;
    ow_live_stats st = ow_live_stats_get(f->live);
    uint64_t dropped = st.rejected + st.gaps;
    if (dropped <= 10 || dropped % 1000 == 0)
        ow_warn("live: dropped a message from %s (%llu so far): %s%s",
                channel >= 0 ? channels[channel] : "the merged partitions",
                (unsigned long long)dropped, err.msg,
                rc == OW_EAGAIN ? "; fetching the snapshot again" : "");
    if (rc == OW_EAGAIN && channel >= 0) ow_redis_sub_refresh(&f->redis);
}

/* The live protocol's admission: the token's role decides the view (viewer: coarsened). */
static int admit(void *ud, struct lws *wsi)
{
    feed *f = ud;
    ow_pass p = ow_gate_check(&f->gate, wsi, OW_ROLE_VIEWER);
    if (p.status) return -p.status;
    return p.role == OW_ROLE_VIEWER ? OW_VIEW_COARSE : OW_VIEW_FULL;
}

static int confirm_upgrade(void *ud, struct lws *wsi)
{
    feed *f = ud;
    return ow_http_confirm_upgrade(&f->http, wsi);
}

static void feed_stop(feed *f, const char *why)
{
    if (f->stopping) return;
    f->stopping = true;
    ow_info("stopping (%s)", why);
    uv_close((uv_handle_t *)&f->sigint, NULL);
    uv_close((uv_handle_t *)&f->sigterm, NULL);
    uv_close((uv_handle_t *)&f->settle, NULL);
    if (f->beat_ok) uv_close((uv_handle_t *)&f->beat, NULL);
    if (f->board_timer_ok) uv_close((uv_handle_t *)&f->board_timer, NULL);
    ow_listener_close(&f->listener);
    ow_http_close(&f->http);
    ow_redis_sub_close(&f->redis);
    if (f->parts_ok) ow_parts_close(&f->parts);
    ow_cluster_async_close(f->cluster); /* after the users: their commands fail, then it frees */
    f->cluster = NULL;
    if (f->context) lws_context_destroy(f->context); /* stage 1 on a foreign loop */
}

static void on_signal(uv_signal_t *h, int signum)
{
    feed_stop(h->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* A numeric IPv4 listen address must belong to this machine; lws would otherwise wait for it
 * silently. Returns true when it can be bound (or is not a numeric IPv4 address). */
static bool listen_usable(const char *listen, bool *ipv4)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    *ipv4 = inet_pton(AF_INET, listen, &sa.sin_addr) == 1;
    if (!*ipv4) return true;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return true;
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 || errno != EADDRNOTAVAIL;
    close(fd);
    return ok;
}

/* The live protocol is the vhost's default: `new WebSocket(url)` sends no subprotocol. */
static const struct lws_protocol_vhost_options live_default = {NULL, NULL, "default", ""};
static const struct lws_protocol_vhost_options vhost_pvo = {NULL, &live_default, OW_LIVE_PROTOCOL,
                                                            ""};
/* lws's own keep-alive off (hangup 0): the feed pings and closes silent clients itself
 * (ow_live_keepalive, feed.ping_interval): lws 4.1 re-sorts a timer list of every connection on
 * each pong, O(n) a pong. */
static const lws_retry_bo_t idle_policy = {.secs_since_valid_ping = 0,
                                           .secs_since_valid_hangup = 0};

/* The first line on stdout: where the viewer is. */
static void print_viewer_url(const ow_config *cfg, int port)
{
    const char *iface = cfg->feed.listen;
    const char *host = !iface[0] || strcmp(iface, "::") == 0 || strcmp(iface, "0.0.0.0") == 0
                           ? "127.0.0.1"
                           : iface;
    bool v6 = strchr(host, ':') != NULL;
    printf("viewer: http%s://%s%s%s:%d/\n", cfg->feed.tls_cert[0] ? "s" : "", v6 ? "[" : "", host,
           v6 ? "]" : "", port);
    fflush(stdout);
}

static int server_start(feed *f, const ow_config *cfg, int port, struct lws_protocols *protocols)
{
    bool ipv4 = false;
    const char *iface = cfg->feed.listen[0] ? cfg->feed.listen : NULL;
    if (iface && !listen_usable(iface, &ipv4)) {
        ow_error("feed.listen %s is not an address of this machine; use 127.0.0.1, 0.0.0.0 or "
                 "one of its addresses",
                 iface);
        return -1;
    }
    if (iface && strcmp(iface, "0.0.0.0") == 0) iface = NULL;

    void *foreign_loops[1] = {&f->loop};
    uint64_t options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                       LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (ipv4) options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    char cert[PATH_MAX], key[PATH_MAX];
    bool tls = cfg->feed.tls_cert[0] != '\0';
    if (tls) {
        options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        ow_config_path(cfg, cfg->feed.tls_cert, cert, sizeof cert);
        ow_config_path(cfg, cfg->feed.tls_key, key, sizeof key);
    }

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = options;
    info.foreign_loops = foreign_loops;
    info.pcontext = &f->context;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.max_http_header_data = 4096; /* a request's headers, bytes: larger is refused */
    info.timeout_secs = 10;           /* a handshake or request not finished by then is dropped */
    f->context = lws_create_context(&info);
    if (!f->context) {
        ow_error("cannot create the websocket/HTTP server (libwebsockets); is the package "
                 "libwebsockets-evlib-uv installed?");
        return -1;
    }

    struct lws_context_creation_info vinfo;
    memset(&vinfo, 0, sizeof vinfo);
    vinfo.options = options;
    /* a worker: TLS and everything else as usual, but the connections come from its own
     * SO_REUSEPORT socket (feed/listener.h) */
    vinfo.port = f->listen_fd >= 0 ? CONTEXT_PORT_NO_LISTEN_SERVER : port;
    vinfo.iface = iface;
    vinfo.protocols = protocols;
    vinfo.pvo = &vhost_pvo;
    vinfo.retry_and_idle_policy = &idle_policy;
    /* The kernel's TCP keep-alive finds peers that vanished (a laptop closed, a network gone) on
     * every connection, HTTP/2 ones included, which the websocket pings do not cover: probes
     * after 60 s idle, every 10 s, 3 unanswered = closed. */
    vinfo.ka_time = 60;
    vinfo.ka_interval = 10;
    vinfo.ka_probes = 3;
    vinfo.vhost_name = "opswall";
    /* permessage-deflate offered; the feed compresses each message once (feed/pmd.h) */
    if (cfg->feed.compression > 0) vinfo.extensions = OW_PMD_EXTENSIONS;
    if (tls) {
        vinfo.ssl_cert_filepath = cert;
        vinfo.ssl_private_key_filepath = key;
    }
    struct lws_vhost *vh = lws_create_vhost(f->context, &vinfo);
    if (!vh) {
        ow_error("cannot listen on %s:%d: the port is in use or not allowed; pick another with "
                 "--port N (0 = any free port) or feed.port",
                 cfg->feed.listen[0] ? cfg->feed.listen : "*", port);
        return -1;
    }
    if (f->listen_fd >= 0) {
        ow_err err;
        int fd = f->listen_fd;
        f->listen_fd = -1; /* the listener's now, even when it fails */
        if (ow_listener_start(&f->listener, &f->loop, fd, vh, tls, &err)) {
            ow_error("%s", err.msg);
            return -1;
        }
        ow_info("worker %d serving %s on port %d (websocket %s)", f->worker, f->http.root, port,
                OW_LIVE_PATH);
        if (f->ready_fd >= 0 && write(f->ready_fd, "r", 1) != 1)
            ow_warn("cannot tell the parent this worker listens: %s", strerror(errno));
        return 0;
    }
    int bound = lws_get_vhost_listen_port(vh);
    print_viewer_url(cfg, bound);
    ow_info("serving %s on port %d (websocket %s)", f->http.root, bound, OW_LIVE_PATH);
    return 0;
}

static void log_open_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    ow_error("handle still open at exit: %s%s", uv_handle_type_name(uv_handle_get_type(h)),
             uv_is_closing(h) ? " (closing)" : "");
}

/* feed.tls.cert / feed.tls.key: both or neither, each a readable file. */
static int tls_check(const ow_config *cfg)
{
    const char *names[2] = {"feed.tls.cert", "feed.tls.key"};
    const char *vals[2] = {cfg->feed.tls_cert, cfg->feed.tls_key};
    if (!vals[0][0] != !vals[1][0]) {
        ow_error("%s: set together with %s (a certificate needs its private key), or leave both "
                 "empty for plain HTTP",
                 vals[0][0] ? names[1] : names[0], vals[0][0] ? names[0] : names[1]);
        return -1;
    }
    for (int i = 0; i < 2 && vals[0][0]; i++) {
        char path[PATH_MAX];
        ow_config_path(cfg, vals[i], path, sizeof path);
        FILE *fp = fopen(path, "r");
        if (!fp) {
            ow_error("%s: %s: %s", names[i], path,
                     errno == ENOENT ? "file not found" : strerror(errno));
            return -1;
        }
        char line[64] = "";
        bool pem = fgets(line, sizeof line, fp) && strncmp(line, "-----BEGIN ", 11) == 0;
        fclose(fp);
        if (!pem) {
            ow_error("%s: %s: not a PEM file (expected a line starting -----BEGIN)", names[i],
                     path);
            return -1;
        }
    }
    return 0;
}

/* No token configured: the feed is open (everyone admin). Only on a loopback address. */
static int open_check(const ow_config *cfg, const ow_access *access)
{
    if (access->n > 0) return 0;
    const char *l = cfg->feed.listen;
    bool loopback =
        strncmp(l, "127.", 4) == 0 || strcmp(l, "::1") == 0 || strcmp(l, "localhost") == 0;
    if (!loopback) {
        ow_error("access.tokens is empty, so the feed would let anyone on the network in as admin: "
                 "add tokens (docs/configuration.md) or set feed.listen to 127.0.0.1");
        return -1;
    }
    ow_warn("access.tokens is empty: the feed is open to everyone on this machine (admin); add "
            "tokens before listening on a network address");
    return 0;
}

/* Set up the loop and everything on it except the server. On failure, what was set up is left for
 * feed_fini, which knows from the flags what to undo. */
static int feed_init(feed *f, const ow_config *cfg, const ow_access *access,
                     const ow_redis_env *env)
{
    ow_err err;
    char web_root[PATH_MAX], city[PATH_MAX];
    ow_config_path(cfg, cfg->feed.web_root, web_root, sizeof web_root);
    ow_config_path(cfg, cfg->city.regions, city, sizeof city);
    memset(f, 0, sizeof *f);
    f->listen_fd = f->ready_fd = -1;
    if (uv_loop_init(&f->loop)) return -1;
    f->loop_ok = true;
    f->gate.access = access;
    f->gate.origins = cfg->feed.allowed_origins;
    f->live = ow_live_new((size_t)cfg->feed.queue, (double)cfg->feed.client_rate, admit,
                          confirm_upgrade, f);
    if (!f->live) {
        ow_error("out of memory");
        return -1;
    }
    if (!ow_live_compress(f->live, (int)cfg->feed.compression)) {
        ow_error("out of memory");
        return -1;
    }
    if (!ow_live_send_threads(f->live, (int)cfg->feed.send_threads))
        ow_warn("feed.send_threads: cannot start %d send threads (%s); sending on one",
                (int)cfg->feed.send_threads, strerror(errno));
    if (uv_timer_init(&f->loop, &f->settle)) return -1;
    f->settle.data = f;
    f->settle_ok = true;
    ow_live_keepalive(f->live, cfg->feed.ping_interval_ms, cfg->feed.ping_timeout_ms);
    if (uv_timer_init(&f->loop, &f->beat)) return -1;
    f->beat.data = f;
    f->beat_ok = true;
    uv_timer_start(&f->beat, on_beat, BEAT_MS, BEAT_MS);
    if (ow_http_init(&f->http, &f->loop, web_root, city, f->live, &f->redis, &f->gate,
                     (double)cfg->feed.client_rate, ow_clock_mono_ms(), &err)) {
        ow_error("%s", err.msg);
        return -1;
    }
    f->http_ok = true;
    f->http.metrics_extra = metrics_extra;
    f->http.ack_ud = f;
    f->partitioned = cfg->cluster.partitions > 1;
    if (ow_redis_sub_init(&f->redis, &f->loop, &env->target, env->desc, env->timeout_ms,
                          f->partitioned ? part_channels : channels, f->partitioned ? 1 : 3,
                          f->partitioned ? NULL : OW_KEY_SNAPSHOT, on_redis_message, f)) {
        ow_error("cannot set up the Redis timers");
        return -1;
    }
    f->redis_ok = true;
    /* Partitioned, or on a Redis Cluster: commands routed by their key's slot. The first map is
     * read here (blocking, once, like ow_redis_env_open's check). */
    if (ow_cluster_async_open_env(&f->loop, env, cfg, &f->cluster, &err)) {
        if (f->partitioned) {
            ow_error("%s", err.msg);
            return -1;
        }
        /* one partition: the two connections retry on their own (a wrong password is reported
         * there, and /healthz says disconnected) */
        ow_warn("%s; using the connections to %s alone", err.msg, env->desc);
    } else if (!f->partitioned && !ow_cluster_async_enabled(f->cluster)) {
        ow_cluster_async_close(f->cluster); /* one Redis, one partition: the two connections */
        f->cluster = NULL;
    } else {
        ow_redis_sub_use_cluster(&f->redis, f->cluster);
        ow_info("Redis %s: commands routed by key slot (%s)", env->desc,
                ow_cluster_async_enabled(f->cluster) ? "a Redis Cluster" : "one node");
    }
    if (f->partitioned) {
        if (ow_partition_load(cfg, &f->table, &err)) {
            ow_error("%s", err.msg);
            return -1;
        }
        f->table_ok = true;
        int prc = ow_parts_init(&f->parts, &f->loop, (int)cfg->cluster.partitions, &f->table,
                                &env->target, env->desc, env->timeout_ms,
                                cfg->cluster.stale_after_ms, on_merged, f);
        f->parts_ok = true; /* closing copes with a half-done init */
        if (prc) {
            ow_error("cannot set up the partitions' Redis connections (out of memory?)");
            return -1;
        }
        ow_parts_use_cluster(&f->parts, f->cluster);
        ow_parts_on_ready(&f->parts, on_part_ready);
        f->http.partitions = (int)cfg->cluster.partitions;
        f->http.ack_keys = ack_keys;
        ow_info("partitioned: merging the pictures of %d partitions", (int)cfg->cluster.partitions);
    }
    int rc = uv_signal_init(&f->loop, &f->sigint);
    if (rc == 0 && (rc = uv_signal_init(&f->loop, &f->sigterm)) != 0)
        uv_close((uv_handle_t *)&f->sigint, NULL);
    if (rc) {
        ow_error("cannot watch signals: %s", uv_strerror(rc));
        return -1;
    }
    f->sigint.data = f->sigterm.data = f;
    uv_signal_start(&f->sigint, on_signal, SIGINT); /* cannot fail for valid signal numbers */
    uv_signal_start(&f->sigterm, on_signal, SIGTERM);
    f->signals_ok = true;
    return 0;
}

/* Serve until SIGINT/SIGTERM. Returns 0 after a clean stop, -1 when the server did not start. */
static int feed_serve(feed *f, const ow_config *cfg, int port)
{
    struct lws_protocols protocols[] = {
        ow_http_protocol(&f->http), ow_live_protocol(f->live), {NULL, NULL, 0, 0, 0, NULL, 0}};
    int rc = server_start(f, cfg, port, protocols);
    if (rc == 0) {
        ow_redis_sub_start(&f->redis);
        if (f->parts_ok) ow_parts_start(&f->parts);
    } else
        feed_stop(f, "start-up failed");
    uv_run(&f->loop, UV_RUN_DEFAULT);
    if (f->context) lws_context_destroy(f->context); /* stage 2: frees what stage 1 left */
    uv_run(&f->loop, UV_RUN_DEFAULT);                /* finish any close stage 2 started */
    return rc;
}

/* Undo feed_init. Returns -1 when the loop did not close cleanly. */
static int feed_fini(feed *f)
{
    int rc = 0;
    if (!f->stopping) { /* feed_serve did not run: close what feed_init opened */
        if (f->settle_ok) uv_close((uv_handle_t *)&f->settle, NULL);
        if (f->beat_ok) uv_close((uv_handle_t *)&f->beat, NULL);
        if (f->board_timer_ok) uv_close((uv_handle_t *)&f->board_timer, NULL);
        if (f->http_ok) ow_http_close(&f->http);
        if (f->signals_ok) {
            uv_close((uv_handle_t *)&f->sigint, NULL);
            uv_close((uv_handle_t *)&f->sigterm, NULL);
        }
        if (f->redis_ok) ow_redis_sub_close(&f->redis);
        if (f->parts_ok) ow_parts_close(&f->parts);
        ow_cluster_async_close(f->cluster);
        f->cluster = NULL;
        if (f->loop_ok) uv_run(&f->loop, UV_RUN_DEFAULT);
    }
    if (f->loop_ok && uv_loop_close(&f->loop) != 0) {
        uv_walk(&f->loop, log_open_handle, NULL);
        ow_error("the event loop did not close cleanly");
        rc = -1;
    }
    if (f->listen_fd >= 0) close(f->listen_fd); /* never handed to the listener */
    ow_live_free(f->live);
    if (f->parts_ok) ow_parts_fini(&f->parts);
    if (f->table_ok) ow_partition_table_fini(&f->table);
    return rc;
}

/* ---- several workers (feed.workers > 1, feed/workers.h) ----------------------------------------
 */

typedef struct workers_ctx {
    const ow_config *cfg;
    ow_redis_env env; /* the parent's, without the private server's ownership */
    ow_listen_addr addr;
    int port; /* the reserved port */
    ow_worker_board *board;
} workers_ctx;

static void workers_ready(void *ud)
{
    workers_ctx *w = ud;
    print_viewer_url(w->cfg, w->port);
}

static int worker_main(void *ud, int index, int ready_fd)
{
    workers_ctx *w = ud;
    static char name[32];
    snprintf(name, sizeof name, "feed.%d", index);
    ow_log_init(name, OW_LOG_INFO);
    ow_err err;
    int fd = ow_listen_socket(&w->addr, true, NULL, &err);
    if (fd < 0) {
        ow_error("%s", err.msg);
        return 1;
    }
    feed f;
    int rc = feed_init(&f, w->cfg, &w->cfg->access, &w->env);
    f.listen_fd = fd; /* feed_fini closes it if the listener never took it */
    f.ready_fd = ready_fd;
    f.board = w->board;
    f.worker = index;
    if (rc == 0 && uv_timer_init(&f.loop, &f.board_timer) == 0) {
        f.board_timer.data = &f;
        f.board_timer_ok = true;
        uv_timer_start(&f.board_timer, on_board_timer, 0, 1000);
        f.http.metrics_totals = metrics_totals;
    } else {
        rc = -1;
    }
    if (rc == 0) rc = feed_serve(&f, w->cfg, w->port);
    if (feed_fini(&f)) rc = -1;
    return rc ? 1 : 0;
}

/* The parent: reserve the port (so port 0 becomes one port every worker shares, also across
 * restarts), start the workers, keep them running. */
static int run_workers(const ow_config *cfg, const ow_redis_env *env, int port)
{
    workers_ctx w;
    memset(&w, 0, sizeof w);
    w.cfg = cfg;
    w.env = *env;
    w.env.server_pid = 0; /* the parent owns the private Redis; a worker never stops it */
    ow_err err;
    if (ow_listen_addr_parse(cfg->feed.listen, port, &w.addr, &err)) {
        ow_error("%s", err.msg);
        return -1;
    }
    int hold = ow_listen_socket(&w.addr, false, &w.port, &err);
    if (hold < 0) {
        ow_error("%s", err.msg);
        return -1;
    }
    if (w.addr.sa.ss_family == AF_INET)
        ((struct sockaddr_in *)&w.addr.sa)->sin_port = htons((uint16_t)w.port);
    else
        ((struct sockaddr_in6 *)&w.addr.sa)->sin6_port = htons((uint16_t)w.port);
    w.board = ow_worker_board_new((int)cfg->feed.workers);
    if (!w.board) {
        ow_error("cannot map the workers' shared counters: %s", strerror(errno));
        close(hold);
        return -1;
    }
    ow_info("starting %d workers on port %d", (int)cfg->feed.workers, w.port);
    int rc = ow_workers_run(w.board, worker_main, workers_ready, &w);
    ow_worker_board_free(w.board);
    close(hold);
    return rc;
}

int main(int argc, char **argv)
{
    args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc > 0 ? 0 : 2;
    ow_log_init("feed", OW_LOG_INFO);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
    signal(SIGPIPE, SIG_IGN); /* a peer that went away is an error return, not a signal */

    ow_config cfg;
    ow_err err;
    if (ow_config_load(&cfg, a.config, &err)) {
        ow_error("%s", err.msg);
        return 1;
    }
    if (tls_check(&cfg)) return 1;
    if (open_check(&cfg, &cfg.access)) return 1;
    ow_redis_env env;
    if (ow_redis_env_open(&cfg, &env, &err)) {
        ow_error("%s", err.msg);
        return 1;
    }
    int port = a.port >= 0 ? (int)a.port : (int)cfg.feed.port;
    if (cfg.feed.workers > 1) {
        rc = run_workers(&cfg, &env, port);
    } else {
        feed f;
        rc = feed_init(&f, &cfg, &cfg.access, &env);
        if (rc == 0) rc = feed_serve(&f, &cfg, port);
        if (feed_fini(&f)) rc = -1;
    }
    ow_redis_env_close(&env);
    return rc ? 1 : 0;
}
