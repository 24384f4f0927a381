#include "live.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "delta.h"
#include "fanout.h"
#include "json.h"
#include "log.h"
#include "snapshot.h"
#include "timerq.h"

#define CLIENT_BURST 4.0         /* a client may send this many times its per-second rate at once */
#define COALESCE_MAX (64u << 10) /* bytes of queued deltas a client behind gets in one write */

/* One ring slot: the same message in every view (often the same buffer twice), and each view's
 * frame compressed after the slot before (ow_pmd_frame_after; NULL when none or not smaller). */
typedef struct entry {
    ow_msg *v[OW_VIEW__COUNT];
    unsigned char *chain[OW_VIEW__COUNT];
    size_t chain_len[OW_VIEW__COUNT];
} entry;

#define NO_POS UINT64_MAX /* a message sent that is not a ring slot (the held snapshot) */

/* One websocket client: lws allocates it (zeroed) as the session's user data. */
typedef struct ow_live_client {
    struct lws *wsi;
    struct ow_live_client *prev, *next;
    uint64_t tail;      /* ring position of the next message to send */
    bool want_snapshot; /* next write sends the held snapshot (on connect, resync, overflow) */
    bool admitted;      /* passed the filter; view is set */
    ow_view view;
    bool pmd;       /* permessage-deflate negotiated: compressed frames (feed/pmd.h) */
    uint64_t z_pos; /* 1 + the ring position whose text ends its inflate window (the last message
                       it was sent compressed); 0 = none, or not a ring slot */
    int raw_fd;     /* the socket the send threads may write, -1 = through lws only (job_add) */
    double tokens;  /* rate limit bucket */
    int64_t tokens_ms;
    int64_t resync_ms; /* when the last resync was answered (mono) */
    int64_t heard_ms;  /* when it last sent anything, a pong or a message (mono) */
    int64_t ping_ms;   /* when it is pinged next (mono) */
    int32_t keep_pos;  /* slot in ow_live.keep; -1 = not queued (silent, or left) */
    uint64_t serial;   /* order of arrival: ties in ow_live.keep */
    bool ping_owed;    /* a ping to write at the next writable callback */
    bool silent;       /* closed for answering nothing (ow_live_heartbeat) */
    size_t in_len;
    char in[OW_LIVE_IN_MAX];
} ow_live_client;

struct ow_live {
    /* the held picture: base + pending deltas = the snapshot at last_seq */
    ow_msg *base; /* full view */
    ow_msg *pend[OW_LIVE_PENDING_MAX];
    size_t npend;
    ow_msg *held[OW_VIEW__COUNT]; /* materialised snapshot at last_seq per view; NULL = not yet */
    int64_t last_seq;             /* -1 before the first snapshot */
    bool owed;                    /* base continues the sequence and was not sent yet */
    int64_t owed_seq;
    /* what clients get */
    entry *ring;
    size_t ring_cap, ring_len;
    uint64_t ring_next;
    uint64_t snap_pos; /* newest snapshot in the ring, valid when has_snap */
    bool has_snap;
    ow_coarsen coarsen;
    ow_live_client *clients;
    unsigned char *batch; /* COALESCE_MAX bytes: a behind client's queued deltas as frames */
    ow_pmd *pmd;          /* compressor for permessage-deflate clients; NULL = compression off */
    /* several send threads (ow_live_send_threads): the up-to-date plain clients a message goes to
     */
    ow_fanout *fanout;
    ow_fanout_job *jobs;
    size_t jobs_cap;
    size_t raw_clients; /* clients with a raw_fd: the most jobs a message can make */
    double client_rate;
    int64_t ping_interval_ms, ping_timeout_ms; /* ow_live_keepalive */
    /* Each client's next keep-alive instant (mono ms): its ping, or the end of its silence,
     * whichever comes first. A queue, not a walk over every client each beat: at 10,000 viewers
     * the walk was 2 % of the feed's CPU (10,000 cold structures every 250 ms) for the ~80 that
     * are due. The key can be early (a client heard from since it was set), never late: the beat
     * looks again and re-queues it. */
    ow_timerq keep;
    ow_live_admit_fn *admit;
    ow_live_confirm_fn *confirm;
    void *admit_ud;
    ow_live_stats stats;
};

ow_live *ow_live_new(size_t ring_size, double client_rate, ow_live_admit_fn *admit,
                     ow_live_confirm_fn *confirm, void *ud)
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
    live->client_rate = client_rate > 0 ? client_rate : 10;
    live->admit = admit;
    live->confirm = confirm;
    live->admit_ud = ud;
    live->stats.events_applied = -1;
    live->stats.send_threads = 1;
    live->ping_interval_ms = OW_LIVE_PING_INTERVAL_MS;
    live->ping_timeout_ms = OW_LIVE_PING_TIMEOUT_MS;
    ow_coarsen_init(&live->coarsen);
    ow_timerq_init(&live->keep);
    return live;
}

void ow_live_keepalive(ow_live *live, int64_t interval_ms, int64_t timeout_ms)
{
    if (interval_ms > 0) live->ping_interval_ms = interval_ms;
    if (timeout_ms > 0) live->ping_timeout_ms = timeout_ms;
}

static void entry_clear(entry *e)
{
    for (int v = 0; v < OW_VIEW__COUNT; v++) {
        ow_msg_unref(e->v[v]);
        e->v[v] = NULL;
        free(e->chain[v]);
        e->chain[v] = NULL;
    }
}

static void held_clear(ow_live *live)
{
    for (int v = 0; v < OW_VIEW__COUNT; v++) {
        ow_msg_unref(live->held[v]);
        live->held[v] = NULL;
    }
}

static void pend_clear(ow_live *live)
{
    for (size_t i = 0; i < live->npend; i++)
        ow_msg_unref(live->pend[i]);
    live->npend = 0;
}

void ow_live_free(ow_live *live)
{
    if (!live) return;
    for (size_t i = 0; i < live->ring_cap; i++)
        entry_clear(&live->ring[i]);
    pend_clear(live);
    held_clear(live);
    ow_msg_unref(live->base);
    ow_coarsen_fini(&live->coarsen);
    ow_timerq_fini(&live->keep);
    ow_fanout_free(live->fanout);
    ow_pmd_free(live->pmd);
    free(live->jobs);
    free(live->batch);
    free(live->ring);
    free(live);
}

bool ow_live_compress(ow_live *live, int level)
{
    ow_pmd_free(live->pmd);
    live->pmd = level > 0 ? ow_pmd_new(level) : NULL;
    return level <= 0 || live->pmd;
}

bool ow_live_send_threads(ow_live *live, int threads)
{
    ow_fanout_free(live->fanout);
    live->fanout = NULL;
    live->stats.send_threads = 1;
    if (threads == 1) return true;
    live->fanout = ow_fanout_new(threads);
    if (live->fanout && ow_fanout_threads(live->fanout) > 1) {
        live->stats.send_threads = ow_fanout_threads(live->fanout);
        return true;
    }
    bool one_cpu = live->fanout != NULL; /* nothing to spread */
    ow_fanout_free(live->fanout);
    live->fanout = NULL;
    return one_cpu;
}

ow_live_stats ow_live_stats_get(const ow_live *live)
{
    return live->stats;
}

const ow_coarsen *ow_live_coarsen(const ow_live *live)
{
    return &live->coarsen;
}

/* ---- the held picture --------------------------------------------------------------------------
 */

static ow_msg *msg_from_json(const cJSON *root, ow_msg_kind kind, int64_t seq)
{
    char *text = cJSON_PrintUnformatted(root);
    ow_msg *m = text ? ow_msg_new(text, strlen(text)) : NULL;
    cJSON_free(text);
    if (m) {
        m->kind = kind;
        m->seq = seq;
    }
    return m;
}

/* The viewer's copy of a message: techs_pos coarsened, or the same buffer when it has none.
 * root is the parsed full message (modified). NULL on out of memory. */
static ow_msg *coarse_of(ow_live *live, ow_msg *full, cJSON *root)
{
    cJSON *holder = full->kind == OW_MSG_SNAPSHOT ? root : ow_json_get(root, "set");
    cJSON *tp = holder ? cJSON_GetObjectItemCaseSensitive(holder, "techs_pos") : NULL;
    if (!tp) return ow_msg_ref(full);
    if (!ow_coarsen_techs(&live->coarsen, tp)) return NULL;
    ow_msg *m = msg_from_json(root, full->kind, full->seq);
    if (m) {
        m->base = full->base;
        m->now_ms = full->now_ms;
        m->recv_wall_ms = full->recv_wall_ms;
        m->recv_mono_ms = full->recv_mono_ms;
    }
    return m;
}

/* Fold the pending deltas into the base. Returns false on failure (the base stays). */
static bool materialise(ow_live *live)
{
    if (!live->base || live->npend == 0) return live->base != NULL;
    char *text = NULL;
    const char *cur = (const char *)ow_msg_data(live->base);
    size_t cur_len = live->base->len;
    for (size_t i = 0; i < live->npend; i++) {
        ow_err err;
        char *next = ow_delta_apply(cur, cur_len, (const char *)ow_msg_data(live->pend[i]),
                                    live->pend[i]->len, &err);
        free(text);
        text = next;
        if (!text) {
            ow_warn("live: cannot apply delta seq %lld to the held snapshot: %s",
                    (long long)live->pend[i]->seq, err.msg);
            return false;
        }
        cur = text, cur_len = strlen(text);
    }
    ow_msg *m = ow_msg_new(text, cur_len);
    free(text);
    if (!m) return false;
    ow_msg *last = live->pend[live->npend - 1];
    m->kind = OW_MSG_SNAPSHOT;
    m->seq = last->seq;
    m->now_ms = last->now_ms ? last->now_ms : live->base->now_ms;
    m->recv_wall_ms = last->recv_wall_ms;
    m->recv_mono_ms = last->recv_mono_ms;
    ow_msg_unref(live->base);
    live->base = m;
    pend_clear(live);
    live->stats.materialised++;
    return true;
}

ow_msg *ow_live_snapshot(ow_live *live, ow_view view)
{
    if (view < 0 || view >= OW_VIEW__COUNT) view = OW_VIEW_COARSE;
    if (live->held[view]) return live->held[view];
    if (!materialise(live)) return NULL;
    if (!live->held[OW_VIEW_FULL]) live->held[OW_VIEW_FULL] = ow_msg_ref(live->base);
    if (view == OW_VIEW_COARSE) {
        cJSON *root = ow_json_parse((const char *)ow_msg_data(live->base), live->base->len,
                                    OW_JSON_MAX_DEPTH, NULL);
        live->held[view] = root ? coarse_of(live, live->base, root) : NULL;
        cJSON_Delete(root);
    }
    return live->held[view];
}

/* ---- the ring ----------------------------------------------------------------------------------
 */

static bool client_send(ow_live *live, ow_live_client *c, ow_msg *m, uint64_t pos);

/* What c is sent for message m (ring position pos, or NO_POS): for a client that negotiated
 * compression, the slot's frame compressed after the slot before when c's window ends with that
 * one, else the message's own compressed frame; the plain one otherwise (all built once per
 * message, feed/msg.h). *z: whether it is compressed. Changes nothing (wire_for does). */
static const unsigned char *frame_for(const ow_live *live, const ow_live_client *c, ow_msg *m,
                                      uint64_t pos, size_t *len, bool *z)
{
    *z = false;
    if (!c->pmd) return ow_msg_wire(m, NULL, len);
    if (pos != NO_POS && c->z_pos == pos) {
        const entry *e = &live->ring[pos % live->ring_cap];
        if (e->chain[c->view] && e->v[c->view] == m) {
            *z = true;
            *len = e->chain_len[c->view];
            return e->chain[c->view];
        }
    }
    size_t plain;
    const unsigned char *p = ow_msg_wire(m, NULL, &plain);
    const unsigned char *w = ow_msg_wire(m, live->pmd, len);
    *z = w != p;
    return w;
}

/* What z_pos says once a client was sent the message at pos compressed. */
static uint64_t window_mark(uint64_t pos)
{
    return pos == NO_POS ? 0 : pos + 1;
}

/* frame_for, for sending: a compressed frame moves c's window to end with m's text. */
static const unsigned char *wire_for(const ow_live *live, ow_live_client *c, ow_msg *m,
                                     uint64_t pos, size_t *len)
{
    bool z;
    const unsigned char *w = frame_for(live, c, m, pos, len, &z);
    if (z) c->z_pos = window_mark(pos);
    return w;
}

static void count_sent(ow_live *live, ow_msg *m, const unsigned char *wire, size_t len)
{
    live->stats.sent_msgs++;
    live->stats.sent_bytes += m->len;
    live->stats.wire_bytes += len;
    size_t plain_len;
    if (wire == ow_msg_wire(m, NULL, &plain_len)) return; /* plain */
    live->stats.compressed++;
    if (wire != m->z_frame) live->stats.chained++;
}

/* The socket the send threads may write for a new connection: only one a websocket has alone on
 * plain TCP (TLS goes through lws, which owns the session; a websocket inside an HTTP/2 connection
 * shares its socket with other streams and needs lws's framing); -1 otherwise. Fixed for the
 * connection's life, so asked once, not per message. */
static int raw_fd_of(struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi);
    return fd < 0 || lws_is_ssl(wsi) || lws_get_network_wsi(wsi) != wsi ? -1 : fd;
}

/* Room for a job per client before a streamed batch (ow_fanout_open): the array must not move
 * while the send threads read it. False on out of memory (then no threads for this message). */
static bool jobs_reserve(ow_live *live, size_t clients)
{
    if (clients <= live->jobs_cap) return true;
    size_t cap = live->jobs_cap ? live->jobs_cap : 1024;
    while (cap < clients)
        cap *= 2;
    ow_fanout_job *j = realloc(live->jobs, cap * sizeof *j);
    if (!j) return false;
    live->jobs = j;
    live->jobs_cap = cap;
    return true;
}

/* A job for the send threads: c is up to date with nothing half-sent. False when it must go
 * through lws (raw_fd_of), or no room is left (never: jobs_reserve counted every raw client). */
static bool job_add(ow_live *live, ow_live_client *c, ow_msg *m, uint64_t pos, size_t *n)
{
    int fd = c->raw_fd;
    if (fd < 0 || *n == live->jobs_cap) return false;
    ow_fanout_job *j = &live->jobs[*n];
    *j = (ow_fanout_job){.fd = fd, .ud = c};
    j->data = wire_for(live, c, m, pos, &j->len);
    ow_fanout_post(live->fanout, ++*n);
    return true;
}

/* After the send threads: what a socket did not take goes to lws, which keeps it and asks for
 * POLLOUT itself (the client then waits for its writable callback, as after a partial lws_write);
 * a failed socket is closed. */
static void jobs_finish(ow_live *live, const entry *slot, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ow_fanout_job *j = &live->jobs[i];
        ow_live_client *c = j->ud;
        bool ok = !j->err;
        if (ok && j->sent < j->len) {
            live->stats.short_sends++;
            size_t rest = j->len - j->sent;
            ok = lws_write(c->wsi, (unsigned char *)j->data + j->sent, rest, LWS_WRITE_HTTP) ==
                 (int)rest;
        }
        if (!ok) {
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
            continue;
        }
        count_sent(live, slot->v[c->view], j->data, j->len);
        live->stats.threaded++;
    }
}

/* Each view's frame compressed after the slot before (what a client that was sent that one,
 * compressed, holds at the end of its window): built once per message, like the fresh one. */
static void chain_build(ow_live *live, entry *slot, uint64_t pos)
{
    if (!live->pmd || live->ring_len < 2) return; /* (the first slot has none before it) */
    const entry *prev = &live->ring[(pos - 1) % live->ring_cap];
    for (int v = 0; v < OW_VIEW__COUNT; v++) {
        ow_msg *m = slot->v[v], *p = prev->v[v];
        if (!m || !p) continue;
        size_t fresh;
        ow_msg_wire(m, live->pmd, &fresh);
        unsigned char *f;
        size_t n =
            ow_pmd_frame_after(live->pmd, ow_msg_data(p), p->len, ow_msg_data(m), m->len, &f);
        if (n && n < fresh) {
            slot->chain[v] = f;
            slot->chain_len[v] = n;
        } else {
            free(f);
        }
    }
}

static void ring_add(ow_live *live, ow_msg *full, ow_msg *coarse)
{
    entry *slot = &live->ring[live->ring_next % live->ring_cap];
    entry_clear(slot); /* the oldest, when the ring is full */
    slot->v[OW_VIEW_FULL] = full;
    slot->v[OW_VIEW_COARSE] = coarse;
    if (full->kind == OW_MSG_SNAPSHOT) {
        live->snap_pos = live->ring_next;
        live->has_snap = true;
    }
    if (live->ring_len < live->ring_cap) live->ring_len++;
    uint64_t pos = live->ring_next++;
    live->stats.published++;
    chain_build(live, slot, pos);
    /* A client that is up to date and has nothing half-sent gets the message now: one send()
     * instead of arming POLLOUT, waiting for the callback and disarming it (half the feed's CPU
     * at 10,000 viewers). lws buffers what the socket does not take and then asks for POLLOUT
     * itself; such a client (and any client behind) waits for its writable callback. */
    /* The send threads start on the first clients found while the walk goes on (feed/fanout.h). */
    bool threads = live->fanout != NULL && jobs_reserve(live, live->raw_clients);
    if (threads) ow_fanout_open(live->fanout, live->jobs, live->raw_clients);
    size_t jobs = 0;
    for (ow_live_client *c = live->clients; c; c = c->next) {
        if (!c->want_snapshot && c->tail == pos && !lws_partial_buffered(c->wsi)) {
            c->tail = pos + 1;
            if (threads && job_add(live, c, slot->v[c->view], pos, &jobs)) continue;
            if (client_send(live, c, slot->v[c->view], pos)) continue;
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
            continue;
        }
        lws_callback_on_writable(c->wsi);
    }
    if (!threads) return;
    ow_fanout_close(live->fanout, jobs);
    jobs_finish(live, slot, jobs);
}

/* Send the held snapshot to everyone (both views). */
static void send_snapshot(ow_live *live)
{
    ow_msg *full = ow_live_snapshot(live, OW_VIEW_FULL);
    ow_msg *coarse = ow_live_snapshot(live, OW_VIEW_COARSE);
    if (!full || !coarse) return; /* out of memory: clients resync from the held one later */
    ring_add(live, ow_msg_ref(full), ow_msg_ref(coarse));
}

void ow_live_settle(ow_live *live)
{
    if (!live->owed) return;
    live->owed = false;
    send_snapshot(live);
}

/* ---- publishing --------------------------------------------------------------------------------
 */

/* What a message is: kind, seq, base, and the engine's time and counter where present. */
static int classify(ow_live *live, ow_msg *m, const cJSON *root, ow_err *err)
{
    const cJSON *type = ow_json_get(root, "type");
    if (!cJSON_IsString(type) || !type->valuestring[0])
        return ow_err_set(err, OW_EINVAL, "field \"type\": expected a non-empty string");
    if (!ow_json_int(ow_json_get(root, "seq"), 0, INT64_C(1) << 53, &m->seq))
        return ow_err_set(err, OW_EINVAL, "field \"seq\": expected a non-negative integer");
    const cJSON *fields = root;
    if (strcmp(type->valuestring, "snapshot") == 0) {
        ow_snapshot_view view;
        int rc = ow_snapshot_parse((const char *)ow_msg_data(m), m->len, &view, err);
        if (rc) return rc;
        m->kind = OW_MSG_SNAPSHOT;
        m->now_ms = view.now_ms;
    } else if (strcmp(type->valuestring, "delta") == 0) {
        if (!ow_json_int(ow_json_get(root, "base"), 0, INT64_C(1) << 53, &m->base))
            return ow_err_set(err, OW_EINVAL,
                              "delta: field \"base\": expected a non-negative "
                              "integer");
        fields = ow_json_get(root, "set");
        if (!cJSON_IsObject(fields))
            return ow_err_set(err, OW_EINVAL, "delta: field \"set\": expected an object");
        /* the same contract as ow_delta_apply, so every delta taken can be folded in later */
        const cJSON *del = ow_json_get(root, "del"), *d;
        if (!cJSON_IsArray(del))
            return ow_err_set(err, OW_EINVAL, "delta: field \"del\": expected an array");
        cJSON_ArrayForEach(d, del)
        {
            if (!cJSON_IsString(d))
                return ow_err_set(err, OW_EINVAL, "delta: field \"del\": expected member names");
        }
        int64_t now;
        if (ow_json_int(ow_json_get(fields, "now_ms"), 0, INT64_C(1) << 53, &now)) m->now_ms = now;
    } else {
        return ow_err_set(err, OW_EINVAL,
                          "field \"type\": expected \"snapshot\" or \"delta\", got \"%.40s\"",
                          type->valuestring);
    }
    int64_t applied;
    if (ow_json_int(ow_json_get(fields, "events_applied"), 0, INT64_C(1) << 53, &applied))
        live->stats.events_applied = applied;
    const cJSON *regions = ow_json_get(fields, "regions");
    if (regions && !ow_coarsen_learn(&live->coarsen, regions))
        return ow_err_set(err, OW_ENOMEM, "out of memory for region centres");
    return OW_OK;
}

static void take_base(ow_live *live, ow_msg *m)
{
    ow_msg_unref(live->base);
    live->base = ow_msg_ref(m);
    pend_clear(live);
    held_clear(live);
    live->last_seq = m->seq;
}

static int take_snapshot(ow_live *live, ow_msg *m, cJSON *root, bool *owes, ow_err *err)
{
    live->stats.snapshots_in++;
    if (m->seq == live->last_seq && live->npend == 0 && live->base && live->base->len == m->len &&
        memcmp(ow_msg_data(live->base), ow_msg_data(m), m->len) == 0) {
        live->stats.unchanged++; /* e.g. the GET after a reconnect: nothing new */
        return OW_OK;
    }
    bool continuing = live->last_seq >= 0 && m->seq == live->last_seq + 1;
    ow_msg *coarse = coarse_of(live, m, root);
    if (!coarse) return ow_err_set(err, OW_ENOMEM, "out of memory");
    take_base(live, m);
    live->held[OW_VIEW_FULL] = ow_msg_ref(m);
    live->held[OW_VIEW_COARSE] = coarse;
    if (continuing && !live->owed) {
        /* the delta of the same publish follows: send that, it is smaller */
        live->owed = true;
        live->owed_seq = m->seq;
        if (owes) *owes = true;
        return OW_OK;
    }
    live->owed = false;
    ring_add(live, ow_msg_ref(m), ow_msg_ref(coarse));
    return OW_OK;
}

static int take_delta(ow_live *live, ow_msg *m, cJSON *root, ow_err *err)
{
    live->stats.deltas_in++;
    if (live->owed) {
        live->owed = false;
        if (m->seq == live->owed_seq && m->base == live->owed_seq - 1) {
            /* the held-back snapshot's own delta: clients holding base apply it; those that got
             * the snapshot since ignore it (seq already held) */
            ow_msg *coarse = coarse_of(live, m, root);
            if (!coarse) return ow_err_set(err, OW_ENOMEM, "out of memory");
            ring_add(live, ow_msg_ref(m), coarse);
            return OW_OK;
        }
        send_snapshot(live);
    }
    if (live->last_seq >= 0 && m->seq <= live->last_seq) {
        live->stats.stale++;
        return OW_OK;
    }
    if (live->last_seq < 0 || m->base != live->last_seq) {
        live->stats.gaps++;
        if (live->last_seq < 0)
            return ow_err_set(err, OW_EAGAIN, "delta seq %lld arrived before any snapshot",
                              (long long)m->seq);
        return ow_err_set(err, OW_EAGAIN, "sequence gap: holding seq %lld, got a delta from %lld",
                          (long long)live->last_seq, (long long)m->base);
    }
    if (live->npend == OW_LIVE_PENDING_MAX && !materialise(live))
        return ow_err_set(err, OW_EAGAIN, "cannot fold the held deltas; fetching the snapshot");
    ow_msg *coarse = coarse_of(live, m, root);
    if (!coarse) return ow_err_set(err, OW_ENOMEM, "out of memory");
    live->pend[live->npend++] = ow_msg_ref(m);
    live->last_seq = m->seq;
    held_clear(live);
    ring_add(live, ow_msg_ref(m), coarse);
    return OW_OK;
}

int ow_live_publish(ow_live *live, const char *text, size_t len, int64_t wall_ms, int64_t mono_ms,
                    bool *owes, ow_err *err)
{
    if (owes) *owes = false;
    if (len > OW_LIVE_MSG_MAX) {
        live->stats.rejected++;
        return ow_err_set(err, OW_ETOOBIG, "message of %zu bytes is over the %u-byte limit", len,
                          OW_LIVE_MSG_MAX);
    }
    ow_msg *m = ow_msg_new(text, len);
    if (!m) return ow_err_set(err, OW_ENOMEM, "out of memory for a %zu-byte message", len);
    m->recv_wall_ms = wall_ms;
    m->recv_mono_ms = mono_ms;
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &jerr);
    int rc = root ? classify(live, m, root, err) : ow_err_set(err, OW_EINVAL, "%s", jerr.msg);
    if (rc == OW_OK) {
        rc = m->kind == OW_MSG_SNAPSHOT ? take_snapshot(live, m, root, owes, err)
                                        : take_delta(live, m, root, err);
        if (m->now_ms) {
            live->stats.last_now_ms = m->now_ms;
            live->stats.last_recv_ms = wall_ms;
        }
    } else if (rc != OW_ENOMEM) {
        live->stats.rejected++;
    }
    cJSON_Delete(root);
    ow_msg_unref(m);
    return rc;
}

/* ---- clients ------------------------------------------------------------------------------- */

/* The message client c sends next, advancing its tail; NULL when it is up to date. */
static ow_msg *client_next(ow_live *live, ow_live_client *c, uint64_t *at)
{
    uint64_t oldest = live->ring_next - live->ring_len;
    if (!c->want_snapshot && c->tail < oldest) {
        live->stats.queue_drops++; /* its backlog overflowed: one snapshot replaces it */
        c->want_snapshot = true;
    }
    if (c->want_snapshot) {
        c->want_snapshot = false;
        c->tail = live->ring_next;
        *at = NO_POS;
        return ow_live_snapshot(live, c->view);
    }
    if (c->tail >= live->ring_next) return NULL;
    /* A later snapshot in the pending range supersedes everything before it. */
    uint64_t pos = c->tail;
    if (live->has_snap && live->snap_pos > pos && live->snap_pos < live->ring_next)
        pos = live->snap_pos;
    c->tail = pos + 1;
    *at = pos;
    return live->ring[pos % live->ring_cap].v[c->view];
}

/* Close with a status and a reason the client can show; returns -1 for the callback to return. */
static int client_refuse(ow_live *live, struct lws *wsi, enum lws_close_status status,
                         const char *reason)
{
    char ip[64];
    lws_get_peer_simple(wsi, ip, sizeof ip);
    live->stats.client_errors++;
    if (live->stats.client_errors <= 20 || live->stats.client_errors % 1000 == 0)
        ow_info("live: closing client %s: %s (%llu so far)", ip, reason,
                (unsigned long long)live->stats.client_errors);
    lws_close_reason(wsi, status, (unsigned char *)reason, strlen(reason));
    return -1;
}

/* Token bucket: false when the client sends faster than its rate (burst CLIENT_BURST×). */
static bool client_rate_ok(ow_live *live, ow_live_client *c)
{
    int64_t now = ow_clock_mono_ms();
    double burst = live->client_rate * CLIENT_BURST;
    if (c->tokens_ms == 0) c->tokens = burst;
    c->tokens += (double)(now - c->tokens_ms) * live->client_rate / 1000.0;
    if (c->tokens > burst) c->tokens = burst;
    c->tokens_ms = now;
    if (c->tokens < 1) return false;
    c->tokens -= 1;
    return true;
}

/* A complete message from a client: only {"type":"resync"} is accepted. */
static int client_request(ow_live *live, ow_live_client *c)
{
    ow_err jerr;
    cJSON *root = ow_json_parse(c->in, c->in_len, 4, &jerr);
    const cJSON *type = ow_json_get(root, "type");
    bool resync =
        cJSON_IsObject(root) && cJSON_IsString(type) && strcmp(type->valuestring, "resync") == 0;
    cJSON_Delete(root);
    if (!resync)
        return client_refuse(live, c->wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                             "unsupported message: the only request is {\"type\":\"resync\"}");
    /* A snapshot is the most expensive thing a client can ask for: one per second (the page asks
     * at most that often); more in the same second are already answered by the pending one. */
    int64_t now = ow_clock_mono_ms();
    if (c->resync_ms && now - c->resync_ms < 1000) return 0;
    c->resync_ms = now;
    live->stats.resyncs++;
    c->want_snapshot = true;
    lws_callback_on_writable(c->wsi);
    return 0;
}

static int client_receive(ow_live *live, ow_live_client *c, const void *in, size_t len)
{
    if (lws_is_first_fragment(c->wsi)) {
        c->in_len = 0;
        if (!client_rate_ok(live, c))
            return client_refuse(live, c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                                 "rate limit: too many messages; reconnect later");
    }
    if (lws_frame_is_binary(c->wsi))
        return client_refuse(live, c->wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                             "binary messages are not accepted; send {\"type\":\"resync\"}");
    if (len > sizeof c->in - c->in_len)
        return client_refuse(live, c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                             "message too large: at most 1024 bytes");
    memcpy(c->in + c->in_len, in, len);
    c->in_len += len;
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi)) return 0;
    int rc = client_request(live, c);
    c->in_len = 0;
    return rc;
}

/* Write one message; false when the connection failed. Always a prebuilt frame written raw, never
 * lws_write(LWS_WRITE_TEXT): on a permessage-deflate connection lws would compress it with its
 * own stream, which does not know the frames written around it (feed/pmd.h). */
static bool client_send(ow_live *live, ow_live_client *c, ow_msg *m, uint64_t pos)
{
    size_t len;
    const unsigned char *wire = wire_for(live, c, m, pos, &len);
    /* lws buffers what the socket does not take and sends it before anything else */
    int n = lws_write(c->wsi, (unsigned char *)(uintptr_t)wire, len, LWS_WRITE_HTTP);
    if (n < 0 || (size_t)n < len) return false;
    count_sent(live, m, wire, len);
    return true;
}

/* Client c is behind and m (its next message, already taken) and more are queued: write them in
 * one go, as consecutive frames (the wire is the same as one write each: every delta keeps its
 * frame and seq), up to COALESCE_MAX bytes. A client that fell behind costs one send() and one
 * wake-up of its own per batch instead of per delta, so a busy feed catches up instead of falling
 * further behind. false when the connection failed. */
static bool client_send_batch(ow_live *live, ow_live_client *c, ow_msg *m, uint64_t pos)
{
    if (!live->batch) live->batch = malloc(COALESCE_MAX);
    size_t len, next_len;
    bool z;
    frame_for(live, c, m, pos, &len, &z);
    /* after client_next: c->tail < ring_next, and no snapshot is left in the range; the next
     * frame's size as if m went compressed (it does whenever it can) */
    uint64_t saved = c->z_pos;
    if (z) c->z_pos = window_mark(pos);
    frame_for(live, c, live->ring[c->tail % live->ring_cap].v[c->view], c->tail, &next_len, &z);
    c->z_pos = saved;
    if (!live->batch || len + next_len > COALESCE_MAX) return client_send(live, c, m, pos);
    const unsigned char *wire = wire_for(live, c, m, pos, &len);
    memcpy(live->batch, wire, len);
    size_t used = len;
    count_sent(live, m, wire, len);
    while (c->tail < live->ring_next) {
        ow_msg *n = live->ring[c->tail % live->ring_cap].v[c->view];
        frame_for(live, c, n, c->tail, &len, &z);
        if (used + len > COALESCE_MAX) break;
        wire = wire_for(live, c, n, c->tail, &len);
        memcpy(live->batch + used, wire, len);
        used += len;
        count_sent(live, n, wire, len);
        c->tail++;
    }
    /* raw: the frames are built; lws keeps what the socket does not take */
    if (lws_write(c->wsi, live->batch, used, LWS_WRITE_HTTP) < (int)used) return false;
    live->stats.batches++;
    return true;
}

/* A server's ping: FIN + opcode 9, unmasked (RFC 6455 §5.5.2), with 8 bytes of payload (the
 * sending time, in hex): lws 4.1 never reports a pong without payload, a pong echoes the ping's,
 * and lws checks a pong's payload as UTF-8 (binary bytes closed the connection: 1007).
 * Written raw like every frame of the feed; lws calls the writable callback only once what it
 * holds for the connection is out, so the ping never lands inside a half-sent message. */
static bool client_ping(ow_live *live, ow_live_client *c)
{
    unsigned char frame[LWS_PRE + 10];
    frame[LWS_PRE] = 0x89;
    frame[LWS_PRE + 1] = 8;
    uint64_t now = (uint64_t)ow_clock_mono_ms();
    for (int i = 0; i < 8; i++)
        frame[LWS_PRE + 2 + i] = (unsigned char)"0123456789abcdef"[(now >> (28 - 4 * i)) & 15];
    c->ping_owed = false;
    if (lws_write(c->wsi, frame + LWS_PRE, 10, LWS_WRITE_HTTP) < 10) return false;
    live->stats.pings++;
    return true;
}

static int client_writable(ow_live *live, ow_live_client *c)
{
    if (c->silent) {
        static const char why[] = "no answer to pings: closed as dead";
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)why, sizeof why - 1);
        return -1;
    }
    if (c->ping_owed) {
        if (!client_ping(live, c)) return -1;
        /* one write per callback: the next message, if any, in the next one */
        if (c->want_snapshot || c->tail < live->ring_next) lws_callback_on_writable(c->wsi);
        return 0;
    }
    uint64_t pos;
    ow_msg *m = client_next(live, c, &pos);
    if (!m) return 0;
    bool ok = c->tail < live->ring_next ? client_send_batch(live, c, m, pos)
                                        : client_send(live, c, m, pos);
    if (!ok) return -1;
    if (c->want_snapshot || c->tail < live->ring_next) lws_callback_on_writable(c->wsi);
    return 0;
}

/* When the beat has to look at c next: its ping, or the end of its silence. */
static int64_t keep_due(const ow_live *live, const ow_live_client *c)
{
    int64_t dead = c->heard_ms + live->ping_timeout_ms;
    return c->ping_ms < dead ? c->ping_ms : dead;
}

/* -1 on out of memory (the connection is refused). */
static int client_join(ow_live *live, ow_live_client *c, struct lws *wsi)
{
    c->want_snapshot = true; /* the first message is the snapshot */
    /* The first ping comes somewhere in the first interval, spread by arrival order (a prime
     * stride through the interval), so viewers that connected together — every viewer after a
     * feed restart — are not all pinged, and do not all answer, in the same instant. */
    int64_t now = ow_clock_mono_ms();
    c->heard_ms = now;
    c->ping_ms = now + (int64_t)((live->stats.accepted * 7919u) % (uint64_t)live->ping_interval_ms);
    c->serial = live->stats.accepted;
    c->keep_pos = -1;
    if (ow_timerq_set(&live->keep, keep_due(live, c), c->serial, c, &c->keep_pos)) return -1;
    c->wsi = wsi;
    c->prev = NULL;
    c->next = live->clients;
    if (c->next) c->next->prev = c;
    live->clients = c;
    live->stats.clients++;
    if (c->raw_fd >= 0) live->raw_clients++;
    live->stats.accepted++;
    lws_callback_on_writable(wsi);
    return 0;
}

static void client_leave(ow_live *live, ow_live_client *c)
{
    if (!c->wsi) return; /* never joined */
    if (c->prev)
        c->prev->next = c->next;
    else
        live->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    ow_timerq_remove(&live->keep, &c->keep_pos);
    c->wsi = NULL;
    live->stats.clients--;
    if (c->raw_fd >= 0) live->raw_clients--;
}

/* Only OW_LIVE_PATH may upgrade, and only those admit() lets in. */
static int client_filter(ow_live *live, ow_live_client *c, struct lws *wsi)
{
    char uri[64];
    int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    int view = n > 0 && strcmp(uri, OW_LIVE_PATH) == 0 ? OW_VIEW_FULL : -404;
    if (view >= 0 && live->admit) view = live->admit(live->admit_ud, wsi);
    if (view < 0 || view >= OW_VIEW__COUNT) {
        live->stats.refused++;
        return 1;
    }
    c->view = (ow_view)view;
    c->admitted = true;
    return 0;
}

void ow_live_heartbeat(ow_live *live, int64_t mono_ms)
{
    const ow_timer *t;
    while ((t = ow_timerq_peek(&live->keep)) && t->at <= mono_ms) {
        ow_live_client *c = t->owner;
        if (mono_ms - c->heard_ms >= live->ping_timeout_ms) {
            /* closed from its writable callback (now, as lws runs it at once); a peer so dead
             * that its socket never drains goes by the timeout, which lws runs on its next
             * turn */
            c->silent = true;
            live->stats.silent_closes++;
            ow_timerq_remove(&live->keep, &c->keep_pos);
            lws_callback_on_writable(c->wsi);
            lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, 2);
            continue;
        }
        if (mono_ms >= c->ping_ms) {
            c->ping_ms = mono_ms + live->ping_interval_ms;
            c->ping_owed = true;
            lws_callback_on_writable(c->wsi);
        }
        /* later than now (heard_ms + timeout and ping_ms both are); moving a queued entry
         * allocates nothing, so it cannot fail */
        (void)ow_timerq_set(&live->keep, keep_due(live, c), c->serial, c, &c->keep_pos);
    }
}

void ow_live_backlog(const ow_live *live, const uint64_t *bounds, uint64_t *counts, size_t n)
{
    memset(counts, 0, n * sizeof *counts);
    for (const ow_live_client *c = live->clients; c; c = c->next) {
        uint64_t behind = c->tail < live->ring_next ? live->ring_next - c->tail : 0;
        for (size_t i = 0; i < n; i++)
            if (behind <= bounds[i]) counts[i]++;
    }
}

static int live_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    const struct lws_protocols *proto = lws_get_protocol(wsi);
    ow_live *live = proto ? proto->user : NULL;
    ow_live_client *c = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        if (!live->confirm) return 0;
        return live->confirm(live->admit_ud, wsi) ? 1 : 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return client_filter(live, c, wsi);
    case LWS_CALLBACK_CONFIRM_EXTENSION_OKAY: { /* 0 accepts the client's offer, 1 declines */
        char offer[512];
        int n = lws_hdr_copy(wsi, offer, sizeof offer, WSI_TOKEN_EXTENSIONS);
        return live->pmd && n > 0 && ow_pmd_offer_ok(offer) ? 0 : 1;
    }
    case LWS_CALLBACK_ESTABLISHED:
        if (!c->admitted) return -1;
        c->pmd = live->pmd && ow_pmd_active(wsi);
        c->raw_fd = raw_fd_of(wsi);
        return client_join(live, c, wsi);
    case LWS_CALLBACK_CLOSED: client_leave(live, c); return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: return client_writable(live, c);
    case LWS_CALLBACK_RECEIVE:
        c->heard_ms = ow_clock_mono_ms();
        return client_receive(live, c, in, len);
    case LWS_CALLBACK_RECEIVE_PONG: c->heard_ms = ow_clock_mono_ms(); return 0;
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
    /* Without it lws caps every send() at rx_buffer_size (1 KB): a 1.1 KB delta went out in two
     * send()s with a POLLOUT round trip (two epoll_ctl) between them. The kernel takes what fits;
     * lws buffers the rest. */
    p.tx_packet_size = OW_LIVE_TX_MAX;
    p.user = live;
    return p;
}
