/*
 * http — the feed's HTTP side: the viewer's static files and the JSON API (DESIGN §7;
 * docs/protocol.md §4 documents every body).
 *
 *   GET  /                          viewer page (index.html of the web root)       public
 *   GET  /<file>                    static file from the web root                  public
 *   GET  /healthz, /metrics         health (JSON), Prometheus text                 public
 *   GET  /api/v1/me                 {"role","name"} of the presented token         viewer
 *   GET  /api/v1/snapshot           the held snapshot (coarsened for viewers)      viewer
 *   GET  /api/v1/city               the city's region GeoJSON (city.regions)       viewer
 *   GET  /api/v1/orders/{id}        one order's detail, asked of the engine        viewer
 *   GET  /api/v1/alerts?since=&limit=   alerts raised after a stream id           viewer
 *   GET  /api/v1/alerts/open        every open alert, asked of every partition's engine viewer
 *   POST /api/v1/alerts/{id}/ack    acknowledge an alert ({"note":...})            supervisor
 *   GET  /api/v1/live               without an upgrade: 426
 *
 * Errors are {"error":"sentence"} with 400/401/403/404/405/413/429/503/504. Every connection has a
 * request rate limit (feed.client_rate per second, burst 4×); bodies are at most 4 KiB, URL paths
 * 1 KiB. Order detail and alerts come from the engine through Redis: the response is deferred
 * until the reply (or a 3 s deadline), the connection stays usable meanwhile, and a connection
 * that closes first is simply forgotten. Partitioned (`partitions` > 1): an order's detail is
 * asked of the order's partition (the order directory, docs/scaling.md §3), the open alerts of
 * every partition, merged.
 *
 * Lifecycle: ow_http_init → ow_http_protocol (first in the vhost's list, so plain HTTP lands here)
 * → ow_http_on_ready for each order_ready message → ow_http_close (stops its timer).
 */
#ifndef OW_FEED_HTTP_H
#define OW_FEED_HTTP_H

#include <libwebsockets.h>
#include <limits.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "err.h"
#include "gate.h"
#include "live.h"
#include "partition.h"
#include "msg.h"
#include "redis_sub.h"

#define OW_HTTP_PROTOCOL    "opswall-http"
#define OW_HTTP_BODY_MAX    4096 /* request body bytes */
#define OW_HTTP_DEADLINE_MS 3000 /* engine answers for order detail */

typedef struct ow_http_waiter ow_http_waiter;

typedef struct ow_http_counts {
    uint64_t requests;
    uint64_t by_class[6]; /* [1..5]: responses by status class 1xx..5xx */
    uint64_t unauthorized, forbidden, rate_limited, too_large, timeouts;
} ow_http_counts;

typedef struct ow_http {
    char root[PATH_MAX]; /* real path of the web root, no trailing slash */
    size_t root_len;
    ow_live *live;           /* borrowed */
    ow_redis_sub *redis;     /* borrowed; commands and /healthz */
    const ow_gate *gate;     /* borrowed */
    ow_msg *city;            /* the region GeoJSON, or NULL when it could not be read */
    char city_error[256];    /* why not */
    double rate;             /* requests per second per connection */
    int64_t start_mono_ms;   /* for uptime */
    ow_http_waiter *waiters; /* requests waiting for Redis */
    uint64_t next_ticket;
    uv_timer_t timer; /* deadlines and the events/s sampler, every 250 ms */
    int64_t rate_prev_applied, rate_prev_ms;
    double events_per_s;
    ow_http_counts counts;
    bool closed;
    /* Where an acknowledgement goes: NULL = OW_KEY_ACKS (one engine). A partitioned feed names
     * the acks streams of the partitions that may hold the alert (feed/main.c); returns how many
     * keys it wrote (1..max). */
    int (*ack_keys)(void *ud, const char *alert_id, char (*keys)[OW_PARTITION_KEY_MAX], int max);
    void *ack_ud;
    /* Partitions of the deployment (cluster.partitions; 0 or 1 = one engine on ops:{p0}:). */
    int partitions;
    /* More lines for /metrics (Prometheus text), e.g. the partitions' ages; ud is ack_ud. */
    void (*metrics_extra)(void *ud, ow_buf *b);
    /* Several workers (feed/workers.h): given this process's figures, replace them with the
     * whole feed's (backlog: OW_LIVE_BACKLOG_N cumulative counts); ud is ack_ud. */
    void (*metrics_totals)(void *ud, ow_live_stats *st, ow_http_counts *counts, uint64_t *backlog,
                           bool *redis_up);
} ow_http;

/* Resolve web_root (must be an existing directory), read the city GeoJSON (a failure is kept and
 * answered as 503 on /api/v1/city, not fatal), start the timer on loop. OW_EIO with err naming the
 * path when the web root is missing. */
int ow_http_init(ow_http *h, uv_loop_t *loop, const char *web_root, const char *city_path,
                 ow_live *live, ow_redis_sub *redis, const ow_gate *gate, double rate,
                 int64_t start_mono_ms, ow_err *err);

/* Stop the timer (the loop must run afterwards) and drop the city. Idempotent. */
void ow_http_close(ow_http *h);

/* The HTTP protocol for lws: name OW_HTTP_PROTOCOL, user = h. */
struct lws_protocols ow_http_protocol(ow_http *h);

/* Partition `partition`'s engine published on its order_ready channel: `what` is an order id (its
 * detail is in Redis) or "open_alerts". */
void ow_http_on_ready(ow_http *h, int partition, const char *what, size_t len);

/* A websocket upgrade (LWS_CALLBACK_HTTP_CONFIRM_UPGRADE): 0 to go on, or 1 after answering a
 * refusal (404 wrong path, 401/403 token, role or origin) with a JSON body. */
int ow_http_confirm_upgrade(ow_http *h, struct lws *wsi);

/* One Prometheus sample line, preceded by its HELP and TYPE lines when type is not NULL; labels
 * ("{k=\"v\"}") may be NULL. */
void ow_http_metric(ow_buf *b, const char *name, const char *type, const char *help,
                    const char *labels, double v);

/* Pure helpers, exposed for tests and fuzzing. */
/* A valid order or alert id: 1..128 bytes of [A-Za-z0-9_.:-]. */
bool ow_http_id_ok(const char *s, size_t len);
/* Split "/api/v1/alerts/<id>/ack" or "/api/v1/orders/<id>": copies the id into out; false when
 * the path is not of that form or the id is invalid. */
bool ow_http_path_id(const char *path, const char *prefix, const char *suffix, char *out,
                     size_t out_size);
/* The `since` of /api/v1/alerts as a Redis stream id: "" or "0" → "-" (from the start),
 * "<ms>" or "<ms>-<n>" → exclusive "(<ms>-<n>"; false when malformed. */
bool ow_http_since(const char *since, char *out, size_t out_size);
/* The `since` of /api/v1/alerts over n partitions (n >= 1), each partition's stream having its own
 * ids (from its own master's clock): "" or "0", one stream id or epoch ms (the same point in every
 * partition), or n stream ids joined by ',' (a partitioned answer's "next"). Writes n XRANGE
 * starts, each as ow_http_since gives it, to out[0..n-1]; false when malformed or when a list
 * does not have exactly n items. */
#define OW_HTTP_RANGE_MAX 48
bool ow_http_since_parts(const char *since, int n, char (*out)[OW_HTTP_RANGE_MAX]);
/* Parse an ack body ({"note":"..."}, optional, note at most 256 bytes): copies the note. false
 * with *why on malformed input. */
bool ow_http_ack_body(const char *body, size_t len, char *note, size_t note_size, const char **why);

#endif
