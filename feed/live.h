/*
 * live — the live picture the feed serves: the latest snapshot, a ring of recent messages, and one
 * tail per websocket client (STYLE.md practice 9, after libwebsockets' minimal-ws-server-ring).
 *
 * Every message published on Redis is validated and encoded once into an ow_msg, appended to the
 * ring, and each client is asked to become writable. A client writes only in
 * LWS_CALLBACK_SERVER_WRITEABLE, one message per callback, from its own tail. A client whose tail
 * fell off the ring gets the latest snapshot instead of a queue; pending messages that a later
 * snapshot supersedes are skipped (a snapshot replaces everything a client holds).
 *
 * Websocket endpoint: ws://host:port/api/v1/live (docs/protocol.md). On connect the client gets the
 * current snapshot (if any), then every published message. It may send {"type":"resync"} (answered
 * with the snapshot); anything else closes the connection with a reason.
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

#include "err.h"
#include "msg.h"

#define OW_LIVE_PATH         "/api/v1/live"
#define OW_LIVE_PROTOCOL     "opswall-live" /* optional Sec-WebSocket-Protocol; also the default */
#define OW_LIVE_IN_MAX       1024           /* largest message a client may send, bytes */
#define OW_LIVE_MSG_MAX      (16u << 20)    /* largest message accepted from Redis, bytes */
#define OW_LIVE_RING_DEFAULT 64

typedef struct ow_live ow_live;

typedef struct ow_live_stats {
    size_t clients;       /* websocket clients connected now */
    uint64_t published;   /* messages accepted into the ring */
    uint64_t unchanged;   /* snapshots ignored because identical to the latest */
    uint64_t rejected;    /* messages refused (not JSON, no type/seq, bad snapshot, too big) */
    uint64_t gaps;        /* non-snapshot messages dropped because they broke the sequence */
    uint64_t fell_behind; /* times a client fell off the ring and got the snapshot instead */
    uint64_t resyncs;     /* resync requests answered */
} ow_live_stats;

/* A live picture with a ring of ring_size messages (>= 2). NULL on out of memory. */
ow_live *ow_live_new(size_t ring_size);

/* Free the picture and every message it holds. Clients must be gone (the lws context destroyed).
 * NULL is a no-op. */
void ow_live_free(ow_live *live);

/* The websocket protocol for lws: name OW_LIVE_PROTOCOL, user = live. Put it in the vhost's
 * protocol list and make it the default protocol (pvo "default") so `new WebSocket(url)` without a
 * subprotocol binds to it. Connections to any path but OW_LIVE_PATH are refused. */
struct lws_protocols ow_live_protocol(ow_live *live);

/*
 * Take one message as published (copied). It must be a JSON object with a string "type" and an
 * integer "seq"; a "snapshot" must also pass ow_snapshot_parse. A snapshot is always taken (seq may
 * jump or restart: it replaces everything); one byte-identical to the latest is ignored (OW_OK,
 * counted as unchanged). Any other message must continue the sequence: its "base" (a delta,
 * core/delta.h) equals the newest seq held, or, without a base, its seq is that + 1. One that does
 * not is dropped with OW_EAGAIN: the feed missed something and should fetch the snapshot again.
 * Other errors: OW_EINVAL / OW_ETOOBIG / OW_ENOMEM with err saying why. A refused message changes
 * nothing. wall_ms/mono_ms: the receive time.
 */
int ow_live_publish(ow_live *live, const char *text, size_t len, int64_t wall_ms, int64_t mono_ms,
                    ow_err *err);

/* The latest snapshot, or NULL before the first. Borrowed: ow_msg_ref it to keep it. */
ow_msg *ow_live_snapshot(const ow_live *live);

ow_live_stats ow_live_stats_get(const ow_live *live);

#endif
