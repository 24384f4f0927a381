#include "live.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "snapshot.h"

/* One websocket client: lws allocates it (zeroed) as the session's user data. */
typedef struct ow_live_client {
    struct lws *wsi;
    struct ow_live_client *prev, *next;
    uint64_t tail;      /* ring position of the next message to send */
    bool want_snapshot; /* next write sends the latest snapshot (on connect, resync, fell behind) */
    size_t in_len;
    char in[OW_LIVE_IN_MAX];
} ow_live_client;

struct ow_live {
    ow_msg *snapshot;      /* latest snapshot, or NULL */
    uint64_t snapshot_pos; /* its ring position */
    int64_t last_seq;      /* seq of the newest message in the ring; -1 before the first */
    ow_msg **ring;
    size_t ring_cap;
    size_t ring_len;    /* messages held, <= ring_cap */
    uint64_t ring_next; /* position the next message gets; ring[pos % ring_cap] */
    ow_live_client *clients;
    ow_live_stats stats;
};

ow_live *ow_live_new(size_t ring_size)
{
    if (ring_size < 2) ring_size = 2;
    ow_live *live = calloc(1, sizeof *live);
    if (!live) return NULL;
    live->ring = calloc(ring_size, sizeof *live->ring);
    if (!live->ring) {
        free(live);
        return NULL;
    }
    live->ring_cap = ring_size;
    live->last_seq = -1;
    return live;
}

void ow_live_free(ow_live *live)
{
    if (!live) return;
    for (size_t i = 0; i < live->ring_cap; i++)
        ow_msg_unref(live->ring[i]);
    ow_msg_unref(live->snapshot);
    free(live->ring);
    free(live);
}

ow_msg *ow_live_snapshot(const ow_live *live)
{
    return live->snapshot;
}

ow_live_stats ow_live_stats_get(const ow_live *live)
{
    return live->stats;
}

/* ---- publishing ---------------------------------------------------------------------------- */

/* Decide what a published message is; fills kind, seq and now_ms. */
static int classify(ow_msg *m, ow_err *err)
{
    const char *text = (const char *)ow_msg_data(m);
    ow_err jerr;
    cJSON *root = ow_json_parse(text, m->len, OW_JSON_MAX_DEPTH, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "%s", jerr.msg);
    int rc = OW_OK;
    const cJSON *type = ow_json_get(root, "type");
    if (!cJSON_IsString(type) || !type->valuestring[0]) {
        rc = ow_err_set(err, OW_EINVAL, "field \"type\": expected a non-empty string");
        goto out;
    }
    if (!ow_json_int(ow_json_get(root, "seq"), 0, INT64_C(1) << 53, &m->seq)) {
        rc = ow_err_set(err, OW_EINVAL, "field \"seq\": expected a non-negative integer");
        goto out;
    }
    const cJSON *base = ow_json_get(root, "base");
    if (base && !ow_json_int(base, 0, INT64_C(1) << 53, &m->base)) {
        rc = ow_err_set(err, OW_EINVAL, "field \"base\": expected a non-negative integer");
        goto out;
    }
    if (strcmp(type->valuestring, "snapshot") == 0) {
        ow_snapshot_view view;
        rc = ow_snapshot_parse(text, m->len, &view, err);
        m->kind = OW_MSG_SNAPSHOT;
        if (rc == OW_OK) m->now_ms = view.now_ms;
    }
out:
    cJSON_Delete(root);
    return rc;
}

/* A non-snapshot message continues the ring's sequence: its "base" is the newest seq held, or,
 * without a base, its seq is the next one. */
static bool continues(const ow_live *live, const ow_msg *m)
{
    if (live->last_seq < 0) return false;
    return m->base >= 0 ? m->base == live->last_seq : m->seq == live->last_seq + 1;
}

static void ring_add(ow_live *live, ow_msg *m)
{
    ow_msg **slot = &live->ring[live->ring_next % live->ring_cap];
    ow_msg_unref(*slot); /* the oldest, when the ring is full */
    *slot = m;
    if (live->ring_len < live->ring_cap) live->ring_len++;
    live->ring_next++;
}

int ow_live_publish(ow_live *live, const char *text, size_t len, int64_t wall_ms, int64_t mono_ms,
                    ow_err *err)
{
    if (len > OW_LIVE_MSG_MAX) {
        live->stats.rejected++;
        return ow_err_set(err, OW_ETOOBIG, "message of %zu bytes is over the %u-byte limit", len,
                          OW_LIVE_MSG_MAX);
    }
    ow_msg *m = ow_msg_new(text, len);
    if (!m) return ow_err_set(err, OW_ENOMEM, "out of memory for a %zu-byte message", len);
    int rc = classify(m, err);
    if (rc) {
        live->stats.rejected++;
        ow_msg_unref(m);
        return rc;
    }
    if (m->kind == OW_MSG_SNAPSHOT && live->snapshot && live->snapshot->len == len &&
        memcmp(ow_msg_data(live->snapshot), text, len) == 0) {
        live->stats.unchanged++; /* e.g. the GET after a reconnect: nothing new */
        ow_msg_unref(m);
        return OW_OK;
    }
    if (m->kind != OW_MSG_SNAPSHOT && !continues(live, m)) {
        /* The ring stays one unbroken sequence after each snapshot, so a resync never replays a
         * gap. The caller refreshes the snapshot from Redis instead. */
        live->stats.gaps++;
        int64_t got = m->seq;
        ow_msg_unref(m);
        if (live->last_seq < 0)
            return ow_err_set(err, OW_EAGAIN, "seq %lld arrived before any snapshot",
                              (long long)got);
        return ow_err_set(err, OW_EAGAIN, "sequence gap: holding seq %lld, got seq %lld",
                          (long long)live->last_seq, (long long)got);
    }
    m->recv_wall_ms = wall_ms;
    m->recv_mono_ms = mono_ms;
    if (m->kind == OW_MSG_SNAPSHOT) {
        ow_msg_unref(live->snapshot);
        live->snapshot = ow_msg_ref(m);
        live->snapshot_pos = live->ring_next;
    }
    live->last_seq = m->seq;
    ring_add(live, m); /* the ring takes the first reference */
    live->stats.published++;
    for (ow_live_client *c = live->clients; c; c = c->next)
        lws_callback_on_writable(c->wsi);
    return OW_OK;
}

/* ---- clients ------------------------------------------------------------------------------- */

/* The message client c sends next, advancing its tail; NULL when it is up to date. */
static ow_msg *client_next(ow_live *live, ow_live_client *c)
{
    uint64_t oldest = live->ring_next - live->ring_len;
    if (!c->want_snapshot && c->tail < oldest) {
        live->stats.fell_behind++;
        c->want_snapshot = true;
    }
    if (c->want_snapshot) {
        c->want_snapshot = false;
        if (!live->snapshot) {
            c->tail = live->ring_next;
            return NULL;
        }
        /* Today every message on the channel is a snapshot, so the latest one is always in the
         * ring. Once deltas flow here the feed must keep its snapshot current by applying them
         * (core/delta.h); a snapshot that fell out of the ring skips to the newest position. */
        c->tail = live->snapshot_pos >= oldest ? live->snapshot_pos + 1 : live->ring_next;
        return live->snapshot;
    }
    if (c->tail >= live->ring_next) return NULL;
    /* A later snapshot in the pending range supersedes everything before it. */
    uint64_t pos = c->tail;
    if (live->snapshot && live->snapshot_pos > pos && live->snapshot_pos < live->ring_next)
        pos = live->snapshot_pos;
    c->tail = pos + 1;
    return live->ring[pos % live->ring_cap];
}

/* Close with a status and a reason the client can show; returns -1 for the callback to return. */
static int client_refuse(struct lws *wsi, enum lws_close_status status, const char *reason)
{
    char ip[64];
    lws_get_peer_simple(wsi, ip, sizeof ip);
    ow_info("live: closing client %s: %s", ip, reason);
    lws_close_reason(wsi, status, (unsigned char *)reason, strlen(reason));
    return -1;
}

/* A complete message from a client: only {"type":"resync"} is accepted. */
static int client_request(ow_live *live, ow_live_client *c)
{
    ow_err jerr;
    cJSON *root = ow_json_parse(c->in, c->in_len, 4, &jerr);
    const cJSON *type = ow_json_get(root, "type");
    bool resync = cJSON_IsString(type) && strcmp(type->valuestring, "resync") == 0;
    cJSON_Delete(root);
    if (!resync)
        return client_refuse(c->wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                             "unsupported message: the only request is {\"type\":\"resync\"}");
    live->stats.resyncs++;
    c->want_snapshot = true;
    lws_callback_on_writable(c->wsi);
    return 0;
}

static int client_receive(ow_live *live, ow_live_client *c, const void *in, size_t len)
{
    if (lws_is_first_fragment(c->wsi)) c->in_len = 0;
    if (lws_frame_is_binary(c->wsi))
        return client_refuse(c->wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                             "binary messages are not accepted; send {\"type\":\"resync\"}");
    if (len > sizeof c->in - c->in_len)
        return client_refuse(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                             "message too large: at most 1024 bytes");
    memcpy(c->in + c->in_len, in, len);
    c->in_len += len;
    if (!lws_is_final_fragment(c->wsi)) return 0;
    int rc = client_request(live, c);
    c->in_len = 0;
    return rc;
}

static int client_writable(ow_live *live, ow_live_client *c)
{
    ow_msg *m = client_next(live, c);
    if (!m) return 0;
    int n = lws_write(c->wsi, ow_msg_data(m), m->len, LWS_WRITE_TEXT);
    if (n < 0 || (size_t)n < m->len) return -1; /* lws buffers partial sends itself */
    if (c->want_snapshot || c->tail < live->ring_next) lws_callback_on_writable(c->wsi);
    return 0;
}

static void client_join(ow_live *live, ow_live_client *c, struct lws *wsi)
{
    c->wsi = wsi;
    c->want_snapshot = true; /* the first message is the snapshot */
    c->prev = NULL;
    c->next = live->clients;
    if (c->next) c->next->prev = c;
    live->clients = c;
    live->stats.clients++;
    lws_callback_on_writable(wsi);
}

static void client_leave(ow_live *live, ow_live_client *c)
{
    if (!c->wsi) return; /* never joined */
    if (c->prev)
        c->prev->next = c->next;
    else
        live->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    c->wsi = NULL;
    live->stats.clients--;
}

/* Only OW_LIVE_PATH may upgrade. */
static bool path_allowed(struct lws *wsi)
{
    char uri[64];
    int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    return n > 0 && strcmp(uri, OW_LIVE_PATH) == 0;
}

static int live_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    const struct lws_protocols *proto = lws_get_protocol(wsi);
    ow_live *live = proto ? proto->user : NULL;
    ow_live_client *c = user;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return path_allowed(wsi) ? 0 : 1;
    case LWS_CALLBACK_ESTABLISHED: client_join(live, c, wsi); return 0;
    case LWS_CALLBACK_CLOSED: client_leave(live, c); return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: return client_writable(live, c);
    case LWS_CALLBACK_RECEIVE: return client_receive(live, c, in, len);
    default: return 0;
    }
}

struct lws_protocols ow_live_protocol(ow_live *live)
{
    struct lws_protocols p;
    memset(&p, 0, sizeof p);
    p.name = OW_LIVE_PROTOCOL;
    p.callback = live_callback;
    p.per_session_data_size = sizeof(ow_live_client);
    p.rx_buffer_size = OW_LIVE_IN_MAX;
    p.user = live;
    return p;
}
