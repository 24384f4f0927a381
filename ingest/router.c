#include "router.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "holding.h"
#include "keys.h"
#include "log.h"
#include "map.h"
#include "route.h"
#include "route_library.h"
#include "xrecord.h"

#define REJECT_KEEP   (64 * 1024)
#define DIR_TTL_S     (90 * 86400) /* directory entries outlive any order's life */
#define CACHE_MAX     (1 << 20)    /* cached directory entries; past it the cache starts over */
#define SHARED        (-1)         /* item.part of the shared stream */
#define REJECT        (-2)         /* item.part of a reject */
#define RECORD        (-3)         /* item.part of a directory record (raw = the key, id = p) */
#define FUNCTION_GONE "Function not found"
#define TICK_MS       1000 /* ticks to every partition at least this often while input flows */
#define POLL_MS       1000 /* parked events: new unrouted entries and their orders, this often */
#define POLL_COUNT    1000 /* unrouted entries read per XRANGE; orders looked up per poll */
#define ENTRY_BUF     32   /* a stream entry id */

typedef struct item {
    int part;            /* partition, SHARED, REJECT or RECORD */
    enum {               /* SHARED: what the entry is besides an event */
           ITEM_EVENT,   /* an event (or a tick, a reject, a directory record) */
           ITEM_HOLDING, /* an order event's holding record (core/holding.h) */
           ITEM_XREC     /* a cross-partition record (core/xrecord.h) */
    } kind;
    char id[OW_ID_BUF + 8]; /* event id; "" for a tick; a record's de-dup mark */
    char *raw; /* owned copy; a reject: "reason\0source\0pos\0raw" via the fields below */
    size_t len;
    int64_t wm; /* the watermark before this event */
    char reason[OW_ERR_MSG_MAX + 96], source[128];
    int64_t pos;
    int64_t n;                /* SHARED: the number the stream gave it (0 = duplicate) */
    int64_t sseq;             /* shared entries before it, once round 1 gave their numbers */
    int cmd;                  /* REJECT: its command in round 1 */
    ow_route_outcome *out;    /* the caller's, or NULL */
    ow_routed_result res;     /* filled by the rounds */
    char sid[ENTRY_BUF];      /* the entry written */
    char unrouted[ENTRY_BUF]; /* a parked event sent on: its ops:{g}:unrouted entry to delete */
} item;

typedef struct parked {
    char key[OW_ID_BUF + 16]; /* "order:<id>" or "complaint:<id>" */
    ow_event ev;
    char *raw;
    size_t len;
    char entry[ENTRY_BUF]; /* its ops:{g}:unrouted entry; "" until round 1 writes it */
    ow_route_outcome *out; /* owed to the caller until written */
    int cmd_pos;           /* its place in round 1's ow_park call; -1 when not in it */
} parked;

struct ow_router {
    ow_cluster *c;
    const ow_config *cfg;
    const ow_partition_table *t;
    ow_cluster_batch *b;
    item *q;
    size_t nq, cap;
    size_t batch_cap;
    ow_map dir; /* "order:<id>" → (void *)(partition + 1) */
    parked *park;
    size_t npark, park_cap;
    ow_map entries;                 /* unrouted entry ids in park[] (values unused) */
    char last_entry[ENTRY_BUF + 1]; /* "(<id>": where the next read of ops:{g}:unrouted starts */
    int64_t last_poll_ms;
    bool round1_done;     /* a flush that failed in round 2 resumes there */
    ow_cluster_batch *lb; /* lookups and reads: no WAIT, nothing to resend */
    int64_t wm;           /* largest event time queued so far; INT64_MIN before any */
    int64_t last_n;       /* the shared stream's count as of the last flush */
    int64_t last_tick_ms; /* monotonic: when ticks last went to every partition */
    char maxlen[24], rej_maxlen[24], dedup_ms[24];
    ow_router_stats st;
};

static int poll_unrouted(ow_router *r, bool force, ow_err *err);

static int load(ow_router *r, ow_err *err)
{
    int rc = ow_route_library_load(r->c, err);
    if (rc) return rc;
    /* a restarted ingest continues the shared stream's numbering */
    redisReply *rep =
        ow_cluster_cmd(r->c, err, "GET shared count", OW_KEY_SHARED_N, "GET %s", OW_KEY_SHARED_N);
    if (!rep) return OW_EREDIS;
    r->last_n = rep->type == REDIS_REPLY_STRING ? strtoll(rep->str, NULL, 10) : 0;
    freeReplyObject(rep);
    /* events parked by earlier or other ingest processes */
    return poll_unrouted(r, true, err);
}

ow_router *ow_router_new(ow_cluster *c, const ow_config *cfg, const ow_partition_table *t,
                         ow_err *err)
{
    ow_router *r = calloc(1, sizeof *r);
    if (r) r->b = ow_cluster_batch_new(), r->lb = ow_cluster_batch_new();
    if (!r || !r->b || !r->lb) {
        if (r) ow_cluster_batch_free(r->b), ow_cluster_batch_free(r->lb);
        free(r);
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    r->c = c, r->cfg = cfg, r->t = t;
    r->batch_cap = (size_t)cfg->ingest.batch * (size_t)(t->n > 1 ? t->n : 1);
    r->wm = INT64_MIN;
    ow_map_init(&r->dir);
    ow_map_init(&r->entries);
    snprintf(r->last_entry, sizeof r->last_entry, "-");
    snprintf(r->maxlen, sizeof r->maxlen, "%lld", (long long)cfg->streams.events_maxlen);
    snprintf(r->rej_maxlen, sizeof r->rej_maxlen, "%lld", (long long)cfg->streams.rejects_maxlen);
    snprintf(r->dedup_ms, sizeof r->dedup_ms, "%lld", (long long)cfg->ingest.dedup_window_ms);
    ow_cluster_batch_idempotent(r->b, true);
    ow_cluster_batch_idempotent(r->lb, true); /* reads, and XDEL */
    ow_cluster_batch_wait(r->b, (int)cfg->ingest.wait_replicas, cfg->ingest.wait_timeout_ms);
    if (load(r, err)) {
        ow_router_free(r);
        return NULL;
    }
    return r;
}

static void drop_items(ow_router *r)
{
    for (size_t i = 0; i < r->nq; i++)
        free(r->q[i].raw);
    r->nq = 0;
}

void ow_router_free(ow_router *r)
{
    if (!r) return;
    drop_items(r);
    free(r->q);
    for (size_t i = 0; i < r->npark; i++)
        free(r->park[i].raw);
    free(r->park);
    ow_map_fini(&r->dir);
    ow_map_fini(&r->entries);
    ow_cluster_batch_free(r->b);
    ow_cluster_batch_free(r->lb);
    free(r);
}

static item *push(ow_router *r, int part, const char *raw, size_t len)
{
    if (r->nq == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        item *q = realloc(r->q, cap * sizeof *q);
        if (!q) return NULL;
        r->q = q, r->cap = cap;
    }
    item *it = &r->q[r->nq];
    memset(it, 0, offsetof(item, reason));
    it->reason[0] = it->source[0] = '\0';
    it->pos = it->n = it->sseq = 0;
    it->out = NULL;
    it->res = OW_ROUTED_PENDING;
    it->sid[0] = it->unrouted[0] = '\0';
    it->raw = malloc(len + 1);
    if (!it->raw) return NULL;
    if (len) memcpy(it->raw, raw, len);
    it->raw[len] = '\0';
    it->len = len;
    it->part = part;
    it->cmd = -1;
    it->wm = r->wm == INT64_MIN ? 0 : r->wm;
    r->nq++;
    return it;
}

static void dir_key(char *k, size_t n, const char *kind, const char *id)
{
    snprintf(k, n, "%s:%s", kind, id);
}

static int dir_put(ow_router *r, const char *kind, const char *id, int p)
{
    char k[OW_ID_BUF + 16];
    dir_key(k, sizeof k, kind, id);
    if (r->dir.len >= CACHE_MAX) { /* a crude bound: the directory in Redis stays the truth */
        ow_map_fini(&r->dir);
        ow_map_init(&r->dir);
    }
    return ow_map_put(&r->dir, k, (void *)(intptr_t)(p + 1));
}

/* The directory: cache, then Redis. -1 = unknown. */
static int dir_get(ow_router *r, const char *kind, const char *id, ow_err *err, int *rc)
{
    char k[OW_ID_BUF + 16];
    dir_key(k, sizeof k, kind, id);
    intptr_t v = (intptr_t)ow_map_get(&r->dir, k);
    if (v) return (int)v - 1;
    char rk[OW_PARTITION_KEY_MAX];
    if (ow_route_directory_key(rk, sizeof rk, kind, id) < 0) return -1;
    redisReply *rep = ow_cluster_cmd(r->c, err, "directory lookup", rk, "GET %s", rk);
    if (!rep) {
        *rc = OW_EREDIS;
        return -1;
    }
    int p = -1;
    if (rep->type == REDIS_REPLY_STRING) {
        long x = strtol(rep->str, NULL, 10);
        if (x >= 0 && x < r->t->n) p = (int)x;
    }
    freeReplyObject(rep);
    if (p >= 0 && dir_put(r, kind, id, p)) *rc = OW_ENOMEM;
    return p;
}

static int route_one(ow_router *r, const ow_event *ev, const char *raw, size_t len,
                     ow_route_outcome *out, const char *unrouted, ow_err *err);

/* Take park[i] out of the list (its raw goes with it unless the caller keeps it). */
static parked take_parked(ow_router *r, size_t i)
{
    parked p = r->park[i];
    r->park[i] = r->park[--r->npark];
    r->st.parked_now = (int64_t)r->npark;
    if (p.entry[0]) ow_map_take(&r->entries, p.entry);
    return p;
}

/* An order or complaint was recorded: its parked events follow it. */
static int unpark(ow_router *r, const char *kind, const char *id, ow_err *err)
{
    char k[OW_ID_BUF + 16];
    dir_key(k, sizeof k, kind, id);
    for (size_t i = 0; i < r->npark;) {
        if (strcmp(r->park[i].key, k) != 0) {
            i++;
            continue;
        }
        parked p = take_parked(r, i);
        r->st.drained++;
        int rc = route_one(r, &p.ev, p.raw, p.len, p.out, p.entry, err);
        free(p.raw);
        if (rc) return rc;
        i = 0; /* the array changed under us */
    }
    return OW_OK;
}

/* Keep an event whose route is not known: new ones (entry NULL) are written to ops:{g}:unrouted
 * by the next flush; entry names one read from there. */
static int park(ow_router *r, const ow_event *ev, const char *key, const char *raw, size_t len,
                ow_route_outcome *out, const char *entry)
{
    if (r->npark == r->park_cap) {
        size_t cap = r->park_cap ? r->park_cap * 2 : 16;
        parked *p = realloc(r->park, cap * sizeof *p);
        if (!p) return OW_ENOMEM;
        r->park = p, r->park_cap = cap;
    }
    parked *p = &r->park[r->npark];
    snprintf(p->key, sizeof p->key, "%s", key);
    p->ev = *ev;
    p->raw = malloc(len + 1);
    if (!p->raw) return OW_ENOMEM;
    memcpy(p->raw, raw, len);
    p->raw[len] = '\0';
    p->len = len;
    p->out = out;
    p->cmd_pos = -1;
    snprintf(p->entry, sizeof p->entry, "%s", entry ? entry : "");
    if (entry && ow_map_put(&r->entries, entry, (void *)1)) {
        free(p->raw);
        return OW_ENOMEM;
    }
    r->npark++;
    r->st.parked_now = (int64_t)r->npark;
    if (!entry) r->st.parked_total++;
    return OW_OK;
}

static int queue_reject(ow_router *r, const char *reason, const char *source, int64_t pos,
                        const char *raw, size_t len, ow_route_outcome *out)
{
    item *it = push(r, REJECT, raw, len < REJECT_KEEP ? len : REJECT_KEEP);
    if (!it) return OW_ENOMEM;
    snprintf(it->reason, sizeof it->reason, "%s", reason);
    snprintf(it->source, sizeof it->source, "%s", source);
    it->pos = pos;
    it->out = out;
    return OW_OK;
}

/* Parked events the watermark left behind by more than the de-dup window: their order was never
 * created (or its order.created is lost); they cannot wait forever. A written one's unrouted
 * entry is deleted once the reject is in Redis. */
static int expire_parked(ow_router *r)
{
    for (size_t i = 0; i < r->npark;) {
        parked *p = &r->park[i];
        /* no watermark yet: nothing can be old; ts are bounded by the codec, so no overflow */
        if (r->wm == INT64_MIN || r->wm - p->ev.ts_ms <= r->cfg->ingest.dedup_window_ms) {
            i++;
            continue;
        }
        char reason[OW_ERR_MSG_MAX];
        snprintf(reason, sizeof reason,
                 "%s: no order.created/complaint.created for %s reached ingest within "
                 "ingest.dedup_window; the event was held for it (in " OW_KEY_UNROUTED
                 ") and dropped (send the creating event, then this one again)",
                 p->ev.id, p->key);
        parked gone = take_parked(r, i);
        int rc = queue_reject(r, reason, "router", 0, gone.raw, gone.len, gone.out);
        if (!rc && gone.entry[0])
            snprintf(r->q[r->nq - 1].unrouted, sizeof r->q[r->nq - 1].unrouted, "%s", gone.entry);
        free(gone.raw);
        if (rc) return rc;
    }
    return OW_OK;
}

/* The cross-partition record of an event routed to `part`, on the shared stream right after it
 * (core/xrecord.h): the other partitions' engines apply it where one node applied the event. Its
 * de-dup id is the event's prefixed with "x:", so a resent event's record is a duplicate too. */
static int queue_xrec(ow_router *r, const ow_event *ev, int part)
{
    ow_buf b;
    ow_buf_init(&b);
    int rc = ow_xrec_encode(ev, part, &b);
    item *x = rc ? NULL : push(r, SHARED, b.p, b.n);
    ow_buf_fini(&b);
    if (!x) return OW_ENOMEM;
    snprintf(x->id, sizeof x->id, "x:%s", ev->id); /* fits: ids are at most OW_ID_BUF - 1 */
    x->kind = ITEM_XREC;
    return OW_OK;
}

/* An order event going to partition `part` of several: its holding record goes to the shared
 * stream just before it (docs/scaling.md §4), so the event's sseq counts it and every engine
 * applies it where one node applied the event; de-duplicated by its own mark, like the event. */
static int push_holding(ow_router *r, const ow_event *ev, int part)
{
    ow_holding h;
    char text[OW_HOLDING_MAX];
    int len;
    if (ow_holding_from_event(ev, part, &h) || (len = ow_holding_format(&h, text, sizeof text)) < 0)
        return OW_OK; /* not an order event */
    item *it = push(r, SHARED, text, (size_t)len);
    if (!it) return OW_ENOMEM;
    it->kind = ITEM_HOLDING;
    ow_holding_mark(ev->id, it->id, sizeof it->id); /* fits: ids are at most OW_ID_BUF - 1 */
    return OW_OK;
}

static int route_one(ow_router *r, const ow_event *ev, const char *raw, size_t len,
                     ow_route_outcome *out, const char *unrouted, ow_err *err)
{
    ow_route rt;
    ow_route_event(r->t, ev, &rt);
    int part, rc = OW_OK;
    if (rt.kind == OW_ROUTE_SHARED) {
        part = SHARED;
    } else if (rt.kind == OW_ROUTE_PARTITION) {
        part = rt.partition;
    } else {
        part = dir_get(r, rt.lookup_kind, rt.lookup_id, err, &rc);
        if (rc) return rc;
        if (part < 0) part = rt.fallback;
        if (part < 0) {
            char k[OW_ID_BUF + 16];
            dir_key(k, sizeof k, rt.lookup_kind, rt.lookup_id);
            if (park(r, ev, k, raw, len, out, unrouted && unrouted[0] ? unrouted : NULL))
                return ow_err_set(err, OW_ENOMEM, "out of memory");
            return OW_OK;
        }
    }
    if (r->t->n > 1 && ow_event_is_order(ev->type) && push_holding(r, ev, part))
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    item *it = push(r, part, raw, len);
    if (!it) return ow_err_set(err, OW_ENOMEM, "out of memory");
    snprintf(it->id, sizeof it->id, "%s", ev->id);
    it->out = out;
    if (unrouted) snprintf(it->unrouted, sizeof it->unrouted, "%s", unrouted);
    if (r->t->n > 1 && ow_xrec_wanted(ev) && queue_xrec(r, ev, part)) /* `it` moved */
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    if (ev->ts_ms > r->wm) r->wm = ev->ts_ms;
    if (rt.record_kind && part >= 0) {
        char k[OW_PARTITION_KEY_MAX], v[16];
        ow_route_directory_key(k, sizeof k, rt.record_kind, rt.record_id);
        snprintf(v, sizeof v, "%d", part);
        item *rec = push(r, RECORD, k, strlen(k));
        if (!rec) return ow_err_set(err, OW_ENOMEM, "out of memory");
        snprintf(rec->id, sizeof rec->id, "%s", v);
        if (dir_put(r, rt.record_kind, rt.record_id, part))
            return ow_err_set(err, OW_ENOMEM, "out of memory");
        if (r->npark && (rc = unpark(r, rt.record_kind, rt.record_id, err))) return rc;
    }
    return OW_OK;
}

int ow_router_add_out(ow_router *r, const ow_event *ev, const char *raw, size_t len,
                      ow_route_outcome *out, ow_err *err)
{
    if (out) *out = (ow_route_outcome){0};
    /* a flush that failed after its first round ends before anything new is queued */
    int rc = r->round1_done ? ow_router_flush(r, err) : OW_OK;
    if (rc) return rc;
    rc = route_one(r, ev, raw, len, out, NULL, err);
    if (rc) return rc;
    return r->nq >= r->batch_cap ? ow_router_flush(r, err) : OW_OK;
}

int ow_router_add(ow_router *r, const ow_event *ev, const char *raw, size_t len, ow_err *err)
{
    return ow_router_add_out(r, ev, raw, len, NULL, err);
}

int ow_router_reject_out(ow_router *r, const char *reason, const char *source, int64_t pos,
                         const char *raw, size_t len, ow_route_outcome *out, ow_err *err)
{
    if (out) *out = (ow_route_outcome){0};
    int rc = r->round1_done ? ow_router_flush(r, err) : OW_OK;
    if (rc) return rc;
    if (queue_reject(r, reason, source, pos, raw, len, out))
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    return r->nq >= r->batch_cap ? ow_router_flush(r, err) : OW_OK;
}

int ow_router_reject(ow_router *r, const char *reason, const char *source, int64_t pos,
                     const char *raw, size_t len, ow_err *err)
{
    return ow_router_reject_out(r, reason, source, pos, raw, len, NULL, err);
}

/* ---- the unrouted stream --------------------------------------------------------------------- */

static const redisReply *field(const redisReply *kv, const char *name)
{
    if (!kv || kv->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < kv->elements; i += 2)
        if (kv->element[i]->type == REDIS_REPLY_STRING && strcmp(kv->element[i]->str, name) == 0)
            return kv->element[i + 1]->type == REDIS_REPLY_STRING ? kv->element[i + 1] : NULL;
    return NULL;
}

/* Entries of ops:{g}:unrouted this router does not hold yet: other processes' (alive, or
 * crashed with events parked) and, once, its own. */
static int read_unrouted(ow_router *r, ow_err *err)
{
    ow_event ev;
    for (;;) {
        redisReply *rep =
            ow_cluster_cmd(r->c, err, "reading the parked events", OW_KEY_UNROUTED,
                           "XRANGE %s %s + COUNT %d", OW_KEY_UNROUTED, r->last_entry, POLL_COUNT);
        if (!rep) return OW_EREDIS;
        size_t n = rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0;
        int rc = OW_OK;
        for (size_t i = 0; i < n && !rc; i++) {
            const redisReply *e = rep->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
                e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len >= ENTRY_BUF)
                continue;
            const char *entry = e->element[0]->str;
            snprintf(r->last_entry, sizeof r->last_entry, "(%s", entry);
            if (ow_map_get(&r->entries, entry)) continue;
            const redisReply *key = field(e->element[1], "key"), *d = field(e->element[1], "d");
            ow_err perr;
            if (!key || !d || ow_event_parse(d->str, d->len, &ev, &perr) != OW_OK) {
                ow_warn(OW_KEY_UNROUTED " entry %s is not a parked event; left alone", entry);
                continue;
            }
            rc = park(r, &ev, key->str, d->str, d->len, NULL, entry);
            if (!rc) r->st.loaded++;
        }
        freeReplyObject(rep);
        if (rc) return ow_err_set(err, rc, "out of memory");
        if (n < POLL_COUNT) return OW_OK;
    }
}

/* A parked event's directory key and kind ("order"), from its key "order:<id>". */
static bool parked_dir_key(const parked *p, char *kind, size_t kn, char *rk, size_t rn)
{
    const char *colon = strchr(p->key, ':');
    if (!colon || (size_t)(colon - p->key) >= kn) return false;
    snprintf(kind, kn, "%.*s", (int)(colon - p->key), p->key);
    return ow_route_directory_key(rk, rn, kind, colon + 1) >= 0;
}

/* Look the written parked events' orders up in the directory (another ingest process may have
 * recorded them); send on those found. */
static int lookup_parked(ow_router *r, ow_err *err)
{
    size_t n = 0;
    char kind[16], rk[OW_PARTITION_KEY_MAX];
    ow_cluster_batch_reset(r->lb);
    for (size_t i = 0; i < r->npark && n < POLL_COUNT; i++) {
        /* new ones were looked up a moment ago */
        if (!r->park[i].entry[0] || !parked_dir_key(&r->park[i], kind, sizeof kind, rk, sizeof rk))
            continue;
        if (ow_cluster_batch_addf(r->lb, rk, "GET %s", rk) < 0)
            return ow_err_set(err, OW_ENOMEM, "out of memory");
        n++;
    }
    if (!n) return OW_OK;
    int rc = ow_cluster_batch_exec(r->c, r->lb, err);
    if (rc) return rc;
    /* the keys found, copied: unparking reorders park[] */
    char(*found)[OW_ID_BUF + 16] = calloc(n, sizeof *found);
    if (!found) return ow_err_set(err, OW_ENOMEM, "out of memory");
    size_t nf = 0, k = 0;
    for (size_t i = 0; i < r->npark && k < n && !rc; i++) {
        if (!r->park[i].entry[0] || !parked_dir_key(&r->park[i], kind, sizeof kind, rk, sizeof rk))
            continue;
        const redisReply *rep = ow_cluster_batch_reply(r->lb, (int)k++);
        if (!rep || rep->type != REDIS_REPLY_STRING) continue;
        long p = strtol(rep->str, NULL, 10);
        if (p < 0 || p >= r->t->n) continue;
        if (dir_put(r, kind, strchr(r->park[i].key, ':') + 1, (int)p))
            rc = ow_err_set(err, OW_ENOMEM, "out of memory");
        else
            snprintf(found[nf++], sizeof found[0], "%s", r->park[i].key);
    }
    for (size_t i = 0; i < nf && !rc; i++) {
        char *colon = strchr(found[i], ':');
        *colon = '\0';
        rc = unpark(r, found[i], colon + 1, err);
    }
    free(found);
    return rc;
}

/* Once a second (or now, when forced): new unrouted entries, the parked events' orders, and the
 * parked events past the de-dup window. */
static int poll_unrouted(ow_router *r, bool force, ow_err *err)
{
    int64_t now = ow_clock_mono_ms();
    if (!force && now - r->last_poll_ms < POLL_MS) return OW_OK;
    r->last_poll_ms = now;
    int rc = read_unrouted(r, err);
    if (!rc && r->npark) rc = lookup_parked(r, err);
    if (!rc && r->npark && expire_parked(r)) rc = ow_err_set(err, OW_ENOMEM, "out of memory");
    return rc;
}

/* ---- flushing -------------------------------------------------------------------------------- */

typedef struct argv_buf {
    const char **v;
    size_t *l;
    char (*num)[24]; /* numbers formatted for the call */
    int n, cap;
} argv_buf;

static int argv_add(argv_buf *a, const char *s, size_t len)
{
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 64;
        const char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (v) a->v = v;
        size_t *l = realloc(a->l, (size_t)cap * sizeof *l);
        if (l) a->l = l;
        char(*num)[24] = realloc(a->num, (size_t)cap * sizeof *num);
        if (num) a->num = num;
        if (!v || !l || !num) return OW_ENOMEM;
        a->cap = cap;
    }
    a->v[a->n] = s;
    a->l[a->n] = len;
    a->n++;
    return OW_OK;
}

/* A number, kept in the buffer's own storage until the call is added (the batch copies it). */
static int argv_num(argv_buf *a, int64_t x)
{
    if (argv_add(a, "", 0)) return OW_ENOMEM;
    int k = a->n - 1;
    snprintf(a->num[k], sizeof a->num[k], "%lld", (long long)x);
    a->v[k] = NULL; /* resolved to num[k] in argv_fix: num may move while growing */
    a->l[k] = strlen(a->num[k]);
    return OW_OK;
}

static void argv_fix(argv_buf *a)
{
    for (int i = 0; i < a->n; i++)
        if (!a->v[i]) a->v[i] = a->num[i];
}

static void argv_free(argv_buf *a)
{
    free(a->v);
    free(a->l);
    free(a->num);
}

/* The FCALL of one stream's items (part == SHARED or a partition); -1 when it has none. */
static int add_call(ow_router *r, argv_buf *a, int part)
{
    char stream[OW_PARTITION_KEY_MAX], seen[OW_PARTITION_KEY_MAX];
    if (part == SHARED) {
        snprintf(stream, sizeof stream, "%s", OW_KEY_SHARED);
        snprintf(seen, sizeof seen, "%s", OW_KEY_SHARED_SEEN);
    } else {
        ow_partition_rekey(stream, sizeof stream, part, OW_KEY_EVENTS);
        ow_partition_rekey(seen, sizeof seen, part, OW_KEY_SEEN_PREFIX);
    }
    a->n = 0;
    int nkeys = part == SHARED ? 3 : 2;
    char nk[4];
    snprintf(nk, sizeof nk, "%d", nkeys);
    int rc = argv_add(a, "FCALL", 5) | argv_add(a, OW_FUNCTION_APPEND, strlen(OW_FUNCTION_APPEND)) |
             argv_add(a, nk, strlen(nk)) | argv_add(a, stream, strlen(stream)) |
             argv_add(a, seen, strlen(seen));
    if (part == SHARED) rc |= argv_add(a, OW_KEY_SHARED_N, strlen(OW_KEY_SHARED_N));
    rc |= argv_add(a, r->dedup_ms, strlen(r->dedup_ms)) | argv_add(a, r->maxlen, strlen(r->maxlen));
    int items = 0;
    for (size_t i = 0; i < r->nq && !rc; i++) {
        item *it = &r->q[i];
        if (it->part != part) continue;
        items++;
        rc |= argv_add(a, it->id, strlen(it->id)) | argv_add(a, it->raw, it->len) |
              argv_num(a, it->wm) | argv_num(a, it->sseq);
    }
    if (rc) return OW_ENOMEM;
    if (!items) return -1;
    argv_fix(a);
    return ow_cluster_batch_add(r->b, stream, strlen(stream), a->n, a->v, a->l);
}

/* The ow_park call of the parked events not written yet; -1 when there are none. A resend
 * (for WAIT's acknowledgement) sends the same events again, answered or not: de-dup makes it
 * harmless and the replicas' acknowledgement then covers the first write. */
static int add_park_call(ow_router *r, argv_buf *a, bool resend)
{
    a->n = 0;
    int rc = argv_add(a, "FCALL", 5) | argv_add(a, OW_FUNCTION_PARK, strlen(OW_FUNCTION_PARK)) |
             argv_add(a, "2", 1) | argv_add(a, OW_KEY_UNROUTED, strlen(OW_KEY_UNROUTED)) |
             argv_add(a, OW_KEY_PARKED_SEEN, strlen(OW_KEY_PARKED_SEEN)) |
             argv_add(a, r->dedup_ms, strlen(r->dedup_ms));
    int items = 0;
    for (size_t i = 0; i < r->npark && !rc; i++) {
        parked *p = &r->park[i];
        /* a flush retried after a failure sends again what its first attempt had sent */
        bool send = resend ? p->cmd_pos >= 0 : p->cmd_pos >= 0 || !p->entry[0];
        p->cmd_pos = -1;
        if (!send) continue;
        p->cmd_pos = items++;
        rc |= argv_add(a, p->ev.id, strlen(p->ev.id)) | argv_add(a, p->key, strlen(p->key)) |
              argv_add(a, p->raw, p->len);
    }
    if (rc) return OW_ENOMEM;
    if (!items) return -1;
    return ow_cluster_batch_add(r->b, OW_KEY_UNROUTED, strlen(OW_KEY_UNROUTED), a->n, a->v, a->l);
}

static void copy_sid(char *out, const redisReply *rep)
{
    if (rep && rep->type == REDIS_REPLY_STRING && rep->len < ENTRY_BUF)
        memcpy(out, rep->str, rep->len + 1);
    else
        out[0] = '\0';
}

/* Round 1's answers: the shared entries' numbers, the rejects' ids, the parked entries. */
static int read_round1(ow_router *r, int shared_cmd, int park_cmd)
{
    const redisReply *rep = shared_cmd >= 0 ? ow_cluster_batch_reply(r->b, shared_cmd) : NULL;
    size_t k = 0;
    for (size_t i = 0; i < r->nq; i++) {
        item *it = &r->q[i];
        if (it->part == REJECT) {
            const redisReply *x = it->cmd >= 0 ? ow_cluster_batch_reply(r->b, it->cmd) : NULL;
            copy_sid(it->sid, x);
            it->res = OW_ROUTED_REJECTED;
        }
        if (it->part != SHARED) continue;
        int64_t n = rep && rep->type == REDIS_REPLY_ARRAY && k < rep->elements &&
                            rep->element[k]->type == REDIS_REPLY_INTEGER
                        ? rep->element[k]->integer
                        : 0;
        it->n = n;
        it->res = n > 0 ? OW_ROUTED_ACCEPTED : OW_ROUTED_DUPLICATE;
        k++;
    }
    if (park_cmd < 0) return OW_OK;
    rep = ow_cluster_batch_reply(r->b, park_cmd);
    for (size_t i = 0; i < r->npark; i++) {
        parked *p = &r->park[i];
        if (p->cmd_pos < 0) continue;
        const redisReply *x =
            rep && rep->type == REDIS_REPLY_ARRAY && (size_t)p->cmd_pos < rep->elements
                ? rep->element[p->cmd_pos]
                : NULL;
        if (p->entry[0]) continue; /* written by an attempt before: a resend says 0 */
        copy_sid(p->entry, x);
        if (p->entry[0] && ow_map_put(&r->entries, p->entry, (void *)1)) return OW_ENOMEM;
    }
    return OW_OK;
}

/* Exec the batch once. OW_EAGAIN: send it again (some command lacks its replicas' WAIT
 * acknowledgement, or a master had lost the function, now loaded again); an error once
 * cluster.retry_for has passed without the acknowledgements. */
static int exec_acked(ow_router *r, int64_t deadline, ow_err *err, bool *reloaded)
{
    *reloaded = false;
    int rc = ow_cluster_batch_exec(r->c, r->b, err);
    if (rc) return rc;
    int n = ow_cluster_batch_count(r->b), short_acks = 0;
    for (int i = 0; i < n; i++) {
        const redisReply *rep = ow_cluster_batch_reply(r->b, i);
        if (rep && rep->type == REDIS_REPLY_ERROR) {
            if (strstr(rep->str, FUNCTION_GONE) && ow_clock_mono_ms() < deadline) {
                if ((rc = ow_route_library_load(r->c, err))) return rc;
                *reloaded = true; /* these replies say nothing about the items */
                return OW_EAGAIN;
            }
            return ow_err_set(err, OW_EREDIS, "routed append: %s", rep->str);
        }
        int acked = ow_cluster_batch_acked(r->b, i);
        if (acked >= 0 && acked < r->cfg->ingest.wait_replicas) short_acks++;
    }
    if (short_acks == 0) return OW_OK;
    if (ow_clock_mono_ms() >= deadline)
        return ow_err_set(err, OW_ETIMEOUT,
                          "%d writes not acknowledged by %lld replicas (ingest.wait_replicas) "
                          "within cluster.retry_for: not confirmed to the source",
                          short_acks, (long long)r->cfg->ingest.wait_replicas);
    /* every command again: de-dup makes it harmless, and the first answer's replies (kept by
     * the caller) decide the outcomes */
    r->st.resends++;
    ow_sleep_ms(50);
    return OW_EAGAIN;
}

/* A tick to every partition: the watermark so far and the shared entries before it. */
static int queue_ticks(ow_router *r)
{
    for (int p = 0; p < r->t->n; p++) /* id "" = a tick */
        if (!push(r, p, "", 0)) return OW_ENOMEM;
    /* the tick carries the watermark itself: every event queued is before it */
    for (size_t i = r->nq - (size_t)r->t->n; i < r->nq; i++)
        r->q[i].wm = r->wm == INT64_MIN ? 0 : r->wm;
    r->last_tick_ms = ow_clock_mono_ms();
    return OW_OK;
}

/* Parked events answered "parked before" by ow_park (an earlier send of the same event is in the
 * stream: the next read of it brings that one) leave the list; the others are written, and their
 * outcome goes to their callers. */
static void settle_parked(ow_router *r)
{
    for (size_t i = 0; i < r->npark;) {
        parked *p = &r->park[i];
        if (p->cmd_pos < 0) {
            i++;
            continue;
        }
        p->cmd_pos = -1;
        if (p->out) {
            p->out->result = p->entry[0] ? OW_ROUTED_ACCEPTED : OW_ROUTED_DUPLICATE;
            p->out->parked = p->entry[0] != '\0';
            snprintf(p->out->stream_id, sizeof p->out->stream_id, "%s", p->entry);
            p->out = NULL;
        }
        if (p->entry[0]) {
            i++;
            continue;
        }
        parked gone = take_parked(r, i);
        free(gone.raw);
    }
}

/* Round 1: the shared stream, the parked events, directory records, rejects. */
static int round1(ow_router *r, argv_buf *a, int64_t deadline, ow_err *err)
{
    int rc = OW_OK;
    /* outcomes come from the first answers (a resend's are "duplicate"), unless those were the
     * refusal of a master that had lost the function */
    bool reading = true, resend = false, reloaded;
    for (;; resend = true) {
        ow_cluster_batch_reset(r->b);
        int shared_cmd = add_call(r, a, SHARED);
        int park_cmd = shared_cmd == OW_ENOMEM ? OW_ENOMEM : add_park_call(r, a, resend);
        if (shared_cmd == OW_ENOMEM || park_cmd == OW_ENOMEM)
            return ow_err_set(err, OW_ENOMEM, "out of memory");
        for (size_t i = 0; i < r->nq; i++) {
            item *it = &r->q[i];
            if (it->part == RECORD)
                ow_cluster_batch_addf(r->b, it->raw, "SET %s %s NX EX %d", it->raw, it->id,
                                      DIR_TTL_S);
            else if (it->part == REJECT)
                it->cmd = ow_cluster_batch_addf(
                    r->b, OW_KEY_REJECTS,
                    "XADD %s MAXLEN ~ %s * reason %s source %s pos %lld raw %b", OW_KEY_REJECTS,
                    r->rej_maxlen, it->reason, it->source, (long long)it->pos, it->raw, it->len);
        }
        if (ow_cluster_batch_count(r->b) == 0) break;
        rc = exec_acked(r, deadline, err, &reloaded);
        if (reading && !reloaded && (rc == OW_OK || rc == OW_EAGAIN)) {
            reading = false;
            if (read_round1(r, shared_cmd, park_cmd))
                return ow_err_set(err, OW_ENOMEM, "out of memory");
        }
        if (rc != OW_EAGAIN) break;
    }
    if (rc) return rc;
    settle_parked(r);
    /* the shared count before each item: what the partitions' entries carry as sseq */
    int64_t cur = r->last_n;
    for (size_t i = 0; i < r->nq; i++) {
        if (r->q[i].part == SHARED && r->q[i].n > cur) cur = r->q[i].n;
        r->q[i].sseq = cur;
    }
    r->last_n = cur;
    return OW_OK;
}

/* Round 2: one call per partition. */
static int round2(ow_router *r, argv_buf *a, int64_t deadline, ow_err *err)
{
    int rc = OW_OK;
    bool reading = true, reloaded;
    for (;;) {
        ow_cluster_batch_reset(r->b);
        int cmd_of[OW_PARTITIONS_MAX];
        for (int p = 0; p < r->t->n; p++) {
            cmd_of[p] = add_call(r, a, p);
            if (cmd_of[p] == OW_ENOMEM) return ow_err_set(err, OW_ENOMEM, "out of memory");
        }
        if (ow_cluster_batch_count(r->b) == 0) break;
        rc = exec_acked(r, deadline, err, &reloaded);
        if (reading && !reloaded && (rc == OW_OK || rc == OW_EAGAIN)) {
            reading = false;
            for (int p = 0; p < r->t->n; p++) {
                if (cmd_of[p] < 0) continue;
                const redisReply *rep = ow_cluster_batch_reply(r->b, cmd_of[p]);
                size_t k = 0;
                for (size_t i = 0; i < r->nq; i++) {
                    item *it = &r->q[i];
                    if (it->part != p) continue;
                    copy_sid(it->sid, rep && rep->type == REDIS_REPLY_ARRAY && k < rep->elements
                                          ? rep->element[k]
                                          : NULL);
                    it->res = it->sid[0] ? OW_ROUTED_ACCEPTED : OW_ROUTED_DUPLICATE;
                    k++;
                }
            }
        }
        if (rc != OW_EAGAIN) break;
    }
    return rc;
}

/* Round 3, only after parked events were sent on or rejected: their unrouted entries go, now
 * that their partitions (or the rejects) have them. A crash before it leaves the entries; the
 * next ingest sends them again and de-dup answers "duplicate". */
static int round3(ow_router *r, argv_buf *a, ow_err *err)
{
    a->n = 0;
    int rc = argv_add(a, "XDEL", 4) | argv_add(a, OW_KEY_UNROUTED, strlen(OW_KEY_UNROUTED));
    int n = 0;
    for (size_t i = 0; i < r->nq && !rc; i++)
        if (r->q[i].unrouted[0]) rc = argv_add(a, r->q[i].unrouted, strlen(r->q[i].unrouted)), n++;
    if (rc) return ow_err_set(err, OW_ENOMEM, "out of memory");
    if (!n) return OW_OK;
    ow_cluster_batch_reset(r->lb);
    if (ow_cluster_batch_add(r->lb, OW_KEY_UNROUTED, strlen(OW_KEY_UNROUTED), a->n, a->v, a->l) < 0)
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    return ow_cluster_batch_exec(r->c, r->lb, err);
}

int ow_router_flush(ow_router *r, ow_err *err)
{
    /* not while resuming: what it queues would miss round 1 */
    int rc = r->round1_done ? OW_OK : poll_unrouted(r, false, err);
    if (rc) return rc;
    bool unwritten = false; /* parked events new since the last flush */
    for (size_t i = 0; i < r->npark && !unwritten; i++)
        unwritten = !r->park[i].entry[0] || r->park[i].cmd_pos >= 0; /* or not acknowledged */
    if (!r->nq && !unwritten) return OW_OK;
    /* live input: a partition with no events of its own still follows the shared stream and
     * the watermark (its technicians, its crossings) within a second */
    if (!r->round1_done && r->wm != INT64_MIN && ow_clock_mono_ms() - r->last_tick_ms >= TICK_MS &&
        queue_ticks(r))
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    argv_buf a = {0};
    int64_t deadline = ow_clock_mono_ms() + r->cfg->cluster.retry_for_ms;
    if (!r->round1_done) {
        rc = round1(r, &a, deadline, err);
        if (!rc) r->round1_done = true;
    }
    if (!rc) rc = round2(r, &a, deadline, err);
    if (!rc) rc = round3(r, &a, err);
    argv_free(&a);
    if (rc) return rc;
    r->round1_done = false;
    for (size_t i = 0; i < r->nq; i++) {
        item *it = &r->q[i];
        if (it->part == RECORD || (it->part != REJECT && !it->id[0])) continue; /* a tick */
        if (it->kind == ITEM_HOLDING) { /* not an input item: counted apart */
            r->st.holdings += it->res == OW_ROUTED_ACCEPTED;
            continue;
        }
        if (it->res == OW_ROUTED_REJECTED) {
            r->st.rejected++;
        } else if (it->kind == ITEM_XREC) {
            r->st.records += it->res == OW_ROUTED_ACCEPTED;
            continue; /* not an event: no counts, no caller */
        } else if (it->res == OW_ROUTED_ACCEPTED) {
            r->st.accepted++;
            if (it->part == SHARED)
                r->st.shared++;
            else if (it->part < 64)
                r->st.per_partition[it->part]++;
        } else {
            r->st.duplicates++;
        }
        if (it->out) {
            it->out->result = it->res;
            it->out->parked = false;
            snprintf(it->out->stream_id, sizeof it->out->stream_id, "%s",
                     it->part == SHARED ? "" : it->sid);
        }
    }
    r->st.flushes++;
    drop_items(r);
    return OW_OK;
}

int ow_router_finish(ow_router *r, ow_err *err)
{
    int rc = poll_unrouted(r, true, err);
    if (rc) return rc;
    if (queue_ticks(r)) return ow_err_set(err, OW_ENOMEM, "out of memory");
    return ow_router_flush(r, err);
}

int64_t ow_router_queued(const ow_router *r)
{
    return (int64_t)r->nq;
}

const ow_router_stats *ow_router_stats_get(const ow_router *r)
{
    return &r->st;
}
