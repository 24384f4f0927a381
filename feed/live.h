/*
 * live — the live picture the feed serves: the held snapshot, a ring of recent messages, and one
 * tail per websocket client (STYLE.md practice 9, after libwebsockets' minimal-ws-server-ring).
 *
 * Input (from Redis, docs/protocol.md): full snapshots (ops:{p0}:live) and deltas
 * (ops:{p0}:deltas). Every accepted message is validated and encoded once per *view* — the full
 * one (supervisor, admin) and the coarsened one (viewer: technician positions moved to their
 * region's centre, feed/coarsen.h) — and appended to the ring; a message without positions shares
 * one buffer between both views. So a publish costs one encode per view, not one per client.
 *
 * What clients get: the snapshot on connect, then the deltas. A snapshot that merely continues
 * the sequence (seq = held + 1, as the engine sends every publish_interval beside that publish's
 * delta) becomes the feed's base but is not sent: the delta of the same seq follows and is sent
 * instead; if it does not come (ow_live_settle, called shortly after), the snapshot is sent. A
 * snapshot that breaks the sequence (engine restart, missed messages) is sent to everyone.
 *
 * Per-client queue: a client's backlog is its distance to the ring's head, bounded by the ring
 * size (feed.queue). An up-to-date client is written as the message arrives; one that is behind
 * only in LWS_CALLBACK_SERVER_WRITEABLE, from its own tail, with every queued delta in that one
 * write (consecutive frames, at most 64 KB: one send() per batch, not per delta, so a client or
 * a feed that fell behind catches up); lws keeps what the socket does not take. A client whose
 * backlog overflows (its tail fell off the ring) gets one fresh snapshot instead of the deltas it
 * missed (counted in stats.queue_drops), so a slow or stuck client never holds memory or slows
 * others.
 *
 * The held snapshot is materialised lazily: the base snapshot plus the deltas since, applied
 * (core/delta.h) only when someone needs the full text (a client connects or resyncs, GET
 * /api/v1/snapshot), then cached until the next delta.
 *
 * Lifecycle: ow_live_new → ow_live_protocol (give it to lws) → ow_live_publish ... → (lws context
 * destroyed, which closes every client) → ow_live_free.
 */
#ifndef OW_FEED_LIVE_H
#define OW_FEED_LIVE_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coarsen.h"
#include "err.h"
#include "msg.h"

#define OW_LIVE_PATH         "/api/v1/live"
#define OW_LIVE_PROTOCOL     "opswall-live" /* optional Sec-WebSocket-Protocol; also the default */
#define OW_LIVE_IN_MAX       1024           /* largest message a client may send, bytes */
#define OW_LIVE_MSG_MAX      (16u << 20)    /* largest message accepted from Redis, bytes */
#define OW_LIVE_TX_MAX       (1u << 20)     /* most bytes one send() to a client is offered */
#define OW_LIVE_RING_DEFAULT 64
#define OW_LIVE_PENDING_MAX  256 /* deltas held past the base before it is materialised */
#define OW_LIVE_PING_INTERVAL_MS                                                                   \
    30000 /* keep-alive defaults (feed.ping_interval, ping_timeout)                                \
           */
#define OW_LIVE_PING_TIMEOUT_MS 90000
/* The backlog histogram of /metrics: clients at most this many messages behind. */
#define OW_LIVE_BACKLOG_BOUNDS                                                                     \
    {                                                                                              \
        0, 1, 4, 16, 64, 256                                                                       \
    }
#define OW_LIVE_BACKLOG_N 6

/* One encoding of the picture per audience. */
typedef enum {
    OW_VIEW_FULL,   /* supervisor, admin: exact positions */
    OW_VIEW_COARSE, /* viewer: positions at the region's centre */
    OW_VIEW__COUNT
} ow_view;

typedef struct ow_live ow_live;

/* Called for each websocket upgrade before it is accepted: returns the client's view, or a
 * negative HTTP status to refuse it (-401, -403, ...). ud is the one given to ow_live_new. */
typedef int ow_live_admit_fn(void *ud, struct lws *wsi);

/* Called for LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, which lws gives the vhost's default protocol (this
 * one): 0 lets the upgrade go on; 1 after writing a refusal (an HTTP status with a JSON body);
 * -1 hangs up. */
typedef int ow_live_confirm_fn(void *ud, struct lws *wsi);

typedef struct ow_live_stats {
    size_t clients;        /* websocket clients connected now */
    uint64_t accepted;     /* websocket connections accepted since start */
    uint64_t refused;      /* upgrades refused (auth, origin, path) */
    uint64_t published;    /* messages accepted into the ring */
    uint64_t snapshots_in; /* snapshots received from Redis */
    uint64_t deltas_in;    /* deltas received from Redis */
    uint64_t unchanged;    /* snapshots ignored because identical to the held one */
    uint64_t stale;        /* messages ignored because already included (seq <= held) */
    uint64_t rejected;     /* messages refused (not JSON, no type/seq, bad snapshot, too big) */
    uint64_t gaps;         /* deltas dropped because they broke the sequence */
    uint64_t queue_drops;  /* times a client's backlog overflowed: its deltas became a snapshot */
    uint64_t resyncs;      /* resync requests answered */
    uint64_t sent_msgs;    /* websocket messages written */
    uint64_t sent_bytes;   /* bytes of those messages (payload) */
    uint64_t batches;      /* writes that carried several queued deltas to a client behind */
    uint64_t wire_bytes;   /* bytes of frames written (compressed where negotiated) */
    uint64_t compressed;   /* messages written compressed (permessage-deflate, feed/pmd.h) */
    uint64_t chained;      /* of those, compressed after the message before (ow_pmd_frame_after) */
    uint64_t threaded;     /* messages written by the send threads (ow_live_send_threads) */
    uint64_t short_sends;  /* of those, ones a full socket did not take whole (lws sent the rest) */
    int send_threads;      /* threads that write a message to the viewers (1 = lws's only) */
    uint64_t client_errors; /* clients closed for bad input, size or rate */
    uint64_t pings;         /* keep-alive pings written */
    uint64_t silent_closes; /* clients closed for answering nothing for ping_timeout */
    uint64_t materialised;  /* times the held snapshot was rebuilt from base + deltas */
    int64_t last_now_ms;    /* engine time of the newest message (0 = none) */
    int64_t last_recv_ms;   /* wall time it arrived */
    int64_t events_applied; /* the engine's counter, newest seen (-1 = none) */
} ow_live_stats;

/* A live picture with a ring of ring_size messages (>= 2); client_rate: requests per second a
 * client may send (burst 4×). confirm and admit (either may be NULL: everyone gets the full view)
 * decide upgrades.
 * NULL on out of memory. */
ow_live *ow_live_new(size_t ring_size, double client_rate, ow_live_admit_fn *admit,
                     ow_live_confirm_fn *confirm, void *ud);

/* Compress each message once (zlib level 1..9) for the clients that negotiated permessage-deflate
 * (the vhost must offer OW_PMD_EXTENSIONS, feed/pmd.h); 0 turns it off (the default). False on
 * out of memory (compression stays off). */
bool ow_live_compress(ow_live *live, int level);

/* Write each message to the up-to-date plain (non-TLS) clients on `threads` threads (0 = one per
 * online CPU; feed.send_threads) instead of one: a delta to thousands of viewers is thousands of
 * send() calls, mostly kernel time, which run side by side on different sockets (feed/fanout.h).
 * The default, 1, sends on the caller's thread. False when a thread cannot be started (sends stay
 * on the caller's thread). */
bool ow_live_send_threads(ow_live *live, int threads);

/* Keep-alive: every websocket client is pinged every interval_ms (the first time within its first
 * interval, spread by arrival), and one that has sent nothing — no pong, no message — for
 * timeout_ms is closed (stats.silent_closes). Defaults OW_LIVE_PING_INTERVAL_MS /
 * OW_LIVE_PING_TIMEOUT_MS; a value <= 0 keeps the current one. The feed does this itself, not
 * lws: lws 4.1 keeps its keep-alive timers in one sorted list and inserts each renewal by walking
 * it from the head, so at 10,000 viewers every round of pongs cost O(n²) and stalled the feed for
 * hundreds of ms every 30 s (the vhost's idle policy must be off: feed/main.c). */
void ow_live_keepalive(ow_live *live, int64_t interval_ms, int64_t timeout_ms);
/* Call every few hundred ms with the monotonic time: owes a ping to each client whose turn it
 * is and closes the silent ones. Visits only those (a timer queue): O(due · log clients). */
void ow_live_heartbeat(ow_live *live, int64_t mono_ms);
/* Free the picture and every message it holds. Clients must be gone (the lws context destroyed).
 * NULL is a no-op. */
void ow_live_free(ow_live *live);

/* The websocket protocol for lws: name OW_LIVE_PROTOCOL, user = live. Put it in the vhost's
 * protocol list and make it the default protocol (pvo "default") so `new WebSocket(url)` without a
 * subprotocol binds to it. Connections to any path but OW_LIVE_PATH are refused. */
struct lws_protocols ow_live_protocol(ow_live *live);

/*
 * Take one message as published (copied): a JSON object with a string "type" and an integer "seq";
 * a "snapshot" must also pass ow_snapshot_parse; a "delta" needs an integer "base" and an object
 * "set". A snapshot is always taken (seq may jump or restart: it replaces everything); one
 * byte-identical to the held one is ignored (OW_OK, counted as unchanged). A delta must continue
 * the sequence (base = the held seq); one already included (seq <= held) is ignored (OW_OK); any
 * other is dropped with OW_EAGAIN: the feed missed something and should fetch the snapshot again.
 * Other errors: OW_EINVAL / OW_ETOOBIG / OW_ENOMEM with err saying why. A refused message changes
 * nothing. wall_ms/mono_ms: the receive time. *owes (may be NULL) is set when a continuing
 * snapshot was held back: call ow_live_settle soon (e.g. 50 ms) unless its delta arrives.
 */
int ow_live_publish(ow_live *live, const char *text, size_t len, int64_t wall_ms, int64_t mono_ms,
                    bool *owes, ow_err *err);

/* Send the held-back snapshot now if its delta did not come. No-op otherwise. */
void ow_live_settle(ow_live *live);

/* The held snapshot in one view (materialised if needed), or NULL before the first (or on out of
 * memory). Borrowed: ow_msg_ref it to keep it. */
ow_msg *ow_live_snapshot(ow_live *live, ow_view view);

/* Region centres learnt from the snapshots (for coarsening other documents). Borrowed. */
const ow_coarsen *ow_live_coarsen(const ow_live *live);

ow_live_stats ow_live_stats_get(const ow_live *live);

/* Backlog (messages behind the head) of every client, for /metrics: counts[i] = clients whose
 * backlog is <= bounds[i] (cumulative, Prometheus style); n bounds. */
void ow_live_backlog(const ow_live *live, const uint64_t *bounds, uint64_t *counts, size_t n);

#endif
